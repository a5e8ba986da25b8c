//! The cash book through the `Desk` API: receipts numbered per desk and
//! never reissued (not even after a restore from an older backup), refunds
//! bounded by what was paid, a day closed by a manager that then cannot
//! change, and receipt numbers issued twice on two PCs found after sync.

use std::sync::Arc;

use chrono::Duration;
use kanoon_domain::cashbook::{PaymentKind, PaymentMethod};
use kanoon_domain::entities::Role;
use kanoon_protocol::wire::Cursor;
use kanoon_store::cashbook::PaymentInput;
use kanoon_store::{Desk, ErrorCode, ManualClock, SetupRequest};

use crate::support::*;

fn cash(amount: i64) -> PaymentInput {
    PaymentInput {
        kind: PaymentKind::Tuition,
        method: PaymentMethod::Cash,
        pos_ref: None,
        amount_rials: amount,
        payer: "خانوادهٔ رضایی".into(),
        member_id: None,
    }
}

#[test]
fn receipts_are_numbered_per_desk_and_what_was_typed_wrong_is_refused() {
    let mut f = desk();
    let a = f.desk.take_payment(cash(1_500_000)).unwrap();
    let b = f
        .desk
        .take_payment(PaymentInput {
            method: PaymentMethod::Card, pos_ref: Some("۰۰۱۲۳۴".into()), ..cash(500_000)
        })
        .unwrap();
    assert_eq!((a.receipt.as_str(), b.receipt.as_str()), ("۱-۱", "۱-۲"));
    assert_eq!(b.pos_ref.as_deref(), Some("001234"));
    assert_eq!((a.kind_name.as_str(), b.method_name.as_str()), ("شهریهٔ کارگاه", "کارت‌خوان"));
    for bad in [
        cash(0),
        cash(-5),
        cash(20_000_000_000),
        PaymentInput { payer: " ".into(), ..cash(1) },
        PaymentInput { method: PaymentMethod::Card, pos_ref: None, ..cash(1) },
    ] {
        let e = f.desk.take_payment(bad).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidInput, "{e}");
    }
    assert_eq!(f.desk.take_payment(cash(1)).unwrap().receipt, "۱-۳", "a refused payment used no number");
}

#[test]
fn refunds_never_exceed_what_was_paid() {
    let mut f = desk();
    let paid = f.desk.take_payment(cash(1_000_000)).unwrap();
    let back = f.desk.refund_payment(paid.id, 400_000, "انصراف از کارگاه").unwrap();
    assert_eq!((back.amount_rials, back.refund_of, back.receipt.as_str()), (-400_000, Some(paid.id), "۱-۲"));
    assert_eq!(f.desk.cash_entry(paid.id).unwrap().refundable_rials, 600_000);
    let too_much = f.desk.refund_payment(paid.id, 600_001, "باقی").unwrap_err();
    assert_eq!(too_much.code(), ErrorCode::InvalidInput);
    assert!(too_much.to_string().contains("۶۰۰٬۰۰۰"), "{too_much}");
    assert_eq!(f.desk.refund_payment(paid.id, 1, " ").unwrap_err().code(), ErrorCode::InvalidInput);
    assert_eq!(f.desk.refund_payment(back.id, 1, "برگشت برگشت").unwrap_err().code(), ErrorCode::NotFound);
    f.desk.refund_payment(paid.id, 600_000, "باقی").unwrap();
    assert_eq!(f.desk.cash_entry(paid.id).unwrap().refundable_rials, 0);
    let me = f.desk.signed_in().unwrap().id;
    let day = f.desk.cash_day(me, f.desk.today()).unwrap();
    assert_eq!((day.entries.len(), day.cash_rials), (3, 0));
}

#[test]
fn a_closed_day_cannot_change_and_only_a_manager_closes_it() {
    let mut f = desk();
    let teacher = f.desk.add_staff_with_password("maryam", "مریم کاظمی", Role::Instructor, PASSWORD).unwrap();
    f.desk.sign_out();
    f.desk.sign_in("maryam", PASSWORD).unwrap();
    let paid = f.desk.take_payment(cash(300_000)).unwrap();
    f.desk
        .take_payment(PaymentInput {
            method: PaymentMethod::Card,
            pos_ref: Some("77".into()),
            kind: PaymentKind::MembershipFee,
            ..cash(200_000)
        })
        .unwrap();
    let today = f.desk.today();
    assert_eq!(f.desk.close_cash_day(teacher.id, today).unwrap_err().code(), ErrorCode::Forbidden);
    assert_eq!(f.desk.receipt_problems().unwrap_err().code(), ErrorCode::Forbidden);

    f.desk.sign_out();
    f.desk.sign_in(MANAGER, PASSWORD).unwrap();
    assert_eq!(
        f.desk.close_cash_day(teacher.id, today + Duration::days(1)).unwrap_err().code(),
        ErrorCode::InvalidInput
    );
    let closed = f.desk.close_cash_day(teacher.id, today).unwrap();
    assert_eq!((closed.cash_rials, closed.card_rials, closed.totals.len()), (300_000, 200_000, 2));
    let confirmed = closed.closed.unwrap();
    assert_eq!((confirmed.confirmed_by.as_deref(), confirmed.confirmed_rials), (Some("زهرا احمدی"), 500_000));
    assert_eq!(f.desk.close_cash_day(teacher.id, today).unwrap_err().code(), ErrorCode::Conflict);

    f.desk.sign_out();
    f.desk.sign_in("maryam", PASSWORD).unwrap();
    let e = f.desk.take_payment(cash(1)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    assert!(e.to_string().contains("بسته"), "{e}");
    assert!(f.desk.refund_payment(paid.id, 1, "اصلاح").is_err(), "a correction waits for an open day");
    // The next day is open: the mistake is reversed there, by a new entry.
    f.clock.advance(Duration::days(1));
    let fix = f.desk.refund_payment(paid.id, 100_000, "اصلاح مبلغ روز پیش").unwrap();
    assert_eq!(fix.amount_rials, -100_000);
    assert_eq!(f.desk.cash_day(teacher.id, today).unwrap().entries.len(), 2, "the closed day is as it was");
}

#[test]
fn two_pcs_with_one_desk_number_issue_one_receipt_twice_and_both_are_kept_and_reported() {
    let f = desk();
    let (mut a, clock) = (f.desk, f.clock);
    let mut b = Desk::open_in_memory().unwrap().with_clock(Arc::new(clock.clone()));
    b.setup(SetupRequest { manager_username: "manager2".into(), ..setup_request() }, PASSWORD).unwrap();
    let pa = a.take_payment(cash(100_000)).unwrap();
    let pb = b.take_payment(cash(250_000)).unwrap();
    assert_eq!(pa.receipt, pb.receipt);
    let mut seq = 0;
    let mut send = |from: &mut Desk, to: &mut Desk| {
        let ops = from.ops_to_push(1000).unwrap();
        seq += ops.len() as u64;
        to.apply_pulled(&ops, Cursor { epoch: 1, seq }).unwrap();
        to.apply_pulled(&ops, Cursor { epoch: 1, seq }).unwrap();
        from.mark_pushed(&ops.iter().map(|o| o.op_id).collect::<Vec<_>>()).unwrap();
    };
    send(&mut a, &mut b);
    send(&mut b, &mut a);
    for desk in [&a, &b] {
        assert!(desk.cash_entry(pa.id).is_ok() && desk.cash_entry(pb.id).is_ok(), "both payments kept");
        let clashes: Vec<_> =
            desk.sync_exceptions().unwrap().into_iter().filter(|e| e.code == "receipt_clash").collect();
        assert_eq!(clashes.len(), 1, "reported once");
        let problems = desk.receipt_problems().unwrap();
        assert_eq!(problems.iter().filter(|p| p.code == "clash").count(), 1);
        assert_eq!(problems[0].entry_ids.len(), 2);
    }
    // Each desk goes on past the numbers it has seen.
    assert_eq!(a.take_payment(cash(1)).unwrap().receipt, "۱-۲");
}

#[test]
fn a_restore_from_an_older_backup_never_issues_a_receipt_number_again() {
    let live = tempfile::tempdir().unwrap();
    let usb = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start_time());
    let mut desk = Desk::open(&live.path().join("center.sqlite")).unwrap().with_clock(Arc::new(clock.clone()));
    desk.setup(setup_request(), PASSWORD).unwrap();
    desk.take_payment(cash(1)).unwrap();
    let backup = desk.backup_to(usb.path(), 5).unwrap();
    clock.advance(Duration::seconds(5));
    assert_eq!(desk.take_payment(cash(2)).unwrap().receipt, "۱-۲");
    clock.advance(Duration::seconds(5));
    desk.restore_from(&backup).unwrap();
    assert_eq!(desk.take_payment(cash(3)).unwrap().receipt, "۱-۳", "number 2 was printed; it is not issued again");
}

#[test]
fn a_membership_fee_paid_at_the_desk_is_taken_into_the_cash_book_with_the_desks_receipt() {
    use kanoon_domain::circulation::Fee;
    use kanoon_store::members::{FeeInput, RegisterMember, RegisterOutcome};
    let mut f = desk();
    let at_desk = FeeInput::Paid { amount_rials: 350_000, receipt_number: " ".into() };
    let out = f
        .desk
        .register_member(RegisterMember::new(details("سارا", "رضایی", Some(national_id(7))), at_desk.clone()))
        .unwrap();
    let RegisterOutcome::Registered { member } = out else { panic!("not registered") };
    let periods = f.desk.membership_periods(member.id).unwrap();
    assert_eq!(periods[0].fee, Fee::Paid { amount_rials: 350_000, receipt_number: "1-1".into() });
    let me = f.desk.signed_in().unwrap().id;
    let day = f.desk.cash_day(me, f.desk.today()).unwrap();
    assert_eq!(day.entries.len(), 1);
    let e = &day.entries[0];
    assert_eq!(
        (e.kind, e.receipt.as_str(), e.member_id, e.payer.as_str()),
        (PaymentKind::MembershipFee, "۱-۱", Some(member.id), "سارا رضایی")
    );
    // A receipt of elsewhere (a bank slip) is only noted; the book is not touched.
    register(&mut f.desk, "کیمیا", "صالحی", 8);
    assert_eq!(f.desk.cash_day(me, f.desk.today()).unwrap().entries.len(), 1);
    // A renewal paid here is the book's next receipt.
    f.desk.renew_membership(member.id, at_desk.clone()).unwrap();
    assert_eq!(f.desk.cash_day(me, f.desk.today()).unwrap().entries[1].receipt, "۱-۲");
    // Once the day is closed, a fee is not taken here (a typed receipt still is).
    f.desk.close_cash_day(me, f.desk.today()).unwrap();
    let e = f.desk.renew_membership(member.id, at_desk).unwrap_err();
    assert!(e.to_string().contains("بسته"), "{e}");
    f.desk.renew_membership(member.id, paid()).unwrap();
}
