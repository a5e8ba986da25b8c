//! Sync exceptions: conflicts between desks that staff must see (a copy
//! lent twice, a member number issued twice, two edits of one field, an op
//! the server refused, …), recorded once by an id derived from their code
//! and the ids involved, and their resolutions — an `exception_resolved`
//! event every desk of the center pulls.

use chrono::{DateTime, Utc};

use kanoon_domain::entities::Permission;

use kanoon_domain::text;
use kanoon_protocol::{EntityKind, Hlc, Op, OpBody};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub(crate) use crate::findings::{Finding, codes, forget_double_loans, forget_waiting, record_exception};

use crate::desk::Desk;
use crate::error::{Result, StoreError};
use crate::sql::{optional_uuid_column, parse_time, run, timestamp, uuid_column};

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
