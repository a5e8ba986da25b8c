//! A snapshot on PostgreSQL: one read-only REPEATABLE READ transaction,
//! streamed to its sink in the order of `crate::snapshot` (records by
//! entity from `ops_snapshot`, the ops shared with the center, then the
//! events by group from `ops_fold`), each read through a portal a few
//! thousand rows at a time.

use postgres::IsolationLevel;
use postgres::types::ToSql;
use uuid::Uuid;

use super::PostgresStorage;
use crate::error::AppError;
use crate::snapshot::{Streamer, ordered_entities, rank};
use crate::storage::{PROVINCE_SCOPE, SnapshotSink};

/// Rows a snapshot reads at a time.
const SNAPSHOT_ROWS: i32 = 2_000;

pub(super) fn snapshot_into(
    storage: &PostgresStorage,
    center_id: Uuid,
    sink: &mut dyn SnapshotSink,
) -> Result<(), AppError> {
    let today = chrono::Utc::now().date_naive();
    let mut client = storage.client()?;
    // One snapshot of the database for every read below. Its highest
    // `seq` is the watermark, as for a pull: pushes take their `seq`s
    // and commit one at a time under `OP_LOG_LOCK`, so every op below a
    // visible one has committed (or rolled back for good).
    let mut tx = client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start()?;
    let watermark: i64 = tx.query_one(super::ops::LAST_SEQ_SQL, &[])?.try_get(0)?;
    let center = center_id.to_string();
    let mut out = Streamer::start(sink, today, storage.epoch, watermark)?;
    // The entities of both scopes, walked in the index one at a time.
    let mut entities = Vec::new();
    let next = tx.prepare("SELECT min(entity) FROM ops WHERE scope = $1 AND entity > $2")?;
    for scope in [center.as_str(), PROVINCE_SCOPE] {
        let mut after = String::new();
        while let Some(entity) = tx.query_one(&next, &[&scope, &after])?.try_get::<_, Option<String>>(0)? {
            entities.push((scope.to_owned(), entity.clone()));
            after = entity;
        }
    }
    let entities = ordered_entities(entities);
    let ungrouped = tx.prepare(
        "SELECT op FROM ops WHERE scope = $1 AND entity = $2 AND fold_key IS NULL AND seq <= $3 ORDER BY seq",
    )?;
    let shared = tx.prepare(
        "SELECT o.op FROM op_shares s JOIN ops o ON o.seq = s.op_seq WHERE s.scope = $1 AND s.seq <= $2
         ORDER BY s.seq",
    )?;
    let grouped = tx.prepare(
        "SELECT fold_key::text, entity, op FROM ops WHERE scope = $1 AND fold_key IS NOT NULL AND seq <= $2
         ORDER BY fold_key, seq",
    )?;
    let each = |tx: &mut postgres::Transaction<'_>,
                statement: &postgres::Statement,
                params: &[&(dyn ToSql + Sync)],
                f: &mut dyn FnMut(&postgres::Row) -> Result<(), AppError>|
     -> Result<(), AppError> {
        // Read in portions through a portal: the log can be long.
        let portal = tx.bind(statement, params)?;
        loop {
            let rows = tx.query_portal(&portal, SNAPSHOT_ROWS)?;
            if rows.is_empty() {
                return Ok(());
            }
            for row in &rows {
                f(row)?;
            }
        }
    };
    let records_done = |(_, e): &&(String, String)| rank(e) < rank("circulation");
    for (scope, entity) in entities.iter().filter(records_done) {
        each(&mut tx, &ungrouped, &[scope, entity, &watermark], &mut |row| out.keep(row.try_get(0)?))?;
    }
    // Shared with the center: a copy's record and travels.
    each(&mut tx, &shared, &[&center, &watermark], &mut |row| out.keep(row.try_get(0)?))?;
    for (scope, entity) in entities.iter().filter(|e| !records_done(e)) {
        each(&mut tx, &ungrouped, &[scope, entity, &watermark], &mut |row| out.keep(row.try_get(0)?))?;
    }
    each(&mut tx, &grouped, &[&center, &watermark], &mut |row| {
        out.grouped(row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)
    })?;
    out.finish()?;
    tx.commit()?;
    Ok(())
}
