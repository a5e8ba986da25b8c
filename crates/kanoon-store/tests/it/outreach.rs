//! The van and the post through the `Desk` API: villages and the route,
//! a visit's exchange with due dates at the next visit, a cancelled visit
//! moving them (also when the change and the loan reach a desk in either
//! order), the visit's report; parcels sent, received one by one, lost in
//! the post and found; roles.

use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use kanoon_domain::entities::Role;
use kanoon_protocol::wire::Cursor;
use kanoon_store::catalog::CopyStatus;
use kanoon_store::circulation::{BookStatus, CheckOutRequest};
use kanoon_store::members::{
    ClassRoster, FeeInput, MemberDetails, RegisterMember, RegisterOutcome, RosterRow, UnmatchedVillage,
};
use kanoon_store::outreach::{ParcelBookState, ParcelInput, Slot, VillageInput, VisitChangeInput};
use kanoon_store::{Desk, ErrorCode, SetupRequest};
use uuid::Uuid;

use crate::support::*;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn village(name: &str) -> VillageInput {
    VillageInput {
        name: name.into(),
        district: "خنجین".into(),
        eligible: true,
        ineligible_reason: None,
        distance_km: Some(42),
        school: Some("دبستان شهید باهنر".into()),
        contact_name: "آقای کریمی".into(),
        contact_phone: "۰۹۱۲۱۲۳۴۵۶۷".into(),
        children: Some(80),
    }
}

/// A village on the route every other Saturday from the fixture's day
/// (1404/01/16, week 0 of the route).
fn village_on_route(desk: &mut Desk, name: &str) -> Uuid {
    let v = desk.save_village(None, village(name)).unwrap();
    desk.set_village_slot(v.id, Some(Slot { weekday: 0, week: 0 })).unwrap();
    v.id
}

fn due_of(desk: &Desk, member: Uuid) -> Vec<NaiveDate> {
    desk.open_loans_of(member).unwrap().iter().map(|l| l.due_on).collect()
}

#[test]
fn a_van_loan_is_due_at_the_next_visit_and_a_cancelled_visit_moves_it() {
    let (mut f, sara) = desk_with_reader(("قصه‌های کوهستان", 500, 4), ("سارا", "رضایی", 1));
    let v = village_on_route(&mut f.desk, "ورچه");
    let listed = f.desk.village(v).unwrap();
    assert_eq!(listed.next_visit_on, Some(day(2025, 4, 5)), "today's visit is the next one");
    let stops = f.desk.route(day(2025, 4, 5), day(2025, 5, 3)).unwrap();
    assert_eq!(
        stops.iter().map(|s| s.day).collect::<Vec<_>>(),
        vec![day(2025, 4, 5), day(2025, 4, 19), day(2025, 5, 3)]
    );

    let visit = f.desk.open_visit(v).unwrap();
    assert_eq!(f.desk.open_visit(v).unwrap().id, visit.id, "opening again returns the open visit");
    assert_eq!(visit.next_visit_on, Some(day(2025, 4, 19)));
    let req = CheckOutRequest { visit_id: Some(visit.id), ..CheckOutRequest::new(sara.id, ["500", "501"]).confirmed() };
    let preview = f.desk.preview_loan(&req).unwrap();
    assert_eq!(preview.books[0].due_on, Some(day(2025, 4, 19)), "the preview shows the next visit");
    let out = f.desk.check_out(req).unwrap();
    assert!(out.books.iter().all(|b| b.status == BookStatus::Lent && b.due_on == Some(day(2025, 4, 19))));
    f.desk.check_in("501").unwrap();
    // A book lent at the desk, not on the visit, keeps the center's loan days.
    let at_desk = lend(&mut f.desk, sara.id, &["502"]).books[0].clone();
    assert_eq!(at_desk.status, BookStatus::Lent);

    let report = f.desk.close_visit(visit.id, "جادهٔ خاکی؛ مدرسه میزبان بود").unwrap();
    assert!(report.closed);
    assert_eq!((report.report.loans, report.report.returns, report.report.children_served), (2, 1, 1));
    assert_eq!(report.report.notes, "جادهٔ خاکی؛ مدرسه میزبان بود");
    assert_eq!(f.desk.close_visit(visit.id, "").unwrap_err().code(), ErrorCode::Conflict);
    let closed_loan = CheckOutRequest { visit_id: Some(visit.id), ..CheckOutRequest::new(sara.id, ["503"]) };
    assert_eq!(f.desk.check_out(closed_loan).unwrap_err().code(), ErrorCode::Conflict);

    // Snow on the 19th: the loan due then is due at the next real visit.
    let moved = f
        .desk
        .change_visit(VisitChangeInput {
            village_id: v,
            on: day(2025, 4, 19),
            to: None,
            reason: "برف و راه بسته".into(),
        })
        .unwrap();
    assert_eq!((moved.new_due_on, moved.loans_moved), (Some(day(2025, 5, 3)), 1));
    let mut dues = due_of(&f.desk, sara.id);
    dues.sort();
    // The desk loan keeps its date (the center's loan days).
    assert_eq!(dues, vec![at_desk.due_on.unwrap(), day(2025, 5, 3)]);
    assert_eq!(f.desk.village(v).unwrap().next_visit_on, Some(day(2025, 4, 5)));
    let stops = f.desk.route(day(2025, 4, 6), day(2025, 5, 3)).unwrap();
    assert_eq!(stops.iter().map(|s| s.day).collect::<Vec<_>>(), vec![day(2025, 5, 3)], "the 19th is off the route");
    // A visit that is not on the plan, or one already made, is not changed.
    let none = VisitChangeInput { village_id: v, on: day(2025, 4, 20), to: None, reason: "خرابی".into() };
    assert_eq!(f.desk.change_visit(none).unwrap_err().code(), ErrorCode::Conflict);
    let done = VisitChangeInput { village_id: v, on: day(2025, 4, 5), to: None, reason: "خرابی".into() };
    assert!(f.desk.change_visit(done).is_err());

    // The visit of 3 May moves to the 4th: the loan follows it.
    let moved = f
        .desk
        .change_visit(VisitChangeInput {
            village_id: v,
            on: day(2025, 5, 3),
            to: Some(day(2025, 5, 4)),
            reason: "تعمیر ون".into(),
        })
        .unwrap();
    assert_eq!((moved.new_due_on, moved.loans_moved), (Some(day(2025, 5, 4)), 1));
    assert!(due_of(&f.desk, sara.id).contains(&day(2025, 5, 4)));
}

#[test]
fn a_cancelled_visit_moves_the_loans_whichever_reaches_a_desk_first() {
    let (mut a, sara) = desk_with_reader(("قصه‌های کوهستان", 500, 3), ("سارا", "رضایی", 1));
    let clock = a.clock.clone();
    let v = village_on_route(&mut a.desk, "ورچه");
    let visit = a.desk.open_visit(v).unwrap();
    let req = CheckOutRequest { visit_id: Some(visit.id), ..CheckOutRequest::new(sara.id, ["500"]).confirmed() };
    a.desk.check_out(req).unwrap();
    let loan_ops = a.desk.ops_to_push(10_000).unwrap();
    a.desk.mark_pushed(&loan_ops.iter().map(|o| o.op_id).collect::<Vec<_>>()).unwrap();
    a.desk
        .change_visit(VisitChangeInput { village_id: v, on: day(2025, 4, 19), to: None, reason: "برف".into() })
        .unwrap();
    let change_ops = a.desk.ops_to_push(10_000).unwrap();
    assert_eq!(due_of(&a.desk, sara.id), vec![day(2025, 5, 3)]);

    for change_first in [false, true] {
        let mut b = Desk::open_in_memory().unwrap().with_clock(Arc::new(clock.clone()));
        b.setup(SetupRequest { desk_number: 2, manager_username: "manager2".into(), ..setup_request() }, PASSWORD)
            .unwrap();
        let mut ops = if change_first {
            [change_ops.clone(), loan_ops.clone()].concat()
        } else {
            [loan_ops.clone(), change_ops.clone()].concat()
        };
        // Pulled twice: nothing moves twice.
        let n = ops.len() as u64;
        b.apply_pulled(&ops, Cursor { epoch: 1, seq: n }).unwrap();
        ops.reverse();
        b.apply_pulled(&ops, Cursor { epoch: 1, seq: n }).unwrap();
        assert_eq!(due_of(&b, sara.id), vec![day(2025, 5, 3)], "change first: {change_first}");
        assert_eq!(b.visit(visit.id).unwrap().report.loans, 1);
        assert_eq!(b.village(v).unwrap().slot, Some(Slot { weekday: 0, week: 0 }));
    }
}

#[test]
fn the_route_keeps_a_two_week_rhythm_around_fridays_and_holidays() {
    let mut f = desk();
    let v = f.desk.save_village(None, village("خنداب")).unwrap();
    // Thursday of week 1.
    f.desk.set_village_slot(v.id, Some(Slot { weekday: 5, week: 1 })).unwrap();
    let stops = f.desk.route(day(2025, 4, 5), day(2025, 6, 5)).unwrap();
    let days: Vec<NaiveDate> = stops.iter().map(|s| s.day).collect();
    assert!(days.len() >= 4);
    for pair in days.windows(2) {
        let gap = (pair[1] - pair[0]).num_days();
        assert!((7..=21).contains(&gap), "{pair:?}");
    }
    assert!(days.iter().all(|d| chrono::Datelike::weekday(d) != chrono::Weekday::Fri));
    assert_eq!(days[0], day(2025, 4, 17), "the first Thursday of week 1");
    // Off the route: no visits, and a loan on its visit falls back to the
    // center's loan days.
    f.desk.set_village_slot(v.id, None).unwrap();
    assert!(f.desk.route(day(2025, 4, 5), day(2025, 6, 5)).unwrap().is_empty());
    assert_eq!(f.desk.village(v.id).unwrap().next_visit_on, None);
    assert!(f.desk.route(day(2025, 4, 5), day(2025, 12, 5)).is_err(), "two months at most");
}

#[test]
fn villages_are_checked_and_the_route_is_the_managers() {
    let mut f = desk();
    let dup = f.desk.save_village(None, village("ورچه")).unwrap();
    assert_eq!(f.desk.save_village(None, village("  ورچه ")).unwrap_err().code(), ErrorCode::Conflict);
    let no_reason = VillageInput { eligible: false, ..village("آستانه") };
    assert_eq!(f.desk.save_village(None, no_reason).unwrap_err().code(), ErrorCode::InvalidInput);
    let far = f
        .desk
        .save_village(
            None,
            VillageInput {
                eligible: false, ineligible_reason: Some("جمعیت کم".into()), ..village("آستانه")
            },
        )
        .unwrap();
    assert_eq!(
        f.desk.set_village_slot(far.id, Some(Slot { weekday: 1, week: 0 })).unwrap_err().code(),
        ErrorCode::Conflict
    );
    assert_eq!(
        f.desk.set_village_slot(dup.id, Some(Slot { weekday: 6, week: 0 })).unwrap_err().code(),
        ErrorCode::InvalidInput
    );
    let bad_phone = VillageInput { contact_phone: "تلفن ندارد".into(), ..village("نراق") };
    assert_eq!(f.desk.save_village(None, bad_phone).unwrap_err().code(), ErrorCode::InvalidInput);

    f.desk.add_staff_with_password("maryam", "مریم کاظمی", Role::Instructor, PASSWORD).unwrap();
    f.desk.sign_in("maryam", PASSWORD).unwrap();
    // An instructor adds a village met on the way and opens its visit, but
    // the route and the eligibility decision are the manager's.
    let met = f.desk.save_village(None, village("نراق")).unwrap();
    assert_eq!(
        f.desk.set_village_slot(met.id, Some(Slot { weekday: 1, week: 0 })).unwrap_err().code(),
        ErrorCode::Forbidden
    );
    assert_eq!(f.desk.set_village_retired(met.id, true).unwrap_err().code(), ErrorCode::Forbidden);
    let decided = VillageInput { eligible: false, ineligible_reason: Some("دور".into()), ..village("نراق") };
    assert_eq!(f.desk.save_village(Some(met.id), decided).unwrap_err().code(), ErrorCode::Forbidden);
    f.desk.open_visit(met.id).unwrap();
    f.desk.sign_out();
    assert_eq!(f.desk.villages().unwrap_err().code(), ErrorCode::NotSignedIn);
}

#[test]
fn a_parcel_goes_out_comes_back_in_parts_and_a_lost_book_is_nobodys_debt() {
    let (mut f, sara) = desk_with_reader(("نامه‌های روستا", 700, 8), ("سارا", "رضایی", 1));
    let numbers: Vec<String> = (700..705).map(|n| n.to_string()).collect();
    let input = ParcelInput {
        member_id: sara.id,
        registration_numbers: numbers.clone(),
        postage_rials: 350_000,
        tracking_number: "۱۲۳۴۵۶۷۸۹۰".into(),
    };
    let p = f.desk.send_parcel(input.clone()).unwrap();
    assert_eq!(p.books.len(), 5);
    assert!(p.open && !p.overdue);
    assert_eq!(p.tracking_number, "1234567890");
    assert_eq!(p.expected_on, day(2025, 5, 20), "45 days on an open day");
    assert_eq!(due_of(&f.desk, sara.id), vec![day(2025, 5, 20); 5], "each book is an ordinary loan");

    // No copy in two parcels, none twice, at most five.
    let again = ParcelInput { registration_numbers: vec!["704".into(), "705".into()], ..input.clone() };
    assert_eq!(f.desk.send_parcel(again).unwrap_err().code(), ErrorCode::Conflict);
    let twice = ParcelInput { registration_numbers: vec!["705".into(), "705".into()], ..input.clone() };
    assert_eq!(f.desk.send_parcel(twice).unwrap_err().code(), ErrorCode::Conflict);
    let six = ParcelInput { registration_numbers: (700..706).map(|n| n.to_string()).collect(), ..input.clone() };
    assert!(f.desk.send_parcel(six).is_err());

    for n in ["700", "701", "702"] {
        f.desk.receive_parcel_book(p.id, n).unwrap();
    }
    let lost = f.desk.lose_parcel_book(p.id, "703").unwrap();
    assert!(lost.open, "one book is still out");
    assert_eq!(f.desk.receive_parcel_book(p.id, "700").unwrap_err().code(), ErrorCode::Conflict);
    assert!(f.desk.receive_parcel_book(p.id, "799").is_err(), "not in this parcel");
    let copy = f.desk.copy_by_registration_number("703").unwrap();
    assert!(matches!(copy.status, CopyStatus::Withdrawn { .. }), "lost in the post: withdrawn as lost");
    // Nothing is held against the member: the lost book's loan is closed.
    assert_eq!(f.desk.open_loans_of(sara.id).unwrap().len(), 1);
    clock_after(&f, 60);
    let last = f.desk.receive_parcel_book(p.id, "704").unwrap();
    assert!(!last.open && !last.overdue);
    let states: Vec<ParcelBookState> = last.books.iter().map(|b| b.state).collect();
    assert_eq!(states.iter().filter(|s| **s == ParcelBookState::Received).count(), 4);
    assert_eq!(states.iter().filter(|s| **s == ParcelBookState::Lost).count(), 1);
    // The lost book turns up after all: back on the shelf.
    let found = f.desk.receive_parcel_book(p.id, "703").unwrap();
    assert!(found.books.iter().all(|b| b.state == ParcelBookState::Received));
    assert!(matches!(f.desk.copy_by_registration_number("703").unwrap().status, CopyStatus::Available));
    assert_eq!(f.desk.parcels(Some(sara.id), true).unwrap().len(), 0);
    assert_eq!(f.desk.parcels(None, false).unwrap().len(), 1);
}

#[test]
fn parcels_and_visits_reach_another_desk_and_converge() {
    let (mut a, sara) = desk_with_reader(("نامه‌های روستا", 700, 8), ("سارا", "رضایی", 1));
    let clock = a.clock.clone();
    let v = village_on_route(&mut a.desk, "ورچه");
    let visit = a.desk.open_visit(v).unwrap();
    let p = a
        .desk
        .send_parcel(ParcelInput {
            member_id: sara.id,
            registration_numbers: vec!["700".into(), "701".into()],
            postage_rials: 0,
            tracking_number: String::new(),
        })
        .unwrap();
    a.desk.receive_parcel_book(p.id, "700").unwrap();
    a.desk.lose_parcel_book(p.id, "701").unwrap();
    a.desk.close_visit(visit.id, "خوب بود").unwrap();
    let mut b = Desk::open_in_memory().unwrap().with_clock(Arc::new(clock.clone()));
    b.setup(SetupRequest { desk_number: 2, manager_username: "manager2".into(), ..setup_request() }, PASSWORD).unwrap();
    let ops = a.desk.ops_to_push(10_000).unwrap();
    let n = ops.len() as u64;
    b.apply_pulled(&ops, Cursor { epoch: 1, seq: n }).unwrap();
    b.apply_pulled(&ops, Cursor { epoch: 1, seq: n }).unwrap();
    assert_eq!(b.parcel(p.id).unwrap(), a.desk.parcel(p.id).unwrap());
    assert_eq!(b.visit(visit.id).unwrap(), a.desk.visit(visit.id).unwrap());
    assert_eq!(b.villages().unwrap(), a.desk.villages().unwrap());
    assert!(b.sync_exceptions().unwrap().is_empty());
}

fn clock_after(f: &Fixture, days: i64) {
    f.clock.set(start_time() + Duration::days(days));
}

#[test]
fn a_stick_carries_the_vans_ops_to_another_desk_and_read_twice_changes_nothing() {
    let (mut a, sara) = desk_with_reader(("قصه‌های کوهستان", 500, 3), ("سارا", "رضایی", 1));
    let clock = a.clock.clone();
    let v = village_on_route(&mut a.desk, "ورچه");
    let visit = a.desk.open_visit(v).unwrap();
    let req = CheckOutRequest { visit_id: Some(visit.id), ..CheckOutRequest::new(sara.id, ["500"]).confirmed() };
    a.desk.check_out(req).unwrap();
    let (bytes, n) = a.desk.export_ops().unwrap();
    assert_eq!(n, a.desk.ops_to_push(100_000).unwrap().len());
    let second = |number: u8, code: &str| {
        let mut d = Desk::open_in_memory().unwrap().with_clock(Arc::new(clock.clone()));
        let request = SetupRequest {
            desk_number: number,
            manager_username: format!("manager{number}"),
            center_code: code.into(),
            ..setup_request()
        };
        d.setup(request, PASSWORD).unwrap();
        d
    };
    let mut b = second(2, "۱۲۳۴");
    let first = b.import_ops(&bytes).unwrap();
    assert_eq!((first.ops, first.applied + first.kept), (n, n));
    let again = b.import_ops(&bytes).unwrap();
    assert_eq!((again.applied, again.duplicates), (0, n), "a stick read twice changes nothing");
    assert_eq!(b.visit(visit.id).unwrap(), a.desk.visit(visit.id).unwrap());
    assert_eq!(due_of(&b, sara.id), due_of(&a.desk, sara.id));
    assert_eq!(a.desk.ops_to_push(100_000).unwrap().len(), n, "the van still pushes them to the server");
    // Another center's desk, a file cut short, or something else: refused, nothing applied.
    let mut other = second(3, "۹۹۹۹");
    assert_eq!(other.import_ops(&bytes).unwrap_err().code(), ErrorCode::InvalidInput);
    let mut c = second(4, "۱۲۳۴");
    assert_eq!(c.import_ops(&bytes[..bytes.len() - 20]).unwrap_err().code(), ErrorCode::InvalidInput);
    assert_eq!(c.import_ops(b"name,phone\n").unwrap_err().code(), ErrorCode::InvalidInput);
    assert_eq!(c.visit(visit.id).unwrap_err().code(), ErrorCode::NotFound);
    // A desk's file with another desk's op slipped in: refused whole.
    let mut mixed = a.desk.ops_to_push(100_000).unwrap();
    mixed.extend(b.ops_to_push(1).unwrap());
    let a_device = mixed[0].device_id;
    let forged = kanoon_protocol::stick::write(mixed[0].center_id, a_device, None, "2025-04-05T10:00:00Z", &mixed);
    assert_eq!(c.import_ops(&forged).unwrap_err().code(), ErrorCode::InvalidInput);
    assert!(c.sync_exceptions().unwrap().is_empty());
    a.desk.sign_out();
    assert_eq!(a.desk.export_ops().unwrap_err().code(), ErrorCode::NotSignedIn);
}

/// The van lent to a child registered before it left (that op already
/// pushed): its stick carries the loan, not the member. The desk that reads
/// it waits for the member (an `unknown_member` exception); once the
/// member arrives from the server the loan applies and the exception goes,
/// as if the ops had come in the log's order.
#[test]
fn a_stick_loan_waiting_for_its_member_applies_when_the_member_arrives_and_the_wait_is_forgotten() {
    let (mut a, sara) = desk_with_reader(("قصه‌های کوهستان", 500, 3), ("سارا", "رضایی", 1));
    let clock = a.clock.clone();
    let before = a.desk.ops_to_push(100_000).unwrap();
    a.desk.mark_pushed(&before.iter().map(|o| o.op_id).collect::<Vec<_>>()).unwrap();
    a.desk.check_out(CheckOutRequest::new(sara.id, ["500"]).confirmed()).unwrap();
    let (bytes, _) = a.desk.export_ops().unwrap();
    let mut b = Desk::open_in_memory().unwrap().with_clock(Arc::new(clock.clone()));
    b.setup(SetupRequest { desk_number: 2, manager_username: "manager2".into(), ..setup_request() }, PASSWORD).unwrap();
    b.import_ops(&bytes).unwrap();
    let waiting: Vec<_> = b.sync_exceptions().unwrap().into_iter().map(|e| e.code).collect();
    assert!(waiting.iter().any(|c| c == "unknown_member"), "{waiting:?}");
    let n = before.len() as u64;
    b.apply_pulled(&before, Cursor { epoch: 1, seq: n }).unwrap();
    assert_eq!(due_of(&b, sara.id), due_of(&a.desk, sara.id), "the loan applied once its member arrived");
    assert!(b.sync_exceptions().unwrap().is_empty(), "{:?}", b.sync_exceptions().unwrap());
}

fn roster_row(first: &str, nid: Option<u64>, gender: Option<kanoon_domain::entities::Gender>) -> RosterRow {
    RosterRow {
        first_name: first.into(),
        last_name: "کریمی".into(),
        father_name: "علی".into(),
        gender,
        birth_date: Some(kanoon_domain::jalali::JalaliDate::new(1395, 2, 1).unwrap()),
        national_id: nid.map(national_id),
        guardian_phone: None,
    }
}

/// A class from the village school: every bad row named and nothing
/// written; corrected, the whole class is registered in the village with
/// the one fee decision, and the visit's report counts them as new members.
#[test]
fn a_class_roster_is_registered_whole_in_its_village_or_not_at_all() {
    use kanoon_domain::entities::Gender::{Female, Male};
    let mut f = desk();
    let v = village_on_route(&mut f.desk, "ورچه");
    let visit = f.desk.open_visit(v).unwrap();
    let known = register(&mut f.desk, "مینا", "احمدی", 77);
    let before = f.desk.ops_to_push(100_000).unwrap().len();
    let fee =
        FeeInput::Exempt { exemption: "postal".into(), reason: "کلاس چهارم دبستان روستا".into() };
    let mut rows = vec![
        roster_row("زهرا", Some(11), Some(Female)),
        roster_row("رضا", Some(12), None),
        roster_row("حسن", Some(11), Some(Male)),
        roster_row("مینا", Some(77), Some(Female)),
        roster_row("", Some(13), Some(Female)),
    ];
    let roster = |rows: Vec<RosterRow>| ClassRoster { village_id: v, school_grade: Some(4), fee: fee.clone(), rows };
    let refused = f.desk.register_class(roster(rows.clone())).unwrap();
    assert!(refused.registered.is_empty());
    assert_eq!(refused.errors.iter().map(|e| e.row).collect::<Vec<_>>(), vec![2, 3, 4, 5], "{refused:?}");
    assert!(refused.errors[2].message.contains(&known.member_number), "{:?}", refused.errors[2]);
    assert_eq!(f.desk.ops_to_push(100_000).unwrap().len(), before, "nothing written");

    rows[1].gender = Some(Male);
    rows[2].national_id = Some(national_id(14));
    rows.remove(3);
    rows[3].first_name = "نرگس".into();
    let done = f.desk.register_class(roster(rows)).unwrap();
    assert!(done.errors.is_empty(), "{:?}", done.errors);
    assert_eq!(done.registered.len(), 4);
    for m in &done.registered {
        let view = f.desk.member(m.id).unwrap();
        assert_eq!((view.details.village_id, view.details.village.as_deref()), (Some(v), Some("ورچه")));
        assert_eq!(view.details.school_grade, Some(4));
        assert!(view.membership.active);
    }
    let report = f.desk.visit(visit.id).unwrap().report;
    assert_eq!(report.new_members, 4, "{report:?}");
    // A village that is not this center's is refused before anything is read.
    let stray =
        ClassRoster { village_id: Uuid::now_v7(), ..roster(vec![roster_row("لیلا", Some(15), Some(Female))]) };
    assert_eq!(f.desk.register_class(stray).unwrap_err().code(), ErrorCode::InvalidInput);
}

/// Members whose village was typed before the list existed are tied to it
/// by name (spelling aside) through ordinary synced edits, once; names no
/// village carries are listed for the manager.
#[test]
fn typed_village_names_are_tied_to_the_list_once_and_reach_the_other_desk() {
    let mut f = desk();
    let typed = |desk: &mut Desk, first: &str, nid: u64, village: &str| {
        let d = MemberDetails { village: Some(village.into()), ..details(first, "رضایی", Some(national_id(nid))) };
        match desk.register_member(RegisterMember::new(d, paid())).unwrap() {
            RegisterOutcome::Registered { member } => member.id,
            other => panic!("{other:?}"),
        }
    };
    let a = typed(&mut f.desk, "سارا", 21, "ورچه");
    let b = typed(&mut f.desk, "سمیرا", 22, "  ورچه ");
    let c = typed(&mut f.desk, "سحر", 23, "خنداب");
    let v = f.desk.save_village(None, village("ورچه")).unwrap().id;
    let links = f.desk.link_members_to_villages().unwrap();
    assert_eq!(links.linked, 2);
    assert_eq!(links.unmatched, vec![UnmatchedVillage { name: "خنداب".into(), members: 1 }]);
    for m in [a, b] {
        assert_eq!(f.desk.member(m).unwrap().details.village_id, Some(v));
    }
    assert_eq!(f.desk.member(c).unwrap().details.village_id, None);
    assert_eq!(f.desk.link_members_to_villages().unwrap().linked, 0, "nothing tied twice");
    // The ties are member edits: another desk of the center gets them.
    let mut other = Desk::open_in_memory().unwrap().with_clock(Arc::new(f.clock.clone()));
    other
        .setup(SetupRequest { desk_number: 2, manager_username: "manager2".into(), ..setup_request() }, PASSWORD)
        .unwrap();
    let ops = f.desk.ops_to_push(100_000).unwrap();
    other.apply_pulled(&ops, Cursor { epoch: 1, seq: ops.len() as u64 }).unwrap();
    assert_eq!(other.member(a).unwrap().details.village_id, Some(v));
    // The manager's: an instructor may not.
    f.desk.add_staff_with_password("maryam", "مریم کاظمی", Role::Instructor, PASSWORD).unwrap();
    f.desk.sign_in("maryam", PASSWORD).unwrap();
    assert_eq!(f.desk.link_members_to_villages().unwrap_err().code(), ErrorCode::Forbidden);
}

/// The post's wish list: titles in the order the child asked, one wish per
/// title however often asked; the next parcel takes a free copy of each in
/// that order up to five, skipping titles with none on the shelf; a parcel
/// sent fulfils its titles' wishes (derived from the loans), and another
/// desk sees the same list.
#[test]
fn the_next_parcel_is_filled_from_the_wish_list_in_order_and_fulfils_it() {
    let (mut f, sara) = desk_with_reader(("الف", 100, 2), ("سارا", "رضایی", 1));
    let names = ["ب", "ج", "د", "ه", "و"];
    for (i, n) in names.iter().enumerate() {
        books(&mut f.desk, n, 200 + 10 * i as u32, 1);
    }
    let title_of = |desk: &Desk, number: &str| desk.copy_by_registration_number(number).unwrap().title_id;
    let t: Vec<Uuid> = ["100", "200", "210", "220", "230", "240"].iter().map(|n| title_of(&f.desk, n)).collect();
    // «ب» is out with another reader: no free copy.
    let other = register(&mut f.desk, "مینا", "احمدی", 2);
    lend(&mut f.desk, other.id, &["200"]);
    // Sara read «الف» earlier today: wishing it again later is a new wish.
    lend(&mut f.desk, sara.id, &["101"]);
    f.desk.check_in("101").unwrap();
    for id in &t {
        f.desk.wish(sara.id, *id).unwrap();
    }
    let list = f.desk.wish(sara.id, t[0]).unwrap();
    assert_eq!(list.iter().map(|w| w.title_id).collect::<Vec<_>>(), t, "a title wished twice is wished once, in place");
    assert_eq!((list[0].free_copies, list[1].free_copies), (2, 0), "a loan before the wish does not fulfil it");
    let list = f.desk.unwish(sara.id, t[3]).unwrap();
    assert!(!list.iter().any(|w| w.title_id == t[3]));

    let picks = f.desk.fill_parcel(sara.id).unwrap();
    assert_eq!(
        picks.iter().map(|p| p.title_id).collect::<Vec<_>>(),
        vec![t[0], t[2], t[4], t[5]],
        "in wish order, «ب» skipped (none free), «د» withdrawn"
    );
    let numbers: Vec<String> = picks.iter().map(|p| p.registration_number.clone()).collect();
    assert_eq!(numbers, vec!["100", "210", "230", "240"]);
    f.desk
        .send_parcel(ParcelInput {
            member_id: sara.id,
            registration_numbers: numbers,
            postage_rials: 250_000,
            tracking_number: String::new(),
        })
        .unwrap();
    let left = f.desk.wish_list(sara.id).unwrap();
    assert_eq!(left.iter().map(|w| w.title_id).collect::<Vec<_>>(), vec![t[1]], "the parcel fulfilled its titles");
    assert!(f.desk.fill_parcel(sara.id).unwrap().is_empty(), "«ب» is still out");

    let mut b = Desk::open_in_memory().unwrap().with_clock(Arc::new(f.clock.clone()));
    b.setup(SetupRequest { desk_number: 2, manager_username: "manager2".into(), ..setup_request() }, PASSWORD).unwrap();
    let ops = f.desk.ops_to_push(100_000).unwrap();
    b.apply_pulled(&ops, Cursor { epoch: 1, seq: ops.len() as u64 }).unwrap();
    assert_eq!(b.wish_list(sara.id).unwrap(), left);
    assert!(b.sync_exceptions().unwrap().is_empty(), "{:?}", b.sync_exceptions().unwrap());
}
