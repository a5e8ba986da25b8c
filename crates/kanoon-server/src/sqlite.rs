//! The SQLite backend: one file, zero setup. One connection behind a mutex
//! does every read and write.
//!
//! Watermark: a pull may serve every committed op. With one writer, ops
//! are committed in `seq` order (a push is one transaction, and the next
//! push's `seq`s are allocated only after it commits), so no `seq` below a
//! committed one can still appear later. A backend with concurrent writers
//! must serve only below the lowest `seq` still in flight (PostgreSQL, whose
//! sequences hand out numbers that commit out of order: see `postgres.rs`).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use kanoon_domain::entities::{Center, CenterKind, is_valid_center_code, normalize_center_code};
use kanoon_protocol::Op;
use kanoon_protocol::photos::{PhotoBody, PhotoOutcome, PhotoPage};
use kanoon_protocol::wire::{Cursor, EnrolRequest, EnrolResponse, PullResponse, PushResponse, RejectedOp};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use crate::error::AppError;
use crate::exceptions::CenterOp;
use crate::snapshot::{Selector, Snapshot};
use crate::storage::{
    CenterInfo, DeviceAuth, DeviceInfo, IncomingOp, MAX_PULL_LIMIT, PROVINCE_SCOPE, Storage, check_cursor,
    check_device_name, check_push, hash_secret, new_enrol_code, new_token, normalize_enrol_code, now_iso, same_op_json,
};

/// The migrations, in order; `user_version` = how many are applied.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init.sql", include_str!("../../../migrations/server/sqlite/0001_init.sql")),
    ("0002_photos.sql", include_str!("../../../migrations/server/sqlite/0002_photos.sql")),
];

/// `PRAGMA application_id` of a Kanoon server database ("KNSV"): a desk's
/// database or another program's is refused, never migrated.
pub const APPLICATION_ID: i32 = 0x4B4E_5356;

/// How long `last_seen_at` may lag: a device's requests write it at most
/// this often, so pulls stay reads.
const LAST_SEEN_EVERY: chrono::Duration = chrono::Duration::seconds(60);

/// Pulled ops: the device's center's and the province's, each side read in
/// `seq` order from the (scope, seq) index and merged.
const PULL_SQL: &str = "
    SELECT seq, op FROM (
        SELECT seq, op FROM (SELECT seq, op FROM ops WHERE scope = ?1 AND seq > ?3 ORDER BY seq LIMIT ?4)
        UNION ALL
        SELECT seq, op FROM (SELECT seq, op FROM ops WHERE scope = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4)
    ) ORDER BY seq LIMIT ?4";

pub struct SqliteStorage {
    conn: Mutex<Connection>,
    epoch: u64,
    /// The database file (none in memory): a snapshot reads it on a
    /// connection of its own, so pushes go on meanwhile (WAL).
    path: Option<PathBuf>,
    /// Test-only: store a re-pushed op again, as a new op (the sync
    /// simulation's canary: idempotency broken on purpose).
    #[cfg(feature = "test-support")]
    store_duplicates_again: std::sync::atomic::AtomicBool,
}

impl SqliteStorage {
    /// Opens (creating and migrating if needed) the server database at `path`.
    pub fn open(path: &Path) -> Result<Self, AppError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| AppError::internal(format!("cannot open {}: {e}", path.display())))?;
        Self::prepare(conn, Some(path.to_owned()))
            .map_err(|e| AppError::new(e.code, format!("{}: {}", path.display(), e.message)))
    }

    /// A fresh database in memory (tests, simulations).
    pub fn open_in_memory() -> Result<Self, AppError> {
        Self::prepare(Connection::open_in_memory()?, None)
    }

    fn prepare(conn: Connection, path: Option<PathBuf>) -> Result<Self, AppError> {
        claim(&conn)?;
        configure(&conn)?;
        migrate(&conn)?;
        let epoch: String = conn.query_row("SELECT value FROM meta WHERE key = 'epoch'", [], |r| r.get(0))?;
        let epoch = epoch.parse().map_err(|_| AppError::internal(format!("meta epoch «{epoch}» is not a number")))?;
        Ok(Self {
            conn: Mutex::new(conn),
            epoch,
            path,
            #[cfg(feature = "test-support")]
            store_duplicates_again: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Test-only (the sync simulation's canary): from now on an op pushed
    /// again is stored again under a new id instead of being recognized.
    #[cfg(feature = "test-support")]
    #[doc(hidden)]
    pub fn break_idempotency_for_canary(&self) {
        self.store_duplicates_again.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// The connection. A panic while it was held rolled its transaction
    /// back (rusqlite rolls back on drop), so a poisoned lock is still sound.
    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the connection (tests read pragmas and tables with it).
    pub fn with_connection<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        f(&self.conn())
    }
}

/// Refuses a database that is not ours; a new, empty one is claimed by the
/// first migration. Runs before anything is written.
fn claim(conn: &Connection) -> Result<(), AppError> {
    let not_ours = |e: rusqlite::Error| AppError::internal(format!("not a Kanoon server database ({e})"));
    let app: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0)).map_err(not_ours)?;
    let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0)).map_err(not_ours)?;
    match (app, tables) {
        (APPLICATION_ID, _) | (0, 0) => Ok(()),
        _ => Err(AppError::internal("not a Kanoon server database (another program's SQLite file)")),
    }
}

/// Every connection: WAL, FULL sync (an accepted op survives a power cut:
/// the desk deletes it from its outbox once it is accepted), foreign keys.
fn configure(conn: &Connection) -> Result<(), AppError> {
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Applies the migrations not yet applied, each in its own transaction.
fn migrate(conn: &Connection) -> Result<(), AppError> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let current = usize::try_from(current).unwrap_or(0);
    if current > MIGRATIONS.len() {
        return Err(AppError::internal(format!(
            "database schema version {current} is newer than this server ({}); upgrade the server",
            MIGRATIONS.len()
        )));
    }
    if current == 0 {
        conn.pragma_update(None, "application_id", APPLICATION_ID)?;
    }
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(current) {
        conn.execute_batch(&format!("BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {};\nCOMMIT;", i + 1)).map_err(
            |e| {
                let _ = conn.execute_batch("ROLLBACK");
                AppError::internal(format!("migration {name}: {e}"))
            },
        )?;
    }
    Ok(())
}

fn parse_uuid(s: &str, what: &str) -> Result<Uuid, AppError> {
    s.parse().map_err(|_| AppError::internal(format!("{what} «{s}» is not a UUID")))
}

impl Storage for SqliteStorage {
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
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM centers WHERE code = ?1 OR id = ?2)",
            params![center.code, center.id.to_string()],
            |r| r.get(0),
        )?;
        if exists {
            return Err(AppError::conflict(format!("center {} already exists", center.code)));
        }
        tx.execute(
            "INSERT INTO centers (id, code, name, kind, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![center.id.to_string(), center.code, center.name, kind.as_str(), now_iso()],
        )?;
        tx.commit()?;
        Ok(center)
    }

    fn create_enrol_code(&self, center_code: &str) -> Result<String, AppError> {
        let center_code = normalize_center_code(center_code);
        let conn = self.conn();
        let center_id: Option<String> =
            conn.query_row("SELECT id FROM centers WHERE code = ?1", [&center_code], |r| r.get(0)).optional()?;
        let center_id = center_id.ok_or_else(|| AppError::not_found(format!("no center with code {center_code}")))?;
        // A clash with an existing hash (1 in 10^10 per code) draws again.
        for _ in 0..8 {
            let code = new_enrol_code();
            let inserted = conn.execute(
                "INSERT INTO enrol_codes (code_hash, center_id, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (code_hash) DO NOTHING",
                params![hash_secret(&code), center_id, now_iso()],
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
        let device_id = request.device_id.to_string();
        let code_hash = hash_secret(&code);
        let now = now_iso();

        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let center: Option<(String, String)> = tx
            .query_row(
                "SELECT c.id, c.code FROM enrol_codes e JOIN centers c ON c.id = e.center_id
                 WHERE e.code_hash = ?1 AND e.used_at IS NULL",
                [&code_hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((center_id, center_code)) = center else {
            return Err(AppError::unauthorized("unknown or used enrolment code"));
        };
        if request.center_id.is_some_and(|c| c.to_string() != center_id) {
            return Err(AppError::conflict(format!(
                "this enrolment code is for center {center_code}, not the desk's center; the code stays unused"
            )));
        }
        let enrolled_center: Option<String> =
            tx.query_row("SELECT center_id FROM devices WHERE id = ?1", [&device_id], |r| r.get(0)).optional()?;
        if enrolled_center.is_some_and(|c| c != center_id) {
            return Err(AppError::conflict("this device is enrolled at another center"));
        }
        let desk_taken: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM devices WHERE center_id = ?1 AND desk_number = ?2 AND id <> ?3)",
            params![center_id, request.desk_number, device_id],
            |r| r.get(0),
        )?;
        if desk_taken {
            return Err(AppError::conflict(format!(
                "desk number {} in use by another device of center {center_code}",
                request.desk_number
            )));
        }
        let token = new_token();
        tx.execute(
            "INSERT INTO devices (id, center_id, desk_number, name, token_hash, enrolled_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET desk_number = excluded.desk_number, name = excluded.name,
                 token_hash = excluded.token_hash, enrolled_at = excluded.enrolled_at",
            params![device_id, center_id, request.desk_number, name, hash_secret(&token), now],
        )?;
        tx.execute(
            "UPDATE enrol_codes SET used_at = ?1, used_by = ?2 WHERE code_hash = ?3",
            params![now, device_id, code_hash],
        )?;
        tx.commit()?;
        Ok(EnrolResponse { token, center_id: parse_uuid(&center_id, "center id")?, center_code })
    }

    fn device_for_token(&self, token: &str) -> Result<Option<DeviceAuth>, AppError> {
        if token.is_empty() || token.len() > 256 {
            return Ok(None);
        }
        let conn = self.conn();
        let row: Option<(String, String, Option<String>)> = conn
            .prepare_cached("SELECT id, center_id, last_seen_at FROM devices WHERE token_hash = ?1")?
            .query_row([hash_secret(token)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let Some((device_id, center_id, last_seen)) = row else {
            return Ok(None);
        };
        let now = chrono::Utc::now();
        let stale = (now - LAST_SEEN_EVERY).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        if last_seen.is_none_or(|seen| seen < stale) {
            conn.prepare_cached("UPDATE devices SET last_seen_at = ?1 WHERE id = ?2")?
                .execute(params![now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), device_id])?;
        }
        Ok(Some(DeviceAuth {
            device_id: parse_uuid(&device_id, "device id")?,
            center_id: parse_uuid(&center_id, "center id")?,
        }))
    }

    fn push(&self, center_id: Uuid, device_id: Uuid, ops: &[IncomingOp]) -> Result<PushResponse, AppError> {
        check_push(center_id, device_id, ops)?;
        let mut response = PushResponse::default();
        if ops.is_empty() {
            return Ok(response);
        }
        let (center, pusher, now) = (center_id.to_string(), device_id.to_string(), now_iso());
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO ops (op_id, center_id, scope, entity, entity_id, device_id, pushed_by, hlc, op, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (op_id) DO NOTHING",
            )?;
            let mut stored = tx.prepare_cached("SELECT op FROM ops WHERE op_id = ?1")?;
            for incoming in ops {
                let op = &incoming.op;
                let op_id = op.op_id.to_string();
                let inserted = insert.execute(params![
                    op_id,
                    center,
                    incoming.scope(),
                    op.entity.as_str(),
                    op.entity_id.to_string(),
                    op.device_id.to_string(),
                    pusher,
                    op.hlc.to_sortable(),
                    incoming.json,
                    now,
                ])?;
                if inserted == 1 {
                    response.accepted.push(op.op_id);
                    continue;
                }
                let existing: String = stored.query_row([&op_id], |r| r.get(0))?;
                #[cfg(feature = "test-support")]
                if self.store_duplicates_again.load(std::sync::atomic::Ordering::Relaxed) {
                    let again = Op { op_id: Uuid::now_v7(), ..op.clone() };
                    let json = serde_json::to_string(&again).map_err(|e| AppError::internal(e.to_string()))?;
                    insert.execute(params![
                        again.op_id.to_string(),
                        center,
                        incoming.scope(),
                        op.entity.as_str(),
                        op.entity_id.to_string(),
                        op.device_id.to_string(),
                        pusher,
                        op.hlc.to_sortable(),
                        json,
                        now,
                    ])?;
                    response.accepted.push(op.op_id);
                    continue;
                }
                if same_op_json(&existing, &incoming.json) {
                    response.duplicates.push(op.op_id);
                } else {
                    tracing::warn!(op_id = %op.op_id, device = %device_id, "op id reused with different content");
                    response.rejected.push(RejectedOp {
                        op_id: op.op_id,
                        reason: "op id already stored with different content; the stored op is kept".to_owned(),
                    });
                }
            }
        }
        tx.commit()?;
        Ok(response)
    }

    fn pull(&self, center_id: Uuid, after: Cursor, limit: usize) -> Result<PullResponse, AppError> {
        check_cursor(after, self.epoch)?;
        // A cursor past the end of the log means the log lost ops (a server
        // restored from an older backup): the desk must bootstrap again.
        let last_seq: i64 = self.conn().query_row("SELECT coalesce(max(seq), 0) FROM ops", [], |r| r.get(0))?;
        if after.seq > u64::try_from(last_seq).unwrap_or(0) {
            return Err(AppError::conflict(format!(
                "cursor {after} is past the end of the log (seq {last_seq}): bootstrap again"
            )));
        }
        let limit = limit.clamp(1, MAX_PULL_LIMIT);
        let after_seq = i64::try_from(after.seq).unwrap_or(i64::MAX);
        // One more than asked, to know whether more remain.
        let fetch = i64::try_from(limit + 1).unwrap_or(i64::MAX);
        let mut rows: Vec<(i64, String)> = Vec::new();
        {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(PULL_SQL)?;
            for row in stmt.query_map(params![center_id.to_string(), PROVINCE_SCOPE, after_seq, fetch], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })? {
                rows.push(row?);
            }
        }
        let more = rows.len() > limit;
        let mut ops = Vec::with_capacity(rows.len().min(limit));
        let mut last = after.seq;
        for (seq, json) in rows.into_iter().take(limit) {
            let op: Op = serde_json::from_str(&json)
                .map_err(|e| AppError::internal(format!("stored op at seq {seq} does not parse: {e}")))?;
            ops.push(op);
            last = u64::try_from(seq).unwrap_or(last);
        }
        Ok(PullResponse { ops, cursor: Cursor { epoch: self.epoch, seq: last }, more })
    }

    fn snapshot(&self, center_id: Uuid) -> Result<Snapshot, AppError> {
        let today = chrono::Utc::now().date_naive();
        match &self.path {
            Some(path) => {
                let mut conn = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(|e| AppError::internal(format!("cannot open {} to read a snapshot: {e}", path.display())))?;
                conn.busy_timeout(Duration::from_secs(10))?;
                read_snapshot(&mut conn, center_id, self.epoch, today)
            }
            None => read_snapshot(&mut self.conn(), center_id, self.epoch, today),
        }
    }

    fn devices(&self) -> Result<Vec<DeviceInfo>, AppError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT d.id, d.center_id, c.code, d.desk_number, d.name, d.enrolled_at, d.last_seen_at
             FROM devices d JOIN centers c ON c.id = d.center_id
             ORDER BY c.code, d.desk_number",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, u8>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?;
        let mut devices = Vec::new();
        for row in rows {
            let (device_id, center_id, center_code, desk_number, name, enrolled_at, last_seen_at) = row?;
            devices.push(DeviceInfo {
                device_id: parse_uuid(&device_id, "device id")?,
                center_id: parse_uuid(&center_id, "center id")?,
                center_code,
                desk_number,
                name,
                enrolled_at,
                last_seen_at,
            });
        }
        Ok(devices)
    }

    fn epoch(&self) -> u64 {
        self.epoch
    }

    fn health(&self) -> Result<(), AppError> {
        self.conn().query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    fn log_length(&self) -> Result<u64, AppError> {
        let n: i64 = self.conn().query_row("SELECT count(*) FROM ops", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn put_photo(&self, center_id: Uuid, device_id: Uuid, photo: &PhotoBody) -> Result<PhotoOutcome, AppError> {
        self.put_photo_sqlite(center_id, device_id, photo)
    }

    fn photos_after(&self, center_id: Uuid, after: u64, limit: usize) -> Result<PhotoPage, AppError> {
        self.photos_after_sqlite(center_id, after, limit)
    }

    fn center_ops(&self, center_id: Option<Uuid>, entities: &[&str]) -> Result<Vec<CenterOp>, AppError> {
        self.center_ops_sqlite(center_id, entities)
    }
}

/// A snapshot read in one read transaction: the watermark (every committed
/// op, with one writer), the center's and the province's ops up to it, then
/// the text of the events kept.
fn read_snapshot(
    conn: &mut Connection,
    center_id: Uuid,
    epoch: u64,
    today: chrono::NaiveDate,
) -> Result<Snapshot, AppError> {
    let tx = conn.transaction()?;
    let watermark: i64 = tx.query_row("SELECT coalesce(max(seq), 0) FROM ops", [], |r| r.get(0))?;
    let mut selector = Selector::new(today);
    {
        let mut stmt = tx.prepare("SELECT seq, entity, op FROM ops WHERE scope IN (?1, ?2) AND seq <= ?3")?;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_new_database_gets_the_pragmas_the_schema_and_an_epoch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.sqlite");
        let storage = SqliteStorage::open(&path).unwrap();
        let epoch = storage.epoch();
        assert!((1..=1 << 53).contains(&epoch));
        storage.with_connection(|c| {
            let mode: String = c.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
            let sync: i64 = c.pragma_query_value(None, "synchronous", |r| r.get(0)).unwrap();
            let fk: i64 = c.pragma_query_value(None, "foreign_keys", |r| r.get(0)).unwrap();
            let version: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
            let app: i32 = c.pragma_query_value(None, "application_id", |r| r.get(0)).unwrap();
            let migrations = i64::try_from(MIGRATIONS.len()).unwrap();
            assert_eq!((mode.as_str(), sync, fk, version, app), ("wal", 2, 1, migrations, APPLICATION_ID));
            let not_strict: i64 = c
                .query_row(
                    "SELECT count(*) FROM pragma_table_list WHERE schema = 'main' AND name NOT LIKE 'sqlite_%' AND strict = 0",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(not_strict, 0);
        });
        drop(storage);
        // Reopening keeps the epoch and migrates nothing again.
        assert_eq!(SqliteStorage::open(&path).unwrap().epoch(), epoch);
    }

    #[test]
    fn another_programs_database_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.sqlite");
        Connection::open(&path).unwrap().execute_batch("CREATE TABLE t (x)").unwrap();
        assert!(SqliteStorage::open(&path).is_err());
        let version: i64 =
            Connection::open(&path).unwrap().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, 0);
    }

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
