//! Where this desk syncs, its device token and its place in the server's
//! log: facts of this PC, kept in `meta`, never synced.

use kanoon_protocol::wire::Cursor;
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use crate::desk::Desk;
use crate::error::{Result, StoreError};
use crate::sql::set_meta;

/// Where this desk syncs and its device token (from enrolment).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncSettings {
    pub server: String,
    pub token: String,
}

impl Desk {
    pub fn sync_settings(&self) -> Result<Option<SyncSettings>> {
        let raw: Option<String> =
            self.conn.query_row("SELECT value FROM meta WHERE key = 'sync_settings'", [], |r| r.get(0)).optional()?;
        Ok(raw.map(|s| serde_json::from_str(&s)).transpose()?)
    }

    /// Saved after enrolment (a fact of this desk, not synced).
    pub fn set_sync_settings(&mut self, settings: &SyncSettings) -> Result<()> {
        self.check_enrolment_server(&settings.server)?;
        set_meta(&self.conn, "sync_settings", &serde_json::to_string(settings)?)?;
        Ok(())
    }

    /// Where this desk is in the server's log.
    pub fn sync_cursor(&self) -> Result<Option<Cursor>> {
        let raw: Option<String> =
            self.conn.query_row("SELECT value FROM meta WHERE key = 'sync_cursor'", [], |r| r.get(0)).optional()?;
        raw.map(|c| c.parse().map_err(|_| StoreError::Corrupt(format!("مکان همگام‌سازی «{c}»")))).transpose()
    }
}
