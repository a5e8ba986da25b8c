//! Desk-local data that never leaves this database: drafts of unsaved
//! forms (staff password hashes: `auth`). Nothing here writes to the outbox.

use rusqlite::{OptionalExtension, params};

use crate::desk::Desk;
use crate::error::{Result, StoreError};

/// How much of a draft is kept: a form, not a file.
const MAX_DRAFT_BYTES: usize = 2 * 1024 * 1024;

impl Desk {
    /// Signs out (the window goes back to the login screen).
    pub fn sign_out(&mut self) {
        self.staff = None;
    }

    /// Keeps what a form holds, replacing the previous draft of that form.
    pub fn save_draft(&self, form: &str, body: &str) -> Result<()> {
        self.signed()?;
        if body.len() > MAX_DRAFT_BYTES {
            return Err(StoreError::InvalidInput("پیش‌نویس بیش از اندازه بزرگ است.".into()));
        }
        self.conn.execute(
            "INSERT INTO drafts (form, body, saved_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (form) DO UPDATE SET body = excluded.body, saved_at = excluded.saved_at",
            params![form, body, self.now().to_rfc3339()],
        )?;
        Ok(())
    }

    pub fn draft(&self, form: &str) -> Result<Option<String>> {
        self.signed()?;
        Ok(self.conn.query_row("SELECT body FROM drafts WHERE form = ?1", [form], |r| r.get(0)).optional()?)
    }

    pub fn clear_draft(&self, form: &str) -> Result<()> {
        self.signed()?;
        self.conn.execute("DELETE FROM drafts WHERE form = ?1", [form])?;
        Ok(())
    }
}
