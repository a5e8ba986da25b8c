//! Which value applies: the province's settings (pulled `province_setting`
//! records), the center's overrides where the province allows them, the
//! desk's own earlier value, the shipped default — resolved once per
//! reference load (`Desk::reference`, forgotten after every pulled chunk).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use kanoon_domain::activities::{ActivityKind, default_activity_kinds};
use kanoon_domain::entities::Permission;
use kanoon_domain::policy::Policy;
use kanoon_domain::settings::{FeeCampaign, FeeExemption, MembershipTerms, Resolved, Source, resolve};
use kanoon_protocol::province::{self as key, accepts_override, override_id};
use rusqlite::Connection;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::Holiday;
use crate::desk::Desk;
use crate::error::{Result, StoreError};
use crate::rows::Record;
use crate::rows::province_setting::{SettingOverrideRecord, override_values, province_values};
use crate::rows::setting::{load_center_holidays, load_desk_value};

/// The settings a desk applies, with where each came from.
#[derive(Clone, Debug)]
pub(crate) struct ResolvedSettings {
    pub membership_terms: Resolved<MembershipTerms>,
    /// Rules and weekly closed days (holidays apart).
    pub policy: Resolved<Policy>,
    /// The province's holidays (every center closes).
    pub province_holidays: BTreeMap<NaiveDate, String>,
    /// Whether the province set the holiday key (locked or not).
    pub holidays_from_province: bool,
    /// Whether the center may add its own holidays.
    pub center_holidays_allowed: bool,
    /// The center's own holidays (counted only when allowed).
    pub center_holidays: Vec<(NaiveDate, String)>,
    /// The province's list of exemptions (None: the desk's own table).
    pub fee_exemptions: Option<Vec<FeeExemption>>,
    pub campaigns: Vec<FeeCampaign>,
    /// The province's activity kinds (None: the shipped list).
    pub activity_kinds: Option<Vec<ActivityKind>>,
    pub center_kinds_allowed: bool,
    /// Keys the center holds an override of (applied or not).
    pub overridden: Vec<String>,
}

fn parsed<T: DeserializeOwned>(value: &serde_json::Value) -> Option<T> {
    // A value this version cannot read (a newer shape) counts as not set.
    if value.is_null() { None } else { serde_json::from_value(value.clone()).ok() }
}

impl ResolvedSettings {
    pub fn load(conn: &Connection) -> Result<ResolvedSettings> {
        let province = province_values(conn)?;
        let overrides = override_values(conn)?;
        fn pick<T: DeserializeOwned + Clone + PartialEq>(
            conn: &Connection,
            province: &BTreeMap<String, (serde_json::Value, bool)>,
            overrides: &BTreeMap<String, serde_json::Value>,
            k: &str,
            shipped: T,
        ) -> Result<Resolved<T>> {
            let from_province = province.get(k).and_then(|(v, may)| parsed::<T>(v).map(|v| (v, *may)));
            let center = overrides.get(k).and_then(parsed::<T>);
            let desk = load_desk_value(conn, k, &shipped)?;
            Ok(resolve(from_province, center, desk, shipped))
        }
        let membership_terms = pick(conn, &province, &overrides, key::MEMBERSHIP_TERMS, MembershipTerms::default())?;
        let mut policy = pick(conn, &province, &overrides, key::POLICY, Policy::shipped())?;
        // Holidays are kept apart from the rules, whoever set them.
        policy.value.closed.holidays.clear();
        let province_holidays = province
            .iter()
            .filter_map(|(k, (v, _))| {
                let day = k.strip_prefix(key::HOLIDAY_PREFIX)?.parse::<NaiveDate>().ok()?;
                Some((day, v.as_str()?.to_owned()))
            })
            .collect::<BTreeMap<_, _>>();
        let holidays_key = province.get(key::HOLIDAYS);
        let campaigns = province
            .iter()
            .filter(|(k, _)| k.starts_with(key::FEE_CAMPAIGN_PREFIX))
            .filter_map(|(_, (v, _))| parsed::<FeeCampaign>(v))
            .collect();
        let kinds = province.get(key::ACTIVITY_KINDS);
        Ok(ResolvedSettings {
            membership_terms,
            policy,
            holidays_from_province: holidays_key.is_some() || !province_holidays.is_empty(),
            center_holidays_allowed: holidays_key.is_none_or(|(_, may)| *may),
            province_holidays,
            center_holidays: load_center_holidays(conn)?,
            fee_exemptions: province.get(key::FEE_EXEMPTIONS).and_then(|(v, _)| parsed(v)),
            campaigns,
            activity_kinds: kinds.and_then(|(v, _)| parsed(v)),
            center_kinds_allowed: kinds.is_none_or(|(_, may)| *may),
            overridden: overrides.into_keys().collect(),
        })
    }

    /// The policy that applies, with every holiday that closes the center.
    pub fn effective_policy(&self) -> Policy {
        let mut policy = self.policy.value.clone();
        policy.closed.holidays.extend(self.province_holidays.keys().copied());
        if self.center_holidays_allowed {
            policy.closed.holidays.extend(self.center_holidays.iter().map(|(d, _)| *d));
        }
        policy
    }

    /// The activity kinds offered before the center's own.
    pub fn base_activity_kinds(&self) -> Vec<ActivityKind> {
        self.activity_kinds.clone().unwrap_or_else(default_activity_kinds)
    }
}

/// Where one setting's applying value came from, for the settings screen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SettingOrigin {
    pub source: Source,
    /// Whether the center may change it (its own value or additions).
    pub center_may_override: bool,
    /// Whether the center holds its own value of it (ignored while the
    /// province does not allow it).
    pub has_override: bool,
}

/// Which value applies and where it came from, setting by setting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SettingOrigins {
    pub membership_terms: SettingOrigin,
    /// The province's value, shown beside the center's own.
    pub province_membership_terms: Option<MembershipTerms>,
    pub policy: SettingOrigin,
    pub province_policy: Option<Policy>,
    /// Province: the province sets holidays; `center_may_override`: the
    /// center may add its own days.
    pub holidays: SettingOrigin,
    pub province_holidays: Vec<Holiday>,
    pub fee_exemptions: SettingOrigin,
    pub activity_kinds: SettingOrigin,
}

/// A fee-exemption campaign of the province, and whether it runs today.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FeeCampaignView {
    pub code: String,
    pub name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub registration: bool,
    pub renewal: bool,
    pub active_today: bool,
}

/// A key the province holds without letting the center change it.
pub(crate) fn locked_message() -> StoreError {
    StoreError::Forbidden("این مقدار را استان تعیین کرده است و مرکز نمی‌تواند آن را تغییر دهد.".into())
}

impl Desk {
    pub fn setting_origins(&self) -> Result<SettingOrigins> {
        self.signed()?;
        let r = self.reference()?;
        let s = &r.settings;
        let origin = |source: Source, may: bool, k: &str| SettingOrigin {
            source,
            center_may_override: may,
            has_override: s.overridden.iter().any(|o| o == k),
        };
        let listed = |from_province: bool| if from_province { Source::Province } else { Source::Shipped };
        Ok(SettingOrigins {
            membership_terms: origin(
                s.membership_terms.source,
                s.membership_terms.center_may_override,
                key::MEMBERSHIP_TERMS,
            ),
            province_membership_terms: s.membership_terms.province_value.clone(),
            policy: origin(s.policy.source, s.policy.center_may_override, key::POLICY),
            province_policy: s.policy.province_value.clone().map(|mut p| {
                p.closed.holidays.clear();
                p
            }),
            holidays: origin(
                if s.holidays_from_province { Source::Province } else { Source::Center },
                s.center_holidays_allowed,
                key::HOLIDAYS,
            ),
            province_holidays: s
                .province_holidays
                .iter()
                .map(|(date, name)| Holiday { date: *date, name: name.clone() })
                .collect(),
            fee_exemptions: origin(listed(s.fee_exemptions.is_some()), false, key::FEE_EXEMPTIONS),
            activity_kinds: origin(listed(s.activity_kinds.is_some()), s.center_kinds_allowed, key::ACTIVITY_KINDS),
        })
    }

    /// The province's fee-exemption campaigns, latest first.
    pub fn fee_campaigns(&self) -> Result<Vec<FeeCampaignView>> {
        self.signed()?;
        let today = self.today();
        let mut out: Vec<FeeCampaignView> = self
            .reference()?
            .settings
            .campaigns
            .iter()
            .map(|c| FeeCampaignView {
                code: c.code.clone(),
                name: c.name.clone(),
                from: c.from,
                to: c.to,
                registration: c.registration,
                renewal: c.renewal,
                active_today: c.from <= today && today <= c.to,
            })
            .collect();
        out.sort_by(|a, b| b.from.cmp(&a.from).then_with(|| a.code.cmp(&b.code)));
        Ok(out)
    }

    /// Writes the center's own value of a key the province lets it change
    /// (or, when the province has not set it, of any overridable key).
    pub(crate) fn save_override<T: Serialize>(&mut self, k: &str, value: Option<&T>) -> Result<()> {
        let s = self.reference()?.settings.clone();
        let may = match k {
            key::MEMBERSHIP_TERMS => s.membership_terms.center_may_override,
            key::POLICY => s.policy.center_may_override,
            _ => false,
        };
        // Taking the center's value back while locked is refused too: the
        // server refuses every override op of a locked key.
        if !accepts_override(k) || !may {
            return Err(locked_message());
        }
        let value = match value {
            Some(v) => serde_json::to_value(v)?,
            None => serde_json::Value::Null,
        };
        let id = override_id(k);
        let record = SettingOverrideRecord { key: k.to_owned(), value };
        self.forget_reference();
        self.write(|w| {
            let old = SettingOverrideRecord::load(&w.tx, id)?;
            w.save(id, &record, old.as_ref().map(|(r, c)| (r, c)))?;
            Ok(())
        })?;
        self.forget_reference();
        Ok(())
    }

    /// The manager takes back the center's own value: the province's applies.
    pub fn clear_setting_override(&mut self, setting: &str) -> Result<()> {
        self.require(Permission::EditPolicy)?;
        if !accepts_override(setting) {
            return Err(StoreError::InvalidInput(format!("«{setting}» مقداری از مرکز ندارد.")));
        }
        let current = SettingOverrideRecord::load(&self.conn, override_id(setting))?;
        if current.is_none_or(|(r, _)| r.value.is_null()) {
            return Ok(());
        }
        self.save_override::<serde_json::Value>(setting, None)
    }
}
