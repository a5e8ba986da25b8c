//! The op log on PostgreSQL: push (each op once by id, one statement,
//! registered as in flight until it commits) and pull (pages after a
//! cursor, at or below the watermark: see the backend's module
//! documentation).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use chrono::Utc;
use kanoon_protocol::wire::{Cursor, PullResponse, PushResponse};
use postgres::Transaction;
use uuid::Uuid;

use super::{COPY_LOCK_CLASS, IN_FLIGHT_SQL, PostgresStorage, log_end};
use crate::error::AppError;
use crate::storage::PROVINCE_SCOPE;
use crate::storage::rules::{
    CopyFacts, CopyRefs, FOLD_PASSES, PullWindow, RecordCreators, Screened, fold_link, record_push_outcome,
    stored_event,
};

/// Pulled ops: the device's center's, the province's and those shared with
/// the center (at the share's position), each side read in position order
/// from its (scope, seq) index and merged; after the cursor ($3), at or
/// below the watermark ($5).
const PULL_SQL: &str = "
    SELECT seq, op FROM (
        (SELECT seq, op FROM ops WHERE scope = $1 AND seq > $3 AND seq <= $5 ORDER BY seq LIMIT $4)
        UNION ALL
        (SELECT seq, op FROM ops WHERE scope = $2 AND seq > $3 AND seq <= $5 ORDER BY seq LIMIT $4)
        UNION ALL
        (SELECT s.seq, o.op FROM op_shares s JOIN ops o ON o.seq = s.op_seq
         WHERE s.scope = $1 AND s.seq > $3 AND s.seq <= $5 ORDER BY s.seq LIMIT $4)
    ) AS page ORDER BY seq LIMIT $4";

/// A push's rows, inserted by one statement: one array per column, in
/// batch order (`seq`s are taken in that order), an op id already in the
/// log skipped. The center, the pushing device and the time are the same
/// for every row.
const PUSH_INSERT_SQL: &str = "
    INSERT INTO ops (op_id, center_id, scope, entity, entity_id, device_id, pushed_by, hlc, op, received_at, copy_id,
                     fold_key, fold_ref)
    SELECT t.op_id, $2::uuid, t.scope, t.entity, t.entity_id, t.device_id, $3::uuid, t.hlc, t.op, $4::timestamptz,
        t.copy_id, t.fold_key, t.fold_ref
    FROM unnest($1::uuid[], $5::text[], $6::text[], $7::uuid[], $8::uuid[], $9::text[], $10::text[], $11::uuid[],
                $12::uuid[], $13::uuid[])
        WITH ORDINALITY AS t (op_id, scope, entity, entity_id, device_id, hlc, op, copy_id, fold_key, fold_ref, ord)
    ORDER BY t.ord
    ON CONFLICT (op_id) DO NOTHING
    RETURNING op_id, seq";

/// A renewal or void pushed joins the group of the event it names, when
/// that one is stored (by now, or earlier in the same batch). Pushes run
/// side by side, so an event named from another push still in flight is
/// not found: the renewal is then kept as its own op in a snapshot. Only a
/// desk's second push of ops it is still pushing could do that, and a
/// desk's retry carries the named loan again (it was not yet answered).
const RESOLVE_FOLD_SQL: &str = "
    UPDATE ops o SET fold_key = l.fold_key
    FROM (SELECT DISTINCT ON (entity_id) entity_id, fold_key FROM ops
          WHERE entity IN ('circulation', 'membership') AND fold_key IS NOT NULL
            AND entity_id IN (SELECT fold_ref FROM ops WHERE seq = ANY($1) AND fold_ref IS NOT NULL)) l
    WHERE o.seq = ANY($1) AND o.fold_ref IS NOT NULL AND o.fold_key IS NULL AND l.entity_id = o.fold_ref";

/// The columns of `PUSH_INSERT_SQL` that differ from op to op.
struct PushRows<'a> {
    op_ids: Vec<Uuid>,
    scopes: Vec<String>,
    entities: Vec<&'a str>,
    entity_ids: Vec<Uuid>,
    device_ids: Vec<Uuid>,
    hlcs: Vec<String>,
    jsons: Vec<&'a str>,
    copy_ids: Vec<Option<Uuid>>,
    fold_keys: Vec<Option<Uuid>>,
    fold_refs: Vec<Option<Uuid>>,
}

impl<'a> PushRows<'a> {
    fn with_capacity(n: usize) -> Self {
        Self {
            op_ids: Vec::with_capacity(n),
            scopes: Vec::with_capacity(n),
            entities: Vec::with_capacity(n),
            entity_ids: Vec::with_capacity(n),
            device_ids: Vec::with_capacity(n),
            hlcs: Vec::with_capacity(n),
            jsons: Vec::with_capacity(n),
            copy_ids: Vec::with_capacity(n),
            fold_keys: Vec::with_capacity(n),
            fold_refs: Vec::with_capacity(n),
        }
    }

    fn add(&mut self, screened: &'a Screened<'a>) {
        let incoming = &screened.incoming;
        let op = &incoming.op;
        self.copy_ids.push(screened.share.map(|s| s.copy_id));
        let fold = fold_link(op);
        self.fold_keys.push(fold.key);
        self.fold_refs.push(fold.refers);
        self.op_ids.push(op.op_id);
        self.scopes.push(incoming.scope());
        self.entities.push(op.entity.as_str());
        self.entity_ids.push(op.entity_id);
        self.device_ids.push(op.device_id);
        self.hlcs.push(op.hlc.to_sortable());
        self.jsons.push(&incoming.json);
    }
}

/// Stores a checked, non-empty batch (`Storage::push`).
pub(super) fn push(
    storage: &PostgresStorage,
    center_id: Uuid,
    device_id: Uuid,
    ops: &[Screened<'_>],
) -> Result<PushResponse, AppError> {
    let mut response = PushResponse::default();
    let now = Utc::now();
    // One row per op id, its first occurrence in the batch (one
    // statement cannot insert a key twice); the columns as arrays.
    let mut first: HashMap<Uuid, (usize, &str)> = HashMap::with_capacity(ops.len());
    let mut rows = PushRows::with_capacity(ops.len());
    for (i, screened) in ops.iter().enumerate() {
        if let Entry::Vacant(slot) = first.entry(screened.incoming.op.op_id) {
            slot.insert((i, &screened.incoming.json));
            rows.add(screened);
        }
    }
    // The copies whose holders this push reads and extends: locked one
    // at a time, in one order (no two pushes wait for each other in a
    // circle), until commit.
    let mut copy_keys: Vec<i32> =
        ops.iter().filter_map(|s| s.share.map(|share| copy_lock_key(share.copy_id))).collect();
    copy_keys.sort_unstable();
    copy_keys.dedup();
    let mut client = storage.client()?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match push_once(&mut client, center_id, device_id, ops, &rows, &first, &copy_keys, now) {
            Ok(outcomes) => {
                for (screened, stored) in ops.iter().zip(outcomes) {
                    record_push_outcome(&mut response, device_id, screened.incoming, stored.as_deref());
                }
                return Ok(response);
            }
            // Two pushes of the same ops in opposite orders (a desk's retry
            // beside a relay of its ops) can wait for each other; PostgreSQL
            // ends one of them, which then runs again.
            Err(PushError::Deadlock) if attempt < PUSH_ATTEMPTS => continue,
            Err(PushError::Deadlock) => {
                return Err(AppError::internal(format!("push deadlocked {PUSH_ATTEMPTS} times in a row")));
            }
            Err(PushError::Other(e)) => return Err(e),
        }
    }
}

/// How many times a push that deadlocked is run again.
const PUSH_ATTEMPTS: u32 = 3;

enum PushError {
    Deadlock,
    Other(AppError),
}

impl From<postgres::Error> for PushError {
    fn from(e: postgres::Error) -> Self {
        if e.code() == Some(&postgres::error::SqlState::T_R_DEADLOCK_DETECTED) {
            PushError::Deadlock
        } else {
            PushError::Other(e.into())
        }
    }
}

impl From<AppError> for PushError {
    fn from(e: AppError) -> Self {
        PushError::Other(e)
    }
}

/// A copy's advisory lock key (second key of the two-key form; two copies
/// sharing one only wait for each other).
fn copy_lock_key(copy_id: Uuid) -> i32 {
    let b = copy_id.as_bytes();
    i32::from_be_bytes([b[12], b[13], b[14], b[15]])
}

/// One transaction of `push`: per op in batch order, `None` accepted or
/// the JSON it is compared with.
#[allow(clippy::too_many_arguments)]
fn push_once(
    client: &mut postgres::Client,
    center_id: Uuid,
    device_id: Uuid,
    ops: &[Screened<'_>],
    rows: &PushRows<'_>,
    first: &HashMap<Uuid, (usize, &str)>,
    copy_keys: &[i32],
    now: chrono::DateTime<Utc>,
) -> Result<Vec<Option<String>>, PushError> {
    let mut tx = client.transaction()?;
    let insert = tx.prepare(PUSH_INSERT_SQL)?;
    let select_stored = tx.prepare("SELECT op_id, op FROM ops WHERE op_id = ANY($1)")?;
    if !copy_keys.is_empty() {
        // In the array's (sorted) order: a function scan of `unnest`.
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, k) FROM unnest($2::int4[]) AS k",
            &[&COPY_LOCK_CLASS, &copy_keys],
        )?;
    }
    // In flight from before its first `seq` until it commits (module
    // documentation): pulls stay below it meanwhile.
    tx.execute(IN_FLIGHT_SQL, &[])?;
    let inserted = tx
        .query(
            &insert,
            &[
                &rows.op_ids,
                &center_id,
                &device_id,
                &now,
                &rows.scopes,
                &rows.entities,
                &rows.entity_ids,
                &rows.device_ids,
                &rows.hlcs,
                &rows.jsons,
                &rows.copy_ids,
                &rows.fold_keys,
                &rows.fold_refs,
            ],
        )?
        .iter()
        .map(|row| Ok((row.try_get::<_, Uuid>(0)?, row.try_get::<_, i64>(1)?)))
        .collect::<Result<HashMap<Uuid, i64>, postgres::Error>>()?;
    let seqs: Vec<i64> = inserted.values().copied().collect();
    if rows.fold_refs.iter().any(Option::is_some) {
        for _ in 0..FOLD_PASSES {
            if tx.execute(RESOLVE_FOLD_SQL, &[&seqs])? == 0 {
                break;
            }
        }
    }
    // The ops inserted that travel with a copy, in batch order (an op id
    // twice in the batch: its first occurrence, the one inserted).
    for (i, screened) in ops.iter().enumerate() {
        let op_id = screened.incoming.op.op_id;
        if screened.share.is_some()
            && first.get(&op_id).is_some_and(|&(first_index, _)| first_index == i)
            && let Some(&seq) = inserted.get(&op_id)
        {
            share_with_holders(&mut tx, seq, screened)?;
        }
    }
    // What each op not accepted is compared with: the stored op, or
    // the batch's first op of its id when that one was just inserted.
    let known: Vec<Uuid> = rows.op_ids.iter().filter(|id| !inserted.contains_key(id)).copied().collect();
    let mut existing: HashMap<Uuid, String> = HashMap::with_capacity(known.len());
    if !known.is_empty() {
        for row in tx.query(&select_stored, &[&known])? {
            existing.insert(row.try_get(0)?, row.try_get(1)?);
        }
    }
    // Per op, in batch order: `None` accepted, or the JSON it is compared with.
    let mut outcomes: Vec<Option<String>> = Vec::with_capacity(ops.len());
    for (i, screened) in ops.iter().enumerate() {
        let op_id = screened.incoming.op.op_id;
        let outcome = match first.get(&op_id) {
            Some(&(first_index, first_json)) if inserted.contains_key(&op_id) => {
                (first_index != i).then(|| first_json.to_owned())
            }
            _ => match existing.get(&op_id) {
                Some(json) => Some(json.clone()),
                // A conflict waits for the other push to commit or roll
                // back: an op not inserted is stored by then.
                None => {
                    return Err(AppError::internal(format!("op {op_id} was neither inserted nor stored")).into());
                }
            },
        };
        outcomes.push(outcome);
    }
    tx.commit()?;
    Ok(outcomes)
}

/// Serves an op that travels with its copy (`rules::CopyShare`) to every
/// center that has held the copy, as the SQLite backend does (see there).
/// Under the copy's lock: the pushes of one copy, and so its holders and
/// shares, one at a time.
fn share_with_holders(tx: &mut Transaction<'_>, seq: i64, screened: &Screened<'_>) -> Result<(), AppError> {
    let Some(share) = screened.share else { return Ok(()) };
    let (copy_id, op) = (share.copy_id, &screened.incoming.op);
    let add = "INSERT INTO copy_holders (copy_id, center_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
    if tx.query_opt("SELECT 1 FROM copy_holders WHERE copy_id = $1 LIMIT 1", &[&copy_id])?.is_none() {
        tx.execute(add, &[&copy_id, &op.center_id])?;
    }
    if let Some(to) = share.to_center
        && tx.execute(add, &[&copy_id, &to])? == 1
    {
        let scope = to.to_string();
        tx.execute(
            "INSERT INTO op_shares (seq, scope, op_seq)
             SELECT nextval(pg_get_serial_sequence('ops', 'seq')), $3, e.seq FROM (
                 SELECT seq FROM ops WHERE copy_id = $1 AND seq < $2 AND scope <> $3
                   AND NOT EXISTS (SELECT 1 FROM op_shares s WHERE s.scope = $3 AND s.op_seq = ops.seq)
                 ORDER BY seq) AS e",
            &[&copy_id, &seq, &scope],
        )?;
    }
    tx.execute(
        "INSERT INTO op_shares (seq, scope, op_seq)
         SELECT nextval(pg_get_serial_sequence('ops', 'seq')), h.scope, $2 FROM (
             SELECT center_id::text AS scope FROM copy_holders WHERE copy_id = $1 AND center_id <> $3
             ORDER BY center_id) AS h",
        &[&copy_id, &seq, &op.center_id],
    )?;
    Ok(())
}

/// What the log says about the copies and events a batch names
/// (`rules::CopyFacts`).
pub(super) fn copy_facts(storage: &PostgresStorage, refs: &CopyRefs) -> Result<CopyFacts, AppError> {
    let mut facts = CopyFacts::default();
    if refs.copies.is_empty() && refs.events.is_empty() {
        return Ok(facts);
    }
    let mut client = storage.client()?;
    let mut copies: Vec<Uuid> = refs.copies.clone();
    if !refs.events.is_empty() {
        let rows = client.query(
            "SELECT DISTINCT ON (entity_id) entity_id, op, copy_id FROM ops
             WHERE entity = 'circulation' AND entity_id = ANY($1) ORDER BY entity_id, seq",
            &[&refs.events],
        )?;
        for row in rows {
            let (id, json, column): (Uuid, &str, Option<Uuid>) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            if let Some(event) = stored_event(json, column) {
                copies.extend(event.copy_id);
                facts.events.insert(id, event);
            }
        }
    }
    for row in client.query("SELECT copy_id, center_id FROM copy_holders WHERE copy_id = ANY($1)", &[&copies])? {
        facts.holders.entry(row.try_get(0)?).or_default().insert(row.try_get(1)?);
    }
    Ok(facts)
}

pub(super) fn pull(
    storage: &PostgresStorage,
    center_id: Uuid,
    after: Cursor,
    limit: usize,
) -> Result<PullResponse, AppError> {
    let mut client = storage.client()?;
    let end = log_end(&mut client)?;
    let window = PullWindow::new(after, storage.epoch, end.last_seq, limit)?;
    let rows = client.query(
        PULL_SQL,
        &[&center_id.to_string(), &PROVINCE_SCOPE, &window.after_seq(), &window.fetch(), &end.watermark],
    )?;
    window.page(rows.iter().map(|row| Ok((row.try_get::<_, i64>(0)?, row.try_get::<_, &str>(1)?))))
}

/// The center that created each of these records (wrote the first op of
/// its entity and id), for those stored (`rules::RecordCreators`): one
/// query for the batch, each record's first op read from the `ops_entity`
/// index.
pub(super) fn record_creators(
    storage: &PostgresStorage,
    refs: &[(&'static str, Uuid)],
) -> Result<RecordCreators, AppError> {
    let mut creators = RecordCreators::with_capacity(refs.len());
    if refs.is_empty() {
        return Ok(creators);
    }
    let (entities, ids): (Vec<&str>, Vec<Uuid>) = refs.iter().copied().unzip();
    let rows = storage.client()?.query(CREATORS_SQL, &[&entities, &ids])?;
    for row in rows {
        creators.insert((row.try_get(0)?, row.try_get(1)?), row.try_get(2)?);
    }
    Ok(creators)
}

/// The center of each record's first op, for the (entity, entity id)
/// pairs of the two arrays (once each): every op of those records, read
/// from `ops_entity`, the first kept.
const CREATORS_SQL: &str = "
    SELECT DISTINCT ON (o.entity, o.entity_id) o.entity, o.entity_id, o.center_id
    FROM unnest($1::text[], $2::uuid[]) AS r (entity, entity_id)
    JOIN ops o ON o.entity = r.entity AND o.entity_id = r.entity_id
    ORDER BY o.entity, o.entity_id, o.seq";

/// The latest op of each province setting (`rules::ProvinceSettings`), as stored.
pub(super) fn province_settings(storage: &PostgresStorage) -> Result<Vec<String>, AppError> {
    let rows = storage.client()?.query(crate::storage::rules::PROVINCE_SETTINGS_SQL, &[])?;
    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
}

pub(super) fn log_length(storage: &PostgresStorage) -> Result<u64, AppError> {
    let n: i64 = storage.client()?.query_one("SELECT count(*) FROM ops", &[])?.try_get(0)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::testing::{TestPostgres, postgres_skipped};

    #[test]
    fn record_creators_read_each_record_from_the_entity_index() {
        if postgres_skipped() {
            return;
        }
        let db = TestPostgres::create();
        let storage = PostgresStorage::open(db.url()).unwrap();
        let plan: Vec<String> = storage
            .with_client(|c| {
                // An empty table is read whole whatever the indexes: ask
                // whether the index can serve the query at all.
                let mut tx = c.transaction().unwrap();
                tx.batch_execute("SET LOCAL enable_seqscan = off").unwrap();
                let entities = vec!["activity_session"];
                let ids = vec![Uuid::nil()];
                let rows = tx.query(&format!("EXPLAIN {CREATORS_SQL}"), &[&entities, &ids]).unwrap();
                rows.iter().map(|r| r.get::<_, String>(0)).collect()
            })
            .unwrap();
        assert!(plan.iter().any(|l| l.contains("ops_entity")), "{plan:#?}");
    }
}
