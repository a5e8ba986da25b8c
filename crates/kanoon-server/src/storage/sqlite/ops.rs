//! The op log on SQLite: push (each op once by id, in one IMMEDIATE
//! transaction) and pull (pages after a cursor, every committed op: see the
//! backend's watermark note).

use std::collections::HashSet;

use kanoon_protocol::wire::{Cursor, PullResponse, PushResponse};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::{SqliteStorage, now_iso, parse_uuid};
use crate::error::AppError;
use crate::storage::PROVINCE_SCOPE;
use crate::storage::rules::{
    CopyFacts, CopyRefs, FOLD_PASSES, PullWindow, RecordCreators, Screened, fold_link, record_push_outcome,
    stored_event,
};

/// Pulled ops: the device's center's, the province's and those shared with
/// the center (at the share's position), each side read in position order
/// from its (scope, seq) index and merged.
const PULL_SQL: &str = "
    SELECT seq, op FROM (
        SELECT seq, op FROM (SELECT seq, op FROM ops WHERE scope = ?1 AND seq > ?3 ORDER BY seq LIMIT ?4)
        UNION ALL
        SELECT seq, op FROM (SELECT seq, op FROM ops WHERE scope = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4)
        UNION ALL
        SELECT seq, op FROM (SELECT s.seq, o.op FROM op_shares s JOIN ops o ON o.seq = s.op_seq
                             WHERE s.scope = ?1 AND s.seq > ?3 ORDER BY s.seq LIMIT ?4)
    ) ORDER BY seq LIMIT ?4";

const INSERT_SQL: &str = "
    INSERT INTO ops (op_id, center_id, scope, entity, entity_id, device_id, pushed_by, hlc, op, received_at, copy_id,
                     fold_key, fold_ref)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
    ON CONFLICT (op_id) DO NOTHING";

/// A renewal or void pushed joins the group of the event it names, when
/// that one is stored (by now, or earlier in the same batch).
const RESOLVE_FOLD_SQL: &str = "
    UPDATE ops SET fold_key = (SELECT l.fold_key FROM ops l WHERE l.entity IN ('circulation', 'membership')
                                 AND l.entity_id = ops.fold_ref AND l.fold_key IS NOT NULL LIMIT 1)
    WHERE fold_ref IS NOT NULL AND fold_key IS NULL AND seq > ?1
      AND EXISTS (SELECT 1 FROM ops l WHERE l.entity IN ('circulation', 'membership')
                    AND l.entity_id = ops.fold_ref AND l.fold_key IS NOT NULL)";

/// The highest position of the log: of an op or of a share.
pub(super) const LAST_SEQ_SQL: &str = "
    SELECT max(coalesce((SELECT max(seq) FROM ops), 0), coalesce((SELECT max(seq) FROM op_shares), 0))";

/// Stores a checked, non-empty batch (`Storage::push`).
pub(super) fn push(
    storage: &SqliteStorage,
    center_id: Uuid,
    device_id: Uuid,
    ops: &[Screened<'_>],
) -> Result<PushResponse, AppError> {
    let mut response = PushResponse::default();
    let (center, pusher, now) = (center_id.to_string(), device_id.to_string(), now_iso());
    let mut conn = storage.conn();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let before: i64 = tx.query_row("SELECT coalesce(max(seq), 0) FROM ops", [], |r| r.get(0))?;
    {
        let mut insert = tx.prepare_cached(INSERT_SQL)?;
        let mut stored = tx.prepare_cached("SELECT op FROM ops WHERE op_id = ?1")?;
        // One op's row, under `op_id` with this text (the canary stores
        // one again under a new id).
        let mut insert_op = |screened: &Screened<'_>, op_id: Uuid, json: &str| {
            let (incoming, copy_id) = (&screened.incoming, screened.share.map(|s| s.copy_id.to_string()));
            let op = &incoming.op;
            let fold = fold_link(op);
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
                copy_id,
                fold.key.map(|k| k.to_string()),
                fold.refers.map(|r| r.to_string()),
            ])
        };
        // The ops inserted that travel with a copy: (seq, op), shared below.
        let mut travelling: Vec<(i64, &Screened<'_>)> = Vec::new();
        for screened in ops {
            let incoming = &screened.incoming;
            let op_id = incoming.op.op_id;
            if insert_op(screened, op_id, &incoming.json)? == 1 {
                if screened.share.is_some() {
                    travelling.push((tx.last_insert_rowid(), screened));
                }
                record_push_outcome(&mut response, device_id, incoming, None);
                continue;
            }
            let existing: String = stored.query_row([op_id.to_string()], |r| r.get(0))?;
            #[cfg(feature = "test-support")]
            if storage.store_duplicates_again.load(std::sync::atomic::Ordering::Relaxed) {
                let again = kanoon_protocol::Op { op_id: Uuid::now_v7(), ..incoming.op.clone() };
                let json = serde_json::to_string(&again).map_err(|e| AppError::internal(e.to_string()))?;
                insert_op(screened, again.op_id, &json)?;
                record_push_outcome(&mut response, device_id, incoming, None);
                continue;
            }
            record_push_outcome(&mut response, device_id, incoming, Some(&existing));
        }
        for (seq, screened) in travelling {
            share_with_holders(&tx, seq, screened)?;
        }
        let mut resolve = tx.prepare_cached(RESOLVE_FOLD_SQL)?;
        for _ in 0..FOLD_PASSES {
            if resolve.execute([before])? == 0 {
                break;
            }
        }
    }
    tx.commit()?;
    Ok(response)
}

/// Serves an op that travels with its copy (`rules::CopyShare`) to every
/// center that has held the copy: the copy's first holder is the center of
/// its first such op; a transfer's destination becomes one and first gets,
/// at new positions, the copy's earlier ops it has not had.
fn share_with_holders(tx: &Connection, seq: i64, screened: &Screened<'_>) -> Result<(), AppError> {
    let Some(share) = screened.share else { return Ok(()) };
    let (copy_id, op) = (share.copy_id.to_string(), &screened.incoming.op);
    let holders = holders_of(tx, &copy_id)?;
    let add = |center: Uuid| -> Result<bool, AppError> {
        Ok(tx
            .prepare_cached("INSERT INTO copy_holders (copy_id, center_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING")?
            .execute(params![copy_id, center.to_string()])?
            == 1)
    };
    if holders.is_empty() {
        add(op.center_id)?;
    }
    if let Some(to) = share.to_center
        && add(to)?
    {
        let scope = to.to_string();
        let earlier: Vec<i64> = tx
            .prepare_cached(
                "SELECT seq FROM ops WHERE copy_id = ?1 AND seq < ?2 AND scope <> ?3
                   AND NOT EXISTS (SELECT 1 FROM op_shares s WHERE s.scope = ?3 AND s.op_seq = ops.seq)
                 ORDER BY seq",
            )?
            .query_map(params![copy_id, seq, scope], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for earlier in earlier {
            share_op(tx, &scope, earlier)?;
        }
    }
    let own = op.center_id.to_string();
    for holder in holders_of(tx, &copy_id)? {
        if holder != own {
            share_op(tx, &holder, seq)?;
        }
    }
    Ok(())
}

fn holders_of(tx: &Connection, copy_id: &str) -> Result<Vec<String>, AppError> {
    let mut stmt = tx.prepare_cached("SELECT center_id FROM copy_holders WHERE copy_id = ?1 ORDER BY center_id")?;
    let rows = stmt.query_map([copy_id], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Serves the op at `op_seq` to `scope`'s desks at a new position of the
/// log, taken from the op log's own sequence (so the next op takes the one
/// after it).
fn share_op(tx: &Connection, scope: &str, op_seq: i64) -> Result<(), AppError> {
    let position: i64 = tx
        .prepare_cached("UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'ops' RETURNING seq")?
        .query_row([], |r| r.get(0))?;
    tx.prepare_cached("INSERT INTO op_shares (seq, scope, op_seq) VALUES (?1, ?2, ?3)")?
        .execute(params![position, scope, op_seq])?;
    Ok(())
}

/// What the log says about the copies and events a batch names
/// (`rules::CopyFacts`).
pub(super) fn copy_facts(storage: &SqliteStorage, refs: &CopyRefs) -> Result<CopyFacts, AppError> {
    let mut facts = CopyFacts::default();
    if refs.copies.is_empty() && refs.events.is_empty() {
        return Ok(facts);
    }
    let conn = storage.conn();
    let mut copies: Vec<Uuid> = refs.copies.clone();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT op, copy_id FROM ops WHERE entity = 'circulation' AND entity_id = ?1 ORDER BY seq LIMIT 1",
        )?;
        for id in &refs.events {
            let row: Option<(String, Option<String>)> =
                stmt.query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
            let Some((json, column)) = row else { continue };
            let column = column.map(|c| parse_uuid(&c, "copy id")).transpose()?;
            if let Some(event) = stored_event(&json, column) {
                copies.extend(event.copy_id);
                facts.events.insert(*id, event);
            }
        }
    }
    let mut stmt = conn.prepare_cached("SELECT center_id FROM copy_holders WHERE copy_id = ?1")?;
    for copy in copies {
        let holders = stmt
            .query_map([copy.to_string()], |r| r.get::<_, String>(0))?
            .map(|c| parse_uuid(&c?, "center id"))
            .collect::<Result<HashSet<Uuid>, AppError>>()?;
        if !holders.is_empty() {
            facts.holders.insert(copy, holders);
        }
    }
    Ok(facts)
}

pub(super) fn pull(
    storage: &SqliteStorage,
    center_id: Uuid,
    after: Cursor,
    limit: usize,
) -> Result<PullResponse, AppError> {
    let last_seq: i64 = storage.conn().query_row(LAST_SEQ_SQL, [], |r| r.get(0))?;
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

/// The center that created each of these records (wrote the first op of
/// its entity and id), for those stored (`rules::RecordCreators`): one
/// statement, read once per record from the `ops_entity` index.
pub(super) fn record_creators(
    storage: &SqliteStorage,
    refs: &[(&'static str, Uuid)],
) -> Result<RecordCreators, AppError> {
    let mut creators = RecordCreators::with_capacity(refs.len());
    if refs.is_empty() {
        return Ok(creators);
    }
    let conn = storage.conn();
    let mut stmt = conn.prepare_cached(CREATOR_SQL)?;
    for &(entity, id) in refs {
        let center: Option<String> = stmt.query_row(params![entity, id.to_string()], |r| r.get(0)).optional()?;
        if let Some(center) = center {
            creators.insert((entity.to_owned(), id), parse_uuid(&center, "center id")?);
        }
    }
    Ok(creators)
}

/// The center of a record's first op.
const CREATOR_SQL: &str = "SELECT center_id FROM ops WHERE entity = ?1 AND entity_id = ?2 ORDER BY seq LIMIT 1";

/// The latest op of each province setting (`rules::ProvinceSettings`), as stored.
pub(super) fn province_settings(storage: &SqliteStorage) -> Result<Vec<String>, AppError> {
    let conn = storage.conn();
    let mut stmt = conn.prepare_cached(crate::storage::rules::PROVINCE_SETTINGS_SQL)?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
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
        assert_eq!(plan.iter().filter(|l| l.contains("op_shares_scope_seq")).count(), 1, "{plan:#?}");
        assert!(!plan.iter().any(|l| l.starts_with("SCAN ops")), "{plan:#?}");
    }

    #[test]
    fn a_records_creator_is_read_from_the_entity_index() {
        let storage = SqliteStorage::open_in_memory().unwrap();
        let plan: Vec<String> = storage.with_connection(|c| {
            let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {CREATOR_SQL}")).unwrap();
            stmt.query_map(params!["activity_session", Uuid::nil().to_string()], |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        });
        assert!(plan.iter().any(|l| l.contains("ops_entity")), "{plan:#?}");
        assert!(!plan.iter().any(|l| l.contains("TEMP B-TREE")), "{plan:#?}");
    }
}
