//! The event log and what is derived from it: `open_loans`, `memberships`
//! and where a copy is are the fold of the events, re-derived when they change.

use super::*;
use crate::sql::run;
use kanoon_domain::circulation::OpenLoan;

/// Reads `id, hlc, device_id, at, data` rows into event records.
pub(super) fn read_events(
    stmt: &mut rusqlite::CachedStatement<'_>,
    args: impl rusqlite::Params,
) -> Result<Vec<EventRecord>> {
    let rows = stmt.query_map(args, |r| {
        Ok((
            uuid_column(r, 0)?,
            r.get::<_, String>(1)?,
            uuid_column(r, 2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
        ))
    })?;
    rows.map(|row| {
        let (id, hlc, device_id, at, data) = row?;
        Ok(EventRecord {
            id,
            hlc: Hlc::parse_sortable(&hlc).ok_or_else(|| StoreError::Corrupt(format!("ساعت رویداد «{hlc}»")))?,
            device_id,
            at: parse_time(&at)?,
            event: serde_json::from_str(&data)?,
        })
    })
    .collect()
}

/// Re-derives the state an event touches (a copy's loans and location, a
/// member's membership periods) from the log; a void re-derives what its
/// target touched. Returns what the fold found wrong in the real world.
pub(crate) fn rederive(tx: &Connection, event: &Event) -> Result<Rederived> {
    match event {
        Event::Loan { copy_id, .. } | Event::Return { copy_id, .. } | Event::Transfer { copy_id, .. } => {
            Ok(Rederived { copy: Some(*copy_id), anomalies: refold_copy(tx, *copy_id)? })
        }
        Event::Renewal { loan_id, .. } => {
            let copy: Option<String> = tx
                .query_row("SELECT copy_id FROM events WHERE id = ?1", [loan_id.to_string()], |r| r.get(0))
                .optional()?
                .flatten();
            match copy {
                Some(copy) => {
                    let copy = parse_uuid(&copy)?;
                    Ok(Rederived { copy: Some(copy), anomalies: refold_copy(tx, copy)? })
                }
                None => Ok(Rederived::default()),
            }
        }
        Event::Membership { member_id, .. } => {
            tx.execute("DELETE FROM memberships WHERE member_id = ?1", [member_id.to_string()])?;
            tx.execute(
                "INSERT INTO memberships (period_id, member_id, starts_on, ends_on)
                 SELECT id, member_id, json_extract(data, '$.starts_on'), json_extract(data, '$.ends_on') FROM events
                 WHERE kind = 'membership' AND member_id = ?1
                   AND NOT EXISTS (SELECT 1 FROM voided v WHERE v.event_id = events.id)",
                [member_id.to_string()],
            )?;
            Ok(Rederived::default())
        }
        Event::ReminderCall { .. } => Ok(Rederived::default()),
        Event::Void { target, .. } => {
            let data: Option<String> =
                tx.query_row("SELECT data FROM events WHERE id = ?1", [target.to_string()], |r| r.get(0)).optional()?;
            match data {
                Some(data) => rederive(tx, &serde_json::from_str(&data)?),
                None => Ok(Rederived::default()),
            }
        }
    }
}

/// What re-deriving after an event found: the copy it re-folded, if any,
/// and what the fold of that copy's whole log finds wrong.
#[derive(Default)]
pub(crate) struct Rederived {
    pub copy: Option<Uuid>,
    pub anomalies: Vec<Anomaly>,
}

/// Re-derives the open loans of one copy from its events with the domain
/// fold (after a void, or a late event from sync).
pub(crate) fn refold_copy(tx: &Connection, copy_id: Uuid) -> Result<Vec<Anomaly>> {
    let mut stmt = tx.prepare_cached(
        "SELECT id, hlc, device_id, at, data FROM events
         WHERE copy_id = ?1
            OR loan_id IN (SELECT id FROM events WHERE copy_id = ?1)
            OR loan_id IN (SELECT id FROM events WHERE loan_id IN (SELECT id FROM events WHERE copy_id = ?1))",
    )?;
    let events = read_events(&mut stmt, [copy_id.to_string()])?;
    let state = fold(&events);
    tx.execute("DELETE FROM open_loans WHERE copy_id = ?1", [copy_id.to_string()])?;
    let mut village_loans = Vec::new();
    for l in state.open_loans_of_copy(copy_id) {
        insert_open_loan(tx, l)?;
        let village = events.iter().find(|e| e.id == l.loan_id).and_then(|e| match e.event {
            Event::Loan { village_id, .. } => village_id,
            _ => None,
        });
        if let Some(village) = village {
            village_loans.push((l.loan_id, village, l.due_on));
        }
    }
    // A van visit's loan is due at its village's next visit, wherever the
    // village's cancelled and moved visits sent it.
    crate::rows::outreach::mark_village_loans(tx, &village_loans)?;
    // Where the copy is: its last standing transfer; with none standing,
    // where the first transfer took it from.
    let first_from = events
        .iter()
        .filter_map(|e| match e.event {
            Event::Transfer { from_center, .. } => Some((e.hlc, from_center)),
            _ => None,
        })
        .min()
        .map(|(_, from)| from);
    if let Some(center) = state.copy_center.get(&copy_id).copied().or(first_from) {
        crate::rows::copy::set_center(tx, copy_id, center)?;
    }
    Ok(state.anomalies)
}

pub(crate) fn record_loan(
    w: &mut Write<'_>,
    copy_id: Uuid,
    member_id: Uuid,
    lent_on: NaiveDate,
    due_on: NaiveDate,
    overridden: Option<Override>,
    village_id: Option<Uuid>,
) -> Result<Uuid> {
    let loan_id = Uuid::now_v7();
    w.event(loan_id, Event::Loan { copy_id, member_id, lent_on, due_on, overridden, village_id })?;
    insert_open_loan(&w.tx, &OpenLoan { loan_id, copy_id, member_id, lent_on, due_on, renewals: 0 })?;
    if let Some(village) = village_id {
        crate::rows::outreach::mark_village_loans(&w.tx, &[(loan_id, village, due_on)])?;
    }
    Ok(loan_id)
}

/// A row of the derived `open_loans` table.
fn insert_open_loan(tx: &Connection, l: &OpenLoan) -> Result<()> {
    run(
        tx,
        "INSERT INTO open_loans (loan_id, copy_id, member_id, lent_on, due_on, renewals) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            l.loan_id.to_string(),
            l.copy_id.to_string(),
            l.member_id.to_string(),
            l.lent_on.to_string(),
            l.due_on.to_string(),
            l.renewals
        ],
    )?;
    Ok(())
}
