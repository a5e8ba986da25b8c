//! Backups with SQLite's online backup API (the desk keeps working while
//! it runs) to any folder, e.g. a USB drive, with rotation; and restore.
//!
//! Restore never moves the member-number counter or the clocks backwards:
//! numbers already printed on cards are never issued again.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, MAIN_DB, OpenFlags, OptionalExtension, params};

use kanoon_domain::entities::Permission;

use crate::desk::Desk;
use crate::error::{Result, StoreError};

const PREFIX: &str = "kanoon-";
const SUFFIX: &str = ".sqlite";

/// Meta values that only ever grow and must survive a restore (the
/// clocks, "hlc_last" and "clock_high_water", compare as text).
const MONOTONIC_META: &[&str] = &["member_counter"];

impl Desk {
    /// Writes a consistent copy of the database into `dir` and keeps the
    /// newest `keep` backups of this center there. Returns the new file.
    pub fn backup_to(&self, dir: &Path, keep: usize) -> Result<PathBuf> {
        let code = self.id()?.center.code.clone();
        std::fs::create_dir_all(dir)?;
        let stamp = self.now().format("%Y%m%d-%H%M%S%3f");
        let file = dir.join(format!("{PREFIX}{code}-{stamp}{SUFFIX}"));
        self.conn.backup(MAIN_DB, &file, None::<fn(rusqlite::backup::Progress)>)?;
        // A backup is one self-contained file: no -wal/-shm beside it on the drive.
        let check = Connection::open_with_flags(&file, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        check.pragma_update(None, "journal_mode", "DELETE")?;
        let ok: String = check.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        drop(check);
        if ok != "ok" {
            return Err(StoreError::Corrupt(format!("نسخه پشتیبان {} سالم نیست: {ok}", file.display())));
        }
        rotate(dir, &code, keep.max(1), &file)?;
        Ok(file)
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

        let counter: Option<String> =
            self.conn.query_row("SELECT value FROM meta WHERE key = 'member_counter'", [], |r| r.get(0)).optional()?;
        let keep: Vec<(String, Option<String>)> = vec![
            ("member_counter".into(), counter),
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
        tx.commit()?;
        self.reload()?;
        Ok(safety)
    }
}

/// Deletes this center's oldest backups in `dir` beyond `keep`, never the
/// one just written (its name may sort first when the clock is wrong).
fn rotate(dir: &Path, code: &str, keep: usize, just_written: &Path) -> Result<()> {
    let prefix = format!("{PREFIX}{code}-");
    let mut backups: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&prefix) && n.ends_with(SUFFIX))
        })
        .filter(|p| p != just_written)
        .collect();
    backups.sort();
    let excess = backups.len().saturating_sub(keep.saturating_sub(1));
    for old in backups.into_iter().take(excess) {
        for suffix in ["-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", old.display()));
        }
        std::fs::remove_file(old)?;
    }
    Ok(())
}
