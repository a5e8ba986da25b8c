//! A snapshot on PostgreSQL, streamed to its sink in the order of
//! `crate::snapshot`: records by entity (`ops_ungrouped`, migration 0006),
//! the ops shared with the center, then the center's events: those no
//! group holds, then by group, in one read.
//!
//! Two connections read one snapshot of the database (the first exports
//! it, the second imports it): the grouped events are asked for first, on
//! the second, so PostgreSQL sorts them (most of a large center's log)
//! while the first streams the records; then they are streamed in turn.
//! Every read streams its rows as PostgreSQL sends them (`query_raw`):
//! the server keeps a socket buffer of rows, whatever the center's size,
//! and PostgreSQL works on while this side writes what came.

use postgres::IsolationLevel;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use uuid::Uuid;

use super::PostgresStorage;
use kanoon_protocol::EntityKind;

use crate::error::AppError;
use crate::snapshot::{Streamer, ordered_entities, rank};
use crate::storage::{PROVINCE_SCOPE, SnapshotSink};

pub(super) fn snapshot_into(
    storage: &PostgresStorage,
    center_id: Uuid,
    sink: &mut dyn SnapshotSink,
) -> Result<(), AppError> {
    let today = chrono::Utc::now().date_naive();
    let mut client = storage.client()?;
    let mut events_client = storage.client()?;
    // One snapshot of the database for every read below. Its highest
    // `seq` is the watermark, as for a pull: pushes take their `seq`s
    // and commit one at a time under `OP_LOG_LOCK`, so every op below a
    // visible one has committed (or rolled back for good).
    let mut tx = client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start()?;
    let watermark: i64 = tx.query_one(super::ops::LAST_SEQ_SQL, &[])?.try_get(0)?;
    let exported: String = tx.query_one("SELECT pg_export_snapshot()", &[])?.try_get(0)?;
    // PostgreSQL names a snapshot with hex digits and dashes; anything
    // else is not put into a statement.
    if exported.is_empty() || !exported.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(AppError::internal(format!("PostgreSQL exported a snapshot named «{exported}»")));
    }
    let mut events_tx =
        events_client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start()?;
    events_tx.batch_execute(&format!("SET TRANSACTION SNAPSHOT '{exported}'"))?;
    let center = center_id.to_string();
    // Asked for now, read last: PostgreSQL sorts meanwhile. The events no
    // group holds first (`fold_key` NULL), then by group. Ordered by the
    // uuid, not its text: no collation to compare by. No index gives this
    // order, so the planner reads the center's events in the table's
    // order (a scan, or a bitmap of `ops_scope_seq` for a small center of
    // a large province) and sorts them, never fetching 600,000 rows one
    // at a time in key order.
    let mut events = events_tx.query_raw(
        "SELECT fold_key::text, entity, op FROM ops
         WHERE scope = $1 AND entity IN ('circulation', 'membership') AND seq <= $2
         ORDER BY ops.fold_key NULLS FIRST, seq",
        [&center as &(dyn ToSql + Sync), &watermark],
    )?;

    let mut out = Streamer::start(sink, today, storage.epoch, watermark)?;
    // The entities of both scopes that have records, walked in the index
    // one at a time (the events' entities, read below, are left out).
    let mut entities = Vec::new();
    let next = tx.prepare("SELECT min(entity) FROM ops WHERE scope = $1 AND entity > $2 AND fold_key IS NULL")?;
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
    let records_done = |(_, e): &&(String, String)| rank(e) < rank(EntityKind::CIRCULATION);
    for (scope, entity) in entities.iter().filter(records_done) {
        keep_each(&mut tx, &ungrouped, &[scope, entity, &watermark], &mut out)?;
    }
    // Shared with the center: a copy's record and travels.
    keep_each(&mut tx, &shared, &[&center, &watermark], &mut out)?;
    while let Some(row) = events.next()? {
        match row.try_get::<_, Option<&str>>(0)? {
            Some(key) => out.grouped(key, row.try_get(1)?, row.try_get(2)?)?,
            None => out.keep(row.try_get(2)?)?,
        }
    }
    drop(events);
    out.finish()?;
    events_tx.commit()?;
    tx.commit()?;
    Ok(())
}

/// Writes every op a read returns as it is, as PostgreSQL sends them.
fn keep_each(
    tx: &mut postgres::Transaction<'_>,
    statement: &postgres::Statement,
    params: &[&(dyn ToSql + Sync)],
    out: &mut Streamer<'_>,
) -> Result<(), AppError> {
    let mut rows = tx.query_raw(statement, params.iter().copied())?;
    while let Some(row) = rows.next()? {
        out.keep(row.try_get(0)?)?;
    }
    Ok(())
}
