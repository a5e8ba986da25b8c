//! First run: the center, this desk and the first manager, in one
//! transaction with the shipped reference data.

use kanoon_domain::entities::{Center, Role, Staff};
use rusqlite::params;
use uuid::Uuid;

use crate::desk::Desk;
use crate::error::{Result, StoreError};
use crate::identity::{DeskIdentity, SetupRequest};
use crate::rows::center::CenterRecord;

impl Desk {
    /// First run: records the center, this desk and the first manager with
    /// their password (hashed), and fills the shipped reference data (age
    /// groups, policy, exemptions), all in one transaction; the manager is
    /// signed in.
    pub fn setup(&mut self, req: SetupRequest, manager_password: &str) -> Result<Staff> {
        self.setup_with_password_hash(req, crate::auth::hash_password(manager_password)?)
    }

    /// `setup` with the manager's password already hashed (an argon2id PHC
    /// string from `auth::hash_password`): for provisioning many desks with
    /// one initial password, hashed once.
    pub fn setup_with_password_hash(&mut self, req: SetupRequest, password_hash: String) -> Result<Staff> {
        if self.identity.is_some() {
            return Err(StoreError::Conflict("این میز پیش‌تر راه‌اندازی شده است.".into()));
        }
        crate::auth::check_hash(&password_hash)?;
        let code = kanoon_domain::entities::normalize_center_code(&req.center_code);
        if !kanoon_domain::entities::is_valid_center_code(&code) {
            return Err(StoreError::InvalidInput(format!(
                "کد مرکز «{}» معتبر نیست؛ کد رسمی مرکز فقط رقم است (حداکثر ۸ رقم).",
                req.center_code
            )));
        }
        if req.desk_number == 0 || req.desk_number > 99 {
            return Err(StoreError::InvalidInput("شماره میز باید بین ۱ تا ۹۹ باشد.".into()));
        }
        if req.center_name.trim().is_empty() || req.manager_full_name.trim().is_empty() {
            return Err(StoreError::InvalidInput("نام مرکز و نام مدیر را وارد کنید.".into()));
        }
        let center = Center {
            id: Center::id_for_code(&code),
            code: code.clone(),
            name: req.center_name.trim().to_owned(),
            kind: req.center_kind,
            address: String::new(),
            phone: String::new(),
        };
        let identity = DeskIdentity { device_id: Uuid::now_v7(), center: center.clone(), desk_number: req.desk_number };
        let manager = Staff {
            id: Uuid::now_v7(),
            center_id: center.id,
            username: req.manager_username.trim().to_owned(),
            full_name: req.manager_full_name.trim().to_owned(),
            role: Role::CenterManager,
            active: true,
        };
        self.identity = Some(identity.clone());
        let result = self.write_as(Some(manager.id), |w| {
            for (k, v) in [
                ("device_id", identity.device_id.to_string()),
                ("center_id", center.id.to_string()),
                ("desk_number", identity.desk_number.to_string()),
                ("member_counter", "0".to_owned()),
            ] {
                w.tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", params![k, v])?;
            }
            w.save(center.id, &CenterRecord::of(&center), None)?;
            crate::staff::insert_staff(w, &manager)?;
            crate::auth::store_hash(&w.tx, manager.id, &password_hash, w.now)?;
            crate::settings::install_reference_data(w)?;
            Ok(())
        });
        if let Err(e) = result {
            self.identity = None;
            return Err(e);
        }
        self.forget_reference();
        self.staff = Some(manager.clone());
        Ok(manager)
    }
}
