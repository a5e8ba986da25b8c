//! Province-wide settings over real HTTP: the province sets a value on the
//! server, every center's desks pull it (or find it in the snapshot), a
//! locked key cannot be changed at a desk, and a center's allowed override
//! reaches its own desks and no other center's.

use std::sync::{Arc, Mutex};

use kanoon_domain::entities::CenterKind;
use kanoon_domain::settings::Source;
use kanoon_protocol::province;
use kanoon_server::Storage;
use kanoon_store::settings::MembershipTerms;
use kanoon_store::{Clock, Desk, ErrorCode, SetupRequest};
use kanoon_sync::{enrol, sync_once};
use serde_json::json;

use crate::over_http::{TwoDesks, admin, new_desk, two_enrolled_desks};

on_both_backends!(
    sqlite_the_provinces_settings_reach_every_center_and_overrides_stay_in_theirs,
    postgres_the_provinces_settings_reach_every_center_and_overrides_stay_in_theirs,
    the_provinces_settings_reach_every_center_and_overrides_stay_in_theirs
);

fn fee(desk: &Mutex<Desk>) -> (i64, Source) {
    let d = desk.lock().unwrap();
    (d.membership_terms().unwrap().fee_rials, d.setting_origins().unwrap().membership_terms.source)
}

async fn the_provinces_settings_reach_every_center_and_overrides_stay_in_theirs(storage: Arc<dyn Storage>) {
    let TwoDesks { url, client, clock, a, b } = two_enrolled_desks(&storage).await;
    // A second center with one desk.
    admin(&storage, |s| s.add_center("5678", "مرکز سیار", CenterKind::Mobile).unwrap());
    let code_c = admin(&storage, |s| s.create_enrol_code("5678").unwrap());
    let c = {
        let mut desk = Desk::open_in_memory().unwrap().with_clock(Arc::new(clock.clone()));
        let request = SetupRequest {
            center_code: "5678".into(),
            center_name: "مرکز سیار".into(),
            center_kind: CenterKind::Mobile,
            desk_number: 1,
            manager_username: "manager".into(),
            manager_full_name: "مدیر سیار".into(),
        };
        desk.setup(request, "kanoon1404").unwrap();
        Arc::new(Mutex::new(desk))
    };
    enrol(&c, &client, &url, &code_c, "میز سیار").await.unwrap();

    // The province locks the fee and announces a campaign.
    let terms = json!({"fee_rials": 420_000, "period_days": 365});
    let at = || clock.now().timestamp_millis();
    // The server stamps at the desks' (test) time: a true-time stamp would be flagged far ahead.
    admin(&storage, |s| s.put_province_setting_at(province::MEMBERSHIP_TERMS, terms, false, at()).unwrap());
    let campaign = json!({"code": "childrens_week", "name": "هفته ملی کودک", "from": "2025-04-01",
                          "to": "2025-04-10", "registration": true, "renewal": true});
    admin(&storage, |s| s.put_province_setting_at("fee_campaign/childrens_week", campaign, false, at()).unwrap());
    for desk in [&a, &b, &c] {
        sync_once(desk, &client).await.unwrap();
        assert_eq!(fee(desk), (420_000, Source::Province));
        assert_eq!(desk.lock().unwrap().fee_campaigns().unwrap().len(), 1);
        assert!(desk.lock().unwrap().sync_exceptions().unwrap().is_empty());
    }
    let refused = a.lock().unwrap().set_membership_terms(MembershipTerms { fee_rials: 1, period_days: 30 });
    assert_eq!(refused.unwrap_err().code(), ErrorCode::Forbidden);

    // Unlocked: center 1234 sets its own fee; its other desk takes it,
    // the other center keeps the province's.
    let terms = json!({"fee_rials": 420_000, "period_days": 365});
    admin(&storage, |s| s.put_province_setting_at(province::MEMBERSHIP_TERMS, terms, true, at()).unwrap());
    sync_once(&a, &client).await.unwrap();
    a.lock().unwrap().set_membership_terms(MembershipTerms { fee_rials: 380_000, period_days: 365 }).unwrap();
    for desk in [&a, &b, &c] {
        sync_once(desk, &client).await.unwrap();
    }
    assert_eq!(fee(&a), (380_000, Source::Center));
    assert_eq!(fee(&b), (380_000, Source::Center));
    assert_eq!(fee(&c), (420_000, Source::Province));

    // A new PC of center 1234 starts from the snapshot and has both.
    let fresh = new_desk(&clock, 3);
    let code = admin(&storage, |s| s.create_enrol_code("1234").unwrap());
    enrol(&fresh, &client, &url, &code, "میز ۳").await.unwrap();
    sync_once(&fresh, &client).await.unwrap();
    assert_eq!(fee(&fresh), (380_000, Source::Center));
    assert_eq!(fresh.lock().unwrap().fee_campaigns().unwrap().len(), 1);
    let origins = fresh.lock().unwrap().setting_origins().unwrap();
    assert_eq!(origins.province_membership_terms.map(|t| t.fee_rials), Some(420_000));
}
