//! The snapshot a new or reinstalled desk starts from: records and the
//! events still needed, one consistent read, a cursor the next pull
//! continues after.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use kanoon_domain::circulation::{Event, Fee};
use kanoon_protocol::wire::{Cursor, SnapshotResponse};
use kanoon_protocol::{EntityKind, Hlc, Op, OpBody, SCHEMA_VERSION};
use kanoon_server::ErrorCode;
use serde_json::json;
use uuid::Uuid;

use crate::support::{Backend, Desk, TestServer, assert_error, loan_op, title_op};

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// An op built from its JSON (so it has whatever fields `Op` has).
fn op(desk: &Desk, entity: &str, id: Uuid, wall_ms: i64, body: serde_json::Value) -> Op {
    serde_json::from_value(json!({
        "op_id": Uuid::now_v7(),
        "schema_version": SCHEMA_VERSION,
        "hlc": Hlc::new(wall_ms, 0),
        "device_id": desk.device_id,
        "center_id": desk.center_id,
        "entity": entity,
        "entity_id": id,
        "staff_id": null,
        "body": body,
    }))
    .unwrap()
}

fn event_op(desk: &Desk, entity: &str, id: Uuid, wall_ms: i64, event: &Event) -> Op {
    op(desk, entity, id, wall_ms, json!({"type": "event", "kind": event.kind(), "data": event}))
}

fn patch_op(desk: &Desk, entity: &str, id: Uuid, wall_ms: i64, field: &str, value: serde_json::Value) -> Op {
    op(desk, entity, id, wall_ms, json!({"type": "patch", "fields": {field: {"value": value, "base": null}}}))
}

/// A loan of `copy` and, when `returned`, its return: (loan op, return op).
fn loan(desk: &Desk, copy: Uuid, member: Uuid, wall_ms: i64, returned: bool) -> Vec<Op> {
    let id = Uuid::now_v7();
    let lent = Event::Loan {
        copy_id: copy,
        member_id: member,
        lent_on: date("2025-01-01"),
        due_on: date("2025-01-15"),
        overridden: None,
        village_id: None,
    };
    let mut ops = vec![event_op(desk, EntityKind::CIRCULATION, id, wall_ms, &lent)];
    if returned {
        let back = Event::Return { loan_id: id, copy_id: copy, returned_on: date("2025-01-10") };
        ops.push(event_op(desk, EntityKind::CIRCULATION, Uuid::now_v7(), wall_ms + 1, &back));
    }
    ops
}

fn period(desk: &Desk, member: Uuid, wall_ms: i64, ends_on: &str) -> Op {
    let event = Event::Membership {
        member_id: member,
        starts_on: date("2020-01-01"),
        ends_on: date(ends_on),
        fee: Fee::Paid { amount_rials: 350_000, receipt_number: "1".into() },
    };
    event_op(desk, EntityKind::MEMBERSHIP, Uuid::now_v7(), wall_ms, &event)
}

async fn snapshot(server: &TestServer, desk: &Desk) -> SnapshotResponse {
    let response = server.client.get(server.api("/snapshot")).bearer_auth(&desk.token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn ids(ops: &[Op]) -> BTreeSet<Uuid> {
    ops.iter().map(|o| o.op_id).collect()
}

async fn a_returned_loan_is_not_in_the_snapshot_an_open_one_is(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.add_center("1234");
    server.add_center("5678");
    let desk = server.enrol("1234", 1).await;
    let other = server.enrol("5678", 1).await;
    let (copy, member) = (Uuid::now_v7(), Uuid::now_v7());

    let title = title_op(&desk, 1000, "کلیدر");
    let copy_record = patch_op(&desk, EntityKind::COPY, copy, 1001, "registration_number", json!("1"));
    let member_record = patch_op(&desk, EntityKind::MEMBER, member, 1002, "first_name", json!("سارا"));
    let setting = patch_op(&desk, "settings", Uuid::now_v7(), 1003, "loan_days", json!(14));
    let returned = loan(&desk, copy, member, 2000, true);
    let open = loan(&desk, copy, member, 3000, false);
    // A renewal of the open loan, and a renewal of the returned one.
    let renew = |loan: &Op, wall| {
        let event = Event::Renewal { loan_id: loan.entity_id, due_on: date("2025-02-01") };
        event_op(&desk, EntityKind::CIRCULATION, Uuid::now_v7(), wall, &event)
    };
    let (renewed_open, renewed_returned) = (renew(&open[0], 3001), renew(&returned[0], 2002));
    // A return of a loan an offline desk has not pushed yet: kept.
    let orphan = Event::Return { loan_id: Uuid::now_v7(), copy_id: copy, returned_on: date("2025-01-03") };
    let orphan = event_op(&desk, EntityKind::CIRCULATION, Uuid::now_v7(), 3002, &orphan);
    // A loan voided as a mistake: left out with its void.
    let voided = loan(&desk, Uuid::now_v7(), member, 3003, false);
    let void = Event::Void { target: voided[0].entity_id, reason: "اشتباه".into() };
    let void = event_op(&desk, EntityKind::CIRCULATION, Uuid::now_v7(), 3004, &void);
    // Membership: an old period left out, the current one kept.
    let (old_period, current_period) =
        (period(&desk, member, 900, "2021-01-01"), period(&desk, member, 901, "2099-01-01"));
    // Kinds this server does not understand are never dropped.
    let (unknown_shape, future) = (loan_op(&desk, 4000), {
        let mut op = loan_op(&desk, 4001);
        op.entity = EntityKind::new("future_thing");
        op
    });
    let mut ops = vec![title.clone(), copy_record.clone(), member_record.clone(), setting.clone()];
    ops.extend(returned.clone());
    ops.extend(open.clone());
    ops.extend([renewed_open.clone(), renewed_returned.clone(), orphan.clone()]);
    ops.extend(voided.clone());
    ops.extend([void.clone(), old_period.clone(), current_period.clone(), unknown_shape.clone(), future.clone()]);
    server.push(&desk, &ops).await;
    let elsewhere = loan(&other, Uuid::now_v7(), Uuid::now_v7(), 5000, false);
    server.push(&other, &elsewhere).await;

    let got = snapshot(&server, &desk).await;
    let expected: BTreeSet<Uuid> = ids(&[
        title,
        copy_record.clone(),
        member_record.clone(),
        setting,
        open[0].clone(),
        renewed_open,
        orphan,
        current_period,
        unknown_shape,
        future,
    ]);
    assert_eq!(ids(&got.ops), expected);
    // Ops come exactly as pushed, records before events.
    assert!(got.ops.contains(&copy_record));
    let first_event = got.ops.iter().position(|o| matches!(o.body, OpBody::Event { .. })).unwrap();
    assert!(got.ops[..first_event].iter().all(|o| matches!(o.body, OpBody::Patch { .. })));
    assert_eq!(got.ops.len(), expected.len(), "nothing twice");
    // The cursor is the end of the log as read (the other center's ops included).
    let end = server.pull(&desk, "").await.cursor;
    assert!(got.cursor.seq >= end.seq && got.cursor.epoch == server.storage.epoch(), "{got:?} {end}");
    assert_eq!(got.cursor.seq, u64::try_from(server.op_count()).unwrap());

    // The other center sees its own loan and the province's title only.
    let theirs = snapshot(&server, &other).await;
    assert_eq!(theirs.ops.len(), 2);
    assert!(theirs.ops.iter().any(|o| o.op_id == elsewhere[0].op_id));

    // The same through the trait, and an empty center.
    let center = desk.center_id;
    let direct = server.call(move |s| s.snapshot(center)).unwrap();
    assert_eq!(direct.cursor, got.cursor);
    assert_eq!(direct.ops.len(), got.ops.len());
    let nobody = server.call(|s| s.snapshot(Uuid::now_v7())).unwrap();
    assert_eq!((nobody.ops.len(), nobody.cursor), (1, got.cursor), "the province's title only");
}

async fn an_op_pushed_after_the_snapshot_comes_in_the_next_pull_not_lost_not_twice(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.add_center("1234");
    let desk = server.enrol("1234", 1).await;
    let (copy, member) = (Uuid::now_v7(), Uuid::now_v7());
    let before = loan(&desk, copy, member, 1000, false);
    server.push(&desk, &before).await;
    let got = snapshot(&server, &desk).await;
    assert_eq!(ids(&got.ops), ids(&before));

    // Pushed after the snapshot: the return of the open loan and a new title.
    let back = Event::Return { loan_id: before[0].entity_id, copy_id: copy, returned_on: date("2025-01-10") };
    let after =
        vec![event_op(&desk, EntityKind::CIRCULATION, Uuid::now_v7(), 2000, &back), title_op(&desk, 2001, "سووشون")];
    server.push(&desk, &after).await;
    let page = server.pull(&desk, &format!("?cursor={}", got.cursor)).await;
    assert_eq!(page.ops, after, "exactly the ops after the snapshot");
    assert!(!page.more);
    let page = server.pull(&desk, &format!("?cursor={}", page.cursor)).await;
    assert!(page.ops.is_empty());

    // The next snapshot leaves the now returned loan out.
    let again = snapshot(&server, &desk).await;
    assert_eq!(ids(&again.ops), ids(&after[1..]));
    assert_eq!(again.cursor, Cursor { epoch: got.cursor.epoch, seq: got.cursor.seq + 2 });
}

async fn a_snapshot_needs_a_device_token_and_is_gzipped_when_asked(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.add_center("1234");
    let desk = server.enrol("1234", 1).await;
    let ops: Vec<_> = (0..50).map(|i| title_op(&desk, 1000 + i, "قصه‌های مجید")).collect();
    server.push(&desk, &ops).await;
    let response = server.client.get(server.api("/snapshot")).send().await.unwrap();
    assert_error(response, 401, ErrorCode::Unauthorized).await;
    let response = server.client.get(server.api("/snapshot")).bearer_auth("nope").send().await.unwrap();
    assert_error(response, 401, ErrorCode::Unauthorized).await;

    let got: SnapshotResponse = server.get_gzipped(&desk, "/snapshot").await;
    assert_eq!(got.ops, ops);
}

/// In memory (tests, simulations) the snapshot is read on the one connection.
#[test]
fn an_in_memory_server_reads_its_snapshot_too() {
    let storage = kanoon_server::SqliteStorage::open_in_memory().unwrap();
    let s: &dyn kanoon_server::Storage = &storage;
    s.add_center("1234", "مرکز", kanoon_domain::entities::CenterKind::Fixed).unwrap();
    let code = s.create_enrol_code("1234").unwrap();
    let device_id = Uuid::now_v7();
    let request = kanoon_protocol::wire::EnrolRequest {
        code,
        center_id: None,
        device_id,
        desk_number: 1,
        device_name: "میز".into(),
    };
    let enrolled = s.enrol(&request).unwrap();
    let desk = Desk { device_id, center_id: enrolled.center_id, token: enrolled.token };
    let ops = loan(&desk, Uuid::now_v7(), Uuid::now_v7(), 1000, true);
    let incoming: Vec<_> = ops.iter().map(|o| kanoon_server::IncomingOp::from_op(o.clone()).unwrap()).collect();
    s.push(desk.center_id, device_id, &incoming).unwrap();
    let got = s.snapshot(desk.center_id).unwrap();
    assert!(got.ops.is_empty(), "a returned loan only");
    assert_eq!(got.cursor.seq, 2);
}

backend_tests!(
    a_returned_loan_is_not_in_the_snapshot_an_open_one_is,
    an_op_pushed_after_the_snapshot_comes_in_the_next_pull_not_lost_not_twice,
    a_snapshot_needs_a_device_token_and_is_gzipped_when_asked,
);
