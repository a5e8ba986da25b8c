//! Opening the center's database: the pragmas every connection gets and
//! the embedded, forward-only migrations.
//!
//! Migrations are hand-applied (a loop over `user_version`) because the
//! well-known migration crate pins an older rusqlite than the one whose
//! bundled SQLite we need; the loop is small and tested from every version.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Result, StoreError};

/// The migrations, in order; `user_version` = how many are applied.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_center.sql", include_str!("../../../migrations/local/0001_center.sql")),
    ("0002_sync.sql", include_str!("../../../migrations/local/0002_sync.sql")),
    ("0003_desk_local.sql", include_str!("../../../migrations/local/0003_desk_local.sql")),
    ("0004_outbox_unpushed.sql", include_str!("../../../migrations/local/0004_outbox_unpushed.sql")),
    ("0005_exception_resolution.sql", include_str!("../../../migrations/local/0005_exception_resolution.sql")),
    ("0006_photo_sync.sql", include_str!("../../../migrations/local/0006_photo_sync.sql")),
    ("0007_auth_local.sql", include_str!("../../../migrations/local/0007_auth_local.sql")),
    ("0008_title_ops.sql", include_str!("../../../migrations/local/0008_title_ops.sql")),
    ("0009_activities.sql", include_str!("../../../migrations/local/0009_activities.sql")),
    ("0010_cashbook.sql", include_str!("../../../migrations/local/0010_cashbook.sql")),
    ("0011_referrals.sql", include_str!("../../../migrations/local/0011_referrals.sql")),
    ("0012_workshops.sql", include_str!("../../../migrations/local/0012_workshops.sql")),
    ("0013_province_settings.sql", include_str!("../../../migrations/local/0013_province_settings.sql")),
    ("0014_title_search_prefixes.sql", include_str!("../../../migrations/local/0014_title_search_prefixes.sql")),
    ("0015_outreach.sql", include_str!("../../../migrations/local/0015_outreach.sql")),
    ("0016_member_village.sql", include_str!("../../../migrations/local/0016_member_village.sql")),
    ("0017_wishes.sql", include_str!("../../../migrations/local/0017_wishes.sql")),
    ("0018_visit_counts.sql", include_str!("../../../migrations/local/0018_visit_counts.sql")),
];

const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// `PRAGMA application_id` of a Kanoon Desk center database ("KNDK"), so a
/// SQLite file of another program is never migrated into ours.
pub const APPLICATION_ID: i32 = 0x4B4E_444B;

/// Opens (creating if missing) the database at `path`. A file that is not a
/// SQLite database is refused without being written to.
pub fn open_file(path: &Path) -> Result<Connection> {
    if path.exists() && !looks_like_sqlite(path)? {
        return Err(StoreError::NotADatabase { path: path.to_path_buf() });
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    prepare(conn).map_err(|e| match e {
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) if f.code == rusqlite::ErrorCode::NotADatabase => {
            StoreError::NotADatabase { path: path.to_path_buf() }
        }
        other => other,
    })
}

/// Opens an existing database read-only (backups), refusing non-databases
/// (an empty file included).
pub fn open_file_readonly(path: &Path) -> Result<Connection> {
    if !path.is_file() || std::fs::metadata(path)?.len() < 100 || !looks_like_sqlite(path)? {
        return Err(StoreError::NotADatabase { path: path.to_path_buf() });
    }
    Ok(Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?)
}

pub fn open_in_memory() -> Result<Connection> {
    prepare(Connection::open_in_memory()?)
}

/// True for an empty file (a new database) or one with the SQLite header.
fn looks_like_sqlite(path: &Path) -> Result<bool> {
    let mut header = [0u8; 16];
    let mut f = std::fs::File::open(path)?;
    let mut read = 0;
    while read < header.len() {
        match f.read(&mut header[read..])? {
            0 => break,
            n => read += n,
        }
    }
    Ok(read == 0 || (read == 16 && &header == SQLITE_HEADER))
}

fn prepare(conn: Connection) -> Result<Connection> {
    claim(&conn)?;
    configure(&conn)?;
    migrate(&conn)?;
    Ok(conn)
}

/// Refuses a SQLite database that belongs to another program; marks a new
/// one as ours. Runs before anything is written.
fn claim(conn: &Connection) -> Result<()> {
    let app: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
    let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
    match (app, tables) {
        (APPLICATION_ID, _) => Ok(()),
        // A new, empty file: the first migration marks it as ours.
        (0, 0) => Ok(()),
        _ => Err(StoreError::Sqlite(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_NOTADB),
            Some("not a Kanoon Desk database".into()),
        ))),
    }
}

/// The pragmas every connection of the desk gets: WAL so readers never
/// block the loan desk, FULL sync so a recorded loan survives a power cut,
/// foreign keys enforced.
pub fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "wal_autocheckpoint", WAL_SAFETY_PAGES)?;
    Ok(())
}

/// Pragmas as read back from a connection (asserted by tests).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Pragmas {
    pub journal_mode: String,
    /// 2 = FULL
    pub synchronous: i64,
    pub foreign_keys: bool,
    pub user_version: i64,
}

pub fn read_pragmas(conn: &Connection) -> Result<Pragmas> {
    Ok(Pragmas {
        journal_mode: conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?,
        synchronous: conn.pragma_query_value(None, "synchronous", |r| r.get(0))?,
        foreign_keys: conn.pragma_query_value(None, "foreign_keys", |r| r.get::<_, i64>(0))? == 1,
        user_version: conn.pragma_query_value(None, "user_version", |r| r.get(0))?,
    })
}

/// Applies the migrations not yet applied, each in its own transaction.
pub fn migrate(conn: &Connection) -> Result<()> {
    migrate_to(conn, MIGRATIONS.len())
}

/// Applies migrations up to `target` (tests build databases at every
/// earlier version with this).
pub fn migrate_to(conn: &Connection, target: usize) -> Result<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let current = usize::try_from(current).unwrap_or(0);
    if current > MIGRATIONS.len() {
        return Err(StoreError::Conflict(format!(
            "این پایگاه داده با نسخه جدیدتری از برنامه ساخته شده است (نسخه {current})؛ برنامه را به‌روز کنید."
        )));
    }
    if current == 0 && target > 0 {
        conn.pragma_update(None, "application_id", APPLICATION_ID)?;
    }
    for (i, (_, sql)) in MIGRATIONS.iter().enumerate().take(target).skip(current) {
        conn.execute_batch(&format!("BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {};\nCOMMIT;", i + 1))
            .inspect_err(|_| {
                let _ = conn.execute_batch("ROLLBACK");
            })?;
    }
    Ok(())
}

/// Checkpoints the WAL from a thread of its own, so the loan desk's commits
/// never pay for copying the WAL into the database file. The desk's own
/// connection only checkpoints when the WAL passes `WAL_SAFETY_PAGES` (if
/// this thread could not keep up).
pub struct Checkpointer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Pages (4 KiB) the WAL may grow to before a commit checkpoints inline.
pub const WAL_SAFETY_PAGES: i64 = 10_000;
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

impl Checkpointer {
    pub fn start(path: &Path) -> Result<Self> {
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        configure(&conn)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new().name("wal-checkpoint".into()).spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                std::thread::park_timeout(CHECKPOINT_EVERY);
                // PASSIVE never blocks the desk; a failure is retried next round.
                let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            }
        })?;
        Ok(Self { stop, thread: Some(thread) })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}
