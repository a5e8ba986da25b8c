//! Province-wide settings on the wire: the province's pseudo-center and
//! device (the only writer of `province_setting` ops, the server itself),
//! the setting keys and the ids their records have on every desk.
//!
//! A `province_setting` op is a patch with the fields `key`, `value` (JSON,
//! null when the province clears it) and `center_may_override`. A center's
//! own value of a key the province lets it change is a `setting_override`
//! record (fields `key`, `value`), scoped to its center.

use uuid::Uuid;

/// The province as the author of its settings: a center row on the server
/// that no desk enrols at. `Uuid::new_v5(OID, "kanoon-province")`.
pub const PROVINCE_CENTER_ID: Uuid = Uuid::from_u128(0x95fc5217_a8a5_52d4_8bb2_8e15a6075abf);
/// The server's own device, the writer of the province's ops; it has no
/// token. `Uuid::new_v5(OID, "kanoon-province-server")`.
pub const PROVINCE_DEVICE_ID: Uuid = Uuid::from_u128(0x57995ac2_c81e_528b_b6e9_037f46bc6ff0);
/// The province's code in the centers table: not digits, so it is never a
/// real center's code.
pub const PROVINCE_CENTER_CODE: &str = "province";

/// The fee and length of a membership (`MembershipTerms`).
pub const MEMBERSHIP_TERMS: &str = "membership_terms";
/// The loan rules and weekly closed days (`Policy`, holidays empty).
pub const POLICY: &str = "policy";
/// No value; its flag says whether a center may add its own holidays.
pub const HOLIDAYS: &str = "holidays";
/// `holiday/<ISO date>`: the holiday's name, null when removed.
pub const HOLIDAY_PREFIX: &str = "holiday/";
/// The list of fee exemptions (`[FeeExemption]`).
pub const FEE_EXEMPTIONS: &str = "fee_exemptions";
/// `fee_campaign/<code>`: a dated free-membership campaign (`FeeCampaign`),
/// null when withdrawn.
pub const FEE_CAMPAIGN_PREFIX: &str = "fee_campaign/";
/// The province's list of activity kinds (`[ActivityKind]`); its flag says
/// whether a center may add its own kinds.
pub const ACTIVITY_KINDS: &str = "activity_kinds";

/// Longest key: a prefix and a code or date.
pub const MAX_KEY_CHARS: usize = 64;

/// Whether `key` is one the province may set (the value's shape is checked
/// by the domain).
pub fn is_province_key(key: &str) -> bool {
    if key.chars().count() > MAX_KEY_CHARS {
        return false;
    }
    match key {
        MEMBERSHIP_TERMS | POLICY | HOLIDAYS | FEE_EXEMPTIONS | ACTIVITY_KINDS => true,
        _ => key.strip_prefix(HOLIDAY_PREFIX).or_else(|| key.strip_prefix(FEE_CAMPAIGN_PREFIX)).is_some_and(|rest| {
            !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        }),
    }
}

/// Whether a center may hold its own value of `key` (a `setting_override`),
/// when the province allows it. The other keys' flag means "a center may
/// add its own" (holidays, activity kinds) or nothing.
pub fn accepts_override(key: &str) -> bool {
    matches!(key, MEMBERSHIP_TERMS | POLICY)
}

/// The id of the province's record of `key`, the same on every desk.
pub fn province_setting_id(key: &str) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("kanoon-province-setting/{key}").as_bytes())
}

/// The id of a center's override of `key` (scoped to its center, so the
/// same id in every center is never shared).
pub fn override_id(key: &str) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("kanoon-setting-override/{key}").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pseudo_ids_are_the_documented_names() {
        assert_eq!(PROVINCE_CENTER_ID, Uuid::new_v5(&Uuid::NAMESPACE_OID, b"kanoon-province"));
        assert_eq!(PROVINCE_DEVICE_ID, Uuid::new_v5(&Uuid::NAMESPACE_OID, b"kanoon-province-server"));
    }

    #[test]
    fn keys_are_a_closed_set() {
        for key in [MEMBERSHIP_TERMS, POLICY, HOLIDAYS, "holiday/2025-10-05", "fee_campaign/childrens_week_1404"] {
            assert!(is_province_key(key), "{key}");
        }
        for key in ["", "holiday/", "fee_campaign/a b", "clock_correction", "language_institute", "policy2"] {
            assert!(!is_province_key(key), "{key}");
        }
        assert!(accepts_override(MEMBERSHIP_TERMS) && !accepts_override(FEE_EXEMPTIONS));
        assert_ne!(province_setting_id(POLICY), override_id(POLICY));
    }
}
