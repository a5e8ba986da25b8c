//! Found by the sync simulation: the clock a desk adopted from pulled ops
//! must survive a restart, or an edit made after it is stamped earlier
//! than the value it replaced and is lost everywhere but on that desk.

use std::sync::Arc;

use chrono::Duration;
use kanoon_protocol::wire::Cursor;
use kanoon_store::{Desk, ManualClock, SetupRequest};

use crate::support::*;

#[test]
fn an_edit_after_a_restart_still_sorts_after_the_value_it_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.sqlite");
    let f = desk();
    let mut a = f.desk;
    // Desk B's clock runs 3 minutes behind A's (within what is adopted).
    let b_clock = ManualClock::new(start_time() - Duration::minutes(3));
    let mut b = Desk::open(&path).unwrap().with_clock(Arc::new(b_clock.clone()));
    b.setup(SetupRequest { desk_number: 2, manager_username: "manager2".into(), ..setup_request() }, PASSWORD).unwrap();
    let m = register(&mut a, "سارا", "کریمی", 31);
    let mut edited = m.details.clone();
    edited.address = "نشانی الف".into();
    a.edit_member(m.id, edited).unwrap();
    let ops = a.ops_to_push(1000).unwrap();
    b.apply_pulled(&ops, Cursor { epoch: 1, seq: ops.len() as u64 }).unwrap();

    // B restarts, then edits the address it saw, a minute later.
    drop(b);
    let mut b = Desk::open(&path).unwrap().with_clock(Arc::new(b_clock.clone()));
    b.sign_in("manager2", PASSWORD).unwrap();
    f.clock.advance(Duration::minutes(1));
    b_clock.advance(Duration::minutes(1));
    let mut edited = b.member(m.id).unwrap().details;
    edited.address = "نشانی ب".into();
    b.edit_member(m.id, edited).unwrap();

    let back = b.ops_to_push(1000).unwrap();
    a.apply_pulled(&back, Cursor { epoch: 1, seq: (ops.len() + back.len()) as u64 }).unwrap();
    assert_eq!(a.member(m.id).unwrap().details.address, "نشانی ب");
    assert_eq!(b.member(m.id).unwrap().details.address, "نشانی ب");
}
