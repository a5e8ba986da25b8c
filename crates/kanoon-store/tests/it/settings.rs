//! Province-wide settings on a desk: the province's values arrive as
//! pulled `province_setting` ops; a center changes only what the province
//! allows, and every value says where it came from.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use kanoon_domain::circulation::Fee;
use kanoon_domain::policy::Policy;
use kanoon_domain::settings::Source;
use kanoon_protocol::province::{self, PROVINCE_CENTER_ID, PROVINCE_DEVICE_ID, override_id, province_setting_id};
use kanoon_protocol::wire::Cursor;
use kanoon_protocol::{EntityKind, FieldChange, Hlc, Op, OpBody};
use kanoon_store::members::{FeeInput, RegisterMember, RegisterOutcome};
use kanoon_store::settings::MembershipTerms;
use kanoon_store::{Desk, ErrorCode, SetupRequest};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::*;

/// Pulled pages: every call advances the cursor, as the server's would.
struct Province {
    seq: u64,
    wall_ms: i64,
}

impl Province {
    fn new() -> Province {
        Province { seq: 0, wall_ms: start_time().timestamp_millis() - 60_000 }
    }

    fn op(&mut self, key: &str, value: Value, center_may_override: bool) -> Op {
        self.wall_ms += 1;
        let fields = BTreeMap::from([
            ("key".to_owned(), FieldChange { value: json!(key), base: None }),
            ("value".to_owned(), FieldChange { value, base: None }),
            ("center_may_override".to_owned(), FieldChange { value: json!(center_may_override), base: None }),
        ]);
        Op {
            op_id: Uuid::now_v7(),
            schema_version: 1,
            hlc: Hlc::new(self.wall_ms, 0),
            device_id: PROVINCE_DEVICE_ID,
            center_id: PROVINCE_CENTER_ID,
            entity: EntityKind(EntityKind::PROVINCE_SETTING.to_owned()),
            entity_id: province_setting_id(key),
            staff_id: None,
            body: OpBody::Patch { fields },
            extra: Default::default(),
        }
    }

    /// The province sets `key` and the desk pulls it.
    fn set(&mut self, desk: &mut Desk, key: &str, value: Value, center_may_override: bool) {
        let op = self.op(key, value, center_may_override);
        self.pull(desk, &[op]);
    }

    fn pull(&mut self, desk: &mut Desk, ops: &[Op]) {
        self.seq += ops.len() as u64;
        desk.apply_pulled(ops, Cursor { epoch: 1, seq: self.seq }).unwrap();
    }
}

fn terms(fee_rials: i64) -> Value {
    json!({"fee_rials": fee_rials, "period_days": 365})
}

fn register_with(desk: &mut Desk, nid: u64, fee: FeeInput) -> Result<Fee, ErrorCode> {
    match desk.register_member(RegisterMember::new(details("نیلوفر", "کاظمی", Some(national_id(nid))), fee))
    {
        Ok(RegisterOutcome::Registered { member }) => Ok(desk.membership_periods(member.id).unwrap().remove(0).fee),
        Ok(other) => panic!("not registered: {other:?}"),
        Err(e) => Err(e.code()),
    }
}

fn exempt(code: &str) -> FeeInput {
    FeeInput::Exempt { exemption: code.into(), reason: String::new() }
}

#[test]
fn a_locked_province_fee_applies_and_the_manager_cannot_change_it() {
    let mut f = desk();
    assert_eq!(f.desk.setting_origins().unwrap().membership_terms.source, Source::Shipped);
    let mut p = Province::new();
    p.set(&mut f.desk, province::MEMBERSHIP_TERMS, terms(400_000), false);
    assert_eq!(f.desk.membership_terms().unwrap(), MembershipTerms { fee_rials: 400_000, period_days: 365 });
    let origins = f.desk.setting_origins().unwrap();
    assert_eq!(origins.membership_terms.source, Source::Province);
    assert!(!origins.membership_terms.center_may_override);
    let before = f.desk.outbox_len().unwrap();
    let err = f.desk.set_membership_terms(MembershipTerms { fee_rials: 1, period_days: 30 }).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);
    assert_eq!(f.desk.outbox_len().unwrap(), before, "a refused change writes nothing");
    assert_eq!(f.desk.membership_terms().unwrap().fee_rials, 400_000);
}

#[test]
fn an_allowed_override_applies_shows_the_provinces_value_and_can_be_taken_back() {
    let mut f = desk();
    let mut p = Province::new();
    p.set(&mut f.desk, province::MEMBERSHIP_TERMS, terms(400_000), true);
    let before = f.desk.outbox_len().unwrap();
    f.desk.set_membership_terms(MembershipTerms { fee_rials: 300_000, period_days: 180 }).unwrap();
    let ops = f.desk.outbox(100).unwrap();
    assert_eq!(f.desk.outbox_len().unwrap(), before + 1, "one override op");
    let last = ops.last().unwrap();
    assert_eq!((last.entity.as_str(), last.entity_id), (EntityKind::SETTING_OVERRIDE, override_id("membership_terms")));
    assert_eq!(f.desk.membership_terms().unwrap().fee_rials, 300_000);
    let origins = f.desk.setting_origins().unwrap();
    assert_eq!(origins.membership_terms.source, Source::Center);
    assert!(origins.membership_terms.has_override);
    assert_eq!(origins.province_membership_terms.map(|t| t.fee_rials), Some(400_000));

    // The province locks the key: the override is ignored, not lost.
    p.set(&mut f.desk, province::MEMBERSHIP_TERMS, terms(450_000), false);
    assert_eq!(f.desk.membership_terms().unwrap().fee_rials, 450_000);
    assert!(f.desk.setting_origins().unwrap().membership_terms.has_override);
    assert_eq!(f.desk.clear_setting_override("membership_terms").unwrap_err().code(), ErrorCode::Forbidden);
    // Unlocked again: the center's value is back.
    p.set(&mut f.desk, province::MEMBERSHIP_TERMS, terms(450_000), true);
    assert_eq!(f.desk.membership_terms().unwrap().fee_rials, 300_000);
    f.desk.clear_setting_override("membership_terms").unwrap();
    assert_eq!(f.desk.membership_terms().unwrap().fee_rials, 450_000);
    assert_eq!(f.desk.setting_origins().unwrap().membership_terms.source, Source::Province);
    assert_eq!(f.desk.clear_setting_override("fee_exemptions").unwrap_err().code(), ErrorCode::InvalidInput);
}

#[test]
fn the_provinces_loan_rules_and_holidays_move_due_dates_and_lock_the_center_holidays() {
    let mut f = desk();
    let mut p = Province::new();
    let mut policy = Policy::shipped();
    policy.default_rule.loan_days = 14;
    p.set(&mut f.desk, province::POLICY, serde_json::to_value(&policy).unwrap(), false);
    // 1404/01/30: a province holiday.
    let holiday = NaiveDate::from_ymd_opt(2025, 4, 19).unwrap();
    p.set(&mut f.desk, &format!("holiday/{holiday}"), json!("تعطیل استانی"), false);
    let applied = f.desk.policy().unwrap();
    assert_eq!(applied.default_rule.loan_days, 14);
    assert!(applied.closed.holidays.contains(&holiday));
    let origins = f.desk.setting_origins().unwrap();
    assert_eq!((origins.policy.source, origins.holidays.source), (Source::Province, Source::Province));
    assert_eq!(origins.province_holidays.len(), 1);
    assert_eq!(f.desk.set_policy(Policy::shipped()).unwrap_err().code(), ErrorCode::Forbidden);

    // The center may still add its own days until the province closes the list.
    let year = (NaiveDate::from_ymd_opt(2025, 3, 21).unwrap(), NaiveDate::from_ymd_opt(2026, 3, 20).unwrap());
    let own = NaiveDate::from_ymd_opt(2025, 4, 20).unwrap();
    let days = vec![
        kanoon_store::settings::Holiday { date: own, name: "روز مرکز".into() },
        kanoon_store::settings::Holiday { date: holiday, name: "نام دیگر".into() },
    ];
    f.desk.set_holidays(year.0, year.1, days.clone()).unwrap();
    assert_eq!(f.desk.holidays(year.0, year.1).unwrap().len(), 1, "the province's day stays the province's");
    assert!(f.desk.policy().unwrap().closed.holidays.contains(&own));
    p.set(&mut f.desk, province::HOLIDAYS, Value::Null, false);
    assert_eq!(f.desk.set_holidays(year.0, year.1, days).unwrap_err().code(), ErrorCode::Forbidden);
    assert!(!f.desk.policy().unwrap().closed.holidays.contains(&own), "a closed list ignores the center's days");
    assert!(f.desk.policy().unwrap().closed.holidays.contains(&holiday));
}

#[test]
fn a_campaign_waives_the_fee_only_on_its_dates_and_for_what_it_covers() {
    let mut f = desk();
    let mut p = Province::new();
    // 1404/01/15–1404/01/20 around the test's today (1404/01/16).
    let campaign = json!({"code": "nowruz_1404", "name": "عضویت رایگان نوروزی", "from": "2025-04-04",
                          "to": "2025-04-09", "registration": true, "renewal": false});
    p.set(&mut f.desk, "fee_campaign/nowruz_1404", campaign, false);
    let view = f.desk.fee_campaigns().unwrap();
    assert_eq!(view.len(), 1);
    assert!(view[0].active_today);
    let fee = register_with(&mut f.desk, 11, exempt("nowruz_1404")).unwrap();
    assert_eq!(fee, Fee::Exempt { exemption: "nowruz_1404".into(), reason: "عضویت رایگان نوروزی".into() });
    // Not for a renewal.
    let member = register(&mut f.desk, "مریم", "نوری", 12);
    let err = f.desk.renew_membership(member.id, exempt("nowruz_1404")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.to_string().contains("۱۴۰۴"), "names the Jalali dates: {err}");
    // Not after its last day.
    f.clock.advance(chrono::Duration::days(5));
    assert!(!f.desk.fee_campaigns().unwrap()[0].active_today);
    assert_eq!(register_with(&mut f.desk, 13, exempt("nowruz_1404")).unwrap_err(), ErrorCode::InvalidInput);
    // A code that is neither an exemption nor a campaign is refused.
    assert_eq!(register_with(&mut f.desk, 14, exempt("made_up")).unwrap_err(), ErrorCode::InvalidInput);
}

#[test]
fn the_provinces_lists_replace_exemptions_and_activity_kinds() {
    let mut f = desk();
    let mine = f.desk.add_activity_kind("شعرخوانی").unwrap();
    let mut p = Province::new();
    p.set(
        &mut f.desk,
        province::FEE_EXEMPTIONS,
        json!([{"code": "martyr_family", "name": "خانواده شاهد", "active": true}]),
        false,
    );
    p.set(&mut f.desk, province::ACTIVITY_KINDS, json!([{"code": "story", "name": "قصه‌گویی"}]), false);
    let codes: Vec<String> = f.desk.fee_exemptions().unwrap().into_iter().map(|e| e.code).collect();
    assert_eq!(codes, ["martyr_family"]);
    assert_eq!(register_with(&mut f.desk, 21, exempt("postal")).unwrap_err(), ErrorCode::InvalidInput);
    let kinds = f.desk.activity_kinds().unwrap();
    assert_eq!(kinds.iter().filter(|k| !k.retired).map(|k| k.code.as_str()).collect::<Vec<_>>(), ["story"]);
    assert!(kinds.iter().any(|k| k.code == mine.code && k.retired), "kept for old sessions, not offered");
    assert_eq!(f.desk.add_activity_kind("نقاشی دیواری").unwrap_err().code(), ErrorCode::Forbidden);
    let origins = f.desk.setting_origins().unwrap();
    assert_eq!((origins.fee_exemptions.source, origins.activity_kinds.source), (Source::Province, Source::Province));
}

#[test]
fn only_the_province_writes_its_settings_and_only_the_center_its_overrides() {
    let mut f = desk();
    let center = f.desk.identity().unwrap().center.id;
    let mut p = Province::new();
    // A desk of some center that wrote a province setting: kept, not applied.
    let mut forged = p.op(province::MEMBERSHIP_TERMS, terms(1), false);
    forged.center_id = Uuid::new_v4();
    forged.device_id = Uuid::new_v4();
    p.pull(&mut f.desk, &[forged]);
    assert_eq!(f.desk.membership_terms().unwrap().fee_rials, 350_000);
    assert!(f.desk.sync_exceptions().unwrap().iter().any(|e| e.code == "not_owner"));
    // A province op whose id is not its key's.
    let mut misfiled = p.op(province::MEMBERSHIP_TERMS, terms(2), false);
    misfiled.entity_id = province_setting_id("policy");
    p.pull(&mut f.desk, &[misfiled]);
    assert_eq!(f.desk.membership_terms().unwrap().fee_rials, 350_000);

    // Another center's override is not this center's.
    let override_op = |center_id: Uuid, fee: i64| Op {
        op_id: Uuid::now_v7(),
        schema_version: 1,
        hlc: Hlc::new(start_time().timestamp_millis(), 0),
        device_id: Uuid::new_v4(),
        center_id,
        entity: EntityKind(EntityKind::SETTING_OVERRIDE.to_owned()),
        entity_id: override_id("membership_terms"),
        staff_id: None,
        body: OpBody::Patch {
            fields: BTreeMap::from([
                ("key".to_owned(), FieldChange { value: json!("membership_terms"), base: None }),
                ("value".to_owned(), FieldChange { value: terms(fee), base: None }),
            ]),
        },
        extra: Default::default(),
    };
    p.pull(&mut f.desk, &[override_op(Uuid::new_v4(), 5)]);
    assert_eq!(f.desk.membership_terms().unwrap().fee_rials, 350_000);
    // A second desk of this center: its override applies here.
    p.pull(&mut f.desk, &[override_op(center, 250_000)]);
    assert_eq!(f.desk.membership_terms().unwrap().fee_rials, 250_000);
}

#[test]
fn a_second_desk_of_the_center_takes_the_managers_change() {
    let f = desk();
    let (mut a, clock) = (f.desk, f.clock);
    let mut b = Desk::open_in_memory().unwrap().with_clock(Arc::new(clock.clone()));
    b.setup(SetupRequest { desk_number: 2, manager_username: "manager2".into(), ..setup_request() }, PASSWORD).unwrap();
    a.set_membership_terms(MembershipTerms { fee_rials: 500_000, period_days: 365 }).unwrap();
    let mut policy = Policy::shipped();
    policy.default_rule.max_open_loans = 5;
    a.set_policy(policy).unwrap();
    let ops = a.ops_to_push(1000).unwrap();
    b.apply_pulled(&ops, Cursor { epoch: 1, seq: ops.len() as u64 }).unwrap();
    assert_eq!(b.membership_terms().unwrap().fee_rials, 500_000);
    assert_eq!(b.policy().unwrap().default_rule.max_open_loans, 5);
    assert_eq!(b.setting_origins().unwrap().policy.source, Source::Center);
}
