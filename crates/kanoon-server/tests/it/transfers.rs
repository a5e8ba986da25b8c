//! Copies that travel: a copy transferred to another center reaches that
//! center's desks (its record and its transfers, in pulls and in the
//! snapshot), the receiving center records its loans, and a center that
//! never held the copy gets nothing of it and changes nothing of it.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use kanoon_domain::circulation::Event;
use kanoon_protocol::wire::{PushResponse, SnapshotResponse};
use kanoon_protocol::{EntityKind, Op, OpBody};
use kanoon_server::ErrorCode;
use serde_json::json;
use uuid::Uuid;

use crate::support::{Backend, Desk, TestServer, op};

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn event_op(desk: &Desk, wall_ms: i64, event: &Event) -> Op {
    let body = serde_json::from_value::<OpBody>(json!({"type": "event", "kind": event.kind(), "data": event})).unwrap();
    op(desk, EntityKind::CIRCULATION, Uuid::now_v7(), wall_ms, body)
}

/// A copy catalogued at `desk`'s center (its first record op).
fn copy_op(desk: &Desk, copy: Uuid, wall_ms: i64) -> Op {
    let body = serde_json::from_value::<OpBody>(json!({"type": "patch", "fields": {
        "title_id": {"value": Uuid::now_v7(), "base": null},
        "center_id": {"value": desk.center_id, "base": null},
        "registration_number": {"value": "۱۲", "base": null},
    }}))
    .unwrap();
    op(desk, EntityKind::COPY, copy, wall_ms, body)
}

fn withdraw_op(desk: &Desk, copy: Uuid, wall_ms: i64) -> Op {
    let body = serde_json::from_value::<OpBody>(
        json!({"type": "patch", "fields": {"withdrawn": {"value": "lost", "base": null}}}),
    )
    .unwrap();
    op(desk, EntityKind::COPY, copy, wall_ms, body)
}

fn loan(desk: &Desk, copy: Uuid, wall_ms: i64) -> Op {
    event_op(
        desk,
        wall_ms,
        &Event::Loan {
            copy_id: copy,
            member_id: Uuid::now_v7(),
            lent_on: date("2025-01-01"),
            due_on: date("2025-01-15"),
            overridden: None,
            village_id: None,
        },
    )
}

fn back(desk: &Desk, lent: &Op, copy: Uuid, wall_ms: i64) -> Op {
    event_op(desk, wall_ms, &Event::Return { loan_id: lent.entity_id, copy_id: copy, returned_on: date("2025-01-02") })
}

fn transfer(desk: &Desk, copy: Uuid, from: Uuid, to: Uuid, wall_ms: i64) -> Op {
    event_op(desk, wall_ms, &Event::Transfer { copy_id: copy, from_center: from, to_center: to })
}

fn accepted(answer: &PushResponse, ops: &[&Op]) {
    assert!(answer.rejected.is_empty(), "{answer:?}");
    assert_eq!(answer.accepted, ops.iter().map(|o| o.op_id).collect::<Vec<_>>());
}

fn not_owner(answer: &PushResponse, probe: &Op) {
    assert!(answer.accepted.is_empty(), "{answer:?}");
    assert_eq!(answer.rejected.len(), 1, "{answer:?}");
    assert_eq!(answer.rejected[0].op_id, probe.op_id);
    assert_eq!(answer.rejected[0].code, Some(ErrorCode::NotOwner), "{answer:?}");
}

/// Every op a desk of this center pulls, from the start.
async fn pulled(server: &TestServer, desk: &Desk) -> Vec<Uuid> {
    let mut ids = Vec::new();
    let mut query = String::new();
    loop {
        let page = server.pull(desk, &query).await;
        ids.extend(page.ops.iter().map(|o| o.op_id));
        if !page.more {
            return ids;
        }
        query = format!("?cursor={}&limit=3", page.cursor);
    }
}

async fn snapshot_ids(server: &TestServer, desk: &Desk) -> BTreeSet<Uuid> {
    let response = server.client.get(server.api("/snapshot")).bearer_auth(&desk.token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let got: SnapshotResponse = response.json().await.unwrap();
    got.ops.iter().map(|o| o.op_id).collect()
}

async fn a_transferred_copy_reaches_the_receiving_center_and_no_third_one(backend: Backend) {
    let server = TestServer::start(backend).await;
    for code in ["1234", "5678", "9999"] {
        server.add_center(code);
    }
    let (a, b, c) = (server.enrol("1234", 1).await, server.enrol("5678", 1).await, server.enrol("9999", 1).await);
    let copy = Uuid::now_v7();
    // A catalogues the copy, lends it and takes it back, then sends it to B.
    let created = copy_op(&a, copy, 1000);
    let lent_at_a = loan(&a, copy, 1001);
    let back_at_a = back(&a, &lent_at_a, copy, 1002);
    let sent = transfer(&a, copy, a.center_id, b.center_id, 1003);
    accepted(
        &server.push(&a, &[created.clone(), lent_at_a.clone(), back_at_a.clone()]).await,
        &[&created, &lent_at_a, &back_at_a],
    );
    // B has pulled everything before the transfer: the copy's record
    // comes again after its cursor.
    let before = server.pull(&b, "").await.cursor;
    accepted(&server.push(&a, std::slice::from_ref(&sent)).await, &[&sent]);
    let page = server.pull(&b, &format!("?cursor={before}")).await;
    let got: Vec<Uuid> = page.ops.iter().map(|o| o.op_id).collect();
    assert_eq!(got, vec![created.op_id, sent.op_id], "the record before its transfer, A's loans stay at A");
    assert_eq!(snapshot_ids(&server, &b).await, BTreeSet::from([created.op_id, sent.op_id]));

    // B lends it and takes it back: B's own; C, which never held it,
    // lends, withdraws or transfers nothing of it.
    let lent_at_b = loan(&b, copy, 2000);
    let back_at_b = back(&b, &lent_at_b, copy, 2001);
    accepted(&server.push(&b, &[lent_at_b.clone(), back_at_b.clone()]).await, &[&lent_at_b, &back_at_b]);
    for probe in [
        loan(&c, copy, 2002),
        back(&c, &lent_at_b, copy, 2002),
        withdraw_op(&c, copy, 2002),
        copy_op(&c, copy, 2002),
        transfer(&c, copy, c.center_id, b.center_id, 2002),
    ] {
        not_owner(&server.push(&c, std::slice::from_ref(&probe)).await, &probe);
    }
    // A transfer leaves only from the pusher's center.
    let forged = transfer(&a, copy, b.center_id, c.center_id, 2003);
    not_owner(&server.push(&a, std::slice::from_ref(&forged)).await, &forged);
    assert!(pulled(&server, &c).await.is_empty(), "C gets nothing of the copy");
    assert!(snapshot_ids(&server, &c).await.is_empty());

    // B marks it lost, then finds it and sends it back: A gets both.
    let lost = withdraw_op(&b, copy, 3000);
    let sent_back = transfer(&b, copy, b.center_id, a.center_id, 3001);
    accepted(&server.push(&b, &[lost.clone(), sent_back.clone()]).await, &[&lost, &sent_back]);
    let at_a = pulled(&server, &a).await;
    let expected_a = [&created, &lent_at_a, &back_at_a, &sent, &lost, &sent_back].map(|o| o.op_id);
    assert_eq!(at_a, expected_a, "A: its own ops, then B's record change and transfer back; B's loans stay at B");
    let at_b = pulled(&server, &b).await;
    let expected_b = [&created, &sent, &lent_at_b, &back_at_b, &lost, &sent_back].map(|o| o.op_id);
    assert_eq!(at_b, expected_b);
    // The snapshots: the record and every transfer (returned loans are history).
    let travels = BTreeSet::from([created.op_id, sent.op_id, lost.op_id, sent_back.op_id]);
    assert_eq!(snapshot_ids(&server, &a).await, travels);
    assert_eq!(snapshot_ids(&server, &b).await, travels);
    assert!(pulled(&server, &c).await.is_empty());
    // Pushed again (an answer lost): duplicates, shared no second time.
    let again = server.push(&b, &[lost.clone(), sent_back.clone()]).await;
    assert_eq!(again.duplicates, vec![lost.op_id, sent_back.op_id]);
    assert_eq!(pulled(&server, &a).await, expected_a);
}

async fn a_copy_transferred_before_its_record_arrived_still_reaches_the_receiver(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.add_center("1234");
    server.add_center("5678");
    let (a, b) = (server.enrol("1234", 1).await, server.enrol("5678", 1).await);
    let copy = Uuid::now_v7();
    // The push with the copy's record was delayed: the transfer comes first.
    let sent = transfer(&a, copy, a.center_id, b.center_id, 1001);
    accepted(&server.push(&a, std::slice::from_ref(&sent)).await, &[&sent]);
    let created = copy_op(&a, copy, 1000);
    accepted(&server.push(&a, std::slice::from_ref(&created)).await, &[&created]);
    assert_eq!(pulled(&server, &b).await, vec![sent.op_id, created.op_id]);
    let lent = loan(&b, copy, 2000);
    accepted(&server.push(&b, std::slice::from_ref(&lent)).await, &[&lent]);
}

/// Transfers and changes of the same copies pushed at once by two desks of
/// the sending center: every change of a copy reaches the receiving center,
/// whether it committed before or after the transfer (PostgreSQL pushes
/// run side by side; the copy's own lock keeps each copy's pushes in turn).
async fn copy_changes_racing_their_transfers_all_reach_the_receiver(backend: Backend) {
    const COPIES: usize = 24;
    let server = TestServer::start(backend).await;
    server.add_center("1234");
    server.add_center("5678");
    let (a1, a2, b) = (server.enrol("1234", 1).await, server.enrol("1234", 2).await, server.enrol("5678", 1).await);
    let copies: Vec<Uuid> = (0..COPIES).map(|_| Uuid::now_v7()).collect();
    let records: Vec<Op> = copies.iter().enumerate().map(|(i, &c)| copy_op(&a1, c, 1000 + i as i64)).collect();
    accepted(&server.push(&a1, &records).await, &records.iter().collect::<Vec<_>>());
    let sends: Vec<Op> =
        copies.iter().enumerate().map(|(i, &c)| transfer(&a1, c, a1.center_id, b.center_id, 2000 + i as i64)).collect();
    let changes: Vec<Op> = copies.iter().enumerate().map(|(i, &c)| withdraw_op(&a2, c, 2000 + i as i64)).collect();
    let sending = async {
        for s in &sends {
            accepted(&server.push(&a1, std::slice::from_ref(s)).await, &[s]);
        }
    };
    let changing = async {
        for c in &changes {
            accepted(&server.push(&a2, std::slice::from_ref(c)).await, &[c]);
        }
    };
    tokio::join!(sending, changing);
    let at_b: BTreeSet<Uuid> = pulled(&server, &b).await.into_iter().collect();
    let expected: BTreeSet<Uuid> = records.iter().chain(&sends).chain(&changes).map(|o| o.op_id).collect();
    assert_eq!(at_b, expected, "every record, transfer and change of the sent copies, once");
}

backend_tests!(
    a_transferred_copy_reaches_the_receiving_center_and_no_third_one,
    a_copy_transferred_before_its_record_arrived_still_reaches_the_receiver,
    copy_changes_racing_their_transfers_all_reach_the_receiver,
);

/// A database of the version before copies travelled, with a copy already
/// sent from A to B: opening it with this version shares the copy's
/// record and transfer with B, after every position B may have pulled.
#[test]
fn a_copy_transferred_before_the_upgrade_reaches_the_receiver_after_it() {
    use kanoon_domain::entities::Center;
    use kanoon_protocol::wire::Cursor;
    use kanoon_server::{APPLICATION_ID, MIGRATIONS, SqliteStorage, Storage};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("province.sqlite");
    let (a_id, b_id) = (Center::id_for_code("1234"), Center::id_for_code("5678"));
    let a = Desk { device_id: Uuid::now_v7(), center_id: a_id, token: String::new() };
    let copy = Uuid::now_v7();
    let (created, lent, sent) = (copy_op(&a, copy, 1000), loan(&a, copy, 1001), transfer(&a, copy, a_id, b_id, 1002));
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "application_id", APPLICATION_ID).unwrap();
        for (_, sql) in &MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        for (id, code) in [(a_id, "1234"), (b_id, "5678")] {
            conn.execute(
                "INSERT INTO centers (id, code, name, kind, created_at) VALUES (?1, ?2, 'مرکز', 'fixed', 't')",
                [id.to_string(), code.to_owned()],
            )
            .unwrap();
        }
        conn.execute(
            "INSERT INTO devices (id, center_id, desk_number, name, token_hash, enrolled_at) VALUES (?1, ?2, 1, 'میز', 'h', 't')",
            [a.device_id.to_string(), a_id.to_string()],
        )
        .unwrap();
        for op in [&created, &lent, &sent] {
            conn.execute(
                "INSERT INTO ops (op_id, center_id, scope, entity, entity_id, device_id, pushed_by, hlc, op, received_at)
                 VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?5, ?6, ?7, 't')",
                [
                    op.op_id.to_string(),
                    a_id.to_string(),
                    op.entity.as_str().to_owned(),
                    op.entity_id.to_string(),
                    a.device_id.to_string(),
                    op.hlc.to_sortable(),
                    serde_json::to_string(op).unwrap(),
                ],
            )
            .unwrap();
        }
    }
    let storage = SqliteStorage::open(&path).unwrap();
    // B had pulled to the end of the log before the upgrade.
    let epoch = storage.epoch();
    let page = storage.pull(b_id, Cursor { epoch, seq: 3 }, 100).unwrap();
    assert_eq!(page.ops.iter().map(|o| o.op_id).collect::<Vec<_>>(), vec![created.op_id, sent.op_id]);
    // The next op takes a position after the shares.
    let b = Desk { device_id: Uuid::now_v7(), center_id: b_id, token: String::new() };
    storage
        .with_connection(|c| {
            c.execute(
                "INSERT INTO devices (id, center_id, desk_number, name, token_hash, enrolled_at) VALUES (?1, ?2, 1, 'میز', 'h2', 't')",
                [b.device_id.to_string(), b_id.to_string()],
            )
        })
        .unwrap();
    let lent_at_b = loan(&b, copy, 2000);
    let answer =
        storage.push(b_id, b.device_id, &[kanoon_server::IncomingOp::from_op(lent_at_b.clone()).unwrap()]).unwrap();
    assert_eq!(answer.accepted, vec![lent_at_b.op_id]);
    let next = storage.pull(b_id, page.cursor, 100).unwrap();
    assert_eq!(next.ops.iter().map(|o| o.op_id).collect::<Vec<_>>(), vec![lent_at_b.op_id]);
}
