//! Workshop rows: workshops and participants (records), enrolment events
//! (the roster's log) and attendance per session. No other module writes
//! `workshops`, `participants`, `enrolments` or `workshop_attendance`.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use kanoon_domain::entities::Gender;
use kanoon_domain::text;
use kanoon_domain::workshops::{RefundRule, RosterEvent, Standing, WorkshopTerms};
use kanoon_protocol::EntityKind;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{EventStamp, FieldClocks, Record, parse_clocks};
use crate::error::Result;
use crate::findings::Finding;
use crate::sql::{parse_uuid, run, timestamp};

/// Two desks gave away a workshop's last place offline: both participants
/// are kept enrolled and the manager is told.
pub(crate) const WORKSHOP_OVER_CAPACITY: &str = "workshop_over_capacity";

/// How a workshop's sessions were planned: the days are computed from it
/// (`kanoon_domain::workshops::session_days`) and kept in `sessions`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Schedule {
    pub first_on: NaiveDate,
    /// 0 = Saturday … 6 = Friday.
    pub weekdays: Vec<u8>,
    pub count: u16,
    pub at: NaiveTime,
    pub minutes: u16,
}

/// A workshop as its ops carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WorkshopRecord {
    pub center_id: Uuid,
    /// e.g. «تابستان ۱۴۰۵».
    pub term: String,
    pub title: String,
    pub instructor_id: Uuid,
    #[serde(default)]
    pub instructor_name: String,
    /// Age groups it takes (empty: any).
    #[serde(default)]
    pub age_groups: Vec<String>,
    /// Girls or boys only (None: both).
    #[serde(default)]
    pub gender: Option<Gender>,
    #[serde(default)]
    pub room: String,
    pub schedule: Schedule,
    pub sessions: Vec<NaiveDate>,
    pub capacity: u32,
    pub minimum: u32,
    pub tuition_rials: i64,
    /// The instructor's share of the tuition, in percent.
    #[serde(default)]
    pub instructor_share_percent: u8,
    /// Installments a family may pay in (1: in full).
    #[serde(default = "one")]
    pub max_installments: u8,
    /// Attended at least this share of the sessions held to complete.
    #[serde(default = "three_quarters")]
    pub completion_percent: u8,
    pub refund_rule: RefundRule,
    /// The reason, once cancelled.
    #[serde(default)]
    pub cancelled: Option<String>,
}

fn one() -> u8 {
    1
}

fn three_quarters() -> u8 {
    75
}

impl WorkshopRecord {
    pub fn terms(&self) -> WorkshopTerms {
        WorkshopTerms { capacity: self.capacity, minimum: self.minimum, tuition_rials: self.tuition_rials }
    }
}

impl Record for WorkshopRecord {
    const ENTITY: &'static str = EntityKind::WORKSHOP;
    const FIELDS: &'static [&'static str] = &[
        "center_id",
        "term",
        "title",
        "instructor_id",
        "instructor_name",
        "age_groups",
        "gender",
        "room",
        "schedule",
        "sessions",
        "capacity",
        "minimum",
        "tuition_rials",
        "instructor_share_percent",
        "max_installments",
        "completion_percent",
        "refund_rule",
        "cancelled",
    ];

    fn load(conn: &Connection, id: Uuid) -> Result<Option<(Self, FieldClocks)>> {
        load_body(conn, "workshops", id)
    }

    fn store(conn: &Connection, id: Uuid, w: &Self, clocks: &FieldClocks, now: DateTime<Utc>) -> Result<()> {
        run(
            conn,
            "INSERT INTO workshops (id, center_id, term, title, first_on, last_on, cancelled, body, field_clocks,
                 created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (id) DO UPDATE SET center_id = excluded.center_id, term = excluded.term,
                 title = excluded.title, first_on = excluded.first_on, last_on = excluded.last_on,
                 cancelled = excluded.cancelled, body = excluded.body, field_clocks = excluded.field_clocks",
            params![
                id.to_string(),
                w.center_id.to_string(),
                w.term,
                w.title,
                w.sessions.first().map(NaiveDate::to_string),
                w.sessions.last().map(NaiveDate::to_string),
                w.cancelled.is_some(),
                serde_json::to_string(w)?,
                serde_json::to_string(clocks)?,
                timestamp(now),
            ],
        )?;
        Ok(())
    }

    /// A capacity changed at another desk may end (or make) an excess.
    fn after_pulled(conn: &Connection, id: Uuid, _record: &Self, found: &mut Vec<Finding>) -> Result<()> {
        found.extend(capacity_finding(conn, id)?);
        Ok(())
    }
}

/// A record kept whole as JSON in `body`, and its clocks.
fn load_body<R: Record>(conn: &Connection, table: &str, id: Uuid) -> Result<Option<(R, FieldClocks)>> {
    let row: Option<(String, String)> = conn
        .prepare_cached(&format!("SELECT body, field_clocks FROM {table} WHERE id = ?1"))?
        .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(body, clocks)| Ok((serde_json::from_str(&body)?, parse_clocks(&clocks)?))).transpose()
}

/// Workshops whose last session is on or after `from` (None: all), the
/// cancelled ones too, by first session.
pub(crate) fn workshops_from(conn: &Connection, from: Option<NaiveDate>) -> Result<Vec<(Uuid, WorkshopRecord)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, body FROM workshops WHERE ?1 IS NULL OR last_on >= ?1 ORDER BY first_on, title, id",
    )?;
    let rows =
        stmt.query_map([from.map(|d| d.to_string())], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, body) = row?;
        out.push((parse_uuid(&id)?, serde_json::from_str(&body)?));
    }
    Ok(out)
}

/// A workshop participant as its ops carry it: a member of the center or
/// a child who is not one (yet).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ParticipantRecord {
    pub center_id: Uuid,
    pub full_name: String,
    #[serde(default)]
    pub gender: Option<Gender>,
    #[serde(default)]
    pub age_group: Option<String>,
    #[serde(default)]
    pub guardian_name: String,
    /// The guardian's mobile (09…), as `ids::normalize_mobile` keeps it.
    #[serde(default)]
    pub guardian_phone: String,
    /// The member this participant is (set when enrolled by card, or when
    /// promoted to a member).
    #[serde(default)]
    pub member_id: Option<Uuid>,
}

impl Record for ParticipantRecord {
    const ENTITY: &'static str = EntityKind::PARTICIPANT;
    const FIELDS: &'static [&'static str] =
        &["center_id", "full_name", "gender", "age_group", "guardian_name", "guardian_phone", "member_id"];

    fn load(conn: &Connection, id: Uuid) -> Result<Option<(Self, FieldClocks)>> {
        load_body(conn, "participants", id)
    }

    fn store(conn: &Connection, id: Uuid, p: &Self, clocks: &FieldClocks, now: DateTime<Utc>) -> Result<()> {
        let search = format!(
            "{} {} {}",
            text::normalize_search(&p.full_name),
            text::normalize_search(&p.guardian_name),
            text::to_ascii_digits(&p.guardian_phone)
        );
        run(
            conn,
            "INSERT INTO participants (id, center_id, full_name, search, member_id, body, field_clocks, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (id) DO UPDATE SET center_id = excluded.center_id, full_name = excluded.full_name,
                 search = excluded.search, member_id = excluded.member_id, body = excluded.body,
                 field_clocks = excluded.field_clocks",
            params![
                id.to_string(),
                p.center_id.to_string(),
                p.full_name,
                search,
                p.member_id.map(|m| m.to_string()),
                serde_json::to_string(p)?,
                serde_json::to_string(clocks)?,
                timestamp(now),
            ],
        )?;
        Ok(())
    }
}

/// Participants whose name, guardian or phone holds every word of
/// `query` (normalized), at most `limit`.
pub(crate) fn find_participants(conn: &Connection, query: &str, limit: u32) -> Result<Vec<(Uuid, ParticipantRecord)>> {
    let words: Vec<String> = text::normalize_search(&text::to_ascii_digits(query))
        .split_whitespace()
        .map(|w| format!("%{}%", w.replace(['%', '_'], "")))
        .collect();
    let mut sql = String::from("SELECT id, body FROM participants WHERE 1 = 1");
    for i in 0..words.len() {
        sql.push_str(&format!(" AND search LIKE ?{}", i + 1));
    }
    sql.push_str(&format!(" ORDER BY full_name LIMIT {limit}"));
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(words.iter()), |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, body) = row?;
        out.push((parse_uuid(&id)?, serde_json::from_str(&body)?));
    }
    Ok(out)
}

/// The participant record of a member, if one was made.
pub(crate) fn participant_of_member(conn: &Connection, member: Uuid) -> Result<Option<Uuid>> {
    conn.prepare_cached("SELECT id FROM participants WHERE member_id = ?1 ORDER BY created_at, id LIMIT 1")?
        .query_row([member.to_string()], |r| r.get::<_, String>(0))
        .optional()?
        .map(|s| parse_uuid(&s))
        .transpose()
}

/// The event kinds of the `enrolment` entity.
pub(crate) const JOINED: &str = "joined";
pub(crate) const OFFERED: &str = "offered";
pub(crate) const ACCEPTED: &str = "accepted";
pub(crate) const LEFT: &str = "left";
pub(crate) const ATTENDED: &str = "attended";

/// An enrolment event's data: which workshop, who, and for a join what was
/// decided and agreed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EnrolmentData {
    pub workshop_id: Uuid,
    pub participant: Uuid,
    /// A join: enrolled or waiting, as the desk decided it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standing: Option<Standing>,
    /// A join past a full workshop: the manager who allowed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over_capacity_by: Option<Uuid>,
    /// A join: the part of the tuition the family is exempted from.
    #[serde(default)]
    pub exemption_rials: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exemption_reason: Option<String>,
    /// A join: the installments agreed (1: in full).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installments: Option<u8>,
    /// A withdrawal or a declined offer: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default)]
    pub staff_name: Option<String>,
}

impl EnrolmentData {
    pub fn new(workshop_id: Uuid, participant: Uuid, staff_name: Option<String>) -> EnrolmentData {
        EnrolmentData {
            workshop_id,
            participant,
            standing: None,
            over_capacity_by: None,
            exemption_rials: 0,
            exemption_reason: None,
            installments: None,
            reason: None,
            staff_name,
        }
    }

    /// The roster's view of the event of kind `kind`; None for a kind the
    /// roster does not fold.
    pub fn roster_event(&self, kind: &str) -> Option<RosterEvent> {
        let participant = self.participant;
        match kind {
            JOINED => Some(RosterEvent::Join {
                participant,
                standing: self.standing.unwrap_or(Standing::Waiting),
                over_capacity_by: self.over_capacity_by,
            }),
            OFFERED => Some(RosterEvent::Offer { participant }),
            ACCEPTED => Some(RosterEvent::Accept { participant }),
            LEFT => Some(RosterEvent::Leave { participant }),
            _ => None,
        }
    }
}

/// Keeps an enrolment event once (events merge by id).
pub(crate) fn insert_enrolment(
    conn: &Connection,
    id: Uuid,
    kind: &str,
    d: &EnrolmentData,
    stamp: &EventStamp,
) -> Result<bool> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO enrolments (id, workshop_id, participant_id, kind, data, staff_id, staff_name, hlc,
                 device_id, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (id) DO NOTHING",
        )?
        .execute(params![
            id.to_string(),
            d.workshop_id.to_string(),
            d.participant.to_string(),
            kind,
            serde_json::to_string(d)?,
            stamp.staff_id.map(|s| s.to_string()),
            d.staff_name,
            stamp.hlc.to_sortable(),
            stamp.device_id.to_string(),
            timestamp(stamp.at),
        ])?;
    Ok(inserted == 1)
}

/// A workshop's enrolment events in log order (clock, then id): what the
/// roster folds, with each event's kind.
pub(crate) fn enrolments_of(conn: &Connection, workshop: Uuid) -> Result<Vec<(String, EnrolmentData)>> {
    let mut stmt = conn.prepare_cached("SELECT kind, data FROM enrolments WHERE workshop_id = ?1 ORDER BY hlc, id")?;
    let rows = stmt.query_map([workshop.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (kind, data) = row?;
        out.push((kind, serde_json::from_str(&data)?));
    }
    Ok(out)
}

/// Workshops a participant has an enrolment event in.
pub(crate) fn workshops_of_participant(conn: &Connection, participant: Uuid) -> Result<Vec<Uuid>> {
    let mut stmt =
        conn.prepare_cached("SELECT DISTINCT workshop_id FROM enrolments WHERE participant_id = ?1 ORDER BY 1")?;
    let rows = stmt.query_map([participant.to_string()], |r| r.get::<_, String>(0))?;
    rows.map(|r| parse_uuid(&r?)).collect()
}

/// The workshop's over-capacity exception, derived again from the fold
/// of all its enrolment events: the old one is forgotten first (one seen
/// on a partial log may vanish when a withdrawal arrives, and every desk
/// must end with the same set; a resolution is kept by id and recorded
/// again by `record_exception`). Some when the roster holds more places
/// than the capacity and the manager's overrides.
pub(crate) fn capacity_finding(conn: &Connection, workshop: Uuid) -> Result<Option<Finding>> {
    use crate::rows::Record as _;
    run(
        conn,
        "DELETE FROM sync_exceptions WHERE code = ?2 AND json_extract(detail, '$.workshop_id') = ?1",
        [workshop.to_string().as_str(), WORKSHOP_OVER_CAPACITY],
    )?;
    let Some((record, _)) = WorkshopRecord::load(conn, workshop)? else { return Ok(None) };
    let (roster, _) = roster_of(conn, workshop)?;
    if roster.over_capacity(&record.terms()) == 0 {
        return Ok(None);
    }
    let held = roster.places_held();
    Ok(Some(Finding::new(
        WORKSHOP_OVER_CAPACITY,
        &[workshop, Uuid::from_u128(u128::from(held))],
        serde_json::json!({"workshop_id": workshop, "places_held": held}),
    )))
}

/// One session's attendance mark, as the `attended` event carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SessionMark {
    pub workshop_id: Uuid,
    pub participant: Uuid,
    /// 1 = the first session.
    pub session: u16,
    pub present: bool,
    #[serde(default)]
    pub staff_name: Option<String>,
}

/// Keeps a mark unless a later one (by clock) is already kept: the latest
/// mark of a session wins on every desk, whatever order they arrive in.
pub(crate) fn insert_mark(conn: &Connection, id: Uuid, m: &SessionMark, stamp: &EventStamp) -> Result<()> {
    run(
        conn,
        "INSERT INTO workshop_attendance (workshop_id, participant_id, session_no, present, event_id, hlc, staff_name)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (workshop_id, participant_id, session_no) DO UPDATE SET present = excluded.present,
             event_id = excluded.event_id, hlc = excluded.hlc, staff_name = excluded.staff_name
         WHERE (excluded.hlc, excluded.event_id) > (workshop_attendance.hlc, workshop_attendance.event_id)",
        params![
            m.workshop_id.to_string(),
            m.participant.to_string(),
            m.session,
            m.present,
            id.to_string(),
            stamp.hlc.to_sortable(),
            m.staff_name,
        ],
    )?;
    Ok(())
}

/// The sessions (numbers) each participant of a workshop was marked
/// present at.
pub(crate) fn presence_of(conn: &Connection, workshop: Uuid) -> Result<Vec<(Uuid, u16)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT participant_id, session_no FROM workshop_attendance WHERE workshop_id = ?1 AND present = 1",
    )?;
    let rows = stmt.query_map([workshop.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u16>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (p, n) = row?;
        out.push((parse_uuid(&p)?, n));
    }
    Ok(out)
}

/// Where a participant stands in a workshop and with its money.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Position {
    pub standing: Option<Standing>,
    /// 1 = first on the waiting list.
    pub queue_position: Option<u32>,
    pub exemption_rials: i64,
    pub exemption_reason: Option<String>,
    pub installments: u8,
    /// Tuition less the exemption.
    pub owed_rials: i64,
    /// Paid, before refunds.
    pub paid_rials: i64,
    pub refunded_rials: i64,
    /// Still to pay (none once withdrawn or cancelled).
    pub balance_rials: i64,
    /// To give back: by the refund rule once withdrawn, all once the
    /// workshop is cancelled.
    pub refund_due_rials: i64,
    /// The next installment by the plan, at most the balance.
    pub next_installment_rials: i64,
}

/// The roster of a workshop folded from its events.
pub(crate) fn roster_of(
    conn: &Connection,
    workshop: Uuid,
) -> Result<(kanoon_domain::workshops::Roster, Vec<(String, EnrolmentData)>)> {
    let events = enrolments_of(conn, workshop)?;
    let roster = kanoon_domain::workshops::Roster::fold(
        events.iter().filter_map(|(kind, d)| d.roster_event(kind)).collect::<Vec<_>>().iter(),
    );
    Ok((roster, events))
}

/// A participant's position in a workshop, from the roster's events and
/// the cash book's entries for it.
pub(crate) fn position(
    conn: &Connection,
    workshop_id: Uuid,
    workshop: &WorkshopRecord,
    participant: Uuid,
    roster: &kanoon_domain::workshops::Roster,
    events: &[(String, EnrolmentData)],
) -> Result<Position> {
    use kanoon_domain::workshops::{balance_due, installments, refund_due};
    let standing = roster.standing(participant);
    let join = events.iter().rev().find(|(k, d)| k == JOINED && d.participant == participant).map(|(_, d)| d);
    let exemption = join.map_or(0, |d| d.exemption_rials).clamp(0, workshop.tuition_rials.max(0));
    let count = join.and_then(|d| d.installments).unwrap_or(1).max(1);
    let entries = crate::rows::cash::of_participant(conn, workshop_id, participant)?;
    let paid: i64 = entries.iter().filter(|e| e.refund_of.is_none()).map(|e| e.entry.amount_rials).sum();
    let refunded: i64 = -entries.iter().filter(|e| e.refund_of.is_some()).map(|e| e.entry.amount_rials).sum::<i64>();
    let payments = entries.iter().filter(|e| e.refund_of.is_none()).count();
    let owed = workshop.tuition_rials - exemption;
    let cancelled = workshop.cancelled.is_some();
    let withdrawn = standing == Some(Standing::Withdrawn);
    let refund = if cancelled || withdrawn {
        // Sessions held before the withdrawal.
        let left_on = events
            .iter()
            .rev()
            .find(|(k, d)| k == LEFT && d.participant == participant)
            .and_then(|_| left_day(conn, workshop_id, participant).ok().flatten());
        let held = left_on.map_or(0, |day| workshop.sessions.iter().filter(|s| **s < day).count());
        let total = u32::try_from(workshop.sessions.len()).unwrap_or(u32::MAX);
        refund_due(&workshop.refund_rule, paid, refunded, u32::try_from(held).unwrap_or(u32::MAX), total, cancelled)
    } else {
        0
    };
    let balance = if cancelled || withdrawn || standing.is_none() {
        0
    } else {
        balance_due(workshop.tuition_rials, exemption, paid - refunded)
    };
    let plan = installments(workshop.tuition_rials.max(0), exemption, u32::from(count)).unwrap_or_default();
    let next = plan.get(payments).copied().unwrap_or(balance).min(balance);
    Ok(Position {
        standing,
        queue_position: roster
            .waiting()
            .iter()
            .position(|p| *p == participant)
            .map(|i| u32::try_from(i + 1).unwrap_or(u32::MAX)),
        exemption_rials: exemption,
        exemption_reason: join.and_then(|d| d.exemption_reason.clone()),
        installments: count,
        owed_rials: owed,
        paid_rials: paid,
        refunded_rials: refunded,
        balance_rials: balance,
        refund_due_rials: refund,
        next_installment_rials: if next > 0 { next } else { balance },
    })
}

/// The Tehran day of a participant's last withdrawal from a workshop.
fn left_day(conn: &Connection, workshop: Uuid, participant: Uuid) -> Result<Option<NaiveDate>> {
    let at: Option<String> = conn
        .prepare_cached(
            "SELECT at FROM enrolments WHERE workshop_id = ?1 AND participant_id = ?2 AND kind = 'left'
             ORDER BY hlc DESC, id DESC LIMIT 1",
        )?
        .query_row(params![workshop.to_string(), participant.to_string()], |r| r.get(0))
        .optional()?;
    Ok(at.and_then(|a| crate::sql::parse_time(&a).ok()).map(kanoon_domain::jalali::tehran_date))
}
