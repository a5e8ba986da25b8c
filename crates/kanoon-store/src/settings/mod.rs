//! Center settings as data: circulation policy, membership fee and length,
//! fee exemptions, holidays, age groups. Shipped defaults are installed at
//! first run; every value is editable by a manager and synced as a record.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use kanoon_domain::age_group::{AgeGroup, AgeScheme, default_age_groups};
use kanoon_domain::entities::Permission;
use kanoon_domain::policy::Policy;
use kanoon_protocol::EntityKind;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::desk::{Desk, Write};
use crate::error::{Result, StoreError};
use crate::rows::parse_clocks;
use crate::rows::setting::load_setting;

pub(crate) mod province;

pub use kanoon_domain::settings::{FeeCampaign, FeeExemption, MembershipTerms, Source};
pub use province::{FeeCampaignView, SettingOrigin, SettingOrigins};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Holiday {
    pub date: NaiveDate,
    pub name: String,
}

/// A stable id for a settings record so every peer patches the same one.
fn settings_entity_id(key: &str) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("kanoon-settings/{key}").as_bytes())
}

pub(crate) fn install_reference_data(w: &mut Write<'_>) -> Result<()> {
    for g in default_age_groups() {
        insert_age_group(w, &g)?;
    }
    for (code, name) in
        [("postal", "اعضای مراکز پستی"), ("free_program", "طرح‌های عضویت رایگان"), ("staff_family", "خانواده کارکنان")]
    {
        w.tx.execute("INSERT INTO fee_exemptions (code, name) VALUES (?1, ?2)", params![code, name])?;
    }
    save_setting(w, "policy", &Policy::shipped())?;
    save_setting(w, "membership_terms", &MembershipTerms::default())?;
    Ok(())
}

fn insert_age_group(w: &mut Write<'_>, g: &AgeGroup) -> Result<()> {
    let scheme = match g.scheme {
        AgeScheme::Letters => "letters",
        AgeScheme::MinimumAge => "minimum_age",
    };
    w.tx.execute(
        "INSERT OR REPLACE INTO age_groups (code, scheme, label, min_age, sort) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![g.code, scheme, g.label, g.min_age, g.sort],
    )?;
    Ok(())
}

/// Stores a settings value and records it as a patch of the settings record.
fn save_setting<T: Serialize>(w: &mut Write<'_>, key: &str, value: &T) -> Result<()> {
    let json = serde_json::to_value(value)?;
    let old: Option<String> =
        w.tx.query_row("SELECT field_clocks FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()?;
    let old = old.as_deref().map(parse_clocks).transpose()?.unwrap_or_default();
    let (_, clocks) =
        w.patch(EntityKind::POLICY, settings_entity_id(key), BTreeMap::from([(key.to_owned(), json.clone())]), &old)?;
    w.tx.execute(
        "INSERT INTO settings (key, value, field_clocks) VALUES (?1, ?2, ?3)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, field_clocks = excluded.field_clocks",
        params![key, json.to_string(), serde_json::to_string(&clocks)?],
    )?;
    Ok(())
}

/// What the desk shows and prints about the language institute.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LanguageInstitute {
    /// The institute's site, where registration happens.
    pub site: String,
    /// How to register for the placement test, in a few lines.
    pub how_to_register: String,
    pub branch_name: String,
    pub branch_address: String,
    pub branch_phone: String,
    pub notes: String,
}

impl Default for LanguageInstitute {
    fn default() -> Self {
        LanguageInstitute {
            site: "https://www.ili.ir".into(),
            how_to_register: "ثبت‌نام، آزمون تعیین سطح و پرداخت شهریه فقط در وب‌گاه کانون زبان ایران انجام می‌شود: \
                              وارد وب‌گاه شوید، «ثبت‌نام» را بزنید و زمان آزمون تعیین سطح را انتخاب کنید."
                .into(),
            branch_name: String::new(),
            branch_address: String::new(),
            branch_phone: String::new(),
            notes: String::new(),
        }
    }
}

const INSTITUTE_KEY: &str = "language_institute";

impl Desk {
    pub fn language_institute(&self) -> Result<LanguageInstitute> {
        self.signed()?;
        load_setting(&self.conn, INSTITUTE_KEY, LanguageInstitute::default)
    }

    /// The manager edits what families are told about the institute.
    pub fn set_language_institute(&mut self, info: LanguageInstitute) -> Result<()> {
        self.require(Permission::EditPolicy)?;
        let clean = |s: &str| kanoon_domain::text::clean_text(s);
        let info = LanguageInstitute {
            site: info.site.trim().to_owned(),
            how_to_register: clean(&info.how_to_register),
            branch_name: clean(&info.branch_name),
            branch_address: clean(&info.branch_address),
            branch_phone: kanoon_domain::text::to_ascii_digits(info.branch_phone.trim()),
            notes: clean(&info.notes),
        };
        if info.site.is_empty() {
            return Err(StoreError::InvalidInput("نشانی وب‌گاه کانون زبان را بنویسید.".into()));
        }
        self.write(|w| save_setting(w, INSTITUTE_KEY, &info))
    }

    /// The membership fee and length that apply (the province's, the
    /// center's own where allowed, or the shipped ones).
    pub fn membership_terms(&self) -> Result<MembershipTerms> {
        self.signed()?;
        Ok(self.reference()?.settings.membership_terms.value.clone())
    }

    /// The center's own fee and length: refused while the province holds
    /// them; recorded as the center's override, which its other desks apply.
    pub fn set_membership_terms(&mut self, terms: MembershipTerms) -> Result<()> {
        self.require(Permission::EditPolicy)?;
        terms.check().map_err(StoreError::InvalidInput)?;
        self.save_override(kanoon_protocol::province::MEMBERSHIP_TERMS, Some(&terms))
    }

    /// Replaces the circulation policy (rules and weekly closed days; the
    /// holidays are edited with `set_holidays`).
    pub fn set_policy(&mut self, mut policy: Policy) -> Result<()> {
        self.require(Permission::EditPolicy)?;
        if policy.default_rule.loan_days == 0 || policy.default_rule.max_open_loans == 0 {
            return Err(StoreError::InvalidInput("مدت امانت و سقف امانت باید دست‌کم یک باشد.".into()));
        }
        policy.closed.holidays.clear();
        self.save_override(kanoon_protocol::province::POLICY, Some(&policy))
    }

    pub fn holidays(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<Holiday>> {
        self.signed()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT date, name FROM holidays WHERE active = 1 AND date BETWEEN ?1 AND ?2 ORDER BY date",
        )?;
        let rows = stmt.query_map(params![from.to_string(), to.to_string()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        rows.map(|r| {
            let (d, name) = r?;
            Ok(Holiday { date: crate::sql::parse_date(&d)?, name })
        })
        .collect()
    }

    /// Replaces the holidays between `from` and `to` (a year's table: lunar
    /// holidays move every year).
    /// Dates the province already closes are left to the province; while
    /// the province does not let the center add days, nothing is written.
    pub fn set_holidays(&mut self, from: NaiveDate, to: NaiveDate, holidays: Vec<Holiday>) -> Result<()> {
        self.require(Permission::EditPolicy)?;
        let reference = self.reference()?;
        if !reference.settings.center_holidays_allowed {
            return Err(province::locked_message());
        }
        let holidays: Vec<Holiday> =
            holidays.into_iter().filter(|h| !reference.settings.province_holidays.contains_key(&h.date)).collect();
        if let Some(h) = holidays.iter().find(|h| h.date < from || h.date > to) {
            return Err(StoreError::InvalidInput(format!(
                "تعطیلی {} بیرون از بازه سال انتخاب‌شده است.",
                kanoon_domain::jalali::JalaliDate::from_gregorian(h.date)
            )));
        }
        let current = self.holidays(from, to)?;
        // Each date is its own record: only the dates that change are written.
        let mut changes: Vec<(NaiveDate, Option<String>)> = Vec::new();
        for h in &holidays {
            if !current.iter().any(|c| c.date == h.date && c.name == h.name.trim()) {
                changes.push((h.date, Some(h.name.trim().to_owned())));
            }
        }
        for c in &current {
            if !holidays.iter().any(|h| h.date == c.date) && !reference.settings.province_holidays.contains_key(&c.date)
            {
                changes.push((c.date, None));
            }
        }
        self.forget_reference();
        self.write(|w| {
            for (date, name) in changes {
                let key = format!("holiday/{date}");
                let old: Option<String> = w
                    .tx
                    .query_row("SELECT field_clocks FROM holidays WHERE date = ?1", [date.to_string()], |r| r.get(0))
                    .optional()?;
                let old = old.as_deref().map(parse_clocks).transpose()?.unwrap_or_default();
                let fields = BTreeMap::from([("holiday".to_owned(), serde_json::json!(name))]);
                let (_, clocks) = w.patch(EntityKind::POLICY, settings_entity_id(&key), fields, &old)?;
                w.tx.execute(
                    "INSERT INTO holidays (date, name, active, field_clocks) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (date) DO UPDATE SET name = excluded.name, active = excluded.active,
                         field_clocks = excluded.field_clocks",
                    params![
                        date.to_string(),
                        name.clone().unwrap_or_default(),
                        name.is_some(),
                        serde_json::to_string(&clocks)?
                    ],
                )?;
            }
            Ok(())
        })
    }

    /// After the PC's clock was once set far ahead, circulation stays refused
    /// until that time comes back. A manager who has checked the clock now
    /// shows the right time accepts it; the correction is recorded as an op.
    pub fn accept_current_clock(&mut self) -> Result<()> {
        self.require(Permission::EditPolicy)?;
        let previous = self.clock_high_water();
        let now = self.now();
        self.write(|w| {
            save_setting(
                w,
                "clock_correction",
                &serde_json::json!({ "accepted_at": now, "previous_latest": previous }),
            )?;
            w.tx.execute(
                "INSERT INTO meta (key, value) VALUES ('clock_high_water', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)],
            )?;
            Ok(())
        })?;
        self.set_clock_high_water(now);
        Ok(())
    }

    pub fn age_groups(&self) -> Result<Vec<AgeGroup>> {
        self.signed()?;
        Ok(self.reference()?.age_groups.clone())
    }

    /// The exemptions staff may choose: the province's list when it set
    /// one, otherwise the desk's own table.
    pub fn fee_exemptions(&self) -> Result<Vec<FeeExemption>> {
        self.signed()?;
        if let Some(list) = &self.reference()?.settings.fee_exemptions {
            return Ok(list.clone());
        }
        let mut stmt = self.conn.prepare_cached("SELECT code, name, active FROM fee_exemptions ORDER BY code")?;
        let rows = stmt.query_map([], |r| Ok(FeeExemption { code: r.get(0)?, name: r.get(1)?, active: r.get(2)? }))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
