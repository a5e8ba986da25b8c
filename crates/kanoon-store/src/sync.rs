//! The desk's side of sync: the outbox to push, and ops pulled from the
//! provincial server applied with the domain's rules — events by id (a set
//! union; derived state re-folded), records field by field
//! (`merge::apply_patch`). Transport, retries and backoff belong to the sync
//! client; this module takes plain data and writes rows.
//!
//! Applying a page is one transaction with its cursor. Each op is applied
//! under its own savepoint: an op that cannot be applied yet (a kind this
//! version does not know, a record whose creation has not arrived, a clash
//! with a local row) is kept in the inbox and, when it is a real-world
//! conflict, becomes an exception — it never blocks the rest of the page.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use kanoon_domain::circulation::{Anomaly, Event, EventRecord, exception_id};
use kanoon_domain::entities::{AlternativeId, Documents, Gender, Permission, WithdrawReason};
use kanoon_domain::ids::NationalId;
use kanoon_domain::merge::{ConcurrentEdit, RecordFields, Stamped, apply_patch};
use kanoon_domain::text;
use kanoon_protocol::wire::Cursor;
use kanoon_protocol::{EntityKind, FieldChange, Hlc, Op, OpBody};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::circulation::rederive;
use crate::desk::{Desk, FieldClocks, FieldStamp, insert_event, parse_clocks};
use crate::error::{Result, StoreError};

/// How far ahead of this desk's time a pulled op's clock may be before it is
/// flagged (and not adopted, so one wrong PC cannot drag every clock).
pub(crate) const MAX_CLOCK_AHEAD_MS: i64 = 10 * 60 * 1000;

/// What applying a page of pulled ops did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ApplyReport {
    pub applied: usize,
    /// This desk's own ops coming back.
    pub own: usize,
    /// Already received earlier.
    pub duplicates: usize,
    /// Kept to apply later (unknown kind, missing record, clash).
    pub kept: usize,
    /// New exceptions recorded.
    pub exceptions: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncException {
    pub id: Uuid,
    /// copy_lent_twice, loan_not_open, void_target_missing, concurrent_edit,
    /// duplicate_national_id, member_number_clash, unknown_member,
    /// unknown_copy, clock_far_off, op_rejected, not_applied.
    pub code: String,
    pub detail: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub resolved: bool,
    /// How staff settled it (on this desk or another of the center).
    pub resolution: Option<ExceptionResolution>,
}

/// How staff settled an exception: the `exception_resolved` event every
/// desk of the center pulls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExceptionResolution {
    /// The op that resolved it (`sync_exceptions.resolved_by`).
    pub op_id: Uuid,
    pub note: String,
    pub staff_id: Option<Uuid>,
    /// Staff records of other desks are not applied yet, so the name
    /// travels with the event.
    pub staff_name: String,
    pub resolved_at: DateTime<Utc>,
}

/// Most characters in a resolution note.
pub const MAX_RESOLUTION_NOTE: usize = 500;

/// The event kind of a resolution (entity `sync_exception`).
pub const EXCEPTION_RESOLVED: &str = "exception_resolved";

/// The data of an `exception_resolved` event.
#[derive(Serialize, Deserialize)]
struct ExceptionResolved {
    exception_id: Uuid,
    note: String,
    staff_id: Option<Uuid>,
    staff_name: String,
    resolved_at: DateTime<Utc>,
}

impl Desk {
    /// Ops not yet accepted by the server, oldest first.
    pub fn ops_to_push(&self, limit: usize) -> Result<Vec<Op>> {
        let mut stmt =
            self.conn.prepare_cached("SELECT op FROM outbox WHERE pushed_at IS NULL ORDER BY seq LIMIT ?1")?;
        let rows = stmt.query_map([limit as i64], |r| r.get::<_, String>(0))?;
        rows.map(|r| Ok(serde_json::from_str(&r?)?)).collect()
    }

    /// Marks ops the server stored (accepted now or earlier).
    pub fn mark_pushed(&mut self, op_ids: &[Uuid]) -> Result<()> {
        self.waiting.set(None);
        let now = self.now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let tx = self.conn.transaction()?;
        {
            let mut stmt =
                tx.prepare_cached("UPDATE outbox SET pushed_at = ?2 WHERE op_id = ?1 AND pushed_at IS NULL")?;
            for id in op_ids {
                stmt.execute(params![id.to_string(), now])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Where this desk is in the server's log.
    pub fn sync_cursor(&self) -> Result<Option<Cursor>> {
        let raw: Option<String> =
            self.conn.query_row("SELECT value FROM meta WHERE key = 'sync_cursor'", [], |r| r.get(0)).optional()?;
        raw.map(|c| c.parse().map_err(|_| StoreError::Corrupt(format!("مکان همگام‌سازی «{c}»")))).transpose()
    }

    /// Applies a page of pulled ops and saves the cursor after it, in one
    /// transaction. Safe to call again with the same page.
    pub fn apply_pulled(&mut self, ops: &[Op], cursor: Cursor) -> Result<ApplyReport> {
        let device = self.id()?.device_id;
        let now = self.now();
        let mut clock = self.hlc_clock();
        let clock_before = clock.last;
        let mut report = ApplyReport::default();
        let mut tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for op in ops {
            // This desk's own ops come back too. They are applied like any
            // other (idempotently): after a restore from an older backup
            // they are how the desk gets back what it wrote since.
            if op.device_id == device {
                report.own += 1;
            }
            let known: bool = tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM inbox WHERE op_id = ?1)")?
                .query_row([op.op_id.to_string()], |r| r.get(0))?;
            if known {
                report.duplicates += 1;
                continue;
            }
            let mut found = Vec::new();
            if !clock.observe(op.hlc, now.timestamp_millis(), MAX_CLOCK_AHEAD_MS) {
                found.push(Finding::new(
                    "clock_far_off",
                    &[op.op_id],
                    serde_json::json!({"op_id": op.op_id, "hlc": op.hlc}),
                ));
            }
            let applied = try_apply(&mut tx, op, &mut found)?;
            tx.prepare_cached(
                "INSERT INTO inbox (op_id, entity, entity_id, op, received_at, applied) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                op.op_id.to_string(),
                op.entity.as_str(),
                op.entity_id.to_string(),
                serde_json::to_string(op)?,
                now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                applied
            ])?;
            for f in found {
                report.exceptions += record_exception(&tx, &f, now)?;
            }
            if applied {
                report.applied += 1;
            } else {
                report.kept += 1;
            }
        }
        // Ops set aside earlier may apply now (a copy's title or a loan's
        // member arrived in this page): retry them in log order until a pass
        // applies nothing more. Only kinds this version applies are retried:
        // the others (staff, settings) are kept for a later version and would
        // otherwise be parsed again after every page, forever.
        loop {
            let waiting: Vec<(String, String)> = {
                let mut stmt = tx.prepare_cached(
                    "SELECT op_id, op FROM inbox WHERE applied = 0 AND entity IN (?1, ?2, ?3, ?4, ?5, ?6) ORDER BY rowid",
                )?;
                let rows = stmt.query_map(APPLIED_KINDS, |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let mut progress = false;
            for (op_id, json) in waiting {
                let op: Op = serde_json::from_str(&json)?;
                let mut found = Vec::new();
                if try_apply(&mut tx, &op, &mut found)? {
                    run(&tx, "UPDATE inbox SET applied = 1 WHERE op_id = ?1", [op_id])?;
                    for f in found {
                        report.exceptions += record_exception(&tx, &f, now)?;
                    }
                    report.applied += 1;
                    report.kept = report.kept.saturating_sub(1);
                    progress = true;
                }
            }
            if !progress {
                break;
            }
        }
        run(
            &tx,
            "INSERT INTO meta (key, value) VALUES ('sync_cursor', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [cursor.to_string()],
        )?;
        // The clock adopted from this page outlives a restart: the desk
        // reopens at its last own op's clock or this, whichever is later, so
        // its next write still sorts after what it has seen (an edit made
        // after a restart must not lose to the value it replaced).
        if clock.last > clock_before {
            run(
                &tx,
                "INSERT INTO meta (key, value) VALUES ('hlc_last', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [clock.last.to_sortable()],
            )?;
        }
        tx.commit()?;
        self.set_hlc_clock(clock);
        self.forget_reference();
        Ok(report)
    }

    /// A pulled op as this desk keeps it in its inbox (every field it came
    /// with, known or not) and whether it was applied; None if it never
    /// arrived.
    pub fn pulled_op(&self, op_id: Uuid) -> Result<Option<(serde_json::Value, bool)>> {
        let row: Option<(String, bool)> = self
            .conn
            .query_row("SELECT op, applied FROM inbox WHERE op_id = ?1", [op_id.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        row.map(|(json, applied)| Ok((serde_json::from_str(&json)?, applied))).transpose()
    }

    /// Exceptions recorded by sync, newest first, with their resolutions.
    pub fn sync_exceptions(&self) -> Result<Vec<SyncException>> {
        self.signed()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.id, e.code, e.detail, e.created_at, e.resolved_by IS NOT NULL,
                    r.op_id, r.note, r.staff_id, r.staff_name, r.resolved_at
             FROM sync_exceptions e LEFT JOIN exception_resolutions r ON r.exception_id = e.id AND r.op_id = e.resolved_by
             ORDER BY e.created_at DESC, e.id",
        )?;
        let rows = stmt.query_map([], |r| {
            let resolution = match r.get::<_, Option<String>>(5)? {
                Some(op_id) => {
                    Some((op_id, r.get::<_, String>(6)?, r.get::<_, Option<String>>(7)?, r.get(8)?, r.get(9)?))
                }
                None => None,
            };
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, bool>(4)?,
                resolution,
            ))
        })?;
        rows.map(|row| {
            let (id, code, detail, at, resolved, resolution) = row?;
            let resolution = resolution
                .map(|(op_id, note, staff_id, staff_name, at): (String, String, Option<String>, String, String)| {
                    Ok::<_, StoreError>(ExceptionResolution {
                        op_id: crate::desk::parse_uuid(&op_id)?,
                        note,
                        staff_id: staff_id.as_deref().map(crate::desk::parse_uuid).transpose()?,
                        staff_name,
                        resolved_at: parse_time(&at)?,
                    })
                })
                .transpose()?;
            Ok(SyncException {
                id: crate::desk::parse_uuid(&id)?,
                code,
                detail: serde_json::from_str(&detail)?,
                created_at: parse_time(&at)?,
                resolved,
                resolution,
            })
        })
        .collect()
    }

    /// Staff settle an exception with a note saying what they did: one
    /// transaction writes the `exception_resolved` op (every desk of the
    /// center pulls it and marks the exception resolved too) and marks it
    /// here.
    pub fn resolve_sync_exception(&mut self, id: Uuid, note: &str) -> Result<SyncException> {
        let staff = self.require(Permission::VoidRecords)?.clone();
        let note = note.trim();
        if note.is_empty() {
            return Err(StoreError::InvalidInput(
                "بنویسید این مورد چگونه حل شد (مثلاً «کتاب از عضو پس گرفته شد»)؛ یادداشت لازم است.".into(),
            ));
        }
        if note.chars().count() > MAX_RESOLUTION_NOTE {
            return Err(StoreError::InvalidInput(format!(
                "یادداشت بلندتر از {} نویسه است؛ کوتاه‌ترش کنید.",
                text::to_persian_digits(&MAX_RESOLUTION_NOTE.to_string())
            )));
        }
        self.write(|w| {
            let state: Option<Option<String>> =
                w.tx.query_row("SELECT resolved_by FROM sync_exceptions WHERE id = ?1", [id.to_string()], |r| r.get(0))
                    .optional()?;
            match state {
                None => {
                    return Err(StoreError::NotFound(
                        "این مورد در فهرست مشکل‌های همگام‌سازی این میز نیست؛ فهرست را تازه کنید.".into(),
                    ));
                }
                Some(Some(_)) => {
                    return Err(StoreError::Conflict(
                        "این مورد پیش‌تر حل شده است (شاید در میز دیگری)؛ فهرست را تازه کنید تا یادداشت آن را ببینید."
                            .into(),
                    ));
                }
                Some(None) => {}
            }
            let data = ExceptionResolved {
                exception_id: id,
                note: note.to_owned(),
                staff_id: Some(staff.id),
                staff_name: staff.full_name.clone(),
                resolved_at: w.now,
            };
            let body = OpBody::Event { kind: EXCEPTION_RESOLVED.to_owned(), data: serde_json::to_value(&data)? };
            let (op_id, hlc) = w.push_op(EntityKind::SYNC_EXCEPTION, id, body)?;
            store_resolution(&w.tx, id, op_id, hlc, &data)
        })?;
        self.sync_exceptions()?
            .into_iter()
            .find(|e| e.id == id)
            .ok_or_else(|| StoreError::Corrupt("مورد حل شد ولی دوباره پیدا نشد".into()))
    }
}

fn parse_time(at: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(at)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| StoreError::Corrupt(format!("زمان «{at}»")))
}

/// Keeps a resolution by its exception's id (the exception may not be
/// recorded on this desk yet) and marks the exception if it is. Of two
/// resolutions of one exception, the one with the lowest (hlc, op id)
/// wins, whatever order they arrive in.
fn store_resolution(tx: &Connection, exception_id: Uuid, op_id: Uuid, hlc: Hlc, r: &ExceptionResolved) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO exception_resolutions (exception_id, op_id, hlc, note, staff_id, staff_name, resolved_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (exception_id) DO UPDATE SET op_id = excluded.op_id, hlc = excluded.hlc, note = excluded.note,
             staff_id = excluded.staff_id, staff_name = excluded.staff_name, resolved_at = excluded.resolved_at
         WHERE (excluded.hlc, excluded.op_id) < (exception_resolutions.hlc, exception_resolutions.op_id)",
    )?
    .execute(params![
        exception_id.to_string(),
        op_id.to_string(),
        hlc.to_sortable(),
        r.note,
        r.staff_id.map(|s| s.to_string()),
        r.staff_name,
        r.resolved_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    ])?;
    tx.prepare_cached(
        "UPDATE sync_exceptions SET resolved_by = (SELECT op_id FROM exception_resolutions WHERE exception_id = ?1)
         WHERE id = ?1",
    )?
    .execute([exception_id.to_string()])?;
    Ok(())
}

/// A pulled `exception_resolved` op: kept by the exception's id (its
/// entity id). Another event kind of this entity (a newer version's) is
/// kept in the inbox.
fn apply_resolution(tx: &Connection, op: &Op, kind: &str, data: &serde_json::Value) -> Result<bool> {
    if kind != EXCEPTION_RESOLVED {
        return Ok(false);
    }
    let r: ExceptionResolved = serde_json::from_value(data.clone())?;
    store_resolution(tx, op.entity_id, op.op_id, op.hlc, &r)?;
    Ok(true)
}

/// `execute` with the statement kept in the connection's cache: applying a
/// page runs the same few statements for every op.
fn run<P: rusqlite::Params>(tx: &Connection, sql: &str, params: P) -> rusqlite::Result<usize> {
    tx.prepare_cached(sql)?.execute(params)
}

/// Applies one op under a savepoint: all of it or nothing. An op that
/// fails (a clash with a local row) is reported and kept for a later try.
pub(crate) fn try_apply(tx: &mut rusqlite::Transaction<'_>, op: &Op, found: &mut Vec<Finding>) -> Result<bool> {
    // Named savepoint statements from the statement cache (a bootstrap
    // applies ~100,000 ops: parsing them anew each time showed in profiles).
    run(tx, "SAVEPOINT apply_op", [])?;
    match apply_op(tx, op, found) {
        Ok(applied) => {
            run(tx, "RELEASE apply_op", [])?;
            Ok(applied)
        }
        Err(e) => {
            run(tx, "ROLLBACK TO apply_op", [])?;
            run(tx, "RELEASE apply_op", [])?;
            // What was found while applying was rolled back with it.
            found.clear();
            found.push(Finding::new(
                "not_applied",
                &[op.op_id],
                serde_json::json!({"op_id": op.op_id, "entity": op.entity, "error": e.to_string()}),
            ));
            Ok(false)
        }
    }
}

/// A conflict to record, identified by its code and the ids involved.
pub(crate) struct Finding {
    id: Uuid,
    code: &'static str,
    detail: serde_json::Value,
}

impl Finding {
    pub(crate) fn new(code: &'static str, ids: &[Uuid], detail: serde_json::Value) -> Self {
        Finding { id: exception_id(code, ids), code, detail }
    }

    fn from_anomaly(a: &Anomaly) -> Self {
        // Ids from the domain: the server's exception report names them alike.
        Finding { id: a.exception_id(), code: a.code(), detail: serde_json::to_value(a).unwrap_or_default() }
    }
}

/// Records an exception once; returns 1 if it is new. An exception whose
/// resolution arrived first is recorded resolved.
pub(crate) fn record_exception(tx: &Connection, f: &Finding, now: DateTime<Utc>) -> Result<usize> {
    Ok(tx
        .prepare_cached(
            "INSERT INTO sync_exceptions (id, code, detail, created_at, resolved_by)
             VALUES (?1, ?2, ?3, ?4, (SELECT op_id FROM exception_resolutions WHERE exception_id = ?1))
             ON CONFLICT (id) DO NOTHING",
        )?
        .execute(params![
            f.id.to_string(),
            f.code,
            f.detail.to_string(),
            now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        ])?)
}

/// The entities `apply_op` applies; ops of any other are only kept.
pub(crate) const APPLIED_KINDS: [&str; 6] = [
    EntityKind::CIRCULATION,
    EntityKind::MEMBERSHIP,
    EntityKind::MEMBER,
    EntityKind::TITLE,
    EntityKind::COPY,
    EntityKind::CENTER,
];

/// Applies one op; false when it has to wait (kept in the inbox).
fn apply_op(tx: &Connection, op: &Op, found: &mut Vec<Finding>) -> Result<bool> {
    match (op.entity.as_str(), &op.body) {
        (EntityKind::CIRCULATION | EntityKind::MEMBERSHIP, OpBody::Event { data, .. }) => {
            apply_event(tx, op, data, found)
        }
        (EntityKind::MEMBER | EntityKind::TITLE | EntityKind::COPY | EntityKind::CENTER, OpBody::Patch { fields }) => {
            apply_record_patch(tx, op, fields, found)
        }
        (EntityKind::SYNC_EXCEPTION, OpBody::Event { kind, data }) => apply_resolution(tx, op, kind, data),
        // Staff, settings and kinds of newer versions: kept for the version
        // that applies them.
        _ => Ok(false),
    }
}

fn exists(tx: &Connection, table: &str, id: Uuid) -> Result<bool> {
    Ok(tx
        .prepare_cached(&format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE id = ?1)"))?
        .query_row([id.to_string()], |r| r.get(0))?)
}

fn apply_event(tx: &Connection, op: &Op, data: &serde_json::Value, found: &mut Vec<Finding>) -> Result<bool> {
    // An event of a kind this version does not know is kept as it came.
    let Ok(event) = serde_json::from_value::<Event>(data.clone()) else { return Ok(false) };
    // The derived tables refer to members and copies; an event about one
    // this desk does not have yet waits (and is reported).
    let (member, copy) = match &event {
        Event::Loan { member_id, copy_id, .. } => (Some(*member_id), Some(*copy_id)),
        Event::Return { copy_id, .. } | Event::Transfer { copy_id, .. } => (None, Some(*copy_id)),
        Event::Membership { member_id, .. } => (Some(*member_id), None),
        Event::Renewal { .. } | Event::Void { .. } => (None, None),
    };
    if let Some(m) = member
        && !exists(tx, "members", m)?
    {
        found.push(Finding::new(
            "unknown_member",
            &[op.entity_id],
            serde_json::json!({"event": op.entity_id, "member_id": m}),
        ));
        return Ok(false);
    }
    if let Some(c) = copy
        && !exists(tx, "copies", c)?
    {
        found.push(Finding::new(
            "unknown_copy",
            &[op.entity_id],
            serde_json::json!({"event": op.entity_id, "copy_id": c}),
        ));
        return Ok(false);
    }
    let at = DateTime::<Utc>::from_timestamp_millis(op.hlc.wall_ms).unwrap_or_default();
    let record = EventRecord { id: op.entity_id, hlc: op.hlc, device_id: op.device_id, at, event };
    insert_event(tx, &record, op.staff_id, data)?;
    if let Event::Void { target, .. } = &record.event {
        run(
            tx,
            "INSERT INTO voided (event_id, void_id) SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM events WHERE id = ?1)
             ON CONFLICT (event_id) DO NOTHING",
            params![target.to_string(), record.id.to_string()],
        )?;
    }
    let rederived = rederive(tx, &record.event)?;
    if let Some(copy) = rederived.copy {
        // Double loans are what the fold of the copy's whole log says now:
        // one seen on a partial log may vanish when an earlier return
        // arrives, and every desk must end with the same set. Resolved ones
        // are re-derived too: their resolutions are kept by id in
        // `exception_resolutions`, and `record_exception` re-inserts them
        // resolved (a resolved exception the whole log no longer shows
        // goes like any other; its resolution stays).
        run(
            tx,
            "DELETE FROM sync_exceptions WHERE code = 'copy_lent_twice'
                 AND json_extract(detail, '$.copy_id') = ?1",
            [copy.to_string()],
        )?;
    }
    for a in rederived.anomalies {
        found.push(Finding::from_anomaly(&a));
    }
    Ok(true)
}

/// A record's current fields with their versions, as the merge sees them.
fn stamped(values: BTreeMap<String, serde_json::Value>, clocks: &FieldClocks) -> RecordFields {
    values
        .into_iter()
        .map(|(name, value)| {
            let stamp = clocks.get(&name);
            let stamped = Stamped {
                value,
                hlc: stamp.map_or(Hlc::ZERO, |s| s.hlc),
                device_id: stamp.map_or(Uuid::nil(), |s| s.device_id),
                base: stamp.and_then(|s| s.base),
            };
            (name, stamped)
        })
        .collect()
}

fn clocks_of(fields: &RecordFields) -> FieldClocks {
    fields
        .iter()
        .map(|(name, s)| (name.clone(), FieldStamp { hlc: s.hlc, device_id: s.device_id, base: s.base }))
        .collect()
}

fn values_of(fields: &RecordFields) -> serde_json::Value {
    serde_json::Value::Object(fields.iter().map(|(k, s)| (k.clone(), s.value.clone())).collect())
}

/// The record fields this version stores, per entity.
const MEMBER_FIELDS: &[&str] = &[
    "member_number",
    "legacy_number",
    "center_id",
    "first_name",
    "last_name",
    "father_name",
    "gender",
    "birth_date",
    "national_id",
    "alternative_id",
    "school_grade",
    "guardian_phone",
    "address",
    "village",
    "documents",
    "age_group_override",
    "merged_into",
];
const TITLE_FIELDS: &[&str] = &[
    "title",
    "author",
    "translator",
    "illustrator",
    "publisher",
    "year",
    "isbn",
    "age_group",
    "subjects",
    "merged_into",
];
const CENTER_FIELDS: &[&str] = &["code", "name", "kind", "address", "phone"];
const COPY_FIELDS: &[&str] = &["title_id", "center_id", "registration_number", "withdrawn"];

/// Merges a pulled patch into the record. A field this version does not
/// know (a newer version's) is neither merged nor stamped: its value stays
/// in the op, which the inbox keeps as received (and the server too), so a
/// version that knows the field can take it from there. The known fields
/// apply as usual; the unknown one is never an exception.
fn apply_record_patch(
    tx: &Connection,
    op: &Op,
    patch: &BTreeMap<String, FieldChange>,
    found: &mut Vec<Finding>,
) -> Result<bool> {
    let (current, known) = match op.entity.as_str() {
        EntityKind::MEMBER => (member_values(tx, op.entity_id)?, MEMBER_FIELDS),
        EntityKind::TITLE => (title_values(tx, op.entity_id)?, TITLE_FIELDS),
        EntityKind::CENTER => (center_values(tx, op.entity_id)?, CENTER_FIELDS),
        _ => (copy_values(tx, op.entity_id)?, COPY_FIELDS),
    };
    let known_patch: BTreeMap<String, FieldChange>;
    let patch = if patch.keys().all(|k| known.contains(&k.as_str())) {
        patch
    } else {
        known_patch =
            patch.iter().filter(|(k, _)| known.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
        &known_patch
    };
    let existed = current.is_some();
    let mut fields = current.map(|(values, clocks)| stamped(values, &clocks)).unwrap_or_default();
    for conflict in apply_patch(&mut fields, patch, op.hlc, op.device_id) {
        found.push(concurrent_edit(op, &conflict));
    }
    let values = values_of(&fields);
    let clocks = serde_json::to_string(&clocks_of(&fields))?;
    // A record whose creation has not arrived lacks required fields: wait.
    match op.entity.as_str() {
        EntityKind::MEMBER => match serde_json::from_value::<MemberRecord>(values) {
            Ok(m) => {
                // Two desks issuing one member number (the same desk number
                // set up on two PCs): the record cannot be kept beside the
                // other; it waits in the inbox, and staff are told.
                if let Some(clash) = member_number_clash(tx, op.entity_id, &m)? {
                    found.push(clash);
                    return Ok(false);
                }
                write_member(tx, op.entity_id, &m, &clocks, existed)?;
                found.extend(duplicate_national_ids(tx, op.entity_id, &m)?);
            }
            Err(_) => return Ok(false),
        },
        EntityKind::TITLE => match serde_json::from_value::<TitleRecord>(values) {
            Ok(t) => write_title(tx, op.entity_id, &t, &clocks, existed)?,
            Err(_) => return Ok(false),
        },
        EntityKind::CENTER => match serde_json::from_value::<CenterRecord>(values) {
            Ok(c) => write_center(tx, op.entity_id, &c, &clocks)?,
            Err(_) => return Ok(false),
        },
        _ => match serde_json::from_value::<CopyRecord>(values) {
            Ok(c) if exists(tx, "titles", c.title_id)? => write_copy(tx, op.entity_id, &c, &clocks, existed)?,
            _ => return Ok(false),
        },
    }
    Ok(true)
}

/// Another member of this database with the member number `m` carries.
fn member_number_clash(tx: &Connection, id: Uuid, m: &MemberRecord) -> Result<Option<Finding>> {
    let other: Option<String> = tx
        .prepare_cached("SELECT id FROM members WHERE member_number = ?1 AND id <> ?2")?
        .query_row(params![m.member_number, id.to_string()], |r| r.get(0))
        .optional()?;
    other
        .map(|other| {
            let other = Uuid::parse_str(&other).map_err(|_| StoreError::Corrupt(format!("شناسه عضو «{other}»")))?;
            Ok(Finding::new(
                "member_number_clash",
                &[id, other],
                serde_json::json!({"member_number": m.member_number, "member_ids": [other, id]}),
            ))
        })
        .transpose()
}

/// Members registered apart (two desks offline) with the national id `m`
/// carries: both are kept; staff decide whether to merge them.
fn duplicate_national_ids(tx: &Connection, id: Uuid, m: &MemberRecord) -> Result<Vec<Finding>> {
    let Some(national_id) = m.national_id.as_deref().filter(|_| m.merged_into.is_none()) else {
        return Ok(Vec::new());
    };
    let mut stmt = tx.prepare_cached(
        "SELECT id FROM members WHERE national_id = ?1 AND id <> ?2 AND merged_into IS NULL ORDER BY id",
    )?;
    let others = stmt.query_map(params![national_id, id.to_string()], |r| r.get::<_, String>(0))?;
    let mut found = Vec::new();
    for other in others {
        let other = other?;
        let other = Uuid::parse_str(&other).map_err(|_| StoreError::Corrupt(format!("شناسه عضو «{other}»")))?;
        found.push(Finding::new(
            "duplicate_national_id",
            &[id, other],
            serde_json::json!({"national_id": national_id, "member_ids": [other, id]}),
        ));
    }
    Ok(found)
}

fn concurrent_edit(op: &Op, c: &ConcurrentEdit) -> Finding {
    Finding::new(
        "concurrent_edit",
        &[
            op.entity_id,
            Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("{}/{}/{}", c.field, c.kept.hlc, c.lost.hlc).as_bytes()),
        ],
        serde_json::json!({
            "entity": op.entity, "entity_id": op.entity_id, "field": c.field,
            "kept": c.kept.value, "lost": c.lost.value,
        }),
    )
}

#[derive(Deserialize)]
struct MemberRecord {
    member_number: String,
    #[serde(default)]
    legacy_number: Option<String>,
    center_id: Uuid,
    first_name: String,
    last_name: String,
    #[serde(default)]
    father_name: String,
    gender: Gender,
    #[serde(default)]
    birth_date: Option<NaiveDate>,
    #[serde(default)]
    national_id: Option<String>,
    #[serde(default)]
    alternative_id: Option<AlternativeId>,
    #[serde(default)]
    school_grade: Option<u8>,
    #[serde(default)]
    guardian_phone: Option<String>,
    #[serde(default)]
    address: String,
    #[serde(default)]
    village: Option<String>,
    #[serde(default)]
    documents: Documents,
    #[serde(default)]
    age_group_override: Option<String>,
    #[serde(default)]
    merged_into: Option<Uuid>,
}

type Current = Option<(BTreeMap<String, serde_json::Value>, FieldClocks)>;

fn member_values(tx: &Connection, id: Uuid) -> Result<Current> {
    let row = tx
        .query_row(
            "SELECT member_number, legacy_number, center_id, first_name, last_name, father_name, gender, birth_date,
                    national_id, alt_id_kind, alt_id, school_grade, guardian_phone, address, village, doc_photo,
                    doc_birth_certificate, age_group_override, merged_into, field_clocks
             FROM members WHERE id = ?1",
            [id.to_string()],
            |r| {
                let alt = match (r.get::<_, Option<String>>(9)?, r.get::<_, Option<String>>(10)?) {
                    (Some(kind), Some(value)) => serde_json::json!({"kind": kind, "value": value}),
                    _ => serde_json::Value::Null,
                };
                let values = BTreeMap::from([
                    ("member_number".to_owned(), serde_json::json!(r.get::<_, String>(0)?)),
                    ("legacy_number".to_owned(), serde_json::json!(r.get::<_, Option<String>>(1)?)),
                    ("center_id".to_owned(), serde_json::json!(r.get::<_, String>(2)?)),
                    ("first_name".to_owned(), serde_json::json!(r.get::<_, String>(3)?)),
                    ("last_name".to_owned(), serde_json::json!(r.get::<_, String>(4)?)),
                    ("father_name".to_owned(), serde_json::json!(r.get::<_, String>(5)?)),
                    ("gender".to_owned(), serde_json::json!(r.get::<_, String>(6)?)),
                    ("birth_date".to_owned(), serde_json::json!(r.get::<_, Option<String>>(7)?)),
                    ("national_id".to_owned(), serde_json::json!(r.get::<_, Option<String>>(8)?)),
                    ("alternative_id".to_owned(), alt),
                    ("school_grade".to_owned(), serde_json::json!(r.get::<_, Option<u8>>(11)?)),
                    ("guardian_phone".to_owned(), serde_json::json!(r.get::<_, Option<String>>(12)?)),
                    ("address".to_owned(), serde_json::json!(r.get::<_, String>(13)?)),
                    ("village".to_owned(), serde_json::json!(r.get::<_, Option<String>>(14)?)),
                    (
                        "documents".to_owned(),
                        serde_json::json!({"photo": r.get::<_, bool>(15)?, "birth_certificate_copy": r.get::<_, bool>(16)?}),
                    ),
                    ("age_group_override".to_owned(), serde_json::json!(r.get::<_, Option<String>>(17)?)),
                    ("merged_into".to_owned(), serde_json::json!(r.get::<_, Option<String>>(18)?)),
                ]);
                Ok((values, r.get::<_, String>(19)?))
            },
        )
        .optional()?;
    row.map(|(values, clocks)| Ok((values, parse_clocks(&clocks)?))).transpose()
}

fn write_member(tx: &Connection, id: Uuid, m: &MemberRecord, clocks: &str, existed: bool) -> Result<()> {
    let sort_key = text::collation_key(&format!("{} {}", m.last_name, m.first_name));
    let alt_kind = m.alternative_id.as_ref().map(|a| a.kind.as_str());
    let alt_value = m.alternative_id.as_ref().map(|a| a.value.as_str());
    let values = params![
        id.to_string(),
        m.center_id.to_string(),
        m.member_number,
        m.legacy_number,
        m.first_name,
        m.last_name,
        m.father_name,
        m.gender.as_str(),
        m.birth_date.map(|d| d.to_string()),
        m.national_id,
        alt_kind,
        alt_value,
        m.school_grade,
        m.guardian_phone,
        m.address,
        m.village,
        m.documents.photo,
        m.documents.birth_certificate_copy,
        m.age_group_override,
        m.merged_into.map(|u| u.to_string()),
        sort_key,
        clocks,
    ];
    if existed {
        run(tx,
            "UPDATE members SET center_id = ?2, member_number = ?3, legacy_number = ?4, first_name = ?5, last_name = ?6,
                 father_name = ?7, gender = ?8, birth_date = ?9, national_id = ?10, alt_id_kind = ?11, alt_id = ?12,
                 school_grade = ?13, guardian_phone = ?14, address = ?15, village = ?16, doc_photo = ?17,
                 doc_birth_certificate = ?18, age_group_override = ?19, merged_into = ?20, sort_key = ?21,
                 field_clocks = ?22
             WHERE id = ?1",
            values,
        )?;
    } else {
        run(tx,
            "INSERT INTO members (id, center_id, member_number, legacy_number, first_name, last_name, father_name, gender,
                 birth_date, national_id, alt_id_kind, alt_id, school_grade, guardian_phone, address, village, doc_photo,
                 doc_birth_certificate, age_group_override, merged_into, sort_key, field_clocks, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22,
                 strftime('%Y-%m-%dT%H:%M:%fZ'))",
            values,
        )?;
    }
    let seq: i64 =
        tx.prepare_cached("SELECT seq FROM members WHERE id = ?1")?.query_row([id.to_string()], |r| r.get(0))?;
    let national = m.national_id.as_deref().and_then(|n| NationalId::parse(n).ok());
    let search = crate::members::search_text(
        &m.first_name,
        &m.last_name,
        &m.father_name,
        &m.member_number,
        m.legacy_number.as_deref(),
        national.as_ref(),
    );
    run(tx, "DELETE FROM member_search WHERE rowid = ?1", [seq])?;
    run(tx, "INSERT INTO member_search (rowid, text) VALUES (?1, ?2)", params![seq, search])?;
    Ok(())
}

#[derive(Deserialize)]
struct TitleRecord {
    title: String,
    #[serde(default)]
    author: String,
    #[serde(default)]
    translator: String,
    #[serde(default)]
    illustrator: String,
    #[serde(default)]
    publisher: String,
    #[serde(default)]
    year: Option<i32>,
    #[serde(default)]
    isbn: String,
    #[serde(default)]
    age_group: Option<String>,
    #[serde(default)]
    subjects: String,
    #[serde(default)]
    merged_into: Option<Uuid>,
}

fn title_values(tx: &Connection, id: Uuid) -> Result<Current> {
    let row = tx
        .query_row(
            "SELECT title, author, translator, illustrator, publisher, year, isbn, age_group, subjects, merged_into,
                    field_clocks FROM titles WHERE id = ?1",
            [id.to_string()],
            |r| {
                let values = BTreeMap::from([
                    ("title".to_owned(), serde_json::json!(r.get::<_, String>(0)?)),
                    ("author".to_owned(), serde_json::json!(r.get::<_, String>(1)?)),
                    ("translator".to_owned(), serde_json::json!(r.get::<_, String>(2)?)),
                    ("illustrator".to_owned(), serde_json::json!(r.get::<_, String>(3)?)),
                    ("publisher".to_owned(), serde_json::json!(r.get::<_, String>(4)?)),
                    ("year".to_owned(), serde_json::json!(r.get::<_, Option<i32>>(5)?)),
                    ("isbn".to_owned(), serde_json::json!(r.get::<_, String>(6)?)),
                    ("age_group".to_owned(), serde_json::json!(r.get::<_, Option<String>>(7)?)),
                    ("subjects".to_owned(), serde_json::json!(r.get::<_, String>(8)?)),
                    ("merged_into".to_owned(), serde_json::json!(r.get::<_, Option<String>>(9)?)),
                ]);
                Ok((values, r.get::<_, String>(10)?))
            },
        )
        .optional()?;
    row.map(|(values, clocks)| Ok((values, parse_clocks(&clocks)?))).transpose()
}

fn write_title(tx: &Connection, id: Uuid, t: &TitleRecord, clocks: &str, existed: bool) -> Result<()> {
    let input = crate::catalog::TitleInput {
        title: t.title.clone(),
        author: t.author.clone(),
        translator: t.translator.clone(),
        illustrator: t.illustrator.clone(),
        publisher: t.publisher.clone(),
        year: t.year,
        isbn: t.isbn.clone(),
        age_group: t.age_group.clone(),
        subjects: t.subjects.clone(),
    };
    let values = params![
        id.to_string(),
        t.title,
        t.author,
        t.translator,
        t.illustrator,
        t.publisher,
        t.year,
        t.isbn,
        t.age_group,
        t.subjects,
        t.merged_into.map(|u| u.to_string()),
        text::collation_key(&t.title),
        clocks,
    ];
    if existed {
        run(
            tx,
            "UPDATE titles SET title = ?2, author = ?3, translator = ?4, illustrator = ?5, publisher = ?6, year = ?7,
                 isbn = ?8, age_group = ?9, subjects = ?10, merged_into = ?11, sort_key = ?12, field_clocks = ?13
             WHERE id = ?1",
            values,
        )?;
    } else {
        run(tx,
            "INSERT INTO titles (id, title, author, translator, illustrator, publisher, year, isbn, age_group, subjects,
                 merged_into, sort_key, field_clocks, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, strftime('%Y-%m-%dT%H:%M:%fZ'))",
            values,
        )?;
    }
    let seq: i64 =
        tx.prepare_cached("SELECT seq FROM titles WHERE id = ?1")?.query_row([id.to_string()], |r| r.get(0))?;
    run(tx, "DELETE FROM title_search WHERE rowid = ?1", [seq])?;
    run(
        tx,
        "INSERT INTO title_search (rowid, text) VALUES (?1, ?2)",
        params![seq, crate::catalog::title_search_text(&input)],
    )?;
    Ok(())
}

#[derive(Deserialize)]
struct CenterRecord {
    code: String,
    name: String,
    kind: kanoon_domain::entities::CenterKind,
    #[serde(default)]
    address: String,
    #[serde(default)]
    phone: String,
}

fn center_values(tx: &Connection, id: Uuid) -> Result<Current> {
    let row = tx
        .query_row(
            "SELECT code, name, kind, address, phone, field_clocks FROM centers WHERE id = ?1",
            [id.to_string()],
            |r| {
                let values = BTreeMap::from([
                    ("code".to_owned(), serde_json::json!(r.get::<_, String>(0)?)),
                    ("name".to_owned(), serde_json::json!(r.get::<_, String>(1)?)),
                    ("kind".to_owned(), serde_json::json!(r.get::<_, String>(2)?)),
                    ("address".to_owned(), serde_json::json!(r.get::<_, String>(3)?)),
                    ("phone".to_owned(), serde_json::json!(r.get::<_, String>(4)?)),
                ]);
                Ok((values, r.get::<_, String>(5)?))
            },
        )
        .optional()?;
    row.map(|(values, clocks)| Ok((values, parse_clocks(&clocks)?))).transpose()
}

fn write_center(tx: &Connection, id: Uuid, c: &CenterRecord, clocks: &str) -> Result<()> {
    run(
        tx,
        "INSERT INTO centers (id, code, name, kind, address, phone, field_clocks) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name, kind = excluded.kind,
             address = excluded.address, phone = excluded.phone, field_clocks = excluded.field_clocks",
        params![id.to_string(), c.code, c.name, c.kind.as_str(), c.address, c.phone, clocks],
    )?;
    Ok(())
}

#[derive(Deserialize)]
struct CopyRecord {
    title_id: Uuid,
    center_id: Uuid,
    registration_number: String,
    #[serde(default)]
    withdrawn: Option<WithdrawReason>,
}

fn copy_values(tx: &Connection, id: Uuid) -> Result<Current> {
    let row = tx
        .query_row(
            "SELECT title_id, center_id, registration_number, withdrawn, field_clocks FROM copies WHERE id = ?1",
            [id.to_string()],
            |r| {
                let values = BTreeMap::from([
                    ("title_id".to_owned(), serde_json::json!(r.get::<_, String>(0)?)),
                    ("center_id".to_owned(), serde_json::json!(r.get::<_, String>(1)?)),
                    ("registration_number".to_owned(), serde_json::json!(r.get::<_, String>(2)?)),
                    ("withdrawn".to_owned(), serde_json::json!(r.get::<_, Option<String>>(3)?)),
                ]);
                Ok((values, r.get::<_, String>(4)?))
            },
        )
        .optional()?;
    row.map(|(values, clocks)| Ok((values, parse_clocks(&clocks)?))).transpose()
}

fn write_copy(tx: &Connection, id: Uuid, c: &CopyRecord, clocks: &str, existed: bool) -> Result<()> {
    if existed {
        // The copy's center follows its transfer events, not this field.
        run(
            tx,
            "UPDATE copies SET title_id = ?2, registration_number = ?3, withdrawn = ?4, field_clocks = ?5 WHERE id = ?1",
            params![
                id.to_string(),
                c.title_id.to_string(),
                c.registration_number,
                c.withdrawn.map(|w| w.as_str()),
                clocks
            ],
        )?;
    } else {
        run(
            tx,
            "INSERT INTO copies (id, title_id, center_id, registration_number, withdrawn, field_clocks, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, strftime('%Y-%m-%dT%H:%M:%fZ'))",
            params![
                id.to_string(),
                c.title_id.to_string(),
                c.center_id.to_string(),
                c.registration_number,
                c.withdrawn.map(|w| w.as_str()),
                clocks
            ],
        )?;
    }
    Ok(())
}

/// Where this desk syncs and its device token (from enrolment).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncSettings {
    pub server: String,
    pub token: String,
}

impl Desk {
    pub fn sync_settings(&self) -> Result<Option<SyncSettings>> {
        let raw: Option<String> =
            self.conn.query_row("SELECT value FROM meta WHERE key = 'sync_settings'", [], |r| r.get(0)).optional()?;
        Ok(raw.map(|s| serde_json::from_str(&s)).transpose()?)
    }

    /// Saved after enrolment (a fact of this desk, not synced).
    pub fn set_sync_settings(&mut self, settings: &SyncSettings) -> Result<()> {
        self.check_enrolment_server(&settings.server)?;
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES ('sync_settings', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [serde_json::to_string(settings)?],
        )?;
        Ok(())
    }

    /// Ops the server refused for their content: taken out of the push queue
    /// (they must not block the rest) and shown to staff as exceptions.
    pub fn set_aside(&mut self, rejected: &[kanoon_protocol::wire::RejectedOp]) -> Result<()> {
        self.waiting.set(None);
        let now = self.now();
        let stamp = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let tx = self.conn.transaction()?;
        for r in rejected {
            run(&tx, "UPDATE outbox SET pushed_at = ?2 WHERE op_id = ?1", params![r.op_id.to_string(), stamp])?;
            let f = Finding::new("op_rejected", &[r.op_id], serde_json::json!({"op_id": r.op_id, "reason": r.reason}));
            record_exception(&tx, &f, now)?;
        }
        tx.commit()?;
        Ok(())
    }
}
