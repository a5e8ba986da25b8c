//! Conflicts found while applying what other desks did (a copy lent twice,
//! a member number issued twice, two edits of one field, …): recorded once,
//! by an id derived from their code and the ids involved. Staff see and
//! resolve them through `sync::exceptions`.

use chrono::{DateTime, Utc};
use kanoon_domain::circulation::{Anomaly, exception_id};
use kanoon_domain::merge::ConcurrentEdit;
use kanoon_protocol::Op;
use rusqlite::{Connection, params};
use uuid::Uuid;

use crate::error::Result;
use crate::sql::{run, timestamp};

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
    /// A pulled op changes another center's record (a `center` patch of
    /// another center, an edit of a title another center created): not applied.
    pub const NOT_OWNER: &str = "not_owner";
    /// An op of a pulled page or the snapshot does not parse: set aside,
    /// the rest of the page applied.
    pub const OP_UNREADABLE: &str = "op_unreadable";
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

/// Forgets why an event waited (`unknown_member`, `unknown_copy`) once it
/// applied: a desk that read another desk's ops from a USB stick, or a
/// pulled page ordered by another desk's stick, sees an event before the
/// member or copy it names. That is a wait, not a conflict: the desk that
/// got the ops in the log's order never had it, and every desk must end
/// with the same set.
pub(crate) fn forget_waiting(tx: &Connection, event_id: Uuid) -> Result<()> {
    for code in [codes::UNKNOWN_MEMBER, codes::UNKNOWN_COPY] {
        run(tx, "DELETE FROM sync_exceptions WHERE id = ?1", [exception_id(code, &[event_id]).to_string()])?;
    }
    Ok(())
}

/// Forgets a copy's double-loan exceptions before they are derived again
/// from the fold of its whole log (one seen on a partial log may vanish
/// when an earlier return arrives, and every desk must end with the same
/// set). Resolved ones go too: their resolutions are kept by id, and
/// `record_exception` records them resolved again.
///
/// The same for a return or renewal of the copy that arrived before its
/// loan (`loan_not_open`): a desk that read another desk's ops from a USB
/// stick may take a book back and push the return before the lending desk
/// pushes the loan; once the loan arrives the fold no longer finds it.
pub(crate) fn forget_double_loans(tx: &Connection, copy_id: Uuid) -> Result<()> {
    run(
        tx,
        "DELETE FROM sync_exceptions WHERE code = ?2 AND json_extract(detail, '$.copy_id') = ?1",
        [copy_id.to_string().as_str(), codes::COPY_LENT_TWICE],
    )?;
    run(
        tx,
        "DELETE FROM sync_exceptions WHERE code = 'loan_not_open' AND json_extract(detail, '$.event_id') IN (
             SELECT id FROM events WHERE copy_id = ?1
             UNION SELECT id FROM events WHERE loan_id IN (SELECT id FROM events WHERE copy_id = ?1))",
        [copy_id.to_string().as_str()],
    )?;
    Ok(())
}
