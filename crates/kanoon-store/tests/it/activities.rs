//! The weekly activity program through the `Desk` API: planning, copying a
//! week, moving and cancelling, attendance by scan and by list (warnings,
//! never refusals), late entry, voids, reports, roles, and two desks
//! exchanging all of it.

use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use kanoon_domain::entities::Role;
use kanoon_protocol::wire::Cursor;
use kanoon_store::activities::{SessionInput, SessionState};
use kanoon_store::{Desk, ErrorCode, SetupRequest};

use crate::support::*;

/// 1404/01/16, the fixture's Saturday.
fn saturday() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 4, 5).unwrap()
}

fn input(desk: &Desk, on: NaiveDate, group: &str) -> SessionInput {
    SessionInput {
        kind: "storytelling".into(),
        title: "قصه‌های شب".into(),
        age_group: group.into(),
        on,
        at: "۱۰:۳۰".into(),
        minutes: 60,
        room: "کتابخانه".into(),
        instructor_id: desk.signed_in().unwrap().id,
        capacity: 20,
    }
}

#[test]
fn a_week_is_planned_copied_moved_and_cancelled_with_reasons() {
    let mut f = desk();
    let group = register(&mut f.desk, "سارا", "رضایی", 1).age_group.unwrap();
    let a = f.desk.plan_session(input(&f.desk, saturday(), &group)).unwrap();
    let b = f
        .desk
        .plan_session(SessionInput {
            kind: "painting".into(),
            ..input(&f.desk, saturday() + Duration::days(2), &group)
        })
        .unwrap();
    assert_eq!(a.kind_name, "قصه‌گویی");
    assert_eq!(a.at, "10:30");
    assert_eq!(a.held_weekday.as_deref(), Some("شنبه"));

    let week = f.desk.week_program(saturday() + Duration::days(4)).unwrap();
    assert_eq!(week.week_start, saturday());
    assert_eq!(week.sessions.iter().map(|s| s.id).collect::<Vec<_>>(), vec![a.id, b.id]);

    let next = f.desk.copy_week(saturday(), saturday() + Duration::days(7)).unwrap();
    assert_eq!(next.sessions.len(), 2);
    assert_eq!(next.sessions[1].on, saturday() + Duration::days(9));
    assert!(next.sessions.iter().all(|s| s.state == SessionState::Planned && s.id != a.id && s.id != b.id));
    // A second click copies nothing twice.
    let again = f.desk.copy_week(saturday(), saturday() + Duration::days(7)).unwrap_err();
    assert_eq!(again.code(), ErrorCode::Conflict);
    assert_eq!(f.desk.week_program(saturday() + Duration::days(7)).unwrap().sessions.len(), 2);

    let moved = f.desk.move_session(b.id, saturday() + Duration::days(3), "16:00", "اتاق نقاشی تعمیر دارد").unwrap();
    assert_eq!(moved.state, SessionState::Moved);
    assert_eq!(moved.held_on, Some(saturday() + Duration::days(3)));
    assert_eq!(moved.on, saturday() + Duration::days(2), "the planned slot is kept");
    assert!(f.desk.cancel_session(a.id, "  ").is_err(), "a cancellation needs its reason");
    let cancelled = f.desk.cancel_session(a.id, "قطع برق").unwrap();
    assert_eq!(
        (cancelled.state, cancelled.reason.as_deref(), cancelled.held_on),
        (SessionState::Cancelled, Some("قطع برق"), None)
    );
}

#[test]
fn what_was_typed_wrong_is_refused_in_persian() {
    let mut f = desk();
    let base = input(&f.desk, saturday(), "ب");
    for bad in [
        SessionInput { kind: "juggling".into(), ..base.clone() },
        SessionInput { age_group: "ی".into(), ..base.clone() },
        SessionInput { title: " ".into(), ..base.clone() },
        SessionInput { at: "۲۶:۰۰".into(), ..base.clone() },
        SessionInput { minutes: 5, ..base.clone() },
        SessionInput { capacity: 0, ..base.clone() },
        SessionInput { instructor_id: uuid::Uuid::now_v7(), ..base.clone() },
    ] {
        let e = f.desk.plan_session(bad).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidInput, "{e}");
        assert!(e.to_string().chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)), "{e}");
    }
    assert!(f.desk.week_program(saturday()).unwrap().sessions.is_empty());
}

#[test]
fn cards_scanned_into_a_session_warn_but_never_refuse_and_count_once() {
    let mut f = desk();
    let sara = register(&mut f.desk, "سارا", "رضایی", 1);
    let group = sara.age_group.clone().unwrap();
    let other_group = if group == "ب" { "ج" } else { "ب" };
    let s = f.desk.plan_session(input(&f.desk, saturday(), other_group)).unwrap();

    let first = f.desk.record_attendance(s.id, &kanoon_domain::text::to_persian_digits(&sara.member_number)).unwrap();
    assert_eq!(first.attendee.as_ref().map(|a| a.full_name.as_str()), Some("سارا رضایی"));
    assert_eq!(first.warnings.iter().map(|w| w.code.as_str()).collect::<Vec<_>>(), vec!["other_age_group"]);
    assert!(first.attendance_id.is_some());
    assert_eq!(first.count, 1);

    let twice = f.desk.record_attendance(s.id, &sara.member_number).unwrap();
    assert_eq!(twice.attendance_id, None, "a second scan records nothing");
    assert!(twice.warnings.iter().any(|w| w.code == "already_in"));
    assert_eq!(twice.count, 1);

    let visitor = f.desk.record_attendance(s.id, "99887766").unwrap();
    assert!(visitor.attendee.is_none());
    assert_eq!(visitor.warnings[0].code, "not_a_member");
    assert_eq!(visitor.count, 2);
    assert!(f.desk.record_attendance(s.id, "abc").is_err(), "only digits are a card");

    let list = f.desk.session_attendance(s.id).unwrap();
    assert_eq!(list.len(), 2);
    f.desk.void_attendance(visitor.attendance_id.unwrap(), "اشتباه اسکن شد").unwrap();
    assert_eq!(f.desk.session(s.id).unwrap().attendance, 1);
    assert_eq!(
        f.desk.void_attendance(visitor.attendance_id.unwrap(), "دوباره").unwrap_err().code(),
        ErrorCode::Conflict
    );

    let history = f.desk.member_activities(sara.id).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].title, "قصه‌های شب");
}

#[test]
fn late_entry_is_marked_and_future_or_cancelled_sessions_are_refused() {
    let mut f = desk();
    let sara = register(&mut f.desk, "سارا", "رضایی", 1);
    let group = sara.age_group.clone().unwrap();
    let past = f.desk.plan_session(input(&f.desk, saturday() - Duration::days(2), &group)).unwrap();
    let future = f.desk.plan_session(input(&f.desk, saturday() + Duration::days(1), &group)).unwrap();
    let off = f.desk.plan_session(input(&f.desk, saturday(), &group)).unwrap();
    f.desk.cancel_session(off.id, "مربی بیمار است").unwrap();

    f.desk.tick_attendance(past.id, sara.id).unwrap();
    let row = &f.desk.session_attendance(past.id).unwrap()[0];
    assert!(row.late);
    assert_eq!(row.staff_name.as_deref(), Some("زهرا احمدی"));
    assert_eq!(f.desk.record_attendance(future.id, &sara.member_number).unwrap_err().code(), ErrorCode::Conflict);
    assert_eq!(f.desk.record_attendance(off.id, &sara.member_number).unwrap_err().code(), ErrorCode::Conflict);
    // The next day the future session is today's.
    f.clock.advance(Duration::days(1));
    assert!(
        !f.desk
            .record_attendance(future.id, &sara.member_number)
            .unwrap()
            .warnings
            .iter()
            .any(|w| w.code == "already_in")
    );
}

#[test]
fn an_instructor_sees_their_month_and_only_a_manager_adds_kinds() {
    let mut f = desk();
    let sara = register(&mut f.desk, "سارا", "رضایی", 1);
    let group = sara.age_group.clone().unwrap();
    let teacher = f.desk.add_staff_with_password("maryam", "مریم کاظمی", Role::Instructor, PASSWORD).unwrap();
    let kind = f.desk.add_activity_kind("شعرخوانی").unwrap();
    assert_eq!(f.desk.add_activity_kind(" شعرخوانی ").unwrap_err().code(), ErrorCode::Conflict);
    let mine =
        SessionInput { kind: kind.code.clone(), instructor_id: teacher.id, ..input(&f.desk, saturday(), &group) };
    let held = f.desk.plan_session(mine.clone()).unwrap();
    let dropped = f.desk.plan_session(SessionInput { on: saturday() - Duration::days(3), ..mine }).unwrap();
    f.desk.cancel_session(dropped.id, "تعطیلی").unwrap();
    f.desk.record_attendance(held.id, &sara.member_number).unwrap();
    f.desk.record_attendance(held.id, "4455").unwrap();

    f.desk.sign_out();
    f.desk.sign_in("maryam", PASSWORD).unwrap();
    assert_eq!(f.desk.add_activity_kind("سفال").unwrap_err().code(), ErrorCode::Forbidden);
    let month = f.desk.instructor_month(teacher.id, 1404, 1).unwrap();
    assert_eq!((month.held, month.cancelled, month.attendance), (1, 1, 2));
    assert_eq!(month.by_kind[0].kind_name, "شعرخوانی");
    assert_eq!(month.month_name, "فروردین ۱۴۰۴");
    let managers_own = f.desk.instructor_month(uuid::Uuid::now_v7(), 1404, 1).unwrap_err();
    assert_eq!(managers_own.code(), ErrorCode::Forbidden, "an instructor sees only their own month");
    f.desk.sign_out();
    assert_eq!(f.desk.week_program(saturday()).unwrap_err().code(), ErrorCode::NotSignedIn);
    assert_eq!(f.desk.record_attendance(held.id, "4455").unwrap_err().code(), ErrorCode::NotSignedIn);
}

#[test]
fn two_desks_exchange_the_program_and_its_attendance_and_converge() {
    let f = desk();
    let (mut a, clock) = (f.desk, f.clock);
    let mut b = Desk::open_in_memory().unwrap().with_clock(Arc::new(clock.clone()));
    b.setup(SetupRequest { desk_number: 2, manager_username: "manager2".into(), ..setup_request() }, PASSWORD).unwrap();
    let sara = register(&mut a, "سارا", "رضایی", 1);
    let group = sara.age_group.clone().unwrap();
    let kind = a.add_activity_kind("شعرخوانی").unwrap();
    let s = a.plan_session(SessionInput { kind: kind.code, ..input(&a, saturday(), &group) }).unwrap();
    let mut seq = 0;
    let mut send = |from: &mut Desk, to: &mut Desk| {
        let ops = from.ops_to_push(100_000).unwrap();
        seq += ops.len() as u64;
        // Twice: a page pulled again changes nothing.
        to.apply_pulled(&ops, Cursor { epoch: 1, seq }).unwrap();
        to.apply_pulled(&ops, Cursor { epoch: 1, seq }).unwrap();
        from.mark_pushed(&ops.iter().map(|o| o.op_id).collect::<Vec<_>>()).unwrap();
    };
    send(&mut a, &mut b);
    assert_eq!(b.session(s.id).unwrap().kind_name, "شعرخوانی");
    // Both desks scan the same card offline, and each a card of its own.
    a.record_attendance(s.id, &sara.member_number).unwrap();
    b.record_attendance(s.id, &sara.member_number).unwrap();
    let v = b.record_attendance(s.id, "1111").unwrap();
    a.record_attendance(s.id, "2222").unwrap();
    b.void_attendance(v.attendance_id.unwrap(), "اشتباه").unwrap();
    a.move_session(s.id, saturday(), "11:00", "اتاق قصه‌گویی پر است").unwrap();
    send(&mut a, &mut b);
    send(&mut b, &mut a);
    for desk in [&a, &b] {
        let view = desk.session(s.id).unwrap();
        assert_eq!(view.attendance, 2, "Sara once, 2222 once, 1111 voided");
        assert_eq!(view.held_at.as_deref(), Some("11:00"));
        assert_eq!(desk.member_activities(sara.id).unwrap().len(), 1);
    }
    assert_eq!(a.session_attendance(s.id).unwrap().len(), b.session_attendance(s.id).unwrap().len());
}

#[test]
fn a_void_that_arrives_before_its_attendance_still_takes_it_back() {
    let f = desk();
    let (mut a, clock) = (f.desk, f.clock);
    let mut b = Desk::open_in_memory().unwrap().with_clock(Arc::new(clock.clone()));
    b.setup(SetupRequest { desk_number: 2, manager_username: "manager2".into(), ..setup_request() }, PASSWORD).unwrap();
    let s = a.plan_session(input(&a, saturday(), "ب")).unwrap();
    let scan = a.record_attendance(s.id, "5555").unwrap();
    a.void_attendance(scan.attendance_id.unwrap(), "اشتباه").unwrap();
    let mut ops = a.ops_to_push(1000).unwrap();
    let n = ops.len() as u64;
    // The void first, then the session and the attendance.
    ops.rotate_right(1);
    b.apply_pulled(&ops, Cursor { epoch: 1, seq: n }).unwrap();
    assert_eq!(b.session(s.id).unwrap().attendance, 0);
    assert!(b.session_attendance(s.id).unwrap().is_empty());
}

#[test]
fn the_language_institute_is_shown_as_the_manager_wrote_it_and_referrals_count() {
    let mut f = desk();
    let sara = register(&mut f.desk, "سارا", "رضایی", 1);
    let info = f.desk.language_institute().unwrap();
    assert!(info.site.contains("ili.ir"), "shipped with the institute's site");
    f.desk
        .set_language_institute(kanoon_store::settings::LanguageInstitute {
            branch_name: "شعبهٔ اراک".into(),
            branch_phone: "۰۸۶۳۲۲۲۲۲۲۲".into(),
            ..info.clone()
        })
        .unwrap();
    let saved = f.desk.language_institute().unwrap();
    assert_eq!((saved.branch_name.as_str(), saved.branch_phone.as_str()), ("شعبهٔ اراک", "08632222222"));
    assert_eq!(
        f.desk
            .set_language_institute(kanoon_store::settings::LanguageInstitute { site: " ".into(), ..info })
            .unwrap_err()
            .code(),
        ErrorCode::InvalidInput
    );

    use kanoon_store::referrals::ReferralInput;
    let member = f
        .desk
        .record_referral(ReferralInput {
            member_id: Some(sara.id),
            visitor_name: String::new(),
            age_group: None,
            note: String::new(),
        })
        .unwrap();
    assert_eq!(member.name, "سارا رضایی");
    let visitor = f
        .desk
        .record_referral(ReferralInput {
            member_id: None,
            visitor_name: "علی كريمي".into(),
            age_group: Some("ج".into()),
            note: "آزمون تعیین سطح".into(),
        })
        .unwrap();
    assert_eq!(visitor.name, "علی کریمی", "typed with Arabic letters, kept in Persian");
    assert_eq!(
        f.desk
            .record_referral(ReferralInput {
                member_id: None,
                visitor_name: " ".into(),
                age_group: None,
                note: String::new()
            })
            .unwrap_err()
            .code(),
        ErrorCode::InvalidInput
    );
    let today = f.desk.today();
    assert_eq!(f.desk.referrals(today, today).unwrap().len(), 2);
    f.desk.void_referral(visitor.id, "اشتباه").unwrap();
    assert_eq!(f.desk.referrals(today, today).unwrap().len(), 1);

    // Another desk of the center gets them.
    let mut b = Desk::open_in_memory().unwrap().with_clock(Arc::new(f.clock.clone()));
    b.setup(SetupRequest { desk_number: 2, manager_username: "manager2".into(), ..setup_request() }, PASSWORD).unwrap();
    let ops = f.desk.ops_to_push(1000).unwrap();
    b.apply_pulled(&ops, Cursor { epoch: 1, seq: ops.len() as u64 }).unwrap();
    let there = b.referrals(today, today).unwrap();
    assert_eq!(there.iter().map(|r| r.id).collect::<Vec<_>>(), vec![member.id]);
}
