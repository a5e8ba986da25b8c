//! A desk that has pulled nothing starts from a snapshot: applied once, in
//! one transaction with its cursor; its member numbers continue after the
//! highest the center has used for its desk number.

use kanoon_domain::ids::MemberNumber;
use kanoon_protocol::wire::Cursor;
use kanoon_store::{ErrorCode, SetupRequest};

use crate::support::{PASSWORD, desk, register, setup_request};

#[test]
fn a_fresh_desk_applies_a_snapshot_once_and_its_member_numbers_continue() {
    let mut old = desk();
    let members: Vec<_> = (0..3).map(|i| register(&mut old.desk, "سارا", "کاظمی", 500 + i)).collect();
    assert_eq!(members[2].member_number, MemberNumber::compose("1234", 1, 3).unwrap().as_str());
    let snapshot = old.desk.outbox(10_000).unwrap();
    let cursor = Cursor { epoch: 7, seq: 99 };

    // A new PC with the same desk number.
    let mut new = desk();
    assert!(new.desk.never_pulled().unwrap());
    let report = new.desk.apply_snapshot(&snapshot, cursor).unwrap();
    assert!(report.applied >= 3 + 3, "{report:?}");
    assert_eq!(new.desk.sync_cursor().unwrap(), Some(cursor));
    assert!(!new.desk.never_pulled().unwrap());
    assert_eq!(new.desk.list_members(0, 10).unwrap(), old.desk.list_members(0, 10).unwrap());
    let next = register(&mut new.desk, "مینا", "کاظمی", 600);
    assert_eq!(next.member_number, MemberNumber::compose("1234", 1, 4).unwrap().as_str());

    // Only once, and never after a pull: refused, nothing changed.
    let again = new.desk.apply_snapshot(&snapshot, Cursor { epoch: 7, seq: 200 }).unwrap_err();
    assert_eq!(again.code(), ErrorCode::Conflict);
    assert_eq!(new.desk.sync_cursor().unwrap(), Some(cursor));
    let mut pulled = desk();
    pulled.desk.apply_pulled(&[], Cursor { epoch: 7, seq: 1 }).unwrap();
    assert_eq!(pulled.desk.apply_snapshot(&snapshot, cursor).unwrap_err().code(), ErrorCode::Conflict);

    // Another desk number's counter is its own: the snapshot leaves it where it was.
    let clock = kanoon_store::ManualClock::new(crate::support::start_time());
    let mut second = kanoon_store::Desk::open_in_memory().unwrap().with_clock(std::sync::Arc::new(clock));
    second.setup(SetupRequest { desk_number: 2, ..setup_request() }, PASSWORD).unwrap();
    let own: Vec<_> = (0..5).map(|i| register(&mut second, "رضا", "نوری", 700 + i)).collect();
    assert_eq!(own[4].member_number, MemberNumber::compose("1234", 2, 5).unwrap().as_str());
    second.apply_snapshot(&snapshot, cursor).unwrap();
    let next = register(&mut second, "علی", "نوری", 800);
    assert_eq!(next.member_number, MemberNumber::compose("1234", 2, 6).unwrap().as_str());
}
