//! A copy sent to another center: the receiving center's desks get its
//! record and its transfer (as the server serves them: the copy's record
//! ops, then the transfer, or the other way round, in any pages, or in a
//! snapshot) and lend it; the transfer back reaches the sender; what a
//! third center writes about the copy is set aside.

use std::sync::Arc;

use kanoon_domain::entities::{CenterKind, WithdrawReason};
use kanoon_protocol::wire::Cursor;
use kanoon_protocol::{Op, OpBody};
use kanoon_store::catalog::CopyStatus;
use kanoon_store::circulation::BookStatus;
use kanoon_store::{Desk, SetupRequest};
use uuid::Uuid;

use crate::support::*;

fn center_desk(f: &Fixture, code: &str, manager: &str) -> Desk {
    let mut desk = Desk::open_in_memory().unwrap().with_clock(Arc::new(f.clock.clone()));
    let request = SetupRequest {
        center_code: code.into(),
        center_name: format!("مرکز {code}"),
        center_kind: CenterKind::Fixed,
        manager_username: manager.into(),
        ..setup_request()
    };
    desk.setup(request, PASSWORD).unwrap();
    desk
}

fn is_transfer(op: &Op) -> bool {
    matches!(&op.body, OpBody::Event { kind, .. } if kind == "transfer")
}

/// What the server serves a center that receives `copy`: the province's
/// ops (centers, titles), then the copy's record ops, then the transfer.
fn served_to_receiver(ops: &[Op], copy: Uuid) -> Vec<Op> {
    let province = ops.iter().filter(|o| matches!(o.entity.as_str(), "center" | "title"));
    let record = ops.iter().filter(|o| o.entity.as_str() == "copy" && o.entity_id == copy);
    let transfer = ops.iter().filter(|o| is_transfer(o));
    province.chain(record).chain(transfer).cloned().collect()
}

fn apply_in_pages(desk: &mut Desk, ops: &[Op], page: usize) -> usize {
    let mut exceptions = 0;
    for (i, chunk) in ops.chunks(page).enumerate() {
        exceptions += desk.apply_pulled(chunk, Cursor { epoch: 1, seq: i as u64 + 1 }).unwrap().exceptions;
    }
    exceptions
}

#[test]
fn a_copy_sent_to_another_center_is_lent_there_after_sync_and_comes_back() {
    let mut a = desk();
    let mut b = center_desk(&a, "5678", "manager_b");
    // B's center record reaches A (province-wide), so A can name it.
    let b_ops = b.ops_to_push(1000).unwrap();
    a.desk.apply_pulled(&b_ops, Cursor { epoch: 1, seq: 1 }).unwrap();
    books(&mut a.desk, "سفر به کوه", 11, 2);
    let at_a = register(&mut a.desk, "علی", "رضایی", 2);
    assert_eq!(lend(&mut a.desk, at_a.id, &["11"]).books[0].status, BookStatus::Lent);
    a.desk.check_in("11").unwrap();
    let copy = a.desk.copy_by_registration_number("11").unwrap().id;
    a.desk.transfer_copy(copy, "5678").unwrap();
    let a_ops = a.desk.ops_to_push(1000).unwrap();
    let served = served_to_receiver(&a_ops, copy);
    assert!(served.iter().all(|o| o.entity.as_str() != "member"), "A's members and loans stay at A");

    // Page by page, the transfer last: no exception, the copy is B's to lend.
    assert_eq!(apply_in_pages(&mut b, &served, 1), 0);
    let here = b.copy(copy).unwrap();
    assert_eq!(here.status, CopyStatus::Available, "{here:?}");
    assert_eq!(b.find_titles("سفر", 5).unwrap()[0].available, 1, "in this center's collection");
    let at_b = register(&mut b, "سارا", "کریمی", 3);
    let out = lend(&mut b, at_b.id, &["11"]);
    assert_eq!(out.books[0].status, BookStatus::Lent, "{out:?}");
    b.check_in("11").unwrap();

    // Another desk of B gets the transfer before the record (a delayed
    // push), or bootstraps from a snapshot (records first): the same.
    for ops in [
        served.iter().filter(|o| is_transfer(o)).chain(served.iter().filter(|o| !is_transfer(o))).cloned().collect(),
        served.clone(),
    ] {
        let mut other = center_desk(&a, "5678", "manager_b2");
        assert_eq!(apply_in_pages(&mut other, &ops, 2), 0);
        assert_eq!(other.copy(copy).unwrap().status, CopyStatus::Available);
    }
    let mut fresh = center_desk(&a, "5678", "manager_b3");
    let report = fresh.apply_snapshot(&served, Cursor { epoch: 1, seq: 9 }).unwrap();
    assert_eq!(report.exceptions, 0, "{report:?}");
    assert_eq!(fresh.copy(copy).unwrap().status, CopyStatus::Available);

    // A can no longer lend it; B sends it back and A lends it again.
    let again = register(&mut a.desk, "مینا", "نوری", 4);
    assert_eq!(lend(&mut a.desk, again.id, &["11"]).books[0].status, BookStatus::Refused);
    b.transfer_copy(copy, "1234").unwrap();
    let back: Vec<Op> = b.ops_to_push(1000).unwrap().into_iter().filter(is_transfer).collect();
    assert_eq!(back.len(), 1);
    assert_eq!(a.desk.apply_pulled(&back, Cursor { epoch: 1, seq: 20 }).unwrap().exceptions, 0);
    assert_eq!(a.desk.copy(copy).unwrap().status, CopyStatus::Available);
    assert_eq!(lend(&mut a.desk, again.id, &["11"]).books[0].status, BookStatus::Lent);
    assert!(matches!(b.copy(copy).unwrap().status, CopyStatus::Elsewhere { .. }));
}

#[test]
fn a_third_center_changes_nothing_of_a_copy_it_never_held() {
    let mut a = desk();
    let mut b = center_desk(&a, "5678", "manager_b");
    let b_ops = b.ops_to_push(1000).unwrap();
    a.desk.apply_pulled(&b_ops, Cursor { epoch: 1, seq: 1 }).unwrap();
    books(&mut a.desk, "سفر به کوه", 11, 1);
    let copy = a.desk.copy_by_registration_number("11").unwrap().id;
    a.desk.transfer_copy(copy, "5678").unwrap();
    let served = served_to_receiver(&a.desk.ops_to_push(1000).unwrap(), copy);
    apply_in_pages(&mut b, &served, 50);
    // Center 9999 withdraws it and sends it on, as an older server could still serve.
    let mut c = center_desk(&a, "9999", "manager_c");
    c.apply_pulled(&served, Cursor { epoch: 1, seq: 1 }).unwrap();
    let c_center = c.identity().unwrap().center.id;
    let theirs = |op: &Op| Op { op_id: Uuid::now_v7(), center_id: c_center, device_id: Uuid::now_v7(), ..op.clone() };
    let record = served.iter().find(|o| o.entity.as_str() == "copy").unwrap();
    let withdraw = {
        let mut op = theirs(record);
        op.body = serde_json::from_value(serde_json::json!({"type": "patch", "fields":
            {"withdrawn": {"value": WithdrawReason::Lost.as_str(), "base": null}}}))
        .unwrap();
        op
    };
    let transfer = served.iter().find(|o| is_transfer(o)).unwrap();
    let mut send_on = theirs(transfer);
    send_on.entity_id = Uuid::now_v7();
    send_on.body = serde_json::from_value(serde_json::json!({"type": "event", "kind": "transfer", "data":
        {"kind": "transfer", "copy_id": copy, "from_center": c_center, "to_center": a.desk.identity().unwrap().center.id}}))
    .unwrap();
    let report = b.apply_pulled(&[withdraw, send_on], Cursor { epoch: 1, seq: 99 }).unwrap();
    assert_eq!((report.applied, report.exceptions), (0, 2), "{report:?} {:?}", b.sync_exceptions().unwrap());
    assert_eq!(b.sync_exceptions().unwrap().iter().filter(|e| e.code == "not_owner").count(), 2);
    assert_eq!(b.copy(copy).unwrap().status, CopyStatus::Available, "still B's, on its shelf");
    // Later pages retry them: they never apply.
    b.apply_pulled(&[], Cursor { epoch: 1, seq: 100 }).unwrap();
    assert_eq!(b.copy(copy).unwrap().status, CopyStatus::Available);
}
