//! The snapshot streamed as it is read: events chosen one group (copy or
//! member) at a time however they were pushed, the same body plain and
//! gzip'd, and a cap on snapshots served at once whose slot a client that
//! goes away mid-body frees.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::NaiveDate;
use kanoon_domain::circulation::Event;
use kanoon_protocol::wire::SnapshotResponse;
use kanoon_protocol::{EntityKind, Op};
use kanoon_server::ErrorCode;
use serde_json::json;
use uuid::Uuid;

use crate::support::{Backend, Desk, TestServer, assert_error, op, title_op};

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn event(desk: &Desk, wall_ms: i64, event: &Event) -> Op {
    let entity = match event {
        Event::Membership { .. } => EntityKind::MEMBERSHIP,
        _ => EntityKind::CIRCULATION,
    };
    let body = kanoon_protocol::OpBody::Event { kind: event.kind().into(), data: json!(event) };
    op(desk, entity, Uuid::now_v7(), wall_ms, body)
}

fn lend(desk: &Desk, copy: Uuid, member: Uuid, wall_ms: i64) -> Op {
    event(
        desk,
        wall_ms,
        &Event::Loan {
            copy_id: copy,
            member_id: member,
            lent_on: date("2025-01-01"),
            due_on: date("2025-01-15"),
            overridden: None,
            village_id: None,
        },
    )
}

fn void(desk: &Desk, target: &Op, wall_ms: i64) -> Op {
    event(desk, wall_ms, &Event::Void { target: target.entity_id, reason: "اشتباه".into() })
}

fn renew(desk: &Desk, loan: &Op, wall_ms: i64) -> Op {
    event(desk, wall_ms, &Event::Renewal { loan_id: loan.entity_id, due_on: date("2025-02-01") })
}

fn op_ids(ops: &[Op]) -> BTreeSet<Uuid> {
    ops.iter().map(|o| o.op_id).collect()
}

async fn plain(server: &TestServer, desk: &Desk) -> SnapshotResponse {
    let response = server.client.get(server.api("/snapshot")).bearer_auth(&desk.token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("content-encoding").is_none());
    response.json().await.unwrap()
}

async fn a_streamed_snapshot_folds_each_group_whatever_the_push_order(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.add_center("1234");
    let desk = server.enrol("1234", 1).await;
    let (copy_a, copy_b, member) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let title = title_op(&desk, 1000, "کلیدر");

    // Copy A: a loan voided (closed: left out, with its void and the void's
    // void, which reopens nothing here because it voids the void).
    let voided_loan = lend(&desk, copy_a, member, 2000);
    let first_void = void(&desk, &voided_loan, 2001);
    // Copy A again: an open loan, renewed in a later push.
    let open_a = lend(&desk, copy_a, member, 2100);
    let renewal_a = renew(&desk, &open_a, 2101);
    // Copy B: a loan whose renewal reached the server before the loan
    // (another desk, a restore): kept, as is the open loan.
    let open_b = lend(&desk, copy_b, member, 2200);
    let early_renewal = renew(&desk, &open_b, 2201);
    // A renewal of a loan voided: left out with the loan.
    let renewal_of_voided = renew(&desk, &voided_loan, 2002);
    // The member: an old period voided, a current one.
    let old_period = event(
        &desk,
        3000,
        &Event::Membership {
            member_id: member,
            starts_on: date("2020-01-01"),
            ends_on: date("2099-01-01"),
            fee: kanoon_domain::circulation::Fee::Paid { amount_rials: 1, receipt_number: "1".into() },
        },
    );
    let period_void = void(&desk, &old_period, 3001);
    let current = event(
        &desk,
        3002,
        &Event::Membership {
            member_id: member,
            starts_on: date("2025-01-01"),
            ends_on: date("2099-12-31"),
            fee: kanoon_domain::circulation::Fee::Paid { amount_rials: 1, receipt_number: "2".into() },
        },
    );

    server.push(&desk, std::slice::from_ref(&early_renewal)).await;
    server
        .push(&desk, &[title.clone(), voided_loan.clone(), renewal_of_voided.clone(), open_a.clone(), open_b.clone()])
        .await;
    server.push(&desk, &[first_void.clone(), renewal_a.clone()]).await;
    server.push(&desk, &[old_period.clone(), period_void.clone(), current.clone()]).await;

    let snapshot = plain(&server, &desk).await;
    let expected = op_ids(&[
        title.clone(),
        open_a.clone(),
        renewal_a.clone(),
        open_b.clone(),
        early_renewal.clone(),
        current.clone(),
    ]);
    assert_eq!(op_ids(&snapshot.ops), expected);
    // Records first: the title before any event.
    assert_eq!(snapshot.ops[0].op_id, title.op_id);
    // The same body gzip'd, and the same as the storage collects.
    let gzipped: SnapshotResponse = server.get_gzipped(&desk, "/snapshot").await;
    assert_eq!(gzipped, snapshot);
    let collected = server.call(|s| s.snapshot(desk.center_id).unwrap());
    assert_eq!(collected.cursor, snapshot.cursor);
    assert_eq!(collected.ops.len(), snapshot.ops.len());
}

/// A center whose snapshot is far larger than what the server queues and
/// the socket buffers hold, so a client that reads none of it keeps its
/// snapshot in flight.
async fn large_center(server: &TestServer) -> Desk {
    server.add_center("1234");
    let desk = server.enrol("1234", 1).await;
    let long = "ک".repeat(2_000);
    for batch in 0..20 {
        let ops: Vec<Op> = (0..500).map(|i| title_op(&desk, 1_000 + batch * 500 + i, &long)).collect();
        server.push(&desk, &ops).await;
    }
    desk
}

async fn beyond_the_cap_a_snapshot_is_busy_and_a_client_gone_frees_its_slot(backend: Backend) {
    let server = TestServer::binary_with(backend, &["--max-snapshots", "1"]).await;
    let desk = large_center(&server).await;
    // ~40 MB of JSON: the first client reads the head and then nothing.
    let stalled = server.client.get(server.api("/snapshot")).bearer_auth(&desk.token).send().await.unwrap();
    assert_eq!(stalled.status(), 200);
    let busy = server.client.get(server.api("/snapshot")).bearer_auth(&desk.token).send().await.unwrap();
    assert_eq!(busy.headers()["retry-after"], "30");
    assert_error(busy, 503, ErrorCode::Busy).await;
    // The first client goes away mid-body: its slot is freed.
    drop(stalled);
    let mut served = false;
    for _ in 0..100 {
        let again = server.client.get(server.api("/snapshot")).bearer_auth(&desk.token).send().await.unwrap();
        if again.status() == 200 {
            let snapshot: SnapshotResponse = again.json().await.unwrap();
            assert_eq!(snapshot.ops.len(), 10_000);
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served, "the slot of a client gone was not freed");
}

backend_tests!(
    a_streamed_snapshot_folds_each_group_whatever_the_push_order,
    beyond_the_cap_a_snapshot_is_busy_and_a_client_gone_frees_its_slot,
);
