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
            full_name: kanoon_domain::text::clean_text(full_name),
            role,
            active: true,
        };
        if staff.full_name.is_empty() {
            return Err(StoreError::InvalidInput("نام و نام خانوادگی کارمند را وارد کنید.".into()));
        }
        self.write(|w| insert_staff(w, &staff))?;
        Ok(staff)
    }

    /// The center's staff (managers only: it lists usernames).
    pub fn staff_list(&self) -> Result<Vec<Staff>> {
        self.require(Permission::ManageStaff)?;
        crate::rows::staff::of_center(&self.conn, self.id()?.center.id)
    }

    /// Deactivates (or reactivates) a staff account: a deactivated one
    /// cannot sign in, and their records keep their name. A manager cannot
    /// deactivate themselves (the center would be left without one).
    pub fn set_staff_active(&mut self, staff_id: Uuid, active: bool) -> Result<Staff> {
        let me = self.require(Permission::ManageStaff)?.clone();
        if staff_id == me.id && !active {
            return Err(StoreError::InvalidInput(
                "نمی‌توانید حساب خودتان را غیرفعال کنید؛ مدیر دیگری این کار را انجام دهد.".into(),
            ));
        }
        let center = self.id()?.center.id;
        let (old, clocks) = rows::load_existing::<StaffRecord>(&self.conn, staff_id, "این کارمند پیدا نشد.")?;
        if old.center_id != center {
            return Err(StoreError::Forbidden("این کارمند از مرکز دیگری است.".into()));
        }
        let new = StaffRecord { active, ..old.clone() };
        self.write(|w| w.save(staff_id, &new, Some((&old, &clocks))))?;
        Ok(Staff {
            id: staff_id,
            center_id: new.center_id,
            username: new.username,
            full_name: new.full_name,
            role: new.role,
            active,
        })
    }
}
