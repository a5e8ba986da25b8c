use chrono::Duration;
use kanoon_domain::circulation::IssueCode;
use kanoon_domain::entities::{Role, WithdrawReason};
use kanoon_store::ErrorCode;
use kanoon_store::circulation::{BookStatus, CheckOutRequest};

use crate::support::*;

fn codes(b: &kanoon_store::circulation::BookOutcome) -> Vec<IssueCode> {
    b.issues.iter().map(|i| i.code).collect()
}

#[test]
fn two_books_are_lent_with_a_jalali_due_date_and_a_third_is_refused_by_the_limit() {
    let (mut f, m) = desk_with_reader(("قصه‌های مجید", 100, 3), ("سارا", "کریمی", 1));
    let out = lend(&mut f.desk, m.id, &["۱۰۰", "101"]);
    assert_eq!(out.lent(), 2);
    // Lent on Saturday 1404/01/16; 7 days later is Saturday 1404/01/23.
    assert_eq!(out.books[0].due_on_jalali.as_deref(), Some("۱۴۰۴/۰۱/۲۳"));
    let third = lend(&mut f.desk, m.id, &["102"]);
    assert_eq!(third.books[0].status, BookStatus::NeedsConfirmation);
    assert_eq!(codes(&third.books[0]), vec![IssueCode::LimitReached]);
    assert_eq!(f.desk.open_loans_of(m.id).unwrap().len(), 2);
}

#[test]
fn a_due_date_on_a_friday_or_holiday_moves_to_the_next_open_day() {
    let (mut f, m) = desk_with_reader(("کلاغ‌ها", 1, 1), ("علی", "رضایی", 2));
    // Friday 1404/01/22 lent on Friday 1404/01/15 → due Friday → Saturday.
    f.clock.set(start_time() + Duration::days(6)); // Friday 1404/01/22
    let out = lend(&mut f.desk, m.id, &["1"]);
    assert_eq!(out.books[0].due_on_jalali.as_deref(), Some("۱۴۰۴/۰۱/۳۰"), "Friday 29 → Saturday 30");
}

#[test]
fn every_refusal_reason_is_reported() {
    let mut f = desk();
    books(&mut f.desk, "شازده کوچولو", 1, 3);
    f.desk.add_title_with_copies(title("رمان نوجوان", Some("+15")), &["50".to_string()]).unwrap();
    let a = register(&mut f.desk, "مریم", "حسینی", 3);
    let b = register(&mut f.desk, "نرگس", "موسوی", 4);
    lend(&mut f.desk, a.id, &["1"]);
    let copy = f.desk.copy_by_registration_number("3").unwrap();
    f.desk.withdraw_copy(copy.id, WithdrawReason::Lost).unwrap();
    let out = f.desk.check_out(CheckOutRequest::new(b.id, ["1", "3", "999", "50", "2", "2"])).unwrap();
    let got: Vec<_> = out.books.iter().map(|b| (b.status, codes(b))).collect();
    assert_eq!(
        got,
        vec![
            (BookStatus::Refused, vec![IssueCode::AlreadyOnLoan]),
            (BookStatus::Refused, vec![IssueCode::CopyLost]),
            (BookStatus::Refused, vec![IssueCode::UnknownRegistrationNumber]),
            (BookStatus::NeedsConfirmation, vec![IssueCode::ForOlderReaders]),
            (BookStatus::Lent, vec![]),
            (BookStatus::Refused, vec![IssueCode::RepeatedInThisLoan]),
        ]
    );
    // Nothing with a warning or refusal was lent; the clean one was.
    assert_eq!(f.desk.open_loans_of(b.id).unwrap().len(), 1);
}

#[test]
fn the_clean_book_is_lent_when_others_are_refused() {
    let (mut f, m) = desk_with_reader(("ماهی سیاه کوچولو", 1, 2), ("رضا", "یگانه", 5));
    let out = lend(&mut f.desk, m.id, &["1", "777"]);
    assert_eq!(out.books[0].status, BookStatus::Lent);
    assert_eq!(out.books[1].status, BookStatus::Refused);
    assert_eq!(f.desk.open_loans_of(m.id).unwrap().len(), 1);
}

#[test]
fn an_override_is_for_managers_and_is_recorded() {
    let (mut f, m) = desk_with_reader(("سفر", 1, 3), ("حسن", "نوری", 6));
    lend(&mut f.desk, m.id, &["1", "2"]);
    let out = f.desk.check_out(CheckOutRequest::new(m.id, ["3"]).confirmed().overriding("پژوهش مدرسه")).unwrap();
    assert_eq!(out.books[0].status, BookStatus::Lent);
    let history = f.desk.loan_history(m.id, 10).unwrap();
    assert!(history.iter().any(|h| h.overridden && h.registration_number == "3"));

    f.desk.add_staff_with_password("morabi", "لیلا کاظمی", Role::Instructor, PASSWORD).unwrap();
    f.desk.sign_in("morabi", PASSWORD).unwrap();
    let err = f.desk.check_out(CheckOutRequest::new(m.id, ["1"]).confirmed().overriding("x")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);
}

#[test]
fn a_return_closes_the_loan_and_reports_lateness_without_choosing_the_member() {
    let (mut f, m) = desk_with_reader(("هانس", 1, 1), ("پریا", "صالحی", 7));
    lend(&mut f.desk, m.id, &["1"]);
    f.clock.advance(Duration::days(10));
    let back = f.desk.check_in("۱").unwrap();
    assert_eq!(back.member.id, m.id);
    assert_eq!(back.days_late, 3);
    let err = f.desk.check_in("1").unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict, "{err}");
    assert_eq!(f.desk.check_in("404").unwrap_err().code(), ErrorCode::NotFound);
}

#[test]
fn the_overdue_list_has_the_guardian_phone() {
    let (mut f, m) = desk_with_reader(("باغ", 1, 1), ("امیر", "جعفری", 8));
    lend(&mut f.desk, m.id, &["1"]);
    assert!(f.desk.overdue_loans().unwrap().is_empty());
    f.clock.advance(Duration::days(9));
    let overdue = f.desk.overdue_loans().unwrap();
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].guardian_phone.as_deref(), Some("09123456789"));
    assert_eq!(overdue[0].days_overdue, 2);
    let next = lend(&mut f.desk, m.id, &[]);
    assert!(next.books.is_empty());
}

#[test]
fn a_call_about_overdue_books_is_recorded_and_shown_with_them() {
    let (mut f, m) = desk_with_reader(("باغ", 1, 2), ("امیر", "جعفری", 8));
    lend(&mut f.desk, m.id, &["1", "2"]);
    assert_eq!(
        f.desk.record_reminder_call(m.id, "پاسخ نداد").unwrap_err().code(),
        ErrorCode::Conflict,
        "nothing overdue"
    );
    f.clock.advance(Duration::days(9));
    assert_eq!(f.desk.record_reminder_call(m.id, "  ").unwrap_err().code(), ErrorCode::InvalidInput);
    let ops = f.desk.outbox_len().unwrap();
    f.desk.record_reminder_call(m.id, "پاسخ نداد").unwrap();
    f.clock.advance(Duration::days(1));
    f.desk.record_reminder_call(m.id, "قول داد فردا بياورد").unwrap();
    assert_eq!(f.desk.outbox_len().unwrap(), ops + 2, "each call is an event that syncs");
    let overdue = f.desk.overdue_loans().unwrap();
    assert_eq!(overdue.len(), 2, "one row per book");
    for row in &overdue {
        let call = row.last_call.as_ref().unwrap();
        assert_eq!(call.note, "قول داد فردا بیاورد", "the latest call, its text cleaned");
        assert_eq!(call.called_on_jalali, "۱۴۰۴/۰۱/۲۶");
    }
    // A call changes no loan.
    assert_eq!(f.desk.open_loans_of(m.id).unwrap().len(), 2);
}

#[test]
fn renewal_extends_from_today_within_the_policy() {
    let (mut f, m) = desk_with_reader(("تمدید", 1, 1), ("مینا", "اکبری", 9));
    let loan = lend(&mut f.desk, m.id, &["1"]).books[0].loan_id.unwrap();
    f.clock.advance(Duration::days(5));
    let renewed = f.desk.renew_loan(loan).unwrap();
    assert_eq!(renewed.renewals, 1);
    assert_eq!(renewed.due_on_jalali, "۱۴۰۴/۰۱/۲۸");
    assert_eq!(f.desk.renew_loan(loan).unwrap_err().code(), ErrorCode::Conflict);
}

#[test]
fn a_voided_loan_frees_the_copy_and_both_events_stay() {
    let (mut f, m) = desk_with_reader(("ابطال", 1, 1), ("کاوه", "امینی", 10));
    let loan = lend(&mut f.desk, m.id, &["1"]).books[0].loan_id.unwrap();
    let before = f.desk.event_log().unwrap().len();
    f.desk.void_event(loan, "عضو اشتباه انتخاب شد").unwrap();
    assert!(f.desk.open_loans_of(m.id).unwrap().is_empty());
    assert_eq!(f.desk.event_log().unwrap().len(), before + 1);
    assert!(f.desk.loan_history(m.id, 5).unwrap()[0].voided);
    assert_eq!(f.desk.void_event(loan, "دوباره").unwrap_err().code(), ErrorCode::Conflict);
    assert_eq!(f.desk.void_event(loan, " ").unwrap_err().code(), ErrorCode::InvalidInput);
}

#[test]
fn voiding_a_return_reopens_the_loan() {
    let (mut f, m) = desk_with_reader(("بازگشت اشتباه", 1, 1), ("نیما", "فرهادی", 11));
    lend(&mut f.desk, m.id, &["1"]);
    f.desk.check_in("1").unwrap();
    let ret = f.desk.event_log().unwrap().into_iter().rev().find(|e| e.event.kind() == "return").unwrap();
    f.desk.void_event(ret.id, "کتاب اشتباهی اسکن شد").unwrap();
    assert_eq!(f.desk.open_loans_of(m.id).unwrap().len(), 1);
}

#[test]
fn circulation_is_refused_when_the_clock_went_back() {
    let (mut f, m) = desk_with_reader(("ساعت", 1, 1), ("یاسمن", "شریفی", 12));
    f.clock.set(start_time() - Duration::days(30));
    let err = f.desk.check_out(CheckOutRequest::new(m.id, ["1"]).confirmed()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ClockBehind);
    assert!(err.to_string().contains("ساعت"), "{err}");
    f.clock.set(start_time() + Duration::minutes(1));
    assert_eq!(lend(&mut f.desk, m.id, &["1"]).lent(), 1);
}

#[test]
fn todays_circulation_counts_this_tehran_day() {
    let (mut f, m) = desk_with_reader(("امروز", 1, 2), ("رعنا", "قاسمی", 13));
    lend(&mut f.desk, m.id, &["1", "2"]);
    f.desk.check_in("1").unwrap();
    let t = f.desk.todays_circulation().unwrap();
    assert_eq!((t.loans, t.returns, t.new_members, t.overdue), (2, 1, 1, 0));
    f.clock.advance(Duration::days(1));
    let t = f.desk.todays_circulation().unwrap();
    assert_eq!((t.loans, t.returns, t.new_members), (0, 0, 0));
}

#[test]
fn a_holiday_set_today_moves_the_next_due_date_at_once() {
    let (mut f, m) = desk_with_reader(("تعطیلی", 1, 2), ("ژینا", "کرمی", 14));
    assert_eq!(lend(&mut f.desk, m.id, &["1"]).books[0].due_on_jalali.as_deref(), Some("۱۴۰۴/۰۱/۲۳"));
    let due = chrono::NaiveDate::from_ymd_opt(2025, 4, 12).unwrap();
    let year =
        (chrono::NaiveDate::from_ymd_opt(2025, 3, 21).unwrap(), chrono::NaiveDate::from_ymd_opt(2026, 3, 20).unwrap());
    f.desk
        .set_holidays(year.0, year.1, vec![kanoon_store::settings::Holiday { date: due, name: "تعطیل".into() }])
        .unwrap();
    assert_eq!(lend(&mut f.desk, m.id, &["2"]).books[0].due_on_jalali.as_deref(), Some("۱۴۰۴/۰۱/۲۴"));
}

#[test]
fn a_renewal_that_would_not_extend_the_loan_is_refused_and_not_counted() {
    let (mut f, m) = desk_with_reader(("تمدید زود", 1, 1), ("آرش", "بهاری", 15));
    let loan = lend(&mut f.desk, m.id, &["1"]).books[0].loan_id.unwrap();
    assert_eq!(f.desk.renew_loan(loan).unwrap_err().code(), ErrorCode::Conflict);
    f.clock.advance(Duration::days(3));
    assert_eq!(f.desk.renew_loan(loan).unwrap().renewals, 1);
}

#[test]
fn a_center_typed_in_persian_digits_is_the_same_center() {
    let mut f = desk();
    books(&mut f.desk, "انتقال", 1, 1);
    f.desk.add_center(other_center("۵۶۷۸", "مرکز سیار", kanoon_domain::entities::CenterKind::Mobile)).unwrap();
    let copy = f.desk.copy_by_registration_number("1").unwrap();
    f.desk.transfer_copy(copy.id, "5678").unwrap();
    let c = f.desk.centers().unwrap().into_iter().find(|c| c.code == "5678").unwrap();
    assert_eq!(c.id, kanoon_domain::entities::Center::id_for_code("5678"));
}

#[test]
fn the_history_gives_the_return_to_void_when_it_was_scanned_by_mistake() {
    let (mut f, m) = desk_with_reader(("برگشت", 1, 1), ("سینا", "مولایی", 16));
    lend(&mut f.desk, m.id, &["1"]);
    f.desk.check_in("1").unwrap();
    let return_id = f.desk.loan_history(m.id, 5).unwrap()[0].return_id.unwrap();
    f.desk.void_event(return_id, "کتاب دیگری اسکن شد").unwrap();
    let row = &f.desk.loan_history(m.id, 5).unwrap()[0];
    assert_eq!((row.returned_on_jalali.as_deref(), row.return_id), (None, None));
    assert_eq!(f.desk.open_loans_of(m.id).unwrap().len(), 1);
}

#[test]
fn each_changed_holiday_is_one_op_and_a_policy_edit_names_the_version_it_replaced() {
    let mut f = desk();
    let d = |m, day| chrono::NaiveDate::from_ymd_opt(2025, m, day).unwrap();
    let year = (d(3, 21), chrono::NaiveDate::from_ymd_opt(2026, 3, 20).unwrap());
    let h = |date, name: &str| kanoon_store::settings::Holiday { date, name: name.into() };
    let before = f.desk.outbox_len().unwrap();
    f.desk.set_holidays(year.0, year.1, vec![h(d(4, 1), "سیزده بدر"), h(d(6, 4), "تاسوعا")]).unwrap();
    assert_eq!(f.desk.outbox_len().unwrap(), before + 2);
    // Keep one, drop one (kept inactive), add one: two records change.
    f.desk.set_holidays(year.0, year.1, vec![h(d(4, 1), "سیزده بدر"), h(d(6, 5), "عاشورا")]).unwrap();
    assert_eq!(f.desk.outbox_len().unwrap(), before + 4);
    let names: Vec<String> = f.desk.holidays(year.0, year.1).unwrap().into_iter().map(|h| h.name).collect();
    assert_eq!(names, vec!["سیزده بدر", "عاشورا"]);

    // The center's policy is its override record: a second edit names the first's version.
    for days in [10, 12] {
        let mut policy = f.desk.policy().unwrap();
        policy.default_rule.loan_days = days;
        f.desk.set_policy(policy).unwrap();
    }
    let ops = f.desk.outbox(100_000).unwrap();
    let kanoon_protocol::OpBody::Patch { fields } = &ops.last().unwrap().body else { panic!("not a patch") };
    assert!(fields["value"].base.is_some(), "the edit names the version it replaced");
    assert_eq!(f.desk.policy().unwrap().default_rule.loan_days, 12);
}

#[test]
fn a_manager_accepts_a_corrected_clock_after_it_once_ran_far_ahead() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("center.sqlite");
    let clock = kanoon_store::ManualClock::new(start_time() + Duration::days(400));
    let mut desk = kanoon_store::Desk::open(&path).unwrap().with_clock(std::sync::Arc::new(clock.clone()));
    desk.setup(setup_request(), PASSWORD).unwrap();
    books(&mut desk, "ساعت جلو", 1, 2);
    let m = register(&mut desk, "ساعت", "جلو", 17);
    lend(&mut desk, m.id, &["1"]);
    clock.set(start_time());
    let req = || CheckOutRequest::new(m.id, ["2"]).confirmed();
    assert_eq!(desk.check_out(req()).unwrap_err().code(), ErrorCode::ClockBehind);
    desk.accept_current_clock().unwrap();
    assert_eq!(desk.check_out(req()).unwrap().lent(), 1);
    drop(desk);
    // Still accepted after the app restarts.
    let mut desk = kanoon_store::Desk::open(&path).unwrap().with_clock(std::sync::Arc::new(clock.clone()));
    desk.sign_in("manager", PASSWORD).unwrap();
    assert_eq!(desk.check_in("2").unwrap().days_late, 0);
}

#[test]
fn a_clock_set_back_is_still_refused_after_an_edit_and_a_restart() {
    // Simulation seed 497853488: a loan, the clock set back hours, a member
    // edit (allowed: not circulation) whose op is then the outbox's last,
    // a restart — the latest time must survive it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("center.sqlite");
    let clock = kanoon_store::ManualClock::new(start_time());
    let mut desk = kanoon_store::Desk::open(&path).unwrap().with_clock(std::sync::Arc::new(clock.clone()));
    desk.setup(setup_request(), PASSWORD).unwrap();
    books(&mut desk, "ساعت عقب", 1, 2);
    let m = register(&mut desk, "ساعت", "عقب", 16);
    lend(&mut desk, m.id, &["1"]);
    clock.set(start_time() - Duration::hours(7));
    let mut details = desk.member(m.id).unwrap().details;
    details.address = "کوچه ساعت، پلاک ۷".into();
    desk.edit_member(m.id, details).unwrap();
    drop(desk);
    let mut desk = kanoon_store::Desk::open(&path).unwrap().with_clock(std::sync::Arc::new(clock.clone()));
    desk.sign_in("manager", PASSWORD).unwrap();
    let err = desk.check_out(CheckOutRequest::new(m.id, ["2"]).confirmed()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ClockBehind);
}

#[test]
fn circulation_is_refused_while_the_clock_is_ahead_of_the_server_and_allowed_once_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("center.sqlite");
    let clock = kanoon_store::ManualClock::new(start_time() + Duration::hours(1));
    let mut desk = kanoon_store::Desk::open(&path).unwrap().with_clock(std::sync::Arc::new(clock.clone()));
    desk.setup(setup_request(), PASSWORD).unwrap();
    books(&mut desk, "ساعت جلوتر از سرور", 1, 3);
    let m = register(&mut desk, "ساعت", "سرور", 18);
    lend(&mut desk, m.id, &["1"]);
    let server_ms = start_time().timestamp_millis();
    // Within five minutes of the server's clock: nothing to say.
    desk.note_server_clock(Some(server_ms + 56 * 60_000), false).unwrap();
    assert_eq!(desk.clock_warning(), None);
    desk.note_server_clock(Some(server_ms), false).unwrap();
    let warning = desk.clock_warning().expect("a desk an hour ahead of the server warns");
    assert!(warning.contains("ویندوز"), "{warning}");
    let outbox = desk.outbox_len().unwrap();
    for refused in [
        desk.check_out(CheckOutRequest::new(m.id, ["2"]).confirmed()).map(drop),
        desk.check_in("1").map(drop),
        desk.renew_loan(desk.open_loans_of(m.id).unwrap()[0].loan_id).map(drop),
    ] {
        assert_eq!(refused.unwrap_err().code(), ErrorCode::ClockAhead);
    }
    assert_eq!(desk.outbox_len().unwrap(), outbox, "nothing written");
    // Registration is not circulation: still recorded.
    register(&mut desk, "عضو", "تازه", 19);
    drop(desk);
    // The warning outlives a restart.
    let mut desk = kanoon_store::Desk::open(&path).unwrap().with_clock(std::sync::Arc::new(clock.clone()));
    desk.sign_in("manager", PASSWORD).unwrap();
    assert!(desk.clock_warning().is_some());
    assert_eq!(desk.check_in("1").unwrap_err().code(), ErrorCode::ClockAhead);
    // The clock fixed and a push seen: circulation again.
    clock.set(start_time() + Duration::minutes(1));
    desk.note_server_clock(Some(server_ms + 60_000), false).unwrap();
    assert_eq!(desk.clock_warning(), None);
    // It went back an hour from what it recorded: a manager accepts it.
    desk.accept_current_clock().unwrap();
    assert_eq!(desk.check_in("1").unwrap().days_late, 0);
}

#[test]
fn a_held_op_sets_the_clock_warning_only_when_the_server_sends_no_time() {
    let (mut f, _) = desk_with_reader(("سرور قدیمی", 1, 1), ("سارا", "قدیمی", 13));
    f.desk.note_server_clock(None, true).unwrap();
    assert!(f.desk.clock_warning().is_some());
    f.desk.note_server_clock(None, false).unwrap();
    assert_eq!(f.desk.clock_warning(), None);
    // A fixed clock whose ops stamped before the fix still wait: no warning.
    f.desk.note_server_clock(Some(start_time().timestamp_millis()), true).unwrap();
    assert_eq!(f.desk.clock_warning(), None);
}
