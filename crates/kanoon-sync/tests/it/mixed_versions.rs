//! The sync issue's acceptance check for mixed versions: an old-version
//! desk (a real `Desk`) and a new-version desk (simulated by hand-made ops
//! over HTTP: a higher schema version, a new top-level field, a member
//! patch with a new field, a new event kind, a new entity kind with a new
//! body type) sync through one real server over HTTP on loopback, and
//! nothing is lost: the old desk keeps every new op whole in its inbox and
//! applies what it knows; the new desk pulls its own ops exactly as it
//! pushed them, and the old desk's edit.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use kanoon_domain::entities::{Center, CenterKind};
use kanoon_protocol::SCHEMA_VERSION;
use kanoon_protocol::wire::{API_PREFIX, EnrolRequest};
use kanoon_server::Storage;
use kanoon_store::{Clock, ManualClock};
use kanoon_sync::{enrol, sync_once};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::over_http::{admin, new_desk, register, serve_on_loopback};

on_both_backends!(
    sqlite_an_old_and_a_new_version_desk_through_one_server_lose_nothing,
    postgres_an_old_and_a_new_version_desk_through_one_server_lose_nothing,
    an_old_and_a_new_version_desk_through_one_server_lose_nothing
);

/// The new-version desk: only its token and ids, speaking raw JSON.
struct NewDesk {
    http: reqwest::Client,
    base: String,
    token: String,
    device_id: Uuid,
    center_id: Uuid,
}

impl NewDesk {
    async fn push(&self, ops: &[Value]) -> Value {
        let r = self
            .http
            .post(format!("{}{API_PREFIX}/push", self.base))
            .bearer_auth(&self.token)
            .json(&json!({ "ops": ops }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    /// Every op of the center after the start, as JSON values.
    async fn pull_all(&self) -> Vec<Value> {
        let mut ops = Vec::new();
        let mut cursor = "0:0".to_owned();
        loop {
            let r = self
                .http
                .get(format!("{}{API_PREFIX}/pull", self.base))
                .bearer_auth(&self.token)
                .query(&[("cursor", cursor.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let page: Value = r.json().await.unwrap();
            ops.extend(page["ops"].as_array().unwrap().iter().cloned());
            cursor = page["cursor"].as_str().unwrap().to_owned();
            if page["more"] != json!(true) {
                return ops;
            }
        }
    }

    /// An op as a newer version writes it.
    fn op(&self, wall_ms: i64, entity: &str, entity_id: Uuid, body: Value) -> Value {
        json!({
            "op_id": Uuid::now_v7(),
            "schema_version": SCHEMA_VERSION + 1,
            "hlc": {"wall_ms": wall_ms, "counter": 0},
            "device_id": self.device_id,
            "center_id": self.center_id,
            "entity": entity,
            "entity_id": entity_id,
            "staff_id": Uuid::now_v7(),
            "body": body,
            // Top-level fields this version does not know.
            "origin": {"app": "kanoon-desk", "version": "2.0.0", "os": "windows-11"},
            "signature": "ed25519:3q2+7w==",
        })
    }
}

fn op_id(op: &Value) -> Uuid {
    op["op_id"].as_str().unwrap().parse().unwrap()
}

async fn an_old_and_a_new_version_desk_through_one_server_lose_nothing(storage: Arc<dyn Storage>) {
    admin(&storage, |s| s.add_center("1234", "مرکز شماره ۱ اراک", CenterKind::Fixed).unwrap());
    let (code_old, code_new) =
        admin(&storage, |s| (s.create_enrol_code("1234").unwrap(), s.create_enrol_code("1234").unwrap()));
    let (url, client) = serve_on_loopback(&storage).await;

    // The old-version desk: this build's Desk, with a member.
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2025, 4, 5, 6, 30, 0).unwrap());
    let old = new_desk(&clock, 1);
    enrol(&old, &client, &url, &code_old, "میز ۱").await.unwrap();
    let m = register(&old, "سارا", 61);
    sync_once(&old, &client).await.unwrap();

    // The new-version desk enrols like any desk.
    let center_id = Center::id_for_code("1234");
    let device_id = Uuid::now_v7();
    let enrolled = client
        .enrol(&EnrolRequest {
            code: code_new,
            center_id: Some(center_id),
            device_id,
            desk_number: 2,
            device_name: "میز ۲ (نسخه تازه)".into(),
        })
        .await
        .unwrap();
    let new = NewDesk { http: reqwest::Client::new(), base: url.clone(), token: enrolled.token, device_id, center_id };
    // It learns the member's current version from the log.
    let log = new.pull_all().await;
    let created = log.iter().find(|o| o["entity"] == "member" && o["entity_id"] == json!(m.id)).unwrap();
    let base = json!({"hlc": created["hlc"], "device_id": created["device_id"]});

    clock.advance(chrono::Duration::minutes(1));
    let now = clock.now().timestamp_millis();
    let patch = new.op(
        now,
        "member",
        m.id,
        json!({"type": "patch", "fields": {
            "address": {"value": "اراک، خیابان شریعتی، کوچه ۱۲", "base": base},
            "email": {"value": "sara.karimi@example.ir", "base": null},
        }}),
    );
    let reservation = new.op(
        now + 1,
        "circulation",
        Uuid::now_v7(),
        json!({"type": "event", "kind": "reservation", "data": {
            "member_id": m.id, "title_id": Uuid::now_v7(), "until": "2025-04-12", "priority": 2,
        }}),
    );
    let workshop = new.op(
        now + 2,
        "workshop",
        Uuid::now_v7(),
        json!({"type": "schedule", "sessions": [{"day": "1404-01-20", "topic": "قصه‌گویی"}], "capacity": 20}),
    );
    let pushed = vec![patch.clone(), reservation.clone(), workshop.clone()];
    let answer = new.push(&pushed).await;
    assert_eq!(answer["accepted"].as_array().unwrap().len(), 3, "{answer}");

    // The old desk pulls: no error, nothing dropped.
    let round = sync_once(&old, &client).await.unwrap();
    assert!(round.pulled >= 3, "{round:?}");
    {
        let d = old.lock().unwrap();
        assert!(d.sync_exceptions().unwrap().is_empty(), "{:?}", d.sync_exceptions());
        for (op, applied) in [(&patch, true), (&reservation, false), (&workshop, false)] {
            let kept = d.pulled_op(op_id(op)).unwrap();
            assert_eq!(kept, Some((op.clone(), applied)), "kept whole in the inbox");
        }
        let member = d.member(m.id).unwrap();
        assert_eq!(member.details.address, "اراک، خیابان شریعتی، کوچه ۱۲", "the known field applied");
    }

    // The old desk edits the same member (a field it knows) and pushes.
    clock.advance(chrono::Duration::minutes(1));
    {
        let mut d = old.lock().unwrap();
        let mut details = d.member(m.id).unwrap().details;
        details.guardian_phone = Some("09187654321".into());
        d.edit_member(m.id, details).unwrap();
    }
    let round = sync_once(&old, &client).await.unwrap();
    assert_eq!(round.pushed, 1, "{round:?}");

    // The new desk pulls: its own ops exactly as it pushed them (every
    // unknown field present), and the old desk's edit.
    let log = new.pull_all().await;
    for op in &pushed {
        let served = log.iter().find(|o| op_id(o) == op_id(op)).unwrap();
        assert_eq!(served, op, "served as pushed");
    }
    let edit = log.last().unwrap();
    assert_eq!(edit["entity"], "member");
    assert_eq!(edit["entity_id"], json!(m.id));
    assert_eq!(edit["schema_version"], json!(SCHEMA_VERSION));
    assert_eq!(edit["device_id"], json!(old.lock().unwrap().identity().unwrap().device_id));
    assert_eq!(edit["body"]["fields"]["guardian_phone"]["value"], "09187654321");
    assert_eq!(
        edit["body"]["fields"]["guardian_phone"]["base"]["device_id"], created["device_id"],
        "it replaced the value the member was created with"
    );

    // The old desk's state: its edit and the new desk's known-field change.
    let member = old.lock().unwrap().member(m.id).unwrap();
    assert_eq!(member.guardian_phone.as_deref(), Some("09187654321"));
    assert_eq!(member.details.address, "اراک، خیابان شریعتی، کوچه ۱۲");
    assert!(old.lock().unwrap().sync_exceptions().unwrap().is_empty());
}
