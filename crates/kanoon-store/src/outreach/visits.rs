//! The van's visits: open today's visit of a village, lend and take back
//! books on it (`check_out` with the visit, `check_in`), close it with its
//! report; cancel or move a planned visit, which moves the due date of
//! every loan due on it.

use chrono::{Duration, NaiveDate};
use kanoon_domain::entities::Permission;
use kanoon_domain::outreach::{self, VisitChange};
use kanoon_domain::text;
use kanoon_protocol::EntityKind;
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use super::villages::VILLAGE_MISSING;
use super::{VisitChangeInput, VisitChangeOutcome, VisitReport, VisitView, jalali};
use crate::desk::Desk;
use crate::error::{Result, StoreError};
use crate::rows::load_existing;
use crate::rows::outreach::{self as rows, VillageRecord, VisitChanged, VisitClosed, VisitOpened};
use crate::sql::{parse_date, parse_uuid};

const VISIT_MISSING: &str = "این بازدید پیدا نشد؛ برنامهٔ بازدید را دوباره باز کنید.";
/// Longest note of a visit report.
const MAX_NOTES: usize = 2000;

impl Desk {
    /// Opens today's visit of a village (or returns the one already open
    /// today): loans made on it are due at the village's next visit.
    pub fn open_visit(&mut self, village_id: Uuid) -> Result<VisitView> {
        self.require(Permission::ServeVillages)?;
        let (village, _) = load_existing::<VillageRecord>(&self.conn, village_id, VILLAGE_MISSING)?;
        if village.retired || village.center_id != self.center_id()? {
            return Err(StoreError::Conflict(format!("روستای «{}» دیگر خدمت نمی‌گیرد.", village.name)));
        }
        let today = self.today();
        let open: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT v.id FROM van_visits v LEFT JOIN van_visit_reports r ON r.visit_id = v.id
                 WHERE v.village_id = ?1 AND v.day = ?2 AND r.visit_id IS NULL ORDER BY v.hlc LIMIT 1",
            )?
            .query_row(params![village_id.to_string(), today.to_string()], |r| r.get(0))
            .optional()?;
        if let Some(id) = open {
            return self.visit(parse_uuid(&id)?);
        }
        let id = Uuid::now_v7();
        let data = VisitOpened { village_id, day: today };
        self.write(|w| {
            let stamp = w.service_event(EntityKind::VAN_VISIT, id, rows::OPENED, serde_json::to_value(&data)?)?;
            rows::insert_visit(&w.tx, id, &data, &stamp)
        })?;
        self.visit(id)
    }

    /// Closes a visit with its report: what it did is counted from the
    /// day's events of the village; the notes are staff's.
    pub fn close_visit(&mut self, visit_id: Uuid, notes: &str) -> Result<VisitView> {
        self.require(Permission::ServeVillages)?;
        let visit = self.visit(visit_id)?;
        if visit.closed {
            return Err(StoreError::Conflict("این بازدید پیش‌تر بسته شده است.".into()));
        }
        let notes = text::clean_text(notes);
        if notes.chars().count() > MAX_NOTES {
            return Err(StoreError::InvalidInput("یادداشت گزارش بیش از ۲۰۰۰ نویسه است؛ کوتاه‌ترش کنید.".into()));
        }
        let data = VisitClosed { visit_id, report: VisitReport { notes, ..visit.report } };
        self.write(|w| {
            let id = Uuid::now_v7();
            let stamp = w.service_event(EntityKind::VAN_VISIT, id, rows::CLOSED, serde_json::to_value(&data)?)?;
            rows::insert_report(&w.tx, id, &data, &stamp)
        })?;
        self.visit(visit_id)
    }

    /// Cancels a planned visit (breakdown, snow, a closed road) or moves it
    /// to another day: every loan of the village due on it is then due at
    /// the next real visit, so nobody is overdue for a visit that did not
    /// happen.
    pub fn change_visit(&mut self, input: VisitChangeInput) -> Result<VisitChangeOutcome> {
        self.require(Permission::ServeVillages)?;
        load_existing::<VillageRecord>(&self.conn, input.village_id, VILLAGE_MISSING)?;
        let reason = text::clean_text(&input.reason);
        let change = match input.to {
            None => VisitChange::Cancelled { village: input.village_id, on: input.on, reason: reason.clone() },
            Some(to) => VisitChange::Moved { village: input.village_id, from: input.on, to, reason: reason.clone() },
        };
        let closed_days = self.reference()?.policy.closed.clone();
        change.check(&closed_days)?;
        let (plan, changes) = self.route_plan()?;
        let planned = outreach::real_visits(input.village_id, &plan, &closed_days, &changes, input.on, input.on);
        if planned.is_empty() {
            return Err(StoreError::Conflict(format!(
                "در {} بازدیدی برای این روستا برنامه‌ریزی نشده است.",
                jalali(input.on)
            )));
        }
        let visited: bool = self
            .conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM van_visits WHERE village_id = ?1 AND day = ?2)")?
            .query_row(params![input.village_id.to_string(), input.on.to_string()], |r| r.get(0))?;
        if visited {
            return Err(StoreError::Conflict("این بازدید انجام شده است و نمی‌توان آن را لغو یا جابه‌جا کرد.".into()));
        }
        // Where the loans due on it go: the first real visit after it (for
        // a move, the new day).
        let mut all = changes;
        all.push(change.clone());
        let new_due = match input.to {
            None => outreach::next_visit_after(input.village_id, input.on, &plan, &closed_days, &all),
            Some(to) => {
                to.pred_opt().and_then(|d| outreach::next_visit_after(input.village_id, d, &plan, &closed_days, &all))
            }
        };
        let data = VisitChanged { village_id: input.village_id, on: input.on, to: input.to, new_due, reason };
        let moved = self.write(|w| {
            let id = Uuid::now_v7();
            let stamp = w.service_event(EntityKind::VAN_VISIT, id, rows::CHANGED, serde_json::to_value(&data)?)?;
            apply_change(&w.tx, id, &data, &stamp)
        })?;
        Ok(VisitChangeOutcome { new_due_on: new_due, new_due_jalali: new_due.map(jalali), loans_moved: moved })
    }

    /// One visit, with its report (counted now while it is open).
    pub fn visit(&self, id: Uuid) -> Result<VisitView> {
        self.signed()?;
        let (village_id, day, _) = self.visit_facts(id)?;
        let report: Option<String> = self
            .conn
            .prepare_cached("SELECT report FROM van_visit_reports WHERE visit_id = ?1")?
            .query_row([id.to_string()], |r| r.get(0))
            .optional()?;
        let (village, _) = load_existing::<VillageRecord>(&self.conn, village_id, VILLAGE_MISSING)?;
        let closed = report.is_some();
        let report = match report {
            Some(r) => serde_json::from_str(&r)?,
            None => self.count_visit(village_id, &village.name, day)?,
        };
        let next = self.next_visit(village_id, day)?;
        Ok(VisitView {
            id,
            village_id,
            village_name: village.name,
            day,
            day_jalali: jalali(day),
            next_visit_on: next,
            next_visit_jalali: next.map(jalali),
            closed,
            report,
        })
    }

    /// The visits of `from..=to`, by day.
    pub fn visits_between(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<VisitView>> {
        self.signed()?;
        if to < from || (to - from) > Duration::days(400) {
            return Err(StoreError::InvalidInput("بازهٔ گزارش باید حداکثر یک سال باشد.".into()));
        }
        let ids: Vec<String> = self
            .conn
            .prepare_cached("SELECT id FROM van_visits WHERE day BETWEEN ?1 AND ?2 ORDER BY day, hlc")?
            .query_map(params![from.to_string(), to.to_string()], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        ids.iter().map(|id| self.visit(parse_uuid(id)?)).collect()
    }

    /// A visit's village, day and whether it is closed.
    pub(crate) fn visit_facts(&self, id: Uuid) -> Result<(Uuid, NaiveDate, bool)> {
        let row: Option<(String, String, bool)> = self
            .conn
            .prepare_cached(
                "SELECT v.village_id, v.day, EXISTS (SELECT 1 FROM van_visit_reports r WHERE r.visit_id = v.id)
                 FROM van_visits v WHERE v.id = ?1",
            )?
            .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let (village, day, closed) = row.ok_or_else(|| StoreError::NotFound(VISIT_MISSING.into()))?;
        Ok((parse_uuid(&village)?, parse_date(&day)?, closed))
    }

    /// What the visit of `village` on `day` did, from the day's events:
    /// loans made in the village, returns of its loans, the children either
    /// served, members of the village whose first membership began that
    /// day, and activities held there (sessions whose place is the
    /// village's name).
    fn count_visit(&self, village: Uuid, name: &str, day: NaiveDate) -> Result<VisitReport> {
        let (v, d) = (village.to_string(), day.to_string());
        let (loans, returns, children): (u32, u32, u32) = self.conn.prepare_cached(
            // From the village's loans (index `events_loan_village`), then
            // their returns by loan: never every loan of the center.
            "WITH village_loans AS (
                 SELECT e.id, e.member_id, json_extract(e.data, '$.lent_on') AS lent_on FROM events e
                 WHERE e.kind = 'loan' AND json_extract(e.data, '$.village_id') = ?1
                   AND NOT EXISTS (SELECT 1 FROM voided x WHERE x.event_id = e.id)),
             lent AS (SELECT id, member_id FROM village_loans WHERE lent_on = ?2),
             back AS (
                 SELECT r.id, l.member_id FROM village_loans l JOIN events r ON r.loan_id = l.id
                 WHERE r.kind = 'return' AND json_extract(r.data, '$.returned_on') = ?2
                   AND NOT EXISTS (SELECT 1 FROM voided x WHERE x.event_id = r.id))
             SELECT (SELECT count(*) FROM lent), (SELECT count(*) FROM back),
                    (SELECT count(DISTINCT member_id) FROM (SELECT member_id FROM lent UNION SELECT member_id FROM back))",
        )?
        .query_row(params![v, d], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        let new_members: u32 = self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM members m
                 WHERE (m.village_id = ?3 OR (m.village_id IS NULL AND m.village = ?1)) AND m.merged_into IS NULL
                   AND (SELECT min(json_extract(e.data, '$.starts_on')) FROM events e
                        WHERE e.kind = 'membership' AND e.member_id = m.id) = ?2",
            )?
            .query_row(params![name, d, v], |r| r.get(0))?;
        let activities: u32 = self
            .conn
            .prepare_cached("SELECT count(*) FROM activity_sessions WHERE held_on = ?1 AND room = ?2")?
            .query_row(params![d, name], |r| r.get(0))?;
        Ok(VisitReport { children_served: children, new_members, loans, returns, activities, notes: String::new() })
    }
}

/// Keeps a visit change and moves the due dates of the village's open
/// loans: every copy lent in the village is derived again from its events
/// (its loans' due dates follow all the village's changes, in log order,
/// whichever order they arrived in). Returns how many loans moved.
pub(crate) fn apply_change(
    tx: &rusqlite::Connection,
    id: Uuid,
    data: &VisitChanged,
    stamp: &crate::rows::EventStamp,
) -> Result<u32> {
    rows::insert_change(tx, id, data, stamp)?;
    let due_before = |tx: &rusqlite::Connection| -> Result<Vec<(String, String)>> {
        Ok(tx
            .prepare_cached("SELECT loan_id, due_on FROM open_loans WHERE village_id = ?1 ORDER BY loan_id")?
            .query_map([data.village_id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?)
    };
    let before = due_before(tx)?;
    for copy in rows::copies_lent_in(tx, data.village_id)? {
        crate::circulation::refold_copy(tx, copy)?;
    }
    let after = due_before(tx)?;
    Ok(after.iter().zip(&before).filter(|(a, b)| a != b).count() as u32)
}
