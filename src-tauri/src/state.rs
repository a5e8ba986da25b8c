//! What the window's commands share: the center database of this desk.
//!
//! One `Desk` (one SQLite connection) behind a mutex: the desk is one
//! person at one keyboard, and every use case is a sub-millisecond
//! transaction, so commands simply take turns. The sync loop applies pulled
//! pages in short chunks and gives way to a command waiting for the desk.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{Duration, Utc};
use kanoon_store::{Desk, ManualClock, StaffWaiting};

use crate::error::{ApiError, ApiErrorCode, ApiResult};

/// Environment variable: use this database file instead of the one in the
/// app data directory (the README's demo and the E2E tests).
pub const DB_ENV: &str = "KANOON_DESK_DB";
/// Environment variable: "1" makes the clock movable by the
/// `test_advance_clock` command (E2E tests of overdue loans only).
pub const TEST_CLOCK_ENV: &str = "KANOON_DESK_TEST_CLOCK";

/// What the system dialog is opened for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    /// A folder to write a backup into.
    BackupFolder,
    /// A backup file to restore from.
    BackupFile,
    /// A folder (a USB stick) to write this desk's ops file into.
    StickFolder,
    /// An ops file on a USB stick to read.
    StickFile,
}

/// Opens the system dialog and returns what was chosen (None: closed).
pub type Picker = Box<dyn Fn(Pick) -> Option<PathBuf> + Send + Sync>;

pub struct AppState {
    /// Shared with the background sync loop.
    desk: Arc<Mutex<Desk>>,
    /// Commands waiting for the desk: a pulled page gives way to them
    /// between its chunks.
    waiting: StaffWaiting,
    pub sync: Arc<crate::sync::SyncState>,
    db_path: PathBuf,
    /// Present only when the test clock was asked for at start.
    test_clock: Option<ManualClock>,
    /// The system dialog (set by the app; none in tests: nothing chosen).
    picker: Option<Picker>,
}

impl AppState {
    /// Opens (creating and migrating) the center database at `path`.
    pub fn open(path: &Path, test_clock: bool) -> ApiResult<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                ApiError::new(
                    ApiErrorCode::Shell,
                    format!("پوشه داده‌های برنامه ({}) ساخته نشد: {e}. دسترسی پوشه را بررسی کنید.", dir.display()),
                )
            })?;
        }
        let mut desk = Desk::open(path)?;
        let clock = test_clock.then(|| ManualClock::new(Utc::now()));
        if let Some(c) = &clock {
            desk = desk.with_clock(Arc::new(c.clone()));
        }
        // Rows saved before names were cleaned on save (once per desk).
        desk.clean_stored_text()?;
        Ok(Self {
            waiting: desk.staff_waiting(),
            desk: Arc::new(Mutex::new(desk)),
            sync: Arc::default(),
            db_path: path.to_path_buf(),
            test_clock: clock,
            picker: None,
        })
    }

    /// Uses `picker` for the folder and file dialogs.
    pub fn set_picker(&mut self, picker: Picker) {
        self.picker = Some(picker);
    }

    /// Asks the user for a folder or file with the system dialog. Called
    /// without the desk locked: the background sync goes on meanwhile.
    pub fn pick(&self, what: Pick) -> Option<PathBuf> {
        self.picker.as_ref().and_then(|p| p(what))
    }

    /// The desk, for one command. A panic in an earlier command cannot
    /// leave a half-written transaction (SQLite rolled it back), so a
    /// poisoned lock is simply taken over.
    /// Counted as waiting meanwhile, so the sync loop gives way.
    pub fn desk(&self) -> MutexGuard<'_, Desk> {
        self.waiting.lock(&self.desk).unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn shared_desk(&self) -> Arc<Mutex<Desk>> {
        Arc::clone(&self.desk)
    }

    /// Starts background sync if this desk is enrolled.
    pub fn start_sync(&self) -> ApiResult<()> {
        self.sync.start(self.shared_desk())
    }

    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    pub fn advance_test_clock(&self, days: i64) -> ApiResult<()> {
        let clock = self.test_clock.as_ref().ok_or_else(|| {
            ApiError::new(ApiErrorCode::Forbidden, "ساعت آزمایشی روشن نیست؛ این فرمان فقط در آزمون‌ها کار می‌کند.")
        })?;
        clock.advance(Duration::days(days));
        Ok(())
    }
}

/// Where the database lives: the variable above, else the app data dir.
pub fn database_path(app_data_dir: Option<PathBuf>) -> ApiResult<PathBuf> {
    if let Some(p) = std::env::var_os(DB_ENV) {
        return Ok(PathBuf::from(p));
    }
    app_data_dir
        .map(|d| d.join("kanoon-desk.sqlite"))
        .ok_or_else(|| ApiError::new(ApiErrorCode::Shell, "پوشه داده‌های برنامه پیدا نشد؛ برنامه را دوباره نصب کنید."))
}
