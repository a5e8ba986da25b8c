//! The desk's background sync with the provincial server, as the window
//! sees it: the loop (kanoon-sync's `run`) started at launch once the desk
//! is enrolled, its last outcome for the status bar, enrolment and "sync
//! now". The desk keeps working whatever the network does.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use kanoon_store::Desk;
use kanoon_sync::{Backoff, Client, RoundReport, SyncError};
use serde::Serialize;
use tokio::sync::watch;
use ts_rs::TS;

use crate::error::{ApiError, ApiErrorCode, ApiResult};

/// How often an enrolled desk syncs while the server answers.
const EVERY: Duration = Duration::from_secs(60);

/// What the status bar and the settings show.
#[derive(Clone, Debug, Default, Serialize, TS)]
pub struct SyncStatus {
    pub enrolled: bool,
    pub server: Option<String>,
    /// Tehran time of the last round that reached the server.
    pub last_success: Option<String>,
    /// The last round's error, in Persian, while it is the latest outcome.
    pub last_error: Option<String>,
    pub last_report: Option<RoundSummary>,
    /// Changes recorded here and not yet accepted by the server.
    pub waiting: i64,
    /// Sync problems not yet resolved.
    pub open_exceptions: usize,
    /// In Persian, while the last push showed this PC's clock ahead of the
    /// server's (circulation is refused until it is fixed and synced).
    pub clock_warning: Option<String>,
}

/// What the last successful round moved.
#[derive(Clone, Debug, Default, Serialize, TS)]
pub struct RoundSummary {
    pub pushed: usize,
    pub rejected: usize,
    pub pulled: usize,
    pub new_exceptions: usize,
}

impl From<&RoundReport> for RoundSummary {
    fn from(r: &RoundReport) -> Self {
        Self { pushed: r.pushed, rejected: r.rejected, pulled: r.pulled, new_exceptions: r.applied.exceptions }
    }
}

#[derive(Default)]
struct LastRound {
    success_at: Option<DateTime<Utc>>,
    error: Option<String>,
    report: Option<RoundSummary>,
}

#[derive(Default)]
pub struct SyncState {
    last: Mutex<LastRound>,
    stop: Mutex<Option<watch::Sender<bool>>>,
}

impl SyncState {
    fn record(&self, outcome: &Result<RoundReport, String>) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        match outcome {
            Ok(report) => {
                last.success_at = Some(Utc::now());
                last.error = None;
                last.report = Some(RoundSummary::from(report));
            }
            Err(e) => last.error = Some(e.clone()),
        }
    }

    pub fn status(&self, desk: &Desk) -> ApiResult<SyncStatus> {
        let settings = desk.sync_settings()?;
        let last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        Ok(SyncStatus {
            enrolled: settings.is_some(),
            server: settings.map(|s| s.server),
            last_success: last.success_at.map(kanoon_domain::jalali::format_tehran_datetime),
            last_error: last.error.clone(),
            last_report: last.report.clone(),
            waiting: if desk.identity().is_some() { desk.outbox_len()? } else { 0 },
            open_exceptions: desk.sync_exceptions()?.iter().filter(|e| !e.resolved).count(),
            clock_warning: desk.clock_warning(),
        })
    }

    /// Starts (or restarts) the background loop for an enrolled desk.
    pub fn start(self: &Arc<Self>, desk: Arc<Mutex<Desk>>) -> ApiResult<()> {
        let server = {
            let d = desk.lock().unwrap_or_else(|p| p.into_inner());
            match d.sync_settings()? {
                Some(s) => s.server,
                None => return Ok(()),
            }
        };
        let client = Client::from_env(&server).map_err(sync_error)?;
        let (stop_tx, stop_rx) = watch::channel(false);
        if let Some(old) = self.stop.lock().unwrap_or_else(|p| p.into_inner()).replace(stop_tx) {
            let _ = old.send(true);
        }
        let (status_tx, mut status_rx) = watch::channel(None);
        tauri::async_runtime::spawn(kanoon_sync::run(desk, client, EVERY, Backoff::default(), status_tx, stop_rx));
        let me = Arc::clone(self);
        tauri::async_runtime::spawn(async move {
            while status_rx.changed().await.is_ok() {
                let outcome = status_rx.borrow_and_update().clone();
                if let Some(outcome) = outcome {
                    me.record(&outcome);
                }
            }
        });
        Ok(())
    }

    pub fn record_now(&self, outcome: &Result<RoundReport, String>) {
        self.record(outcome);
    }
}

pub fn sync_error(e: SyncError) -> ApiError {
    let code = match &e {
        SyncError::Store(_) => {
            return match e {
                SyncError::Store(s) => ApiError::from(s),
                other => ApiError::new(ApiErrorCode::Storage, other.to_string()),
            };
        }
        SyncError::Unreachable(_) => ApiErrorCode::Unreachable,
        SyncError::Unauthorized | SyncError::WrongCenter | SyncError::Revoked | SyncError::AlreadyEnrolled => {
            ApiErrorCode::Forbidden
        }
        SyncError::NotEnrolled => ApiErrorCode::NotSetUp,
        SyncError::Refused { .. } | SyncError::Certificate(_) => ApiErrorCode::InvalidInput,
        SyncError::DeskUnavailable => ApiErrorCode::Storage,
    };
    ApiError::new(code, e.to_string())
}
