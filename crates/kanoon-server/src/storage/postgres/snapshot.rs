//! A snapshot on PostgreSQL: one read-only REPEATABLE READ transaction,
//! the log read in portions through a portal, the events kept decided by
//! the shared `Selector`.

use postgres::IsolationLevel;
use uuid::Uuid;

use super::PostgresStorage;
use crate::error::AppError;
use crate::snapshot::Selector;
use crate::storage::{PROVINCE_SCOPE, Snapshot};

/// Rows a snapshot reads at a time.
const SNAPSHOT_ROWS: i32 = 5_000;

pub(super) fn snapshot(storage: &PostgresStorage, center_id: Uuid) -> Result<Snapshot, AppError> {
    let today = chrono::Utc::now().date_naive();
    let mut client = storage.client()?;
    // One snapshot of the database for every read below. Its highest
    // `seq` is the watermark, as for a pull: pushes take their `seq`s
    // and commit one at a time under `OP_LOG_LOCK`, so every op below a
    // visible one has committed (or rolled back for good).
    let mut tx = client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start()?;
    let watermark: i64 = tx.query_one(super::ops::LAST_SEQ_SQL, &[])?.try_get(0)?;
    let mut selector = Selector::new(today);
    // The center's and the province's ops, and those shared with the
    // center (`op_shares`, by their op's own `seq`).
    let scan = tx.prepare(
        "SELECT seq, entity, op FROM ops WHERE scope IN ($1, $2) AND seq <= $3
         UNION ALL
         SELECT o.seq, o.entity, o.op FROM op_shares s JOIN ops o ON o.seq = s.op_seq
         WHERE s.scope = $1 AND s.seq <= $3",
    )?;
    // Read in portions through a portal: the log can be long.
    let portal = tx.bind(&scan, &[&center_id.to_string(), &PROVINCE_SCOPE, &watermark])?;
    loop {
        let rows = tx.query_portal(&portal, SNAPSHOT_ROWS)?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            selector.add(row.try_get(0)?, row.try_get::<_, &str>(1)?, row.try_get(2)?);
        }
    }
    let wanted = selector.events_to_keep();
    let mut events = Vec::with_capacity(wanted.len());
    for row in tx.query("SELECT seq, op FROM ops WHERE seq = ANY($1)", &[&wanted])? {
        events.push((row.try_get(0)?, row.try_get(1)?));
    }
    tx.commit()?;
    Ok(selector.finish(storage.epoch, watermark, events))
}
