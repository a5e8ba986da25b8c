//! Desk-local data that never leaves this database: staff password hashes
//! and drafts of unsaved forms. Nothing here writes to the outbox.

use rusqlite::{OptionalExtension, params};

use crate::desk::Desk;
use crate::error::{Result, StoreError};
use kanoon_domain::entities::Staff;

/// How much of a draft is kept: a form, not a file.
const MAX_DRAFT_BYTES: usize = 2 * 1024 * 1024;

impl Desk {
    /// The staff member and the stored password hash (None: no password set
    /// yet). Hashing and verifying is the shell's job (argon2).
    pub fn staff_credentials(&self, username: &str) -> Result<Option<(Staff, Option<String>)>> {
        self.id()?;
        let Some(staff) = crate::rows::staff::by_username(&self.conn, username.trim())? else {
            return Ok(None);
        };
        let hash = self
            .conn
            .query_row("SELECT hash FROM staff_passwords WHERE staff_id = ?1", [staff.id.to_string()], |r| r.get(0))
            .optional()?;
        Ok(Some((staff, hash)))
    }

    /// Stores a password hash for `username`: a manager for anyone, or the
    /// signed-in staff member for themself (and the first manager right
    /// after setup, when no hash exists yet).
    pub fn set_password_hash(&mut self, username: &str, hash: &str) -> Result<()> {
        let (staff, _) = self
            .staff_credentials(username)?
            .ok_or_else(|| StoreError::NotFound(format!("کاربری با نام «{username}» نیست.")))?;
        let me = self.signed_in().ok_or(StoreError::NotSignedIn)?;
        let allowed = me.id == staff.id || me.role.allows(kanoon_domain::entities::Permission::ManageStaff);
        if !allowed {
            return Err(StoreError::Forbidden("فقط مدیر مرکز می‌تواند رمز دیگران را تغییر دهد.".into()));
        }
        let now = self.now().to_rfc3339();
        self.conn.execute(
            "INSERT INTO staff_passwords (staff_id, hash, set_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (staff_id) DO UPDATE SET hash = excluded.hash, set_at = excluded.set_at",
            params![staff.id.to_string(), hash, now],
        )?;
        Ok(())
    }

    /// Signs out (the window goes back to the login screen).
    pub fn sign_out(&mut self) {
        self.staff = None;
    }

    /// Keeps what a form holds, replacing the previous draft of that form.
    pub fn save_draft(&self, form: &str, body: &str) -> Result<()> {
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
        Ok(self.conn.query_row("SELECT body FROM drafts WHERE form = ?1", [form], |r| r.get(0)).optional()?)
    }

    pub fn clear_draft(&self, form: &str) -> Result<()> {
        self.conn.execute("DELETE FROM drafts WHERE form = ?1", [form])?;
        Ok(())
    }
}
