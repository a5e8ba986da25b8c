//! Staff accounts of the center (their password hashes are desk-local:
//! `local`).

use kanoon_domain::entities::{Permission, Role, Staff};
use uuid::Uuid;

use crate::desk::{Desk, Write};
use crate::error::{Result, StoreError};
use crate::rows::{self, staff::StaffRecord};

/// Records a new staff member in a use case's transaction.
pub(crate) fn insert_staff(w: &mut Write<'_>, s: &Staff) -> Result<()> {
    if s.username.is_empty() {
        return Err(StoreError::InvalidInput("نام کاربری را وارد کنید.".into()));
    }
    if rows::staff::username_taken(&w.tx, &s.username)? {
        return Err(StoreError::Conflict(format!(
            "نام کاربری «{}» پیش‌تر ثبت شده است؛ نام دیگری برگزینید.",
            s.username
        )));
    }
    w.save(s.id, &StaffRecord::of(s), None)?;
    Ok(())
}

impl Desk {
    /// Adds a staff account of this center.
    pub fn add_staff(&mut self, username: &str, full_name: &str, role: Role) -> Result<Staff> {
        self.require(Permission::ManageStaff)?;
        let staff = Staff {
            id: Uuid::now_v7(),
            center_id: self.id()?.center.id,
            username: username.trim().to_owned(),
            full_name: full_name.trim().to_owned(),
            role,
            active: true,
        };
        if staff.full_name.is_empty() {
            return Err(StoreError::InvalidInput("نام و نام خانوادگی کارمند را وارد کنید.".into()));
        }
        self.write(|w| insert_staff(w, &staff))?;
        Ok(staff)
    }
}
