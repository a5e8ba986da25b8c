//! Settings the province sets for every center, and how a desk decides
//! which value applies: the province's, the center's own where the
//! province allows it, what the desk had before the province spoke, or
//! the shipped value (`resolve`). Fee-exemption campaigns are dated
//! (`FeeCampaign::covers`). The keys and ids are `kanoon_protocol::province`.

use chrono::{Datelike, NaiveDate};
use kanoon_protocol::province as key;
use serde::{Deserialize, Serialize};

use crate::activities::ActivityKind;
use crate::policy::Policy;

/// Membership terms: the annual fee (the seed's 350,000 rials, changed
/// yearly) and how long a period lasts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MembershipTerms {
    pub fee_rials: i64,
    pub period_days: u32,
}

impl Default for MembershipTerms {
    fn default() -> Self {
        Self { fee_rials: 350_000, period_days: 365 }
    }
}

impl MembershipTerms {
    pub fn check(&self) -> Result<(), String> {
        if self.fee_rials < 0 || self.period_days == 0 || self.period_days > 3660 {
            return Err("مبلغ حق عضویت و مدت عضویت باید مثبت باشد.".into());
        }
        Ok(())
    }
}

/// A reason a member pays no fee (postal members, free programs…).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FeeExemption {
    pub code: String,
    pub name: String,
    pub active: bool,
}

/// Which fee a campaign waives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum FeeAction {
    Registration,
    Renewal,
}

/// A dated free-membership campaign (e.g. National Children's Week): from
/// `from` to `to`, both days included, the fee of a registration and/or a
/// renewal is waived with the campaign's code as the exemption.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FeeCampaign {
    pub code: String,
    pub name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub registration: bool,
    pub renewal: bool,
}

impl FeeCampaign {
    pub fn covers(&self, day: NaiveDate, action: FeeAction) -> bool {
        let waives = match action {
            FeeAction::Registration => self.registration,
            FeeAction::Renewal => self.renewal,
        };
        waives && self.from <= day && day <= self.to
    }

    pub fn check(&self) -> Result<(), String> {
        if self.name.trim().is_empty() || self.code.trim().is_empty() {
            return Err("نام و کد طرح را بنویسید.".into());
        }
        if self.to < self.from {
            return Err("پایان طرح پیش از آغاز آن است.".into());
        }
        if !self.registration && !self.renewal {
            return Err("طرح باید دست‌کم حق عضویت ثبت‌نام یا تمدید را ببخشد.".into());
        }
        Ok(())
    }
}

/// Where the value that applies came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Set by the province for every center.
    Province,
    /// The center's own value (an override the province allows, or the
    /// value the desk had before the province set the key).
    Center,
    /// The program's default: nobody set it.
    Shipped,
}

/// The value that applies, and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved<T> {
    pub value: T,
    pub source: Source,
    /// Whether the province lets the center change it (true when the
    /// province has not set it).
    pub center_may_override: bool,
    /// The province's value, shown beside a center's override.
    pub province_value: Option<T>,
}

/// Which value applies: the province's, unless the province allows an
/// override and the center has one; with no province value, the center's
/// override, then the desk's own earlier value, then the shipped one.
/// A locked key ignores any override (unlocking brings it back).
pub fn resolve<T: Clone>(
    province: Option<(T, bool)>,
    center_override: Option<T>,
    desk_value: Option<T>,
    shipped: T,
) -> Resolved<T> {
    match (province, center_override) {
        (Some((p, true)), Some(c)) => {
            Resolved { value: c, source: Source::Center, center_may_override: true, province_value: Some(p) }
        }
        (Some((p, may)), _) => {
            Resolved { value: p.clone(), source: Source::Province, center_may_override: may, province_value: Some(p) }
        }
        (None, Some(c)) => {
            Resolved { value: c, source: Source::Center, center_may_override: true, province_value: None }
        }
        (None, None) => match desk_value {
            Some(d) => Resolved { value: d, source: Source::Center, center_may_override: true, province_value: None },
            None => {
                Resolved { value: shipped, source: Source::Shipped, center_may_override: true, province_value: None }
            }
        },
    }
}

/// Checks that a province setting's value has its key's shape (what the
/// server refuses to publish, and what a desk skips when a newer version's
/// shape does not parse). Null clears the key.
pub fn check_province_value(k: &str, value: &serde_json::Value) -> Result<(), String> {
    if !key::is_province_key(k) {
        return Err(format!("«{k}» تنظیمی نیست که استان تعیین کند."));
    }
    if value.is_null() {
        return Ok(());
    }
    fn parse<T: for<'de> Deserialize<'de>>(value: &serde_json::Value) -> Result<T, String> {
        T::deserialize(value).map_err(|e| format!("مقدار درست نیست: {e}"))
    }
    match k {
        key::MEMBERSHIP_TERMS => parse::<MembershipTerms>(value)?.check(),
        key::POLICY => {
            let policy: Policy = parse(value)?;
            if policy.default_rule.loan_days == 0 || policy.default_rule.max_open_loans == 0 {
                return Err("مدت امانت و سقف امانت باید دست‌کم یک باشد.".into());
            }
            Ok(())
        }
        key::HOLIDAYS => Err("«holidays» مقدار ندارد؛ فقط اجازهٔ افزودن تعطیلی مرکز را تعیین می‌کند.".into()),
        key::FEE_EXEMPTIONS => {
            let list: Vec<FeeExemption> = parse(value)?;
            if list.iter().any(|e| e.code.trim().is_empty() || e.name.trim().is_empty()) {
                return Err("هر معافیت کد و نام دارد.".into());
            }
            Ok(())
        }
        key::ACTIVITY_KINDS => {
            let list: Vec<ActivityKind> = parse(value)?;
            if list.is_empty() || list.iter().any(|a| a.code.trim().is_empty() || a.name.trim().is_empty()) {
                return Err("فهرست گونه‌های فعالیت خالی است یا گونه‌ای بی‌نام دارد.".into());
            }
            Ok(())
        }
        _ if k.starts_with(key::HOLIDAY_PREFIX) => {
            let date = &k[key::HOLIDAY_PREFIX.len()..];
            // ISO (Gregorian) dates only: a Jalali date such as 1404-07-13 also
            // parses as a Gregorian one, so the year must be plausible.
            match date.parse::<NaiveDate>() {
                Ok(day) if (1900..=2200).contains(&day.year()) => {}
                _ => return Err(format!("«{date}» تاریخ میلادی (YYYY-MM-DD) نیست.")),
            }
            match value.as_str() {
                Some(name) if !name.trim().is_empty() => Ok(()),
                _ => Err("نام تعطیلی را بنویسید.".into()),
            }
        }
        _ => {
            let campaign: FeeCampaign = parse(value)?;
            if k[key::FEE_CAMPAIGN_PREFIX.len()..] != campaign.code {
                return Err("کد طرح با کلید آن یکی نیست.".into());
            }
            campaign.check()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn childrens_week() -> FeeCampaign {
        // 13–19 Mehr 1404.
        FeeCampaign {
            code: "childrens_week_1404".into(),
            name: "هفته ملی کودک".into(),
            from: day("2025-10-05"),
            to: day("2025-10-11"),
            registration: true,
            renewal: false,
        }
    }

    #[test]
    fn a_campaign_covers_its_days_both_included() {
        let c = childrens_week();
        assert!(c.covers(day("2025-10-05"), FeeAction::Registration));
        assert!(c.covers(day("2025-10-11"), FeeAction::Registration));
        assert!(!c.covers(day("2025-10-04"), FeeAction::Registration));
        assert!(!c.covers(day("2025-10-12"), FeeAction::Registration));
        assert!(!c.covers(day("2025-10-06"), FeeAction::Renewal), "registration only");
    }

    #[test]
    fn the_province_wins_unless_it_allows_the_centers_value() {
        let locked = resolve(Some((1, false)), Some(2), Some(3), 4);
        assert_eq!((locked.value, locked.source, locked.center_may_override), (1, Source::Province, false));
        let allowed = resolve(Some((1, true)), Some(2), Some(3), 4);
        assert_eq!((allowed.value, allowed.source, allowed.province_value), (2, Source::Center, Some(1)));
        let allowed_unused = resolve(Some((1, true)), None, Some(3), 4);
        assert_eq!((allowed_unused.value, allowed_unused.source), (1, Source::Province));
        assert_eq!(resolve(None, Some(2), Some(3), 4).value, 2);
        assert_eq!(resolve(None, None, Some(3), 4).source, Source::Center);
        assert_eq!(resolve::<i32>(None, None, None, 4).source, Source::Shipped);
    }

    #[test]
    fn values_must_have_their_keys_shape() {
        use serde_json::json;
        assert!(check_province_value("membership_terms", &json!({"fee_rials": 400000, "period_days": 365})).is_ok());
        assert!(check_province_value("membership_terms", &json!({"fee_rials": -1, "period_days": 365})).is_err());
        assert!(check_province_value("membership_terms", &json!("x")).is_err());
        assert!(check_province_value("holiday/2025-10-05", &json!("روز کودک")).is_ok());
        assert!(check_province_value("holiday/2025-13-05", &json!("x")).is_err());
        assert!(check_province_value("holidays", &serde_json::Value::Null).is_ok());
        assert!(check_province_value("holidays", &json!(1)).is_err());
        let campaign = serde_json::to_value(childrens_week()).unwrap();
        assert!(check_province_value("fee_campaign/childrens_week_1404", &campaign).is_ok());
        assert!(check_province_value("fee_campaign/other", &campaign).is_err());
        assert!(check_province_value("language_institute", &json!({})).is_err());
        let policy = serde_json::to_value(Policy::shipped()).unwrap();
        assert!(check_province_value("policy", &policy).is_ok());
    }
}
