//! The PostgreSQL backend: the same `Storage` as `SqliteStorage`, for a
//! province whose server runs next to a PostgreSQL cluster. A small pool of
//! synchronous connections (`postgres` + `r2d2`): the trait is blocking and
//! the HTTP layer already calls it on tokio's blocking pool.
//!
//! Watermark: a pull may serve an op only once no op with a lower `seq` can
//! still commit. A PostgreSQL sequence hands out numbers when rows are
//! inserted, not when they commit, so two concurrent pushes could commit
//! `seq` 8 before `seq` 7; a desk pulling in between would move its cursor
//! past 7 and never see it. Pushes run and commit concurrently (their
//! fsyncs overlap), and each says it is in flight: before it takes any
//! `seq` it takes a *shared* transaction-level advisory lock keyed by the
//! next number the sequence will hand out (`IN_FLIGHT_SQL`), a lower bound
//! of every `seq` it takes, released when it commits or rolls back. A pull
//! (and a snapshot) reads the sequence's last value `L`, then the in-flight
//! keys in `pg_locks`, then the log: it serves only `seq`s at or below
//! `min(L, lowest key − 1)` (`watermark`). A push that took a `seq` at or
//! below `L` registered before taking it, so before the keys were read: it
//! is either still listed (and caps the watermark below its numbers) or has
//! committed and is visible to the page's read, which starts after. A push
//! that registers later takes numbers above `L`. Ops that travel with a copy
//! (a copy's record, a transfer) also take an exclusive lock per copy
//! (`COPY_LOCK_CLASS`) until commit, so that the pushes of one copy and its
//! holders stay one at a time, as they were under the old single lock.
//!
//! Calls block on the connection (the `postgres` crate runs a small tokio
//! runtime of its own per connection): make them from a blocking context —
//! `spawn_blocking`, a plain thread — never from inside an async task.
//! Dropping the storage is safe anywhere: its connections are closed on a
//! thread of their own.
//!
//! Here: the pool, the advisory locks and the migrations; `enrolment`
//! (centers, enrolment codes, devices and tokens), `ops` (push and pull),
//! `snapshot`, `photos`, `exceptions` (the ops the admin's report folds).

mod enrolment;
mod exceptions;
mod ops;
mod photos;
mod snapshot;
mod tls;

use std::time::Duration;

use postgres::{NoTls, Transaction};
use r2d2_postgres::PostgresConnectionManager;
use r2d2_postgres::r2d2::{Pool, PooledConnection};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::rules::check_schema_version;
use crate::error::AppError;

/// The migrations, in order; `kanoon_server_schema` records each applied one.
pub const POSTGRES_MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init.sql", include_str!("../../../../../migrations/server/postgres/0001_init.sql")),
    ("0002_photos.sql", include_str!("../../../../../migrations/server/postgres/0002_photos.sql")),
    ("0003_enrolment.sql", include_str!("../../../../../migrations/server/postgres/0003_enrolment.sql")),
    ("0004_copy_shares.sql", include_str!("../../../../../migrations/server/postgres/0004_copy_shares.sql")),
    ("0005_snapshot_groups.sql", include_str!("../../../../../migrations/server/postgres/0005_snapshot_groups.sql")),
    (
        "0006_snapshot_ungrouped.sql",
        include_str!("../../../../../migrations/server/postgres/0006_snapshot_ungrouped.sql"),
    ),
    ("0007_province.sql", include_str!("../../../../../migrations/server/postgres/0007_province.sql")),
];

/// The table that records the applied migrations. A database without it
/// but with other tables is another program's: refused, never migrated.
pub const SCHEMA_TABLE: &str = "kanoon_server_schema";

/// The class (first key of the two-key form) of the per-copy advisory locks
/// a push takes for the ops that travel with a copy: "KNSC". The in-flight
/// markers use the one-key form, whose keys are `seq`s.
const COPY_LOCK_CLASS: i32 = 0x4B4E_5343;
/// In-flight keys at or above this are not `seq`s but one of the constants
/// below (all of the one-key form): the watermark ignores them.
const LOCK_CONSTANTS: i64 = 0x4B4E_5356_0000_0000;
/// Advisory lock held while migrating, so two processes opening a new
/// database do not both migrate it.
const MIGRATION_LOCK: i64 = 0x4B4E_5356_0000_0002;
/// Advisory lock held by every enrolment, so that checking a code and a desk
/// number and then taking them is one step, as with SQLite's single writer.
const ENROL_LOCK: i64 = 0x4B4E_5356_0000_0003;
/// Held by a photo upload until it commits: photo `seq`s commit in order,
/// so a photo page never passes one that commits later. Its own id: an
/// upload must not queue behind (or block) a migration or a push.
const PHOTO_LOG_LOCK: i64 = 0x4B4E_5356_0000_0004;

/// Every advisory lock id this server takes: each distinct (a test checks).
#[cfg(test)]
const ADVISORY_LOCKS: [i64; 3] = [MIGRATION_LOCK, ENROL_LOCK, PHOTO_LOG_LOCK];

/// Connections kept open for pushes, pulls and enrolment; a snapshot
/// takes two more (`pool_size`).
const POOL_BASE: u32 = 8;

/// Snapshots served at once on PostgreSQL at most (two connections each:
/// PostgreSQL's own default limit is 100 connections in all).
pub const POSTGRES_MAX_SNAPSHOTS: usize = 40;

/// The pool's size for `max_snapshots` served at once.
fn pool_size(max_snapshots: usize) -> u32 {
    POOL_BASE + 2 * u32::try_from(max_snapshots.min(POSTGRES_MAX_SNAPSHOTS)).unwrap_or(0)
}
/// How long a call waits for a free connection (and `open` for the first).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The pool, of plain connections or of TLS ones as the URL asks (`tls`).
enum Connections {
    Plain(Pool<PostgresConnectionManager<NoTls>>),
    Tls(Pool<PostgresConnectionManager<MakeRustlsConnect>>),
}

/// A connection of the pool, back to it when dropped.
pub(crate) enum Connection {
    Plain(PooledConnection<PostgresConnectionManager<NoTls>>),
    Tls(PooledConnection<PostgresConnectionManager<MakeRustlsConnect>>),
}

impl std::ops::Deref for Connection {
    type Target = postgres::Client;

    fn deref(&self) -> &postgres::Client {
        match self {
            Connection::Plain(c) => c,
            Connection::Tls(c) => c,
        }
    }
}

impl std::ops::DerefMut for Connection {
    fn deref_mut(&mut self) -> &mut postgres::Client {
        match self {
            Connection::Plain(c) => c,
            Connection::Tls(c) => c,
        }
    }
}

pub struct PostgresStorage {
    /// Always `Some` until dropped (`Drop` takes it to close the connections
    /// off any async context).
    pool: Option<Connections>,
    epoch: u64,
    /// The key enrolment codes are hashed under (`secrets::hash_code`).
    pub(crate) code_key: String,
    /// Most bytes of photos one center keeps (`set_photo_quota`).
    pub(crate) photo_quota: std::sync::atomic::AtomicU64,
}

impl PostgresStorage {
    /// Connects to the database at `url` (`postgres://user@host:port/db`,
    /// over TLS when its `sslmode` asks: see `tls`), creating the schema or
    /// migrating it if needed.
    pub fn open(url: &str) -> Result<Self, AppError> {
        Self::open_serving(url, crate::http::MAX_SNAPSHOTS)
    }

    /// `open`, with connections for `max_snapshots` snapshots served at
    /// once (at most `POSTGRES_MAX_SNAPSHOTS`).
    pub fn open_serving(url: &str, max_snapshots: usize) -> Result<Self, AppError> {
        let (config, connector) = tls::config_and_connector(url)?;
        fn pool<M: r2d2_postgres::r2d2::ManageConnection>(manager: M, size: u32) -> Result<Pool<M>, AppError> {
            Pool::builder()
                .max_size(size)
                .min_idle(Some(1))
                .connection_timeout(CONNECT_TIMEOUT)
                .build(manager)
                .map_err(|e| AppError::internal(format!("cannot connect to PostgreSQL: {e}")))
        }
        let size = pool_size(max_snapshots);
        let built = match &connector {
            tls::Connector::Plain => {
                pool(PostgresConnectionManager::new(config.clone(), NoTls), size).map(Connections::Plain)
            }
            tls::Connector::Rustls { connect, .. } => {
                pool(PostgresConnectionManager::new(config.clone(), connect.clone()), size).map(Connections::Tls)
            }
        };
        // The pool says only that it timed out: one connection tried
        // directly says why (a refused certificate, a wrong password, …).
        let pool = built.map_err(|e| why_not_connected(&config, &connector).unwrap_or(e))?;
        let photo_quota = std::sync::atomic::AtomicU64::new(super::rules::CENTER_PHOTO_QUOTA);
        let mut storage = Self { pool: Some(pool), epoch: 0, code_key: String::new(), photo_quota };
        let mut client = storage.client()?;
        migrate(&mut client)?;
        let row = client.query_one("SELECT value FROM meta WHERE key = 'epoch'", &[])?;
        let epoch: String = row.try_get(0)?;
        // Made once, by the first open after the migration that needs it.
        client.execute(
            "INSERT INTO meta (key, value) VALUES ('code_key', $1) ON CONFLICT (key) DO NOTHING",
            &[&crate::storage::secrets::new_code_key()],
        )?;
        storage.code_key = client.query_one("SELECT value FROM meta WHERE key = 'code_key'", &[])?.try_get(0)?;
        drop(client);
        storage.epoch =
            epoch.parse().map_err(|_| AppError::internal(format!("meta epoch «{epoch}» is not a number")))?;
        Ok(storage)
    }

    /// Sets the most bytes of photos one center keeps (default `CENTER_PHOTO_QUOTA`).
    pub fn set_photo_quota(&self, bytes: u64) {
        self.photo_quota.store(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn client(&self) -> Result<Connection, AppError> {
        let no_connection =
            |e: r2d2_postgres::r2d2::Error| AppError::internal(format!("no PostgreSQL connection: {e}"));
        match self.pool.as_ref().ok_or_else(|| AppError::internal("the storage is closed"))? {
            Connections::Plain(pool) => pool.get().map(Connection::Plain).map_err(no_connection),
            Connections::Tls(pool) => pool.get().map(Connection::Tls).map_err(no_connection),
        }
    }

    /// Runs `f` on a connection of the pool (tests read tables with it).
    /// Blocking, like every call.
    pub fn with_client<T>(&self, f: impl FnOnce(&mut postgres::Client) -> T) -> Result<T, AppError> {
        let mut client = self.client()?;
        Ok(f(&mut client))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn advisory_lock_ids_are_distinct() {
        let ids: std::collections::BTreeSet<i64> = super::ADVISORY_LOCKS.into_iter().collect();
        assert_eq!(ids.len(), super::ADVISORY_LOCKS.len());
        // None of them is read as an in-flight push's `seq`.
        assert!(ids.iter().all(|&id| id >= super::LOCK_CONSTANTS));
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

/// Why a connection to `config` fails, its causes spelled out, or `None`
/// when it does not fail now.
fn why_not_connected(config: &postgres::Config, connector: &tls::Connector) -> Option<AppError> {
    let error = match connector {
        tls::Connector::Plain => config.connect(NoTls).err()?,
        tls::Connector::Rustls { connect, .. } => config.connect(connect.clone()).err()?,
    };
    let mut message = format!("cannot connect to PostgreSQL: {error}");
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    Some(AppError::internal(message))
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
    check_schema_version(current, POSTGRES_MIGRATIONS.len())?;
    for (i, (name, sql)) in POSTGRES_MIGRATIONS.iter().enumerate().skip(current) {
        let version = i32::try_from(i + 1).map_err(|_| AppError::internal("too many migrations"))?;
        tx.batch_execute(sql).map_err(|e| AppError::internal(format!("migration {name}: {e}")))?;
        tx.execute(&format!("INSERT INTO {SCHEMA_TABLE} (version, name) VALUES ($1, $2)"), &[&version, name])?;
    }
    tx.commit()?;
    Ok(())
}

/// A stored time as the API shows it (as the SQLite backend stores it).
fn iso(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Takes `lock` until the transaction ends.
fn lock(tx: &mut Transaction<'_>, lock: i64) -> Result<(), AppError> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&lock])?;
    Ok(())
}

/// The end of the log and its watermark (see the module documentation),
/// read before the statement that reads ops under them: `last_seq` the
/// last number the sequence handed out (every `seq`, of an op or a share,
/// comes from it; a cursor past it is stale), `watermark` the highest
/// `seq` a page may serve.
#[derive(Clone, Copy, Debug)]
struct LogEnd {
    last_seq: i64,
    watermark: i64,
}

/// The sequence's last value, read first: every push with a `seq` at or
/// below it registered before the in-flight keys are read below.
const SEQUENCE_LAST_SQL: &str =
    "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('ops', 'seq')::regclass), 0)";

/// The lowest key of a push in flight in this database (`IN_FLIGHT_SQL`):
/// shared advisory locks of the one-key form (`objsubid` 1) below the
/// constants' range.
const LOWEST_IN_FLIGHT_SQL: &str = "
    SELECT min((l.classid::bigint << 32) | l.objid::bigint) FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.mode = 'ShareLock'
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND ((l.classid::bigint << 32) | l.objid::bigint) < $1";

/// Registers the push of `tx` as in flight until it commits: keyed by the
/// next number the sequence hands out, a lower bound of every `seq` the
/// push takes after this. Shared: pushes in flight never wait for each
/// other here.
const IN_FLIGHT_SQL: &str = "
    SELECT pg_advisory_xact_lock_shared(
        coalesce(pg_sequence_last_value(pg_get_serial_sequence('ops', 'seq')::regclass), 0) + 1)";

/// Reads the end of the log and the watermark, in this order: the
/// sequence, then the pushes in flight (two statements, so that the order
/// is not the planner's); the ops are read by a later statement.
fn log_end(client: &mut postgres::Client) -> Result<LogEnd, AppError> {
    let last_seq: i64 = client.query_one(SEQUENCE_LAST_SQL, &[])?.try_get(0)?;
    let lowest_in_flight: Option<i64> = client.query_one(LOWEST_IN_FLIGHT_SQL, &[&LOCK_CONSTANTS])?.try_get(0)?;
    let watermark = lowest_in_flight.map_or(last_seq, |key| last_seq.min(key - 1));
    Ok(LogEnd { last_seq, watermark })
}

/// Whether the database answers.
fn health(storage: &PostgresStorage) -> Result<(), AppError> {
    storage.client()?.simple_query("SELECT 1")?;
    Ok(())
}

storage_from_modules!(PostgresStorage);
