//! Province-wide settings: the server publishes them as the province's
//! pseudo-center, every center's desks pull and bootstrap them, and no desk
//! writes one or changes a key the province locked.

use kanoon_protocol::province::{
    self, FEE_EXEMPTIONS, MEMBERSHIP_TERMS, PROVINCE_CENTER_ID, PROVINCE_DEVICE_ID, override_id, province_setting_id,
};
use kanoon_protocol::{EntityKind, Op, OpBody};
use kanoon_server::ErrorCode;
use serde_json::json;
use uuid::Uuid;

use crate::binary::run;
use crate::support::{
    Backend, Desk, TestDatabase, TestServer, assert_error, other_center_still_syncs, patch_op, two_centers,
};

fn put(server: &TestServer, key: &'static str, value: serde_json::Value, may: bool) -> Op {
    server.call(move |s| s.put_province_setting(key, value, may)).unwrap()
}

fn field(op: &Op, name: &str) -> serde_json::Value {
    match &op.body {
        OpBody::Patch { fields } => fields[name].value.clone(),
        other => panic!("not a patch: {other:?}"),
    }
}

async fn a_province_setting_reaches_every_centers_pull_and_snapshot(backend: Backend) {
    let (server, a, b) = two_centers(backend).await;
    let fee = json!({"fee_rials": 400_000, "period_days": 365});
    let first = put(&server, MEMBERSHIP_TERMS, fee.clone(), false);
    assert_eq!((first.center_id, first.device_id), (PROVINCE_CENTER_ID, PROVINCE_DEVICE_ID));
    assert_eq!(first.entity_id, province_setting_id(MEMBERSHIP_TERMS));
    assert_eq!((field(&first, "key"), field(&first, "value")), (json!(MEMBERSHIP_TERMS), fee));
    assert_eq!(field(&first, "center_may_override"), json!(false));
    for desk in [&a, &b] {
        let page = server.pull(desk, "").await;
        assert!(page.ops.iter().any(|o| o.op_id == first.op_id), "{page:?}");
        let center = desk.center_id;
        let snapshot = server.call(move |s| s.snapshot(center)).unwrap();
        assert!(snapshot.ops.iter().any(|j| j.contains(&first.op_id.to_string())));
    }
    // The next value of the key is based on the first and stamped after it.
    let second = put(&server, MEMBERSHIP_TERMS, json!({"fee_rials": 450_000, "period_days": 365}), true);
    let OpBody::Patch { fields } = &second.body else { panic!() };
    assert!(fields.values().all(|f| f.base.is_some_and(|b| b.hlc == first.hlc)), "{fields:?}");
    assert!(second.hlc > first.hlc);
    let settings = server.call(|s| s.province_settings()).unwrap();
    assert_eq!(settings.len(), 1);
    assert_eq!(settings[MEMBERSHIP_TERMS].value["fee_rials"], json!(450_000));
    assert!(settings[MEMBERSHIP_TERMS].center_may_override);
    // A bootstrap holds the latest only as well as the first (records keep every op).
    let page = server.pull(&a, "").await;
    assert_eq!(page.ops.iter().filter(|o| o.entity.as_str() == EntityKind::PROVINCE_SETTING).count(), 2);
}

async fn a_key_or_value_the_province_does_not_set_is_refused(backend: Backend) {
    let server = TestServer::start(backend).await;
    for (key, value) in [
        ("language_institute", json!({})),
        ("clock_correction", json!(1)),
        (MEMBERSHIP_TERMS, json!({"fee_rials": -5, "period_days": 365})),
        (MEMBERSHIP_TERMS, json!("free")),
        ("holiday/1404-07-13", json!("Jalali in the key")),
        (
            "fee_campaign/x",
            json!({"code": "y", "name": "n", "from": "2025-10-05", "to": "2025-10-11",
                                   "registration": true, "renewal": false}),
        ),
    ] {
        let err = server.call(move |s| s.put_province_setting(key, value, false)).unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest, "{key}: {err:?}");
    }
    assert_eq!(server.op_count(), 0);
}

async fn no_desk_enrols_at_the_province(backend: Backend) {
    let server = TestServer::start(backend).await;
    for code in [province::PROVINCE_CENTER_CODE, " province "] {
        let err = server.call(move |s| s.create_enrol_code(code)).unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound, "{err:?}");
    }
    let err = server.call(|s| s.create_reenrol_code("province", PROVINCE_DEVICE_ID)).unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
    server.add_center("1234");
    server.enrol("1234", 1).await;
    let devices = server.call(|s| s.devices()).unwrap();
    assert_eq!(devices.iter().map(|d| d.center_code.as_str()).collect::<Vec<_>>(), ["1234"]);
    // The province's device has no token any desk could present.
    let response = server.try_pull(Some("none: the province pushes through no token"), "").await;
    assert_eq!(response.status(), 401);
}

/// The one refusal of a push of one op.
async fn refused_alone(server: &TestServer, desk: &Desk, op: Op) -> ErrorCode {
    let answer = server.push(desk, std::slice::from_ref(&op)).await;
    assert!(answer.accepted.is_empty(), "{answer:?}");
    assert_eq!(answer.rejected.len(), 1, "{answer:?}");
    answer.rejected[0].code.unwrap()
}

async fn a_desk_never_writes_the_provinces_settings_nor_a_locked_key(backend: Backend) {
    let (server, a, b) = two_centers(backend).await;
    put(&server, MEMBERSHIP_TERMS, json!({"fee_rials": 400_000, "period_days": 365}), false);
    put(&server, province::POLICY, serde_json::to_value(kanoon_domain::policy::Policy::shipped()).unwrap(), true);
    let stored = server.op_count();
    // Stored with scope `province`, a desk's own "province setting" would reach every desk.
    let forged = patch_op(
        &a,
        EntityKind::PROVINCE_SETTING,
        province_setting_id(MEMBERSHIP_TERMS),
        1000,
        "value",
        json!({"fee_rials": 0, "period_days": 3650}),
    );
    assert_eq!(refused_alone(&server, &a, forged.clone()).await, ErrorCode::NotOwner);
    let fresh_key = patch_op(&a, EntityKind::PROVINCE_SETTING, Uuid::now_v7(), 1001, "key", json!("policy"));
    assert_eq!(refused_alone(&server, &a, fresh_key.clone()).await, ErrorCode::NotOwner);
    // An override of a locked key, of a key that takes none, or naming another key.
    let locked =
        patch_op(&a, EntityKind::SETTING_OVERRIDE, override_id(MEMBERSHIP_TERMS), 1002, "key", json!(MEMBERSHIP_TERMS));
    assert_eq!(refused_alone(&server, &a, locked.clone()).await, ErrorCode::NotOwner);
    let exemptions = patch_op(&a, EntityKind::SETTING_OVERRIDE, override_id(FEE_EXEMPTIONS), 1003, "value", json!([]));
    assert_eq!(refused_alone(&server, &a, exemptions.clone()).await, ErrorCode::NotOwner);
    let renamed =
        patch_op(&a, EntityKind::SETTING_OVERRIDE, override_id(province::POLICY), 1004, "key", json!(MEMBERSHIP_TERMS));
    assert_eq!(refused_alone(&server, &a, renamed.clone()).await, ErrorCode::NotOwner);
    assert_eq!(server.op_count(), stored);
    // Posing as the province refuses the whole batch.
    let mut posing =
        patch_op(&a, EntityKind::SETTING_OVERRIDE, override_id(province::POLICY), 1005, "key", json!(province::POLICY));
    posing.center_id = PROVINCE_CENTER_ID;
    assert_error(server.try_push(&a, &[posing]).await, 403, ErrorCode::OpOfOtherCenter).await;
    // An override the province allows is the center's, and stays in it.
    let allowed =
        patch_op(&a, EntityKind::SETTING_OVERRIDE, override_id(province::POLICY), 1006, "key", json!(province::POLICY));
    assert_eq!(server.push(&a, std::slice::from_ref(&allowed)).await.accepted, vec![allowed.op_id]);
    assert!(server.pull(&a, "").await.ops.iter().any(|o| o.op_id == allowed.op_id));
    let refused = [forged.op_id, fresh_key.op_id, locked.op_id, exemptions.op_id, renamed.op_id, allowed.op_id];
    other_center_still_syncs(&server, &b, &refused).await;
}

async fn the_binary_publishes_settings_and_campaigns(backend: Backend) {
    let db = TestDatabase::create(backend);
    let db_arg = db.arg();
    let d = db_arg.as_str();
    run(&[
        "province",
        "--database",
        d,
        "set",
        "--key",
        "membership_terms",
        "--value",
        r#"{"fee_rials":400000,"period_days":365}"#,
    ]);
    run(&[
        "province",
        "--database",
        d,
        "campaign",
        "--code",
        "childrens_week_1404",
        "--name",
        "هفته ملی کودک",
        "--from",
        "۱۴۰۴/۰۷/۱۳",
        "--to",
        "1404/07/19",
        "--registration",
    ]);
    run(&["province", "--database", d, "holiday", "--date", "1404/07/13", "--name", "روز کودک"]);
    let shown = String::from_utf8(run(&["province", "--database", d, "show", "--json"]).stdout).unwrap();
    let lines: Vec<serde_json::Value> = shown.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let campaign = lines.iter().find(|l| l["key"] == "fee_campaign/childrens_week_1404").unwrap();
    assert_eq!((&campaign["value"]["from"], &campaign["value"]["to"]), (&json!("2025-10-05"), &json!("2025-10-11")));
    assert!(lines.iter().any(|l| l["key"] == "holiday/2025-10-05" && l["value"] == "روز کودک"), "{shown}");
    assert!(lines.iter().any(|l| l["key"] == "membership_terms" && l["center_may_override"] == false), "{shown}");
    // A bad value exits non-zero and publishes nothing.
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_kanoon-server"))
        .args(["province", "--database", d, "set", "--key", "membership_terms", "--value", "{}"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    // The PostgreSQL client blocks: read from a plain thread, not the test's runtime.
    let count = std::thread::scope(|s| s.spawn(|| db.open().storage().province_settings().unwrap().len()).join());
    assert_eq!(count.unwrap(), 3);
}

backend_tests!(
    a_province_setting_reaches_every_centers_pull_and_snapshot,
    a_key_or_value_the_province_does_not_set_is_refused,
    no_desk_enrols_at_the_province,
    a_desk_never_writes_the_provinces_settings_nor_a_locked_key,
    the_binary_publishes_settings_and_campaigns,
);
