//! Event rows: the append-only log of circulation and membership events.
//! No other module writes `events`.

use kanoon_domain::circulation::{Event, EventRecord};
use rusqlite::{Connection, params};
use uuid::Uuid;

use crate::error::Result;

/// Appends an event to the log (an event already there is left as it is:
/// events are immutable and merged by id). Returns whether it was new.
pub(crate) fn insert_event(
    tx: &Connection,
    record: &EventRecord,
    staff_id: Option<Uuid>,
    data: &serde_json::Value,
) -> Result<bool> {
    let (copy_id, member_id, loan_id) = match &record.event {
        Event::Loan { copy_id, member_id, .. } => (Some(*copy_id), Some(*member_id), None),
        Event::Return { loan_id, copy_id, .. } => (Some(*copy_id), None, Some(*loan_id)),
        Event::Renewal { loan_id, .. } => (None, None, Some(*loan_id)),
        Event::Transfer { copy_id, .. } => (Some(*copy_id), None, None),
        Event::Membership { member_id, .. } => (None, Some(*member_id), None),
        Event::Void { target, .. } => (None, None, Some(*target)),
        Event::ReminderCall { member_id, .. } => (None, Some(*member_id), None),
    };
    let inserted = tx
        .prepare_cached(
            "INSERT INTO events (id, kind, hlc, device_id, at, staff_id, copy_id, member_id, loan_id, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (id) DO NOTHING",
        )?
        .execute(params![
            record.id.to_string(),
            record.event.kind(),
            record.hlc.to_sortable(),
            record.device_id.to_string(),
            record.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            staff_id.map(|s| s.to_string()),
            copy_id.map(|s| s.to_string()),
            member_id.map(|s| s.to_string()),
            loan_id.map(|s| s.to_string()),
            data.to_string(),
        ])?;
    Ok(inserted == 1)
}
