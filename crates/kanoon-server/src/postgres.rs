//! The PostgreSQL backend: the same `Storage` as `SqliteStorage`, for a
//! province whose server runs next to a PostgreSQL cluster. A small pool of
//! synchronous connections (`postgres` + `r2d2`): the trait is blocking and
//! the HTTP layer already calls it on tokio's blocking pool.
//!
//! Watermark: a pull may serve an op only once no op with a lower `seq` can
//! still commit. A PostgreSQL sequence hands out numbers when rows are
//! inserted, not when they commit, so two concurrent pushes could commit
//! `seq` 8 before `seq` 7; a desk pulling in between would move its cursor
//! past 7 and never see it. Every push therefore takes one
//! transaction-level advisory lock (`OP_LOG_LOCK`) before it inserts and
//! holds it until it commits: pushes take their numbers and commit one at a
//! time, so every op below a committed one has committed (or rolled back,
//! leaving a gap no op will fill), and the watermark is simply the highest
//! visible `seq`. An advisory lock rather than `LOCK TABLE ops`, which would
//! also queue behind (anti-wraparound) autovacuum.
//!
//! Calls block on the connection (the `postgres` crate runs a small tokio
//! runtime of its own per connection): make them from a blocking context —
//! `spawn_blocking`, a plain thread — never from inside an async task.
//! Dropping the storage is safe anywhere: its connections are closed on a
//! thread of their own.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use kanoon_domain::entities::{Center, CenterKind, is_valid_center_code, normalize_center_code};
use kanoon_protocol::Op;
use kanoon_protocol::photos::{PhotoBody, PhotoOutcome, PhotoPage};
use kanoon_protocol::wire::{Cursor, EnrolRequest, EnrolResponse, PullResponse, PushResponse, RejectedOp};
use postgres::{IsolationLevel, NoTls, Transaction};
use r2d2_postgres::PostgresConnectionManager;
use r2d2_postgres::r2d2::{Pool, PooledConnection};
use uuid::Uuid;

use crate::error::AppError;
use crate::exceptions::CenterOp;
use crate::snapshot::{Selector, Snapshot};
use crate::storage::{
    CenterInfo, DeviceAuth, DeviceInfo, IncomingOp, MAX_PULL_LIMIT, PROVINCE_SCOPE, Storage, check_cursor,
    check_device_name, check_push, hash_secret, new_enrol_code, new_token, normalize_enrol_code, same_op_json,
};

/// The migrations, in order; `kanoon_server_schema` records each applied one.
pub const POSTGRES_MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init.sql", include_str!("../../../migrations/server/postgres/0001_init.sql")),
    ("0002_photos.sql", include_str!("../../../migrations/server/postgres/0002_photos.sql")),
];

/// The table that records the applied migrations. A database without it
/// but with other tables is another program's: refused, never migrated.
pub const SCHEMA_TABLE: &str = "kanoon_server_schema";

/// Advisory lock held by every push until it commits (see the module
/// documentation): "KNSV" and 1.
pub const OP_LOG_LOCK: i64 = 0x4B4E_5356_0000_0001;
/// Advisory lock held while migrating, so two processes opening a new
/// database do not both migrate it.
const MIGRATION_LOCK: i64 = 0x4B4E_5356_0000_0002;
/// Advisory lock held by every enrolment, so that checking a code and a desk
/// number and then taking them is one step, as with SQLite's single writer.
const ENROL_LOCK: i64 = 0x4B4E_5356_0000_0003;

/// Connections kept open at most.
const POOL_SIZE: u32 = 8;
/// How long a call waits for a free connection (and `open` for the first).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long `last_seen_at` may lag: a device's requests write it at most
/// this often, so pulls stay reads.
const LAST_SEEN_EVERY: chrono::Duration = chrono::Duration::seconds(60);

/// Pulled ops: the device's center's and the province's, each side read in
/// `seq` order from the (scope, seq) index and merged.
const PULL_SQL: &str = "
    SELECT seq, op FROM (
        (SELECT seq, op FROM ops WHERE scope = $1 AND seq > $3 ORDER BY seq LIMIT $4)
        UNION ALL
        (SELECT seq, op FROM ops WHERE scope = $2 AND seq > $3 ORDER BY seq LIMIT $4)
    ) AS page ORDER BY seq LIMIT $4";

/// A push's rows, inserted by one statement: one array per column, in
/// batch order (`seq`s are taken in that order), an op id already in the
/// log skipped. The center, the pushing device and the time are the same
/// for every row.
const PUSH_INSERT_SQL: &str = "
    INSERT INTO ops (op_id, center_id, scope, entity, entity_id, device_id, pushed_by, hlc, op, received_at)
    SELECT t.op_id, $2::uuid, t.scope, t.entity, t.entity_id, t.device_id, $3::uuid, t.hlc, t.op, $4::timestamptz
    FROM unnest($1::uuid[], $5::text[], $6::text[], $7::uuid[], $8::uuid[], $9::text[], $10::text[])
        WITH ORDINALITY AS t (op_id, scope, entity, entity_id, device_id, hlc, op, ord)
    ORDER BY t.ord
    ON CONFLICT (op_id) DO NOTHING
    RETURNING op_id";

/// The columns of `PUSH_INSERT_SQL` that differ from op to op.
struct PushRows<'a> {
    op_ids: Vec<Uuid>,
    scopes: Vec<String>,
    entities: Vec<&'a str>,
    entity_ids: Vec<Uuid>,
    device_ids: Vec<Uuid>,
    hlcs: Vec<String>,
    jsons: Vec<&'a str>,
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
        }
    }

    fn add(&mut self, incoming: &'a IncomingOp) {
        let op = &incoming.op;
        self.op_ids.push(op.op_id);
        self.scopes.push(incoming.scope());
        self.entities.push(op.entity.as_str());
        self.entity_ids.push(op.entity_id);
        self.device_ids.push(op.device_id);
        self.hlcs.push(op.hlc.to_sortable());
        self.jsons.push(&incoming.json);
    }
}

/// Rows a snapshot reads at a time.
const SNAPSHOT_ROWS: i32 = 5_000;

type Manager = PostgresConnectionManager<NoTls>;

pub struct PostgresStorage {
    /// Always `Some` until dropped (`Drop` takes it to close the connections
    /// off any async context).
    pool: Option<Pool<Manager>>,
    epoch: u64,
}

impl PostgresStorage {
    /// Connects to the database at `url` (`postgres://user@host:port/db`),
    /// creating the schema or migrating it if needed.
    pub fn open(url: &str) -> Result<Self, AppError> {
        let config: postgres::Config =
            url.parse().map_err(|e| AppError::bad_request(format!("not a PostgreSQL URL: {e}")))?;
        let pool = Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(1))
            .connection_timeout(CONNECT_TIMEOUT)
            .build(PostgresConnectionManager::new(config, NoTls))
            .map_err(|e| AppError::internal(format!("cannot connect to PostgreSQL: {e}")))?;
        let mut storage = Self { pool: Some(pool), epoch: 0 };
        let mut client = storage.client()?;
        migrate(&mut client)?;
        let row = client.query_one("SELECT value FROM meta WHERE key = 'epoch'", &[])?;
        let epoch: String = row.try_get(0)?;
        drop(client);
        storage.epoch =
            epoch.parse().map_err(|_| AppError::internal(format!("meta epoch «{epoch}» is not a number")))?;
        Ok(storage)
    }

    pub(crate) fn client(&self) -> Result<PooledConnection<Manager>, AppError> {
        let pool = self.pool.as_ref().ok_or_else(|| AppError::internal("the storage is closed"))?;
        pool.get().map_err(|e| AppError::internal(format!("no PostgreSQL connection: {e}")))
    }

    /// Runs `f` on a connection of the pool (tests read tables with it).
    /// Blocking, like every call.
    pub fn with_client<T>(&self, f: impl FnOnce(&mut postgres::Client) -> T) -> Result<T, AppError> {
        let mut client = self.client()?;
        Ok(f(&mut client))
    }
}

impl Drop for PostgresStorage {
    fn drop(&mut self) {
        // Closing a connection blocks on its runtime, which panics inside an
        // async task (where an axum server drops its state): close them on a
        // thread of their own.
        if let Some(pool) = self.pool.take() {
            let closing = std::thread::Builder::new().name("kanoon-pg-close".into()).spawn(move || drop(pool));
            if let Ok(handle) = closing {
                let _ = handle.join();
            }
        }
    }
}

/// Applies the migrations not yet applied, all in one transaction under
/// `MIGRATION_LOCK`. Refuses a database with tables that are not ours, and
/// one migrated by a newer server.
fn migrate(client: &mut postgres::Client) -> Result<(), AppError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    let ours: bool = tx.query_one("SELECT to_regclass($1) IS NOT NULL", &[&SCHEMA_TABLE])?.try_get(0)?;
    if !ours {
        let tables: i64 =
            tx.query_one("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()", &[])?.try_get(0)?;
        if tables > 0 {
            return Err(AppError::internal(format!(
                "not a Kanoon server database ({tables} tables of another program and no {SCHEMA_TABLE})"
            )));
        }
        tx.batch_execute(&format!(
            "CREATE TABLE {SCHEMA_TABLE} (
                 version    integer PRIMARY KEY,
                 name       text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now()
             )"
        ))?;
    }
    let current: i32 =
        tx.query_one(&format!("SELECT coalesce(max(version), 0) FROM {SCHEMA_TABLE}"), &[])?.try_get(0)?;
    let current = usize::try_from(current).unwrap_or(0);
    if current > POSTGRES_MIGRATIONS.len() {
        return Err(AppError::internal(format!(
            "database schema version {current} is newer than this server ({}); upgrade the server",
            POSTGRES_MIGRATIONS.len()
        )));
    }
    for (i, (name, sql)) in POSTGRES_MIGRATIONS.iter().enumerate().skip(current) {
        let version = i32::try_from(i + 1).map_err(|_| AppError::internal("too many migrations"))?;
        tx.batch_execute(sql).map_err(|e| AppError::internal(format!("migration {name}: {e}")))?;
        tx.execute(&format!("INSERT INTO {SCHEMA_TABLE} (version, name) VALUES ($1, $2)"), &[&version, name])?;
    }
    tx.commit()?;
    Ok(())
}

/// A stored time as the API shows it (as the SQLite backend stores it).
fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Takes `lock` until the transaction ends.
fn lock(tx: &mut Transaction<'_>, lock: i64) -> Result<(), AppError> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&lock])?;
    Ok(())
}

impl Storage for PostgresStorage {
    fn add_center(&self, code: &str, name: &str, kind: CenterKind) -> Result<CenterInfo, AppError> {
        let code = normalize_center_code(code);
        if !is_valid_center_code(&code) {
            return Err(AppError::bad_request(format!("center code «{code}» is not 1–8 digits")));
        }
        let name = name.trim();
        if name.is_empty() {
            return Err(AppError::bad_request("a center needs a name"));
        }
        let center = CenterInfo { id: Center::id_for_code(&code), code, name: name.to_owned(), kind };
        // Either unique column (id, code) taken: nothing inserted.
        let inserted = self.client()?.execute(
            "INSERT INTO centers (id, code, name, kind, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING",
            &[&center.id, &center.code, &center.name, &kind.as_str(), &Utc::now()],
        )?;
        if inserted == 0 {
            return Err(AppError::conflict(format!("center {} already exists", center.code)));
        }
        Ok(center)
    }

    fn create_enrol_code(&self, center_code: &str) -> Result<String, AppError> {
        let center_code = normalize_center_code(center_code);
        let mut client = self.client()?;
        let center_id: Uuid = client
            .query_opt("SELECT id FROM centers WHERE code = $1", &[&center_code])?
            .ok_or_else(|| AppError::not_found(format!("no center with code {center_code}")))?
            .try_get(0)?;
        // A clash with an existing hash (1 in 10^10 per code) draws again.
        for _ in 0..8 {
            let code = new_enrol_code();
            let inserted = client.execute(
                "INSERT INTO enrol_codes (code_hash, center_id, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (code_hash) DO NOTHING",
                &[&hash_secret(&code), &center_id, &Utc::now()],
            )?;
            if inserted == 1 {
                return Ok(code);
            }
        }
        Err(AppError::internal("could not draw an unused enrolment code"))
    }

    fn enrol(&self, request: &EnrolRequest) -> Result<EnrolResponse, AppError> {
        let code = normalize_enrol_code(&request.code);
        if code.is_empty() {
            return Err(AppError::unauthorized("unknown or used enrolment code"));
        }
        if !(1..=99).contains(&request.desk_number) {
            return Err(AppError::bad_request("desk number must be 1–99"));
        }
        let name = check_device_name(&request.device_name)?;
        let device_id = request.device_id;
        let desk_number = i16::from(request.desk_number);
        let code_hash = hash_secret(&code);
        let now = Utc::now();

        let mut client = self.client()?;
        let mut tx = client.transaction()?;
        lock(&mut tx, ENROL_LOCK)?;
        let Some(center) = tx.query_opt(
            "SELECT c.id, c.code FROM enrol_codes e JOIN centers c ON c.id = e.center_id
             WHERE e.code_hash = $1 AND e.used_at IS NULL",
            &[&code_hash],
        )?
        else {
            return Err(AppError::unauthorized("unknown or used enrolment code"));
        };
        let (center_id, center_code): (Uuid, String) = (center.try_get(0)?, center.try_get(1)?);
        if request.center_id.is_some_and(|c| c != center_id) {
            return Err(AppError::conflict(format!(
                "this enrolment code is for center {center_code}, not the desk's center; the code stays unused"
            )));
        }
        let enrolled_center: Option<Uuid> = tx
            .query_opt("SELECT center_id FROM devices WHERE id = $1", &[&device_id])?
            .map(|r| r.try_get(0))
            .transpose()?;
        if enrolled_center.is_some_and(|c| c != center_id) {
            return Err(AppError::conflict("this device is enrolled at another center"));
        }
        let desk_taken: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM devices WHERE center_id = $1 AND desk_number = $2 AND id <> $3)",
                &[&center_id, &desk_number, &device_id],
            )?
            .try_get(0)?;
        if desk_taken {
            return Err(AppError::conflict(format!(
                "desk number {} in use by another device of center {center_code}",
                request.desk_number
            )));
        }
        let token = new_token();
        tx.execute(
            "INSERT INTO devices (id, center_id, desk_number, name, token_hash, enrolled_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (id) DO UPDATE SET desk_number = excluded.desk_number, name = excluded.name,
                 token_hash = excluded.token_hash, enrolled_at = excluded.enrolled_at",
            &[&device_id, &center_id, &desk_number, &name, &hash_secret(&token), &now],
        )?;
        tx.execute(
            "UPDATE enrol_codes SET used_at = $1, used_by = $2 WHERE code_hash = $3",
            &[&now, &device_id, &code_hash],
        )?;
        tx.commit()?;
        Ok(EnrolResponse { token, center_id, center_code })
    }

    fn device_for_token(&self, token: &str) -> Result<Option<DeviceAuth>, AppError> {
        if token.is_empty() || token.len() > 256 {
            return Ok(None);
        }
        let mut client = self.client()?;
        let Some(row) = client.query_opt(
            "SELECT id, center_id, last_seen_at FROM devices WHERE token_hash = $1",
            &[&hash_secret(token)],
        )?
        else {
            return Ok(None);
        };
        let (device_id, center_id, last_seen): (Uuid, Uuid, Option<DateTime<Utc>>) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let now = Utc::now();
        if last_seen.is_none_or(|seen| seen < now - LAST_SEEN_EVERY) {
            client.execute("UPDATE devices SET last_seen_at = $1 WHERE id = $2", &[&now, &device_id])?;
        }
        Ok(Some(DeviceAuth { device_id, center_id }))
    }

    fn push(&self, center_id: Uuid, device_id: Uuid, ops: &[IncomingOp]) -> Result<PushResponse, AppError> {
        check_push(center_id, device_id, ops)?;
        let mut response = PushResponse::default();
        if ops.is_empty() {
            return Ok(response);
        }
        let now = Utc::now();
        // One row per op id, its first occurrence in the batch (one
        // statement cannot insert a key twice); the columns as arrays.
        let mut first: HashMap<Uuid, (usize, &str)> = HashMap::with_capacity(ops.len());
        let mut rows = PushRows::with_capacity(ops.len());
        for (i, incoming) in ops.iter().enumerate() {
            if let Entry::Vacant(slot) = first.entry(incoming.op.op_id) {
                slot.insert((i, &incoming.json));
                rows.add(incoming);
            }
        }
        let mut client = self.client()?;
        let mut tx = client.transaction()?;
        // Prepared before the lock, so that only the insert, the read and
        // the commit run while it is held.
        let insert = tx.prepare(PUSH_INSERT_SQL)?;
        let select_stored = tx.prepare("SELECT op_id, op FROM ops WHERE op_id = ANY($1)")?;
        // Held until commit: `seq`s are taken and committed one push at a
        // time, so a pull never passes a `seq` that commits later (module
        // documentation).
        lock(&mut tx, OP_LOG_LOCK)?;
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
                ],
            )?
            .iter()
            .map(|row| row.try_get::<_, Uuid>(0))
            .collect::<Result<HashSet<Uuid>, _>>()?;
        // What each op not accepted is compared with: the stored op, or
        // the batch's first op of its id when that one was just inserted.
        let known: Vec<Uuid> = rows.op_ids.iter().filter(|id| !inserted.contains(id)).copied().collect();
        let mut existing: HashMap<Uuid, String> = HashMap::with_capacity(known.len());
        if !known.is_empty() {
            for row in tx.query(&select_stored, &[&known])? {
                existing.insert(row.try_get(0)?, row.try_get(1)?);
            }
        }
        // Per op, in batch order: `None` accepted, or the JSON it is compared with.
        let mut outcomes: Vec<Option<&str>> = Vec::with_capacity(ops.len());
        for (i, incoming) in ops.iter().enumerate() {
            let op_id = incoming.op.op_id;
            let outcome = match first.get(&op_id) {
                Some(&(first_index, first_json)) if inserted.contains(&op_id) => {
                    (first_index != i).then_some(first_json)
                }
                _ => match existing.get(&op_id) {
                    Some(json) => Some(json.as_str()),
                    // Under the lock nothing else inserts: a conflict is a stored op.
                    None => return Err(AppError::internal(format!("op {op_id} was neither inserted nor stored"))),
                },
            };
            outcomes.push(outcome);
        }
        tx.commit()?;
        for (incoming, outcome) in ops.iter().zip(outcomes) {
            let op_id = incoming.op.op_id;
            match outcome {
                None => response.accepted.push(op_id),
                Some(stored) if same_op_json(stored, &incoming.json) => response.duplicates.push(op_id),
                Some(_) => {
                    tracing::warn!(op_id = %op_id, device = %device_id, "op id reused with different content");
                    response.rejected.push(RejectedOp {
                        op_id,
                        reason: "op id already stored with different content; the stored op is kept".to_owned(),
                    });
                }
            }
        }
        Ok(response)
    }

    fn pull(&self, center_id: Uuid, after: Cursor, limit: usize) -> Result<PullResponse, AppError> {
        check_cursor(after, self.epoch)?;
        let mut client = self.client()?;
        // A cursor past the end of the log means the log lost ops (a server
        // restored from an older backup): the desk must bootstrap again.
        // Every visible `seq` is below the watermark (pushes commit in
        // `seq` order), so the highest one is the end of the log.
        let last_seq: i64 = client.query_one("SELECT coalesce(max(seq), 0)::bigint FROM ops", &[])?.try_get(0)?;
        if after.seq > u64::try_from(last_seq).unwrap_or(0) {
            return Err(AppError::conflict(format!(
                "cursor {after} is past the end of the log (seq {last_seq}): bootstrap again"
            )));
        }
        let limit = limit.clamp(1, MAX_PULL_LIMIT);
        let after_seq = i64::try_from(after.seq).unwrap_or(i64::MAX);
        // One more than asked, to know whether more remain.
        let fetch = i64::try_from(limit + 1).unwrap_or(i64::MAX);
        let rows = client.query(PULL_SQL, &[&center_id.to_string(), &PROVINCE_SCOPE, &after_seq, &fetch])?;
        let more = rows.len() > limit;
        let mut ops = Vec::with_capacity(rows.len().min(limit));
        let mut last = after.seq;
        for row in rows.iter().take(limit) {
            let (seq, json): (i64, &str) = (row.try_get(0)?, row.try_get(1)?);
            let op: Op = serde_json::from_str(json)
                .map_err(|e| AppError::internal(format!("stored op at seq {seq} does not parse: {e}")))?;
            ops.push(op);
            last = u64::try_from(seq).unwrap_or(last);
        }
        Ok(PullResponse { ops, cursor: Cursor { epoch: self.epoch, seq: last }, more })
    }

    fn snapshot(&self, center_id: Uuid) -> Result<Snapshot, AppError> {
        let today = Utc::now().date_naive();
        let mut client = self.client()?;
        // One snapshot of the database for every read below. Its highest
        // `seq` is the watermark, as for a pull: pushes take their `seq`s
        // and commit one at a time under `OP_LOG_LOCK`, so every op below a
        // visible one has committed (or rolled back for good).
        let mut tx =
            client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start()?;
        let watermark: i64 = tx.query_one("SELECT coalesce(max(seq), 0)::bigint FROM ops", &[])?.try_get(0)?;
        let mut selector = Selector::new(today);
        let scan = tx.prepare("SELECT seq, entity, op FROM ops WHERE scope IN ($1, $2) AND seq <= $3")?;
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
        Ok(selector.finish(self.epoch, watermark, events))
    }

    fn devices(&self) -> Result<Vec<DeviceInfo>, AppError> {
        let rows = self.client()?.query(
            "SELECT d.id, d.center_id, c.code, d.desk_number, d.name, d.enrolled_at, d.last_seen_at
             FROM devices d JOIN centers c ON c.id = d.center_id
             ORDER BY c.code COLLATE \"C\", d.desk_number",
            &[],
        )?;
        let mut devices = Vec::with_capacity(rows.len());
        for row in rows {
            let desk_number: i16 = row.try_get(3)?;
            devices.push(DeviceInfo {
                device_id: row.try_get(0)?,
                center_id: row.try_get(1)?,
                center_code: row.try_get(2)?,
                desk_number: u8::try_from(desk_number)
                    .map_err(|_| AppError::internal(format!("stored desk number {desk_number} is out of range")))?,
                name: row.try_get(4)?,
                enrolled_at: iso(row.try_get(5)?),
                last_seen_at: row.try_get::<_, Option<DateTime<Utc>>>(6)?.map(iso),
            });
        }
        Ok(devices)
    }

    fn epoch(&self) -> u64 {
        self.epoch
    }

    fn health(&self) -> Result<(), AppError> {
        self.client()?.simple_query("SELECT 1")?;
        Ok(())
    }

    fn log_length(&self) -> Result<u64, AppError> {
        let n: i64 = self.client()?.query_one("SELECT count(*) FROM ops", &[])?.try_get(0)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn put_photo(&self, center_id: Uuid, device_id: Uuid, photo: &PhotoBody) -> Result<PhotoOutcome, AppError> {
        self.put_photo_postgres(center_id, device_id, photo)
    }

    fn photos_after(&self, center_id: Uuid, after: u64, limit: usize) -> Result<PhotoPage, AppError> {
        self.photos_after_postgres(center_id, after, limit)
    }

    fn center_ops(&self, center_id: Option<Uuid>, entities: &[&str]) -> Result<Vec<CenterOp>, AppError> {
        self.center_ops_postgres(center_id, entities)
    }
}
