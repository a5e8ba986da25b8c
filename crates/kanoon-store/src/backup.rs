//! Backups with SQLite's online backup API (the desk keeps working while
//! it runs) into a folder the manager chose (e.g. a USB drive), with
//! rotation; and restore.
//!
//! A backup is written only into an existing folder, under a new name of
//! its own (`kanoon-<center>-<time>.sqlite`, never over an existing file),
//! and is remembered in the desk-local `backups_written` table; rotation
//! deletes only files listed there that still carry the desk database's
//! `application_id`, so it never deletes a file this desk did not write.
//! A backup leaves out what belongs to this PC, not to the center: the sync
//! settings with the device token, the wrong-password counts and the list
//! of backups written. Restore keeps the PC's own: a desk that was enrolled
//! stays enrolled with its token, one that was not stays not enrolled.
//!
//! Restore never moves the member-number counter or the clocks backwards:
//! numbers already printed on cards are never issued again.

use std::io::Read;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, MAIN_DB, OpenFlags, OptionalExtension, params};

use kanoon_domain::entities::Permission;

use crate::desk::Desk;
use crate::error::{Result, StoreError};

const PREFIX: &str = "kanoon-";
const SUFFIX: &str = ".sqlite";

/// Meta values that only ever grow and must survive a restore (the
/// clocks, "hlc_last" and "clock_high_water", compare as text).
const MONOTONIC_META: &[&str] = &["member_counter", "receipt_counter"];

/// Meta of this PC, not of the center: never in a backup, kept by restore.
const PC_META: &[&str] = &["sync_settings"];

/// Desk-local tables of this PC: emptied in a backup, kept by restore.
const PC_TABLES: &[&str] = &["sign_in_failures", "backups_written"];

impl Desk {
    /// Writes a consistent copy of the database into the existing folder
    /// `dir` (manager only) and keeps the newest `keep` backups this desk
    /// wrote there. Returns the new file.
    pub fn backup_to(&self, dir: &Path, keep: usize) -> Result<PathBuf> {
        self.require(Permission::Backup)?;
        let center = self.id()?.center.clone();
        if !dir.is_dir() {
            return Err(StoreError::InvalidInput(format!(
                "پوشه «{}» پیدا نشد؛ پوشه پشتیبان را دوباره انتخاب کنید (اگر حافظه جانبی است، وصل بودن آن را بررسی کنید).",
                dir.display()
            )));
        }
        let dir = dir.canonicalize()?;
        let stamp = self.now().format("%Y%m%d-%H%M%S%3f");
        let file = new_file(&dir, &format!("{PREFIX}{}-{stamp}", center.code))?;
        if let Err(e) = self.write_backup(&file) {
            let _ = std::fs::remove_file(&file);
            return Err(e);
        }
        self.conn.execute(
            "INSERT INTO backups_written (path, folder, center_id, written_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (path) DO UPDATE SET written_at = excluded.written_at",
            params![
                file.to_string_lossy(),
                dir.to_string_lossy(),
                center.id.to_string(),
                self.now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            ],
        )?;
        self.rotate(&dir, &center.id.to_string(), keep.max(1), &file)?;
        Ok(file)
    }

    /// Copies the database into the empty file `file`, without this PC's
    /// own data (sync token and the rest), and checks it.
    fn write_backup(&self, file: &Path) -> Result<()> {
        self.conn.backup(MAIN_DB, file, None::<fn(rusqlite::backup::Progress)>)?;
        let copy = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        // One self-contained file: no -wal/-shm beside it on the drive, and
        // the rows taken out below are overwritten, not left in free pages
        // or in a journal on the drive.
        copy.pragma_update(None, "journal_mode", "MEMORY")?;
        copy.pragma_update(None, "secure_delete", "ON")?;
        for key in PC_META {
            copy.execute("DELETE FROM meta WHERE key = ?1", [key])?;
        }
        for table in PC_TABLES {
            copy.execute(&format!("DELETE FROM {table}"), [])?;
        }
        let ok: String = copy.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        drop(copy);
        if ok != "ok" {
            return Err(StoreError::Corrupt(format!("نسخه پشتیبان {} سالم نیست: {ok}", file.display())));
        }
        Ok(())
    }

    /// Deletes the oldest backups of this center that this desk wrote into
    /// `dir` beyond `keep`, never the one just written (whatever the clock
    /// said), and never a file that is no longer a desk database.
    fn rotate(&self, dir: &Path, center_id: &str, keep: usize, just_written: &Path) -> Result<()> {
        let listed: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare("SELECT path FROM backups_written WHERE folder = ?1 AND center_id = ?2 ORDER BY rowid")?;
            stmt.query_map(params![dir.to_string_lossy(), center_id], |r| r.get(0))?.collect::<Result<_, _>>()?
        };
        let mut older: Vec<String> = Vec::new();
        for path in listed {
            if Path::new(&path) == just_written {
                continue;
            }
            if Path::new(&path).is_file() {
                older.push(path);
            } else {
                // Gone (deleted by hand, drive swapped): forget it.
                self.conn.execute("DELETE FROM backups_written WHERE path = ?1", [&path])?;
            }
        }
        let excess = older.len().saturating_sub(keep.saturating_sub(1));
        for old in older.into_iter().take(excess) {
            if is_desk_database(Path::new(&old)) {
                std::fs::remove_file(&old)?;
            }
            self.conn.execute("DELETE FROM backups_written WHERE path = ?1", [&old])?;
        }
        Ok(())
    }

    /// Replaces this database's content with a backup of the same center.
    /// The current content is first saved beside the database, and the
    /// member-number counter and clocks keep their highest values.
    pub fn restore_from(&mut self, backup: &Path) -> Result<PathBuf> {
        self.waiting.set(None);
        self.require(Permission::Restore)?;
        let center_id = self.id()?.center.id.to_string();
        let not_a_backup = || StoreError::NotADatabase { path: backup.to_path_buf() };
        let source = crate::db::open_file_readonly(backup)?;
        // Anything SQLite cannot read in the file means it is not a usable backup.
        let ok: String = source.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(|_| not_a_backup())?;
        if ok != "ok" {
            return Err(not_a_backup());
        }
        let their_center: Option<String> = source
            .query_row("SELECT value FROM meta WHERE key = 'center_id'", [], |r| r.get(0))
            .optional()
            .map_err(|_| not_a_backup())?;
        if their_center.as_deref() != Some(center_id.as_str()) {
            return Err(StoreError::Conflict(
                "این نسخه پشتیبان مال مرکز دیگری است؛ پشتیبان همین مرکز را انتخاب کنید.".into(),
            ));
        }
        drop(source);

        let counter = |key: &str| -> Result<Option<String>> {
            Ok(self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
        };
        let pc_data = PcData::read(&self.conn)?;
        let keep: Vec<(String, Option<String>)> = vec![
            ("member_counter".into(), counter("member_counter")?),
            // A receipt number printed is never issued again either.
            ("receipt_counter".into(), counter("receipt_counter")?),
            ("hlc_last".into(), Some(self.hlc_last().to_sortable())),
            (
                "clock_high_water".into(),
                self.clock_high_water().map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            ),
        ];

        // Keep what is being replaced.
        let safety_dir = self.path().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_else(std::env::temp_dir);
        let safety = safety_dir.join(format!("before-restore-{}{SUFFIX}", self.now().format("%Y%m%d-%H%M%S%3f")));
        self.conn.backup(MAIN_DB, &safety, None::<fn(rusqlite::backup::Progress)>)?;

        self.conn.restore(MAIN_DB, backup, None::<fn(rusqlite::backup::Progress)>)?;
        crate::db::migrate(&self.conn)?;
        let tx = self.conn.transaction()?;
        for (key, value) in keep {
            let Some(value) = value else { continue };
            let current: Option<String> =
                tx.query_row("SELECT value FROM meta WHERE key = ?1", [&key], |r| r.get(0)).optional()?;
            let larger = match current {
                Some(c) if MONOTONIC_META.contains(&key.as_str()) => {
                    if c.parse::<u64>().unwrap_or(0) >= value.parse::<u64>().unwrap_or(0) { c } else { value }
                }
                // Sortable clock strings and RFC 3339 UTC times order as text.
                Some(c) => c.max(value),
                None => value,
            };
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, larger],
            )?;
        }
        pc_data.write(&tx)?;
        tx.commit()?;
        self.reload()?;
        Ok(safety)
    }
}

/// What belongs to this PC rather than to the center (see `PC_META`,
/// `PC_TABLES`), read before a restore and put back after it.
struct PcData {
    meta: Vec<(String, String)>,
    failures: Vec<(String, i64, Option<String>)>,
    backups: Vec<[String; 4]>,
}

impl PcData {
    fn read(conn: &Connection) -> Result<Self> {
        let mut meta = Vec::new();
        for key in PC_META {
            let value: Option<String> =
                conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?;
            meta.extend(value.map(|v| ((*key).to_owned(), v)));
        }
        let failures = conn
            .prepare("SELECT username, failures, locked_until FROM sign_in_failures")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let backups = conn
            .prepare("SELECT path, folder, center_id, written_at FROM backups_written ORDER BY rowid")?
            .query_map([], |r| Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?]))?
            .collect::<Result<_, _>>()?;
        Ok(Self { meta, failures, backups })
    }

    fn write(&self, conn: &Connection) -> Result<()> {
        for key in PC_META {
            conn.execute("DELETE FROM meta WHERE key = ?1", [key])?;
        }
        for (key, value) in &self.meta {
            conn.execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", params![key, value])?;
        }
        for table in PC_TABLES {
            conn.execute(&format!("DELETE FROM {table}"), [])?;
        }
        for (username, failures, until) in &self.failures {
            conn.execute(
                "INSERT INTO sign_in_failures (username, failures, locked_until) VALUES (?1, ?2, ?3)",
                params![username, failures, until],
            )?;
        }
        for [path, folder, center, at] in &self.backups {
            conn.execute(
                "INSERT INTO backups_written (path, folder, center_id, written_at) VALUES (?1, ?2, ?3, ?4)",
                params![path, folder, center, at],
            )?;
        }
        Ok(())
    }
}

/// Creates `<stem>.sqlite` in `dir`, or `<stem>-2.sqlite` and so on when a
/// file of that name exists: an existing file is never written over.
fn new_file(dir: &Path, stem: &str) -> Result<PathBuf> {
    for n in 1..1000 {
        let name = if n == 1 { format!("{stem}{SUFFIX}") } else { format!("{stem}-{n}{SUFFIX}") };
        let path = dir.join(name);
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Conflict(format!(
        "در پوشه «{}» نام تازه‌ای برای پشتیبان پیدا نشد؛ پوشه دیگری انتخاب کنید.",
        dir.display()
    )))
}

/// The file starts like a SQLite database with the desk's application id.
fn is_desk_database(path: &Path) -> bool {
    let mut header = [0u8; 72];
    let read = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut header));
    read.is_ok()
        && &header[..16] == b"SQLite format 3\0"
        && i32::from_be_bytes([header[68], header[69], header[70], header[71]]) == crate::db::APPLICATION_ID
}
