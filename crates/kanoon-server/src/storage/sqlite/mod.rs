//! The SQLite backend: one file, zero setup. One connection behind a mutex
//! does every read and write.
//!
//! Watermark: a pull may serve every committed op. With one writer, ops
//! are committed in `seq` order (a push is one transaction, and the next
//! push's `seq`s are allocated only after it commits), so no `seq` below a
//! committed one can still appear later. A backend with concurrent writers
//! must serve only below the lowest `seq` still in flight (PostgreSQL, whose
//! sequences hand out numbers that commit out of order: see `postgres`).
//!
//! Here: the connection, its pragmas and the migrations; `enrolment`
//! (centers, enrolment codes, devices and tokens), `ops` (push and pull),
//! `snapshot`, `photos`, `exceptions` (the ops the admin's report folds).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

mod enrolment;
mod exceptions;
mod ops;
mod photos;
mod snapshot;

use rusqlite::types::Type;
use rusqlite::{Connection, OpenFlags, Row};
use uuid::Uuid;

use super::rules::check_schema_version;
use crate::error::AppError;

/// The migrations, in order; `user_version` = how many are applied.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init.sql", include_str!("../../../../../migrations/server/sqlite/0001_init.sql")),
    ("0002_photos.sql", include_str!("../../../../../migrations/server/sqlite/0002_photos.sql")),
    ("0003_enrolment.sql", include_str!("../../../../../migrations/server/sqlite/0003_enrolment.sql")),
    ("0004_copy_shares.sql", include_str!("../../../../../migrations/server/sqlite/0004_copy_shares.sql")),
    ("0005_snapshot_groups.sql", include_str!("../../../../../migrations/server/sqlite/0005_snapshot_groups.sql")),
    ("0006_province.sql", include_str!("../../../../../migrations/server/sqlite/0006_province.sql")),
];

/// `PRAGMA application_id` of a Kanoon server database ("KNSV"): a desk's
/// database or another program's is refused, never migrated.
pub const APPLICATION_ID: i32 = 0x4B4E_5356;

pub struct SqliteStorage {
    conn: Mutex<Connection>,
    epoch: u64,
    /// The database file (none in memory): a snapshot reads it on a
    /// connection of its own, so pushes go on meanwhile (WAL).
    path: Option<PathBuf>,
    /// The key enrolment codes are hashed under (`secrets::hash_code`).
    pub(crate) code_key: String,
    /// Most bytes of photos one center keeps (`set_photo_quota`).
    pub(crate) photo_quota: std::sync::atomic::AtomicU64,
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
        // Made once, by the first open after the migration that needs it.
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('code_key', ?1) ON CONFLICT (key) DO NOTHING",
            [crate::storage::secrets::new_code_key()],
        )?;
        let code_key: String = conn.query_row("SELECT value FROM meta WHERE key = 'code_key'", [], |r| r.get(0))?;
        Ok(Self {
            code_key,
            conn: Mutex::new(conn),
            epoch,
            path,
            photo_quota: std::sync::atomic::AtomicU64::new(crate::storage::rules::CENTER_PHOTO_QUOTA),
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

    /// Sets the most bytes of photos one center keeps (default `CENTER_PHOTO_QUOTA`).
    pub fn set_photo_quota(&self, bytes: u64) {
        self.photo_quota.store(bytes, std::sync::atomic::Ordering::Relaxed);
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
    check_schema_version(current, MIGRATIONS.len())?;
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

/// A UUID as SQLite stores it (text).
fn parse_uuid(s: &str, what: &str) -> Result<Uuid, AppError> {
    s.parse().map_err(|_| AppError::internal(format!("{what} «{s}» is not a UUID")))
}

/// The UUID in column `i` of a row (SQLite stores them as text).
fn uuid_at(row: &Row<'_>, i: usize) -> rusqlite::Result<Uuid> {
    let text: String = row.get(i)?;
    text.parse().map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, Type::Text, Box::new(e)))
}

/// Now as stored: ISO 8601 UTC with milliseconds.
fn now_iso() -> String {
    iso(chrono::Utc::now())
}

/// A time as stored (and as the PostgreSQL backend shows its own).
fn iso(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Whether the database answers.
fn health(storage: &SqliteStorage) -> Result<(), AppError> {
    storage.conn().query_row("SELECT 1", [], |_| Ok(()))?;
    Ok(())
}

storage_from_modules!(SqliteStorage);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::storage::Storage;

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
}
