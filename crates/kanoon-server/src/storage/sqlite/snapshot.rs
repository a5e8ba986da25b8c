//! A snapshot on SQLite: one read transaction on a connection of its own
//! (so pushes go on meanwhile, WAL), streamed to its sink in the order of
//! `crate::snapshot`: records by entity (`ops_snapshot`), the ops shared
//! with the center, then the events by group (`ops_fold`).

use std::time::Duration;

use rusqlite::{Connection, OpenFlags, params};
use uuid::Uuid;

use super::SqliteStorage;
use crate::error::AppError;
use crate::snapshot::{Streamer, ordered_entities};
use crate::storage::{PROVINCE_SCOPE, SnapshotSink};

/// Pages of the read connection's cache (negative: KiB): a snapshot reads
/// each page about once, so a small cache is enough, and eight at once
/// stay small.
const READ_CACHE_KIB: i64 = -4096;

pub(super) fn snapshot_into(
    storage: &SqliteStorage,
    center_id: Uuid,
    sink: &mut dyn SnapshotSink,
) -> Result<(), AppError> {
    let today = chrono::Utc::now().date_naive();
    match &storage.path {
        Some(path) => {
            let mut conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| AppError::internal(format!("cannot open {} to read a snapshot: {e}", path.display())))?;
            conn.busy_timeout(Duration::from_secs(10))?;
            conn.pragma_update(None, "cache_size", READ_CACHE_KIB)?;
            read_snapshot(&mut conn, center_id, storage.epoch, today, sink)
        }
        None => read_snapshot(&mut storage.conn(), center_id, storage.epoch, today, sink),
    }
}

/// A snapshot read in one read transaction: the watermark (every committed
/// op, with one writer), then the center's, the province's and the shared
/// ops up to it.
fn read_snapshot(
    conn: &mut Connection,
    center_id: Uuid,
    epoch: u64,
    today: chrono::NaiveDate,
    sink: &mut dyn SnapshotSink,
) -> Result<(), AppError> {
    let tx = conn.transaction()?;
    let watermark: i64 = tx.query_row(super::ops::LAST_SEQ_SQL, [], |r| r.get(0))?;
    let center = center_id.to_string();
    let mut out = Streamer::start(sink, today, epoch, watermark)?;
    // The entities of both scopes, walked in the index one at a time.
    let mut entities = Vec::new();
    {
        let mut next = tx.prepare("SELECT min(entity) FROM ops WHERE scope = ?1 AND entity > ?2")?;
        for scope in [center.as_str(), PROVINCE_SCOPE] {
            let mut after = String::new();
            while let Some(entity) = next.query_row(params![scope, after], |r| r.get::<_, Option<String>>(0))? {
                entities.push((scope.to_owned(), entity.clone()));
                after = entity;
            }
        }
    }
    let entities = ordered_entities(entities);
    let (records, events): (Vec<_>, Vec<_>) =
        entities.iter().partition(|(_, e)| crate::snapshot::rank(e) < crate::snapshot::rank("circulation"));
    {
        let mut ungrouped = tx.prepare(
            "SELECT op FROM ops WHERE scope = ?1 AND entity = ?2 AND fold_key IS NULL AND seq <= ?3 ORDER BY seq",
        )?;
        let mut read = |scope: &str, entity: &str, out: &mut Streamer<'_>| -> Result<(), AppError> {
            let mut rows = ungrouped.query(params![scope, entity, watermark])?;
            while let Some(row) = rows.next()? {
                out.keep(row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?)?;
            }
            Ok(())
        };
        for (scope, entity) in &records {
            read(scope, entity, &mut out)?;
        }
        // Shared with the center: a copy's record and travels.
        {
            let mut shared = tx.prepare(
                "SELECT o.op FROM op_shares s JOIN ops o ON o.seq = s.op_seq WHERE s.scope = ?1 AND s.seq <= ?2
                 ORDER BY s.seq",
            )?;
            let mut rows = shared.query(params![center, watermark])?;
            while let Some(row) = rows.next()? {
                out.keep(row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?)?;
            }
        }
        for (scope, entity) in &events {
            read(scope, entity, &mut out)?;
        }
    }
    {
        let mut grouped = tx.prepare(
            "SELECT fold_key, entity, op FROM ops WHERE scope = ?1 AND fold_key IS NOT NULL AND seq <= ?2
             ORDER BY fold_key, seq",
        )?;
        let mut rows = grouped.query(params![center, watermark])?;
        while let Some(row) = rows.next()? {
            let key = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
            let entity = row.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
            out.grouped(key, entity, row.get(2)?)?;
        }
    }
    out.finish()?;
    tx.commit()?;
    Ok(())
}
