//! Village, van visit and parcel rows (issue 14). No other module writes
//! `villages`, `van_visits`, `van_visit_reports`, `visit_changes`,
//! `parcels`, `parcel_books` or `parcel_outcomes`, nor `open_loans.village_id`.
//!
//! A visit's and a parcel's loans are ordinary circulation events; what is
//! kept here is what the van and the post add to them: which village a
//! visit served, where a cancelled visit's loans are due, which books a
//! parcel carried and what became of each.

use chrono::{DateTime, NaiveDate, Utc};
use kanoon_domain::outreach::{Slot, Village};
use kanoon_protocol::EntityKind;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{EventStamp, FieldClocks, Record, parse_clocks};
use crate::error::Result;
use crate::sql::{parse_date, parse_uuid, run, timestamp};

pub(crate) const OPENED: &str = "opened";
pub(crate) const CLOSED: &str = "closed";
pub(crate) const CHANGED: &str = "changed";
pub(crate) const SENT: &str = "sent";
pub(crate) const RECEIVED: &str = "received";
pub(crate) const LOST: &str = "lost";

/// A village as its ops carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct VillageRecord {
    pub center_id: Uuid,
    pub name: String,
    #[serde(default)]
    pub district: String,
    pub eligible: bool,
    #[serde(default)]
    pub ineligible_reason: Option<String>,
    #[serde(default)]
    pub distance_km: Option<u32>,
    #[serde(default)]
    pub school: Option<String>,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_phone: String,
    #[serde(default)]
    pub children: Option<u32>,
    /// The van's route: weekday 0 (Saturday) … 5 and week 0 or 1 of the
    /// fortnight; None off the route.
    #[serde(default)]
    pub slot: Option<Slot>,
    #[serde(default)]
    pub retired: bool,
}

impl VillageRecord {
    pub fn to_domain(&self, id: Uuid) -> Village {
        Village {
            id,
            name: self.name.clone(),
            district: self.district.clone(),
            eligible: self.eligible,
            ineligible_reason: self.ineligible_reason.clone(),
            distance_km: self.distance_km,
            school: self.school.clone(),
            contact_name: self.contact_name.clone(),
            contact_phone: self.contact_phone.clone(),
            children: self.children,
        }
    }
}

const VILLAGE_COLUMNS: &str = "center_id, name, district, eligible, ineligible_reason, distance_km, school, \
     contact_name, contact_phone, children, slot_weekday, slot_week, retired";

fn village_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, VillageRecord)> {
    let weekday: Option<u8> = r.get(10)?;
    let week: Option<u8> = r.get(11)?;
    Ok((
        r.get(0)?,
        VillageRecord {
            center_id: Uuid::nil(),
            name: r.get(1)?,
            district: r.get(2)?,
            eligible: r.get(3)?,
            ineligible_reason: r.get(4)?,
            distance_km: r.get(5)?,
            school: r.get(6)?,
            contact_name: r.get(7)?,
            contact_phone: r.get(8)?,
            children: r.get(9)?,
            slot: weekday.zip(week).map(|(weekday, week)| Slot { weekday, week }),
            retired: r.get(12)?,
        },
    ))
}

impl Record for VillageRecord {
    const ENTITY: &'static str = EntityKind::VILLAGE;
    const FIELDS: &'static [&'static str] = &[
        "center_id",
        "name",
        "district",
        "eligible",
        "ineligible_reason",
        "distance_km",
        "school",
        "contact_name",
        "contact_phone",
        "children",
        "slot",
        "retired",
    ];

    fn load(conn: &Connection, id: Uuid) -> Result<Option<(Self, FieldClocks)>> {
        let row = conn
            .prepare_cached(&format!("SELECT {VILLAGE_COLUMNS}, field_clocks FROM villages WHERE id = ?1"))?
            .query_row([id.to_string()], |r| Ok((village_from_row(r)?, r.get::<_, String>(13)?)))
            .optional()?;
        row.map(|((center, mut v), clocks)| {
            v.center_id = parse_uuid(&center)?;
            Ok((v, parse_clocks(&clocks)?))
        })
        .transpose()
    }

    fn store(conn: &Connection, id: Uuid, v: &Self, clocks: &FieldClocks, now: DateTime<Utc>) -> Result<()> {
        run(
            conn,
            &format!(
                "INSERT INTO villages (id, {VILLAGE_COLUMNS}, field_clocks, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
                 ON CONFLICT (id) DO UPDATE SET center_id = excluded.center_id, name = excluded.name,
                     district = excluded.district, eligible = excluded.eligible,
                     ineligible_reason = excluded.ineligible_reason, distance_km = excluded.distance_km,
                     school = excluded.school, contact_name = excluded.contact_name,
                     contact_phone = excluded.contact_phone, children = excluded.children,
                     slot_weekday = excluded.slot_weekday, slot_week = excluded.slot_week,
                     retired = excluded.retired, field_clocks = excluded.field_clocks"
            ),
            params![
                id.to_string(),
                v.center_id.to_string(),
                v.name,
                v.district,
                v.eligible,
                v.ineligible_reason,
                v.distance_km,
                v.school,
                v.contact_name,
                v.contact_phone,
                v.children,
                v.slot.map(|s| s.weekday),
                v.slot.map(|s| s.week),
                v.retired,
                serde_json::to_string(clocks)?,
                timestamp(now)
            ],
        )?;
        Ok(())
    }
}

/// The center's villages, retired ones included, by name: (id, record).
pub(crate) fn villages_of(conn: &Connection, center: Uuid) -> Result<Vec<(Uuid, VillageRecord)>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {VILLAGE_COLUMNS}, id FROM villages WHERE center_id = ?1 ORDER BY name, id"
    ))?;
    let rows = stmt.query_map([center.to_string()], |r| Ok((village_from_row(r)?, r.get::<_, String>(13)?)))?;
    rows.map(|row| {
        let ((_, v), id) = row?;
        Ok((parse_uuid(&id)?, VillageRecord { center_id: center, ..v }))
    })
    .collect()
}

/// A visit opened in a village, as its event carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct VisitOpened {
    pub village_id: Uuid,
    pub day: NaiveDate,
}

/// What a closed visit did, counted from the day's events when it closed,
/// and the notes staff typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VisitReport {
    pub children_served: u32,
    pub new_members: u32,
    pub loans: u32,
    pub returns: u32,
    pub activities: u32,
    #[serde(default)]
    pub notes: String,
}

/// A visit closed, as its event carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct VisitClosed {
    pub visit_id: Uuid,
    pub report: VisitReport,
}

/// A planned visit cancelled (`to` None) or moved, as its event carries
/// it: the writer worked out where the loans due on it go (`new_due`), so
/// every desk moves them alike.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct VisitChanged {
    pub village_id: Uuid,
    pub on: NaiveDate,
    #[serde(default)]
    pub to: Option<NaiveDate>,
    #[serde(default)]
    pub new_due: Option<NaiveDate>,
    pub reason: String,
}

/// Keeps a visit once.
pub(crate) fn insert_visit(conn: &Connection, id: Uuid, v: &VisitOpened, stamp: &EventStamp) -> Result<()> {
    run(
        conn,
        "INSERT INTO van_visits (id, village_id, day, staff_id, hlc, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO NOTHING",
        params![
            id.to_string(),
            v.village_id.to_string(),
            v.day.to_string(),
            stamp.staff_id.map(|s| s.to_string()),
            stamp.hlc.to_sortable(),
            timestamp(stamp.at)
        ],
    )?;
    Ok(())
}

/// Keeps a visit's report once (the first close wins: a visit closed at
/// two desks keeps the earlier report, the same everywhere).
pub(crate) fn insert_report(conn: &Connection, report_id: Uuid, c: &VisitClosed, stamp: &EventStamp) -> Result<()> {
    run(
        conn,
        "INSERT INTO van_visit_reports (visit_id, report_id, report, at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (visit_id) DO UPDATE SET report_id = excluded.report_id, report = excluded.report,
             at = excluded.at
         WHERE excluded.report_id < van_visit_reports.report_id",
        params![c.visit_id.to_string(), report_id.to_string(), serde_json::to_string(&c.report)?, timestamp(stamp.at)],
    )?;
    Ok(())
}

/// Keeps a visit change once.
pub(crate) fn insert_change(conn: &Connection, id: Uuid, c: &VisitChanged, stamp: &EventStamp) -> Result<()> {
    run(
        conn,
        "INSERT INTO visit_changes (id, village_id, on_day, to_day, new_due, reason, hlc)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO NOTHING",
        params![
            id.to_string(),
            c.village_id.to_string(),
            c.on.to_string(),
            c.to.map(|d| d.to_string()),
            c.new_due.map(|d| d.to_string()),
            c.reason,
            stamp.hlc.to_sortable()
        ],
    )?;
    Ok(())
}

/// The changes of a village in log order, as (the visit's day, the new due
/// date of loans due on it).
pub(crate) fn due_moves_of(conn: &Connection, village: Uuid) -> Result<Vec<(NaiveDate, Option<NaiveDate>)>> {
    let mut stmt =
        conn.prepare_cached("SELECT on_day, new_due FROM visit_changes WHERE village_id = ?1 ORDER BY hlc, id")?;
    let rows =
        stmt.query_map([village.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)))?;
    rows.map(|row| {
        let (on, due) = row?;
        Ok((parse_date(&on)?, due.as_deref().map(parse_date).transpose()?))
    })
    .collect()
}

/// Every change of the center's villages, in log order, as the domain
/// reads them.
pub(crate) fn all_changes(conn: &Connection) -> Result<Vec<kanoon_domain::outreach::VisitChange>> {
    use kanoon_domain::outreach::VisitChange;
    let mut stmt =
        conn.prepare_cached("SELECT village_id, on_day, to_day, reason FROM visit_changes ORDER BY hlc, id")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?, r.get::<_, String>(3)?))
    })?;
    rows.map(|row| {
        let (village, on, to, reason) = row?;
        let village = parse_uuid(&village)?;
        let on = parse_date(&on)?;
        Ok(match to {
            None => VisitChange::Cancelled { village, on, reason },
            Some(to) => VisitChange::Moved { village, from: on, to: parse_date(&to)?, reason },
        })
    })
    .collect()
}

/// Where a loan due on `due` in a village is due after the village's
/// changes (`moves`, in log order): each change of the day it is due on
/// sends it on, until none applies (a change that arrived late may send it
/// onto a day another change already moved). Bounded: a move back and forth
/// stops after one pass per change.
pub(crate) fn due_after_moves(due: NaiveDate, moves: &[(NaiveDate, Option<NaiveDate>)]) -> NaiveDate {
    let mut due = due;
    for _ in 0..=moves.len() {
        let before = due;
        for (on, new_due) in moves {
            if let Some(new_due) = new_due
                && due == *on
            {
                due = *new_due;
            }
        }
        if due == before {
            break;
        }
    }
    due
}

/// Marks the open loans of a copy with their village and moves their due
/// dates by the village's changes (after the copy's loans were derived
/// again from its events).
pub(crate) fn mark_village_loans(conn: &Connection, loans: &[(Uuid, Uuid, NaiveDate)]) -> Result<()> {
    for (loan_id, village, due) in loans {
        let moved = due_after_moves(*due, &due_moves_of(conn, *village)?);
        run(
            conn,
            "UPDATE open_loans SET village_id = ?2, due_on = ?3 WHERE loan_id = ?1",
            params![loan_id.to_string(), village.to_string(), moved.to_string()],
        )?;
    }
    Ok(())
}

/// The copies with an open loan of the village (to derive again after one
/// of its visits changed).
pub(crate) fn copies_lent_in(conn: &Connection, village: Uuid) -> Result<Vec<Uuid>> {
    let mut stmt = conn.prepare_cached("SELECT DISTINCT copy_id FROM open_loans WHERE village_id = ?1")?;
    let rows = stmt.query_map([village.to_string()], |r| r.get::<_, String>(0))?;
    rows.map(|row| parse_uuid(&row?)).collect()
}

/// One book of a parcel: the copy and the loan that took it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ParcelBookData {
    pub copy_id: Uuid,
    pub loan_id: Uuid,
}

/// A parcel sent, as its event carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ParcelSent {
    pub member_id: Uuid,
    pub books: Vec<ParcelBookData>,
    pub dispatched_on: NaiveDate,
    pub expected_on: NaiveDate,
    pub postage_rials: i64,
    #[serde(default)]
    pub tracking: String,
}

/// One book of a parcel back, or lost in the post, as its event carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ParcelOutcome {
    pub parcel_id: Uuid,
    pub copy_id: Uuid,
    pub on: NaiveDate,
}

/// Keeps a parcel and its books once.
pub(crate) fn insert_parcel(conn: &Connection, id: Uuid, p: &ParcelSent, stamp: &EventStamp) -> Result<()> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO parcels (id, member_id, dispatched_on, expected_on, postage_rials, tracking, staff_id, hlc, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (id) DO NOTHING",
        )?
        .execute(params![
            id.to_string(),
            p.member_id.to_string(),
            p.dispatched_on.to_string(),
            p.expected_on.to_string(),
            p.postage_rials,
            p.tracking,
            stamp.staff_id.map(|s| s.to_string()),
            stamp.hlc.to_sortable(),
            timestamp(stamp.at)
        ])?;
    if inserted == 1 {
        for b in &p.books {
            run(
                conn,
                "INSERT INTO parcel_books (parcel_id, copy_id, loan_id) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
                params![id.to_string(), b.copy_id.to_string(), b.loan_id.to_string()],
            )?;
        }
    }
    Ok(())
}

/// Keeps a book's outcome once (`received` or `lost`).
pub(crate) fn insert_outcome(
    conn: &Connection,
    id: Uuid,
    outcome: &str,
    o: &ParcelOutcome,
    stamp: &EventStamp,
) -> Result<()> {
    run(
        conn,
        "INSERT INTO parcel_outcomes (id, parcel_id, copy_id, outcome, on_day, hlc) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT DO NOTHING",
        params![
            id.to_string(),
            o.parcel_id.to_string(),
            o.copy_id.to_string(),
            outcome,
            o.on.to_string(),
            stamp.hlc.to_sortable()
        ],
    )?;
    Ok(())
}
