//! A snapshot on SQLite: one read transaction on a connection of its own
//! (so pushes go on meanwhile, WAL), the events kept decided by the shared
//! `Selector`.

use std::time::Duration;

use rusqlite::{Connection, OpenFlags, params};
use uuid::Uuid;

use super::SqliteStorage;
use crate::error::AppError;
use crate::snapshot::Selector;
use crate::storage::{PROVINCE_SCOPE, Snapshot};

/// The center's and the province's ops up to the watermark, and those
/// shared with the center (`op_shares`, by their op's own `seq`).
const SCAN_SQL: &str = "
    SELECT seq, entity, op FROM ops WHERE scope IN (?1, ?2) AND seq <= ?3
    UNION ALL
    SELECT o.seq, o.entity, o.op FROM op_shares s JOIN ops o ON o.seq = s.op_seq WHERE s.scope = ?1 AND s.seq <= ?3";

pub(super) fn snapshot(storage: &SqliteStorage, center_id: Uuid) -> Result<Snapshot, AppError> {
    let today = chrono::Utc::now().date_naive();
    match &storage.path {
        Some(path) => {
            let mut conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| AppError::internal(format!("cannot open {} to read a snapshot: {e}", path.display())))?;
            conn.busy_timeout(Duration::from_secs(10))?;
            read_snapshot(&mut conn, center_id, storage.epoch, today)
        }
        None => read_snapshot(&mut storage.conn(), center_id, storage.epoch, today),
    }
}

/// A snapshot read in one read transaction: the watermark (every committed
/// op, with one writer), the center's, the province's and the shared ops up to it, then
/// the text of the events kept.
fn read_snapshot(
    conn: &mut Connection,
    center_id: Uuid,
    epoch: u64,
    today: chrono::NaiveDate,
) -> Result<Snapshot, AppError> {
    let tx = conn.transaction()?;
    let watermark: i64 = tx.query_row(super::ops::LAST_SEQ_SQL, [], |r| r.get(0))?;
    let mut selector = Selector::new(today);
    {
        let mut stmt = tx.prepare(SCAN_SQL)?;
        let mut rows = stmt.query(params![center_id.to_string(), PROVINCE_SCOPE, watermark])?;
        while let Some(row) = rows.next()? {
            selector.add(row.get(0)?, &row.get::<_, String>(1)?, row.get(2)?);
        }
    }
    let wanted = selector.events_to_keep();
    let mut events = Vec::with_capacity(wanted.len());
    {
        let mut stmt = tx.prepare("SELECT op FROM ops WHERE seq = ?1")?;
        for seq in wanted {
            events.push((seq, stmt.query_row([seq], |r| r.get(0))?));
        }
    }
    tx.commit()?;
    Ok(selector.finish(epoch, watermark, events))
}
