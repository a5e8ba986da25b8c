//! Activity program rows: the center's own activity kinds, the week's
//! sessions and their attendance. No other module writes
//! `activity_kinds`, `activity_sessions`, `attendance` or
//! `attendance_voids`.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use kanoon_domain::activities::SessionStatus;
use kanoon_protocol::EntityKind;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{EventStamp, FieldClocks, Record, parse_clocks};
use crate::error::{Result, StoreError};
use crate::sql::{parse_date, parse_uuid, run, timestamp};

/// A center's own activity kind as its ops carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ActivityKindRecord {
    pub center_id: Uuid,
    /// Stable code the sessions name (`c-` and the id's last digits).
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub retired: bool,
}

impl Record for ActivityKindRecord {
    const ENTITY: &'static str = EntityKind::ACTIVITY_KIND;
    const FIELDS: &'static [&'static str] = &["center_id", "code", "name", "retired"];

    fn load(conn: &Connection, id: Uuid) -> Result<Option<(Self, FieldClocks)>> {
        let row = conn
            .prepare_cached("SELECT center_id, code, name, retired, field_clocks FROM activity_kinds WHERE id = ?1")?
            .query_row([id.to_string()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, bool>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })
            .optional()?;
        row.map(|(center, code, name, retired, clocks)| {
            let record = ActivityKindRecord { center_id: parse_uuid(&center)?, code, name, retired };
            Ok((record, parse_clocks(&clocks)?))
        })
        .transpose()
    }

    fn store(conn: &Connection, id: Uuid, k: &Self, clocks: &FieldClocks, now: DateTime<Utc>) -> Result<()> {
        run(
            conn,
            "INSERT INTO activity_kinds (id, center_id, code, name, retired, field_clocks, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (id) DO UPDATE SET center_id = excluded.center_id, code = excluded.code,
                 name = excluded.name, retired = excluded.retired, field_clocks = excluded.field_clocks",
            params![
                id.to_string(),
                k.center_id.to_string(),
                k.code,
                k.name,
                k.retired,
                serde_json::to_string(clocks)?,
                timestamp(now)
            ],
        )?;
        Ok(())
    }
}

/// The center's own kinds, retired ones included: (id, record).
pub(crate) fn kinds_of(conn: &Connection, center: Uuid) -> Result<Vec<(Uuid, ActivityKindRecord)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, center_id, code, name, retired FROM activity_kinds WHERE center_id = ?1 ORDER BY created_at, id",
    )?;
    let rows = stmt.query_map([center.to_string()], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })?;
    let mut kinds = Vec::new();
    for row in rows {
        let (id, center_id, code, name, retired) = row?;
        kinds.push((parse_uuid(&id)?, ActivityKindRecord { center_id: parse_uuid(&center_id)?, code, name, retired }));
    }
    Ok(kinds)
}

/// A session of the program as its ops carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SessionRecord {
    pub center_id: Uuid,
    pub kind: String,
    pub title: String,
    pub age_group: String,
    pub on: NaiveDate,
    pub at: NaiveTime,
    pub minutes: u16,
    #[serde(default)]
    pub room: String,
    pub instructor_id: Uuid,
    #[serde(default)]
    pub instructor_name: String,
    pub capacity: u16,
    pub status: SessionStatus,
}

impl SessionRecord {
    pub fn to_domain(&self, id: Uuid) -> kanoon_domain::activities::Session {
        kanoon_domain::activities::Session {
            id,
            kind: self.kind.clone(),
            title: self.title.clone(),
            age_group: self.age_group.clone(),
            on: self.on,
            at: self.at,
            minutes: self.minutes,
            room: self.room.clone(),
            instructor_id: self.instructor_id,
            capacity: self.capacity,
            status: self.status.clone(),
        }
    }
}

const SESSION_COLUMNS: &str = "center_id, kind, title, age_group, planned_on, planned_at, minutes, room, instructor_id, \
                               capacity, status, instructor_name";

fn hhmm(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

fn parse_hhmm(s: &str) -> Result<NaiveTime> {
    NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| StoreError::Corrupt(format!("ساعت «{s}»")))
}

/// A session read from its row (the columns of `SESSION_COLUMNS`, from
/// `first`).
pub(crate) fn session_from_row(r: &rusqlite::Row<'_>, first: usize) -> Result<SessionRecord> {
    let text = |i: usize| r.get::<_, String>(first + i);
    let status: String = text(10)?;
    Ok(SessionRecord {
        center_id: parse_uuid(&text(0)?)?,
        kind: text(1)?,
        title: text(2)?,
        age_group: text(3)?,
        on: parse_date(&text(4)?)?,
        at: parse_hhmm(&text(5)?)?,
        minutes: r.get(first + 6)?,
        room: text(7)?,
        instructor_id: parse_uuid(&text(8)?)?,
        capacity: r.get(first + 9)?,
        status: serde_json::from_str(&status)?,
        instructor_name: text(11)?,
    })
}

/// The columns a session is read from, for a query of its own (`s.` is the
/// session's alias).
pub(crate) fn session_columns(alias: &str) -> String {
    SESSION_COLUMNS.split(", ").map(|c| format!("{alias}.{c}")).collect::<Vec<_>>().join(", ")
}

impl Record for SessionRecord {
    const ENTITY: &'static str = EntityKind::ACTIVITY_SESSION;
    const FIELDS: &'static [&'static str] = &[
        "center_id",
        "kind",
        "title",
        "age_group",
        "on",
        "at",
        "minutes",
        "room",
        "instructor_id",
        "instructor_name",
        "capacity",
        "status",
    ];

    fn load(conn: &Connection, id: Uuid) -> Result<Option<(Self, FieldClocks)>> {
        let sql = format!("SELECT {SESSION_COLUMNS}, field_clocks FROM activity_sessions WHERE id = ?1");
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([id.to_string()])?;
        let Some(row) = rows.next()? else { return Ok(None) };
        let record = session_from_row(row, 0)?;
        let clocks: String = row.get(12)?;
        Ok(Some((record, parse_clocks(&clocks)?)))
    }

    fn store(conn: &Connection, id: Uuid, s: &Self, clocks: &FieldClocks, now: DateTime<Utc>) -> Result<()> {
        let held = s.to_domain(id).held_at();
        run(
            conn,
            "INSERT INTO activity_sessions (id, center_id, kind, title, age_group, planned_on, planned_at, minutes,
                 room, instructor_id, capacity, status, held_on, held_at, field_clocks, created_at, instructor_name)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
             ON CONFLICT (id) DO UPDATE SET center_id = excluded.center_id, kind = excluded.kind,
                 title = excluded.title, age_group = excluded.age_group, planned_on = excluded.planned_on,
                 planned_at = excluded.planned_at, minutes = excluded.minutes, room = excluded.room,
                 instructor_id = excluded.instructor_id, capacity = excluded.capacity, status = excluded.status,
                 held_on = excluded.held_on, held_at = excluded.held_at, field_clocks = excluded.field_clocks,
                 instructor_name = excluded.instructor_name",
            params![
                id.to_string(),
                s.center_id.to_string(),
                s.kind,
                s.title,
                s.age_group,
                s.on.to_string(),
                hhmm(s.at),
                s.minutes,
                s.room,
                s.instructor_id.to_string(),
                s.capacity,
                serde_json::to_string(&s.status)?,
                held.map(|(d, _)| d.to_string()),
                held.map(|(_, t)| hhmm(t)),
                serde_json::to_string(clocks)?,
                timestamp(now),
                s.instructor_name,
            ],
        )?;
        Ok(())
    }
}

/// One scan or tick into a session, as the `attended` event carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Attended {
    pub session_id: Uuid,
    pub card: String,
    #[serde(default)]
    pub member_id: Option<Uuid>,
    #[serde(default)]
    pub late: bool,
    /// Who recorded it, as they were named then.
    #[serde(default)]
    pub staff_name: Option<String>,
}

/// An attendance taken back, as the `void` event carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AttendanceVoid {
    pub target: Uuid,
    pub reason: String,
}

/// The event kinds of the `attendance` entity.
pub(crate) const ATTENDED: &str = "attended";
pub(crate) const VOID: &str = "void";

/// Keeps an `attended` event (once: events merge by id), voided at once
/// when its void came first.
pub(crate) fn insert_attended(conn: &Connection, id: Uuid, a: &Attended, stamp: &EventStamp) -> Result<bool> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO attendance (id, session_id, card, member_id, late, hlc, device_id, at, staff_id,
                 staff_name, void_id, void_reason)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, v.void_id, v.reason
             FROM (SELECT 1) LEFT JOIN attendance_voids v ON v.target = ?1
             WHERE true ON CONFLICT (id) DO NOTHING",
        )?
        .execute(params![
            id.to_string(),
            a.session_id.to_string(),
            a.card,
            a.member_id.map(|m| m.to_string()),
            a.late,
            stamp.hlc.to_sortable(),
            stamp.device_id.to_string(),
            timestamp(stamp.at),
            stamp.staff_id.map(|s| s.to_string()),
            a.staff_name,
        ])?;
    Ok(inserted == 1)
}

/// Keeps a void: marks its attendance, or waits for it (`attendance_voids`).
/// Of two voids of one attendance the first kept stays.
pub(crate) fn insert_void(conn: &Connection, void_id: Uuid, v: &AttendanceVoid) -> Result<()> {
    run(
        conn,
        "INSERT INTO attendance_voids (target, void_id, reason) VALUES (?1, ?2, ?3) ON CONFLICT (target) DO NOTHING",
        params![v.target.to_string(), void_id.to_string(), v.reason],
    )?;
    run(
        conn,
        "UPDATE attendance SET void_id = ?2, void_reason = ?3 WHERE id = ?1 AND void_id IS NULL",
        params![v.target.to_string(), void_id.to_string(), v.reason],
    )?;
    Ok(())
}

/// Whether this card is already counted in this session (not voided).
pub(crate) fn card_in_session(conn: &Connection, session: Uuid, card: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM attendance WHERE session_id = ?1 AND card = ?2 AND void_id IS NULL)",
        )?
        .query_row(params![session.to_string(), card], |r| r.get(0))?)
}

/// Attendance of a session: each card once, voids left out.
pub(crate) fn count_in_session(conn: &Connection, session: Uuid) -> Result<u32> {
    Ok(conn
        .prepare_cached("SELECT count(DISTINCT card) FROM attendance WHERE session_id = ?1 AND void_id IS NULL")?
        .query_row([session.to_string()], |r| r.get(0))?)
}
