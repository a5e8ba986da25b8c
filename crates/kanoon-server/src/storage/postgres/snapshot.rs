//! A snapshot on PostgreSQL, streamed to its sink in the order of
//! `crate::snapshot`: records by entity (`ops_ungrouped`, migration 0006),
//! the ops shared with the center, then the center's events: those no
//! group holds, then by group, in one read.
//!
//! Two connections read one snapshot of the database (the first exports
//! it, the second imports it). The events (most of a large center's log)
//! are asked for at once on the second, by a thread of their own:
//! PostgreSQL sorts them — answering nothing until it has — while the
//! first connection streams the records to the sink; the thread then parses
//! the events and hands them over a few hundred at a time. Every read streams its rows as
//! PostgreSQL sends them (`query_raw`): the server holds a socket buffer
//! and `EVENT_BATCHES` batches of rows, whatever the center's size.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use kanoon_domain::circulation::EventRecord;
use kanoon_protocol::EntityKind;
use postgres::IsolationLevel;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use uuid::Uuid;

use super::{Connection, PostgresStorage};
use crate::error::AppError;
use crate::events::parse_event;
use crate::snapshot::{Streamer, ordered_entities, rank};
use crate::storage::{PROVINCE_SCOPE, SnapshotSink};

/// Events the reader thread hands over at a time.
const EVENT_BATCH: usize = 500;
/// Batches the reader thread reads ahead at most.
const EVENT_BATCHES: usize = 4;

/// An event as read: its group (`fold_key`; None for one no group holds),
/// text, and the event parsed by the reader (the parse is most of a large
/// center's snapshot work: done there, it runs beside the writer's).
struct EventRow {
    key: Option<String>,
    op: String,
    record: Option<EventRecord>,
}

pub(super) fn snapshot_into(
    storage: &PostgresStorage,
    center_id: Uuid,
    sink: &mut dyn SnapshotSink,
) -> Result<(), AppError> {
    let today = chrono::Utc::now().date_naive();
    let mut client = storage.client()?;
    let events_client = storage.client()?;
    // The watermark first, as for a pull (the backend's module
    // documentation): every op at or below it has committed (or rolled
    // back for good) before the snapshot below is taken, so the snapshot
    // holds all of them.
    let watermark = super::log_end(&mut client)?.watermark;
    // One snapshot of the database for every read below.
    let mut tx = client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start()?;
    let exported: String = tx.query_one("SELECT pg_export_snapshot()", &[])?.try_get(0)?;
    // PostgreSQL names a snapshot with hex digits and dashes; anything
    // else is not put into a statement.
    if exported.is_empty() || !exported.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(AppError::internal(format!("PostgreSQL exported a snapshot named «{exported}»")));
    }
    let center = center_id.to_string();
    let out = Streamer::start(sink, today, storage.epoch, watermark)?;
    std::thread::scope(|scope| {
        let (batches, events) = sync_channel(EVENT_BATCHES);
        let reader = scope.spawn(|| read_events(events_client, &exported, &center, watermark, batches));
        // The exporting transaction stays open until the reader is done
        // (it imports the snapshot first thing, and `events` hangs up on
        // it if this side fails first).
        let written = write_snapshot(&mut tx, &center, watermark, events, out);
        let read = reader.join().map_err(|_| AppError::internal("the snapshot's event reader panicked"))?;
        written.and(read)
    })?;
    tx.commit()?;
    Ok(())
}

/// The records and shared ops from `tx`, then the events the reader hands over.
fn write_snapshot(
    tx: &mut postgres::Transaction<'_>,
    center: &str,
    watermark: i64,
    events: Receiver<Result<Vec<EventRow>, AppError>>,
    mut out: Streamer<'_>,
) -> Result<(), AppError> {
    // The entities of both scopes that have records, walked in the index
    // one at a time (the events' entities are read by the reader).
    let mut entities = Vec::new();
    let next = tx.prepare("SELECT min(entity) FROM ops WHERE scope = $1 AND entity > $2 AND fold_key IS NULL")?;
    for scope in [center, PROVINCE_SCOPE] {
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
    let is_record = |(_, e): &&(String, String)| rank(e) < rank(EntityKind::CIRCULATION);
    for (scope, entity) in entities.iter().filter(is_record) {
        keep_each(tx, &ungrouped, &[scope, entity, &watermark], &mut out)?;
    }
    // Shared with the center: a copy's record and travels.
    keep_each(tx, &shared, &[&center, &watermark], &mut out)?;
    for batch in events {
        for EventRow { key, op, record } in batch? {
            match key {
                Some(key) => out.grouped_parsed(&key, op, record)?,
                None => out.keep(&op)?,
            }
        }
    }
    out.finish()?;
    Ok(())
}

/// The reader: the center's events, the ones no group holds first, then by
/// group, in batches to `batches` until they are all read or nobody listens.
fn read_events(
    mut client: Connection,
    exported: &str,
    center: &str,
    watermark: i64,
    batches: SyncSender<Result<Vec<EventRow>, AppError>>,
) -> Result<(), AppError> {
    let mut read = || -> Result<(), AppError> {
        let mut tx =
            client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start()?;
        tx.batch_execute(&format!("SET TRANSACTION SNAPSHOT '{exported}'"))?;
        // The sort spills to disk whatever the memory (a large center's
        // events are hundreds of MB); with the default 4 MB it makes so
        // many runs that it merges them twice. 32 MB merges once. The plan
        // is simple and read once: compiling it (JIT) costs more than it saves.
        tx.batch_execute("SET LOCAL work_mem = '32MB'; SET LOCAL jit = off")?;
        // Circulation and membership ops are always the center's (never
        // province-wide). Ordered by the uuid, not its text: no collation
        // to compare by. No index gives this order, so the planner reads
        // the center's events in the table's order (a scan, or a bitmap
        // of `ops_scope_seq` for a small center of a large province) and
        // sorts them, never fetching 600,000 rows one at a time in key
        // order from all over the table.
        let mut rows = tx.query_raw(
            "SELECT fold_key::text, entity, op FROM ops
             WHERE scope = $1 AND entity IN ('circulation', 'membership') AND seq <= $2
             ORDER BY ops.fold_key NULLS FIRST, seq",
            [&center as &(dyn ToSql + Sync), &watermark],
        )?;
        let mut batch = Vec::with_capacity(EVENT_BATCH);
        while let Some(row) = rows.next()? {
            let (key, op): (Option<String>, String) = (row.try_get(0)?, row.try_get(2)?);
            let record = if key.is_some() { parse_event(row.try_get(1)?, &op) } else { None };
            batch.push(EventRow { key, op, record });
            if batch.len() == EVENT_BATCH
                && batches.send(Ok(std::mem::replace(&mut batch, Vec::with_capacity(EVENT_BATCH)))).is_err()
            {
                // The writer stopped (its error is the snapshot's).
                return Ok(());
            }
        }
        drop(rows);
        tx.commit()?;
        if !batch.is_empty() {
            let _ = batches.send(Ok(batch));
        }
        Ok(())
    };
    match read() {
        Ok(()) => Ok(()),
        Err(e) => {
            // Told to the writer, which stops with it.
            let _ = batches.send(Err(AppError::internal(format!("reading the snapshot's events: {}", e.message))));
            Err(e)
        }
    }
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
