//! Sync exceptions: conflicts between desks that staff must see (a copy
//! lent twice, a member number issued twice, two edits of one field, an op
//! the server refused, …), recorded once by an id derived from their code
//! and the ids involved, and their resolutions — an `exception_resolved`
//! event every desk of the center pulls.

use chrono::{DateTime, Utc};
use kanoon_domain::circulation::{Anomaly, exception_id};
use kanoon_domain::entities::Permission;
use kanoon_domain::merge::ConcurrentEdit;
use kanoon_domain::text;
use kanoon_protocol::{EntityKind, Hlc, Op, OpBody};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::desk::Desk;
use crate::error::{Result, StoreError};
use crate::sql::{optional_uuid_column, parse_time, run, timestamp, uuid_column};

/// The codes of the exceptions this version records (the window shows a
/// Persian text per code).
pub mod codes {
    pub const COPY_LENT_TWICE: &str = "copy_lent_twice";
    pub const CONCURRENT_EDIT: &str = "concurrent_edit";
    pub const DUPLICATE_NATIONAL_ID: &str = "duplicate_national_id";
    pub const MEMBER_NUMBER_CLASH: &str = "member_number_clash";
    pub const UNKNOWN_MEMBER: &str = "unknown_member";
    pub const UNKNOWN_COPY: &str = "unknown_copy";
    pub const CLOCK_FAR_OFF: &str = "clock_far_off";
    pub const OP_REJECTED: &str = "op_rejected";
    pub const NOT_APPLIED: &str = "not_applied";
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

    pub(crate) fn from_anomaly(a: &Anomaly) -> Self {
        // Ids from the domain: the server's exception report names them alike.
        Finding { id: a.exception_id(), code: a.code(), detail: serde_json::to_value(a).unwrap_or_default() }
    }

    /// Two desks changed one field from the same version: one value kept.
    pub(crate) fn concurrent_edit(op: &Op, c: &ConcurrentEdit) -> Self {
        let edit = Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("{}/{}/{}", c.field, c.kept.hlc, c.lost.hlc).as_bytes());
        Finding::new(
            codes::CONCURRENT_EDIT,
            &[op.entity_id, edit],
            serde_json::json!({
                "entity": op.entity, "entity_id": op.entity_id, "field": c.field,
                "kept": c.kept.value, "lost": c.lost.value,
            }),
        )
    }

    /// Something about one op (its clock, its refusal, why it did not apply).
    pub(crate) fn about_op(code: &'static str, op_id: Uuid, detail: serde_json::Value) -> Self {
        Finding::new(code, &[op_id], detail)
    }
}

/// Records an exception once; returns 1 if it is new. An exception whose
/// resolution arrived first is recorded resolved.
pub(crate) fn record_exception(tx: &Connection, f: &Finding, now: DateTime<Utc>) -> Result<usize> {
    Ok(run(
        tx,
        "INSERT INTO sync_exceptions (id, code, detail, created_at, resolved_by)
         VALUES (?1, ?2, ?3, ?4, (SELECT op_id FROM exception_resolutions WHERE exception_id = ?1))
         ON CONFLICT (id) DO NOTHING",
        params![f.id.to_string(), f.code, f.detail.to_string(), timestamp(now)],
    )?)
}

/// Forgets a copy's double-loan exceptions before they are derived again
/// from the fold of its whole log (one seen on a partial log may vanish
/// when an earlier return arrives, and every desk must end with the same
/// set). Resolved ones go too: their resolutions are kept by id, and
/// `record_exception` records them resolved again.
pub(crate) fn forget_double_loans(tx: &Connection, copy_id: Uuid) -> Result<()> {
    run(
        tx,
        "DELETE FROM sync_exceptions WHERE code = ?2 AND json_extract(detail, '$.copy_id') = ?1",
        [copy_id.to_string().as_str(), codes::COPY_LENT_TWICE],
    )?;
    Ok(())
}

impl Desk {
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
            let resolution = match optional_uuid_column(r, 5)? {
                Some(op_id) => Some((op_id, r.get::<_, String>(6)?, optional_uuid_column(r, 7)?, r.get(8)?, r.get(9)?)),
                None => None,
            };
            Ok((
                uuid_column(r, 0)?,
                (r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?),
                r.get(4)?,
                resolution,
            ))
        })?;
        rows.map(|row| {
            let (id, (code, detail, at), resolved, resolution) = row?;
            let resolution = resolution
                .map(|(op_id, note, staff_id, staff_name, at): (Uuid, String, Option<Uuid>, String, String)| {
                    Ok::<_, StoreError>(ExceptionResolution {
                        op_id,
                        note,
                        staff_id,
                        staff_name,
                        resolved_at: parse_time(&at)?,
                    })
                })
                .transpose()?;
            Ok(SyncException {
                id,
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

/// Keeps a resolution by its exception's id (the exception may not be
/// recorded on this desk yet) and marks the exception if it is. Of two
/// resolutions of one exception, the one with the lowest (hlc, op id)
/// wins, whatever order they arrive in.
fn store_resolution(tx: &Connection, exception_id: Uuid, op_id: Uuid, hlc: Hlc, r: &ExceptionResolved) -> Result<()> {
    run(
        tx,
        "INSERT INTO exception_resolutions (exception_id, op_id, hlc, note, staff_id, staff_name, resolved_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (exception_id) DO UPDATE SET op_id = excluded.op_id, hlc = excluded.hlc, note = excluded.note,
             staff_id = excluded.staff_id, staff_name = excluded.staff_name, resolved_at = excluded.resolved_at
         WHERE (excluded.hlc, excluded.op_id) < (exception_resolutions.hlc, exception_resolutions.op_id)",
        params![
            exception_id.to_string(),
            op_id.to_string(),
            hlc.to_sortable(),
            r.note,
            r.staff_id.map(|s| s.to_string()),
            r.staff_name,
            timestamp(r.resolved_at),
        ],
    )?;
    run(
        tx,
        "UPDATE sync_exceptions SET resolved_by = (SELECT op_id FROM exception_resolutions WHERE exception_id = ?1)
         WHERE id = ?1",
        [exception_id.to_string()],
    )?;
    Ok(())
}

/// A pulled `exception_resolved` op: kept by the exception's id (its
/// entity id). Another event kind of this entity (a newer version's) is
/// kept in the inbox.
pub(crate) fn apply_resolution(tx: &Connection, op: &Op, kind: &str, data: &serde_json::Value) -> Result<bool> {
    if kind != EXCEPTION_RESOLVED {
        return Ok(false);
    }
    let r: ExceptionResolved = serde_json::from_value(data.clone())?;
    store_resolution(tx, op.entity_id, op.op_id, op.hlc, &r)?;
    Ok(true)
}
