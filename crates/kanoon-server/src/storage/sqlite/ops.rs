//! The op log on SQLite: push (each op once by id, in one IMMEDIATE
//! transaction) and pull (pages after a cursor, every committed op: see the
//! backend's watermark note).

use std::collections::HashMap;

use kanoon_protocol::EntityKind;
use kanoon_protocol::wire::{Cursor, PullResponse, PushResponse};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::{SqliteStorage, now_iso, parse_uuid};
use crate::error::AppError;
use crate::storage::rules::{PullWindow, record_push_outcome};
use crate::storage::{IncomingOp, PROVINCE_SCOPE};

/// Pulled ops: the device's center's and the province's, each side read in
/// `seq` order from the (scope, seq) index and merged.
const PULL_SQL: &str = "
    SELECT seq, op FROM (
        SELECT seq, op FROM (SELECT seq, op FROM ops WHERE scope = ?1 AND seq > ?3 ORDER BY seq LIMIT ?4)
        UNION ALL
        SELECT seq, op FROM (SELECT seq, op FROM ops WHERE scope = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4)
    ) ORDER BY seq LIMIT ?4";

const INSERT_SQL: &str = "
    INSERT INTO ops (op_id, center_id, scope, entity, entity_id, device_id, pushed_by, hlc, op, received_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
    ON CONFLICT (op_id) DO NOTHING";

/// Stores a checked, non-empty batch (`Storage::push`).
pub(super) fn push(
    storage: &SqliteStorage,
    center_id: Uuid,
    device_id: Uuid,
    ops: &[IncomingOp],
) -> Result<PushResponse, AppError> {
    let mut response = PushResponse::default();
    let (center, pusher, now) = (center_id.to_string(), device_id.to_string(), now_iso());
    let mut conn = storage.conn();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut insert = tx.prepare_cached(INSERT_SQL)?;
        let mut stored = tx.prepare_cached("SELECT op FROM ops WHERE op_id = ?1")?;
        // One op's row, under `op_id` with this text (the canary stores
        // one again under a new id).
        let mut insert_op = |incoming: &IncomingOp, op_id: Uuid, json: &str| {
            let op = &incoming.op;
            insert.execute(params![
                op_id.to_string(),
                center,
                incoming.scope(),
                op.entity.as_str(),
                op.entity_id.to_string(),
                op.device_id.to_string(),
                pusher,
                op.hlc.to_sortable(),
                json,
                now,
            ])
        };
        for incoming in ops {
            let op_id = incoming.op.op_id;
            if insert_op(incoming, op_id, &incoming.json)? == 1 {
                record_push_outcome(&mut response, device_id, incoming, None);
                continue;
            }
            let existing: String = stored.query_row([op_id.to_string()], |r| r.get(0))?;
            #[cfg(feature = "test-support")]
            if storage.store_duplicates_again.load(std::sync::atomic::Ordering::Relaxed) {
                let again = kanoon_protocol::Op { op_id: Uuid::now_v7(), ..incoming.op.clone() };
                let json = serde_json::to_string(&again).map_err(|e| AppError::internal(e.to_string()))?;
                insert_op(incoming, again.op_id, &json)?;
                record_push_outcome(&mut response, device_id, incoming, None);
                continue;
            }
            record_push_outcome(&mut response, device_id, incoming, Some(&existing));
        }
    }
    tx.commit()?;
    Ok(response)
}

pub(super) fn pull(
    storage: &SqliteStorage,
    center_id: Uuid,
    after: Cursor,
    limit: usize,
) -> Result<PullResponse, AppError> {
    let last_seq: i64 = storage.conn().query_row("SELECT coalesce(max(seq), 0) FROM ops", [], |r| r.get(0))?;
    let window = PullWindow::new(after, storage.epoch, last_seq, limit)?;
    let mut rows: Vec<(i64, String)> = Vec::new();
    {
        let conn = storage.conn();
        let mut stmt = conn.prepare_cached(PULL_SQL)?;
        let params = params![center_id.to_string(), PROVINCE_SCOPE, window.after_seq(), window.fetch()];
        for row in stmt.query_map(params, |r| Ok((r.get(0)?, r.get(1)?)))? {
            rows.push(row?);
        }
    }
    window.page(rows.into_iter().map(Ok))
}

/// The center that created each of these titles (wrote its first op), for
/// those stored.
pub(super) fn title_creators(storage: &SqliteStorage, ids: &[Uuid]) -> Result<HashMap<Uuid, Uuid>, AppError> {
    let mut creators = HashMap::with_capacity(ids.len());
    if ids.is_empty() {
        return Ok(creators);
    }
    let conn = storage.conn();
    let mut stmt =
        conn.prepare_cached("SELECT center_id FROM ops WHERE entity = ?1 AND entity_id = ?2 ORDER BY seq LIMIT 1")?;
    for id in ids {
        let center: Option<String> =
            stmt.query_row(params![EntityKind::TITLE, id.to_string()], |r| r.get(0)).optional()?;
        if let Some(center) = center {
            creators.insert(*id, parse_uuid(&center, "center id")?);
        }
    }
    Ok(creators)
}

pub(super) fn log_length(storage: &SqliteStorage) -> Result<u64, AppError> {
    let n: i64 = storage.conn().query_row("SELECT count(*) FROM ops", [], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_pull_query_reads_both_scopes_from_the_index() {
        let storage = SqliteStorage::open_in_memory().unwrap();
        let plan: Vec<String> = storage.with_connection(|c| {
            let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {PULL_SQL}")).unwrap();
            stmt.query_map(params!["c", PROVINCE_SCOPE, 0, 10], |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        });
        let index_reads = plan.iter().filter(|l| l.contains("ops_scope_seq")).count();
        assert_eq!(index_reads, 2, "{plan:#?}");
        assert!(!plan.iter().any(|l| l.starts_with("SCAN ops")), "{plan:#?}");
    }
}
