//! Workshops through the `Desk` API: capacity and the waiting list whose
//! first is offered a freed place, tuition in full or by installments
//! through the cash book, refunds by the rule and for a cancelled
//! workshop, attendance per session and the certificate, and the last
//! place given at two desks offline kept and reported.

use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use kanoon_domain::cashbook::{PaymentKind, PaymentMethod};
use kanoon_domain::entities::{Gender, Role};
use kanoon_domain::workshops::Standing;
use kanoon_protocol::wire::Cursor;
use kanoon_store::cashbook::TuitionInput;
use kanoon_store::workshops::{EnrolInput, ParticipantInput, WorkshopDetail, WorkshopInput};
use kanoon_store::{Desk, ErrorCode, SetupRequest};
use proptest::prelude::*;
use uuid::Uuid;

use crate::support::*;

fn input(desk: &Desk, first_on: NaiveDate, capacity: u32) -> WorkshopInput {
    WorkshopInput {
        term: "تابستان ۱۴۰۴".into(),
        title: "نقاشی با آبرنگ".into(),
        instructor_id: desk.signed_in().unwrap().id,
        age_groups: Vec::new(),
        gender: None,
        room: "کارگاه ۲".into(),
        first_on,
        weekdays: vec![0, 2],
        session_count: 4,
        at: "۱۶:۰۰".into(),
        minutes: 90,
        capacity,
        minimum: capacity.min(2),
        tuition_rials: 3_000_000,
        instructor_share_percent: 60,
        max_installments: 3,
        completion_percent: 75,
        refund_before_percent: 100,
        refund_after_percent: 50,
    }
}

fn child(desk: &mut Desk, name: &str) -> Uuid {
    desk.add_participant(ParticipantInput {
        full_name: name.into(),
        gender: Some(Gender::Female),
        age_group: None,
        guardian_name: "مادر".into(),
        guardian_phone: "۰۹۱۲۱۲۳۴۵۶۷".into(),
    })
    .unwrap()
    .id
}

fn enrol(desk: &mut Desk, workshop: Uuid, participant: Uuid, installments: u8) -> kanoon_store::Result<WorkshopDetail> {
    desk.enrol(EnrolInput {
        workshop_id: workshop,
        participant_id: participant,
        exemption_rials: 0,
        exemption_reason: String::new(),
        installments,
        over_capacity: false,
    })
}

fn standing(d: &WorkshopDetail, p: Uuid) -> Option<Standing> {
    d.roster.iter().find(|l| l.participant_id == p).map(|l| l.standing)
}

fn pay(desk: &mut Desk, workshop: Uuid, participant: Uuid, amount: i64) -> kanoon_store::Result<i64> {
    desk.pay_tuition(TuitionInput {
        workshop_id: workshop,
        participant_id: participant,
        method: PaymentMethod::Cash,
        pos_ref: None,
        amount_rials: amount,
    })
    .map(|e| e.amount_rials)
}

fn next_week(f: &Fixture) -> NaiveDate {
    f.desk.today() + Duration::days(7)
}

#[test]
fn the_third_of_two_places_waits_and_is_offered_the_place_the_first_frees() {
    let mut f = desk();
    let w = f.desk.create_workshop(input(&f.desk, next_week(&f), 2)).unwrap();
    assert_eq!(w.sessions.len(), 4);
    assert!(w.summary.schedule.starts_with("شنبه و دوشنبه"), "{}", w.summary.schedule);
    let [a, b, c] = [child(&mut f.desk, "آوا"), child(&mut f.desk, "باران"), child(&mut f.desk, "ترانه")];
    enrol(&mut f.desk, w.summary.id, a, 1).unwrap();
    enrol(&mut f.desk, w.summary.id, b, 1).unwrap();
    let d = enrol(&mut f.desk, w.summary.id, c, 1).unwrap();
    assert_eq!((standing(&d, a), standing(&d, c)), (Some(Standing::Enrolled), Some(Standing::Waiting)));
    assert_eq!((d.summary.enrolled, d.summary.waiting, d.summary.places_left), (2, 1, 0));
    assert_eq!(enrol(&mut f.desk, w.summary.id, a, 1).unwrap_err().code(), ErrorCode::Conflict, "once");

    let d = f.desk.withdraw(w.summary.id, a, "جابه‌جایی خانواده").unwrap();
    assert_eq!(standing(&d, a), Some(Standing::Withdrawn));
    assert_eq!(standing(&d, c), Some(Standing::Offered), "the freed place went to the first waiting");
    assert_eq!(d.next_offer, None);
    let d = f.desk.accept_place(w.summary.id, c).unwrap();
    assert_eq!((standing(&d, c), d.summary.enrolled, d.summary.over_capacity), (Some(Standing::Enrolled), 2, 0));
    assert_eq!(f.desk.accept_place(w.summary.id, c).unwrap_err().code(), ErrorCode::Conflict);
    // A withdrawn participant may join again, at the back of the line.
    let d = enrol(&mut f.desk, w.summary.id, a, 1).unwrap();
    assert_eq!(standing(&d, a), Some(Standing::Waiting));
}

#[test]
fn past_a_full_workshop_only_a_manager_enrols_and_it_is_not_an_excess() {
    let mut f = desk();
    let w = f.desk.create_workshop(input(&f.desk, next_week(&f), 1)).unwrap().summary.id;
    let [a, b] = [child(&mut f.desk, "آوا"), child(&mut f.desk, "باران")];
    enrol(&mut f.desk, w, a, 1).unwrap();
    f.desk.add_staff_with_password("maryam", "مریم کاظمی", Role::Instructor, PASSWORD).unwrap();
    f.desk.sign_out();
    f.desk.sign_in("maryam", PASSWORD).unwrap();
    let over = EnrolInput {
        workshop_id: w,
        participant_id: b,
        exemption_rials: 0,
        exemption_reason: String::new(),
        installments: 1,
        over_capacity: true,
    };
    assert_eq!(f.desk.enrol(over.clone()).unwrap_err().code(), ErrorCode::Forbidden);
    assert_eq!(f.desk.create_workshop(input(&f.desk, next_week(&f), 1)).unwrap_err().code(), ErrorCode::Forbidden);
    f.desk.sign_out();
    f.desk.sign_in(MANAGER, PASSWORD).unwrap();
    let d = f.desk.enrol(over).unwrap();
    assert_eq!((d.summary.enrolled, d.summary.over_capacity, d.summary.waiting), (2, 0, 0));
}

#[test]
fn limits_of_gender_and_age_group_are_kept_with_a_message_that_says_which() {
    let mut f = desk();
    let groups = f.desk.age_groups().unwrap();
    let w = f
        .desk
        .create_workshop(WorkshopInput {
            gender: Some(Gender::Male),
            age_groups: vec![groups[0].code.clone()],
            ..input(&f.desk, next_week(&f), 5)
        })
        .unwrap()
        .summary
        .id;
    let girl = child(&mut f.desk, "آوا");
    let e = enrol(&mut f.desk, w, girl, 1).unwrap_err();
    assert!(e.to_string().contains("پسران"), "{e}");
    let boy = f
        .desk
        .add_participant(ParticipantInput {
            full_name: "آرش".into(),
            gender: Some(Gender::Male),
            age_group: Some(groups[1].code.clone()),
            guardian_name: String::new(),
            guardian_phone: "09121234567".into(),
        })
        .unwrap();
    let e = enrol(&mut f.desk, w, boy.id, 1).unwrap_err();
    assert!(e.to_string().contains(&groups[1].code), "{e}");
    assert_eq!(
        f.desk
            .add_participant(ParticipantInput {
                full_name: "بی‌شماره".into(),
                gender: None,
                age_group: None,
                guardian_name: String::new(),
                guardian_phone: "123".into(),
            })
            .unwrap_err()
            .code(),
        ErrorCode::InvalidInput
    );
}

#[test]
fn installments_sum_to_tuition_less_the_exemption_and_nothing_is_paid_past_it() {
    let mut f = desk();
    let w = f.desk.create_workshop(input(&f.desk, next_week(&f), 1)).unwrap().summary.id;
    let [a, b] = [child(&mut f.desk, "آوا"), child(&mut f.desk, "باران")];
    let no_reason = EnrolInput {
        workshop_id: w,
        participant_id: a,
        exemption_rials: 600_000,
        exemption_reason: " ".into(),
        installments: 3,
        over_capacity: false,
    };
    assert_eq!(f.desk.enrol(no_reason.clone()).unwrap_err().code(), ErrorCode::InvalidInput);
    assert_eq!(
        f.desk.enrol(EnrolInput { installments: 4, ..no_reason.clone() }).unwrap_err().code(),
        ErrorCode::InvalidInput,
        "more installments than the workshop allows"
    );
    let d = f.desk.enrol(EnrolInput { exemption_reason: "فرزند شاهد".into(), ..no_reason }).unwrap();
    let line = &d.roster[0];
    assert_eq!((line.owed_rials, line.balance_rials, line.next_installment_rials), (2_400_000, 2_400_000, 800_000));

    enrol(&mut f.desk, w, b, 1).unwrap();
    assert_eq!(pay(&mut f.desk, w, b, 100).unwrap_err().code(), ErrorCode::Conflict, "the waiting pay later");

    let mut paid = 0;
    for _ in 0..3 {
        let next = f.desk.workshop(w).unwrap().roster[0].next_installment_rials;
        paid += pay(&mut f.desk, w, a, next).unwrap();
    }
    assert_eq!(paid, 2_400_000);
    let line = f.desk.workshop(w).unwrap().roster[0].clone();
    assert_eq!((line.balance_rials, line.paid_rials), (0, 2_400_000));
    assert_eq!(pay(&mut f.desk, w, a, 1).unwrap_err().code(), ErrorCode::Conflict, "nothing past the tuition");
    let me = f.desk.signed_in().unwrap().id;
    let day = f.desk.cash_day(me, f.desk.today()).unwrap();
    assert!(day.entries.iter().all(|e| e.kind == PaymentKind::Installment && e.workshop_title.is_some()));
    let d = f.desk.workshop(w).unwrap();
    assert_eq!((d.taken_rials, d.instructor_share_rials), (2_400_000, 1_440_000));
}

#[test]
fn tuition_in_full_is_one_payment_of_the_whole() {
    let mut f = desk();
    let w = f.desk.create_workshop(input(&f.desk, next_week(&f), 3)).unwrap().summary.id;
    let a = child(&mut f.desk, "آوا");
    enrol(&mut f.desk, w, a, 1).unwrap();
    let e = pay(&mut f.desk, w, a, 1_000_000).unwrap_err();
    assert!(e.to_string().contains("۳٬۰۰۰٬۰۰۰"), "{e}");
    assert_eq!(pay(&mut f.desk, w, a, 3_000_001).unwrap_err().code(), ErrorCode::InvalidInput);
    let entry = f
        .desk
        .pay_tuition(TuitionInput {
            workshop_id: w,
            participant_id: a,
            method: PaymentMethod::Card,
            pos_ref: Some("۴۴۵۵".into()),
            amount_rials: 3_000_000,
        })
        .unwrap();
    assert_eq!((entry.kind, entry.receipt.as_str()), (PaymentKind::Tuition, "۱-۱"));
}

#[test]
fn a_withdrawal_is_refunded_by_the_rule_once_and_a_cancelled_workshop_refunds_everything() {
    let mut f = desk();
    let first = f.desk.today() + Duration::days(1);
    let w = f.desk.create_workshop(input(&f.desk, first, 5)).unwrap();
    let id = w.summary.id;
    let [a, b, c] = [child(&mut f.desk, "آوا"), child(&mut f.desk, "باران"), child(&mut f.desk, "ترانه")];
    for p in [a, b, c] {
        enrol(&mut f.desk, id, p, 1).unwrap();
        pay(&mut f.desk, id, p, 3_000_000).unwrap();
    }
    // `a` leaves before the first session: all back (100 %).
    f.desk.withdraw(id, a, "بیماری").unwrap();
    let back = f.desk.refund_tuition(id, a).unwrap();
    assert_eq!(back.iter().map(|e| e.amount_rials).sum::<i64>(), -3_000_000);
    assert_eq!(f.desk.refund_tuition(id, a).unwrap_err().code(), ErrorCode::Conflict, "once");
    // `b` leaves after two of four sessions: half of the half left (50 %).
    f.clock.advance(Duration::days(8));
    let d = f.desk.workshop(id).unwrap();
    assert_eq!(d.summary.sessions_held, 2);
    let d = f.desk.withdraw(id, b, "سفر").unwrap();
    let line = d.roster.iter().find(|l| l.participant_id == b).unwrap();
    assert_eq!(line.refund_due_rials, 750_000);
    assert_eq!(f.desk.refund_tuition(id, b).unwrap()[0].amount_rials, -750_000);
    // The workshop is cancelled: `c` gets everything back.
    let d = f.desk.cancel_workshop(id, "به حد نصاب نرسید").unwrap();
    assert_eq!(d.roster.iter().find(|l| l.participant_id == c).unwrap().refund_due_rials, 3_000_000);
    assert_eq!(d.roster.iter().find(|l| l.participant_id == b).unwrap().refund_due_rials, 2_250_000, "and b the rest");
    f.desk.refund_tuition(id, c).unwrap();
    assert_eq!(enrol(&mut f.desk, id, a, 1).unwrap_err().code(), ErrorCode::Conflict, "no enrolment once cancelled");
    assert_eq!(pay(&mut f.desk, id, c, 1).unwrap_err().code(), ErrorCode::Conflict);
    let d = f.desk.workshop(id).unwrap();
    assert_eq!(d.roster.iter().find(|l| l.participant_id == c).unwrap().refund_due_rials, 0);
}

#[test]
fn attendance_counts_toward_completion_and_the_certificate_waits_for_the_last_session() {
    let mut f = desk();
    let first = f.desk.today();
    let w = f.desk.create_workshop(input(&f.desk, first, 5)).unwrap().summary.id;
    let [a, b] = [child(&mut f.desk, "آوا"), child(&mut f.desk, "باران")];
    enrol(&mut f.desk, w, a, 1).unwrap();
    enrol(&mut f.desk, w, b, 1).unwrap();
    assert_eq!(
        f.desk.mark_workshop_attendance(w, 2, a, true).unwrap_err().code(),
        ErrorCode::InvalidInput,
        "a session still to come"
    );
    assert_eq!(f.desk.mark_workshop_attendance(w, 9, a, true).unwrap_err().code(), ErrorCode::NotFound);
    f.desk.mark_workshop_attendance(w, 1, a, true).unwrap();
    f.desk.mark_workshop_attendance(w, 1, b, true).unwrap();
    let e = f.desk.workshop_certificate(w, a).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict);
    f.clock.advance(Duration::days(10));
    for s in 2..=4 {
        f.desk.mark_workshop_attendance(w, s, a, true).unwrap();
    }
    f.desk.mark_workshop_attendance(w, 2, b, true).unwrap();
    let sheet = f.desk.mark_workshop_attendance(w, 2, b, false).unwrap();
    let rows: Vec<(u32, bool)> = sheet.rows.iter().map(|r| (r.attended, r.completed)).collect();
    assert_eq!(rows, vec![(4, true), (1, false)], "the latest mark of a session counts");
    let cert = f.desk.workshop_certificate(w, a).unwrap();
    assert_eq!((cert.attended, cert.sessions_held, cert.hours.as_str()), (4, 4, "۶"));
    let e = f.desk.workshop_certificate(w, b).unwrap_err();
    assert!(e.to_string().contains("۷۵"), "{e}");
}

#[test]
fn the_family_list_shows_what_may_still_be_joined() {
    let mut f = desk();
    let open = f.desk.create_workshop(input(&f.desk, next_week(&f), 5)).unwrap().summary.id;
    let cancelled = f.desk.create_workshop(input(&f.desk, next_week(&f), 5)).unwrap().summary.id;
    f.desk.cancel_workshop(cancelled, "مربی در دسترس نیست").unwrap();
    let list = f.desk.family_workshop_list().unwrap();
    assert_eq!(list.workshops.iter().map(|w| w.id).collect::<Vec<_>>(), vec![open]);
    assert_eq!(list.workshops[0].places_left, 5);
    assert_eq!(f.desk.workshop_terms().unwrap(), vec!["تابستان ۱۴۰۴".to_owned()]);
}

#[test]
fn a_member_enrols_as_one_participant_and_a_participant_can_become_a_member() {
    let mut f = desk();
    let sara = register(&mut f.desk, "سارا", "رضایی", 1);
    let p1 = f.desk.participant_for_member(sara.id).unwrap();
    let p2 = f.desk.participant_for_member(sara.id).unwrap();
    assert_eq!((p1.id, p1.member_id, p1.full_name.as_str()), (p2.id, Some(sara.id), "سارا رضایی"));
    let guest = child(&mut f.desk, "نگار");
    let nagar = register(&mut f.desk, "نگار", "صالحی", 2);
    let linked = f.desk.link_participant_to_member(guest, nagar.id).unwrap();
    assert_eq!(linked.member_id, Some(nagar.id));
    assert_eq!(f.desk.link_participant_to_member(guest, sara.id).unwrap_err().code(), ErrorCode::Conflict);
    assert_eq!(f.desk.find_participants("۰۹۱۲۱۲۳").unwrap().len(), 1);
}

/// Two desks of one center, sharing ops by hand.
fn two_desks() -> (Fixture, Desk) {
    let f = desk();
    let mut b = Desk::open_in_memory().unwrap().with_clock(Arc::new(f.clock.clone()));
    b.setup(SetupRequest { manager_username: "manager2".into(), desk_number: 2, ..setup_request() }, PASSWORD).unwrap();
    (f, b)
}

fn send(seq: &mut u64, from: &mut Desk, to: &mut Desk) {
    let ops = from.ops_to_push(1000).unwrap();
    *seq += ops.len() as u64;
    to.apply_pulled(&ops, Cursor { epoch: 1, seq: *seq }).unwrap();
    from.mark_pushed(&ops.iter().map(|o| o.op_id).collect::<Vec<_>>()).unwrap();
}

#[test]
fn the_last_place_given_at_two_desks_offline_keeps_both_and_tells_the_manager() {
    let (mut f, mut b) = two_desks();
    let mut seq = 0;
    let w = f.desk.create_workshop(input(&f.desk, next_week(&f), 2)).unwrap().summary.id;
    let [x, y, z] = [child(&mut f.desk, "آوا"), child(&mut f.desk, "باران"), child(&mut f.desk, "ترانه")];
    enrol(&mut f.desk, w, x, 1).unwrap();
    send(&mut seq, &mut f.desk, &mut b);
    // Offline: each desk gives the last place.
    enrol(&mut f.desk, w, y, 1).unwrap();
    let at_b = enrol(&mut b, w, z, 1).unwrap();
    assert_eq!(standing(&at_b, z), Some(Standing::Enrolled));
    send(&mut seq, &mut f.desk, &mut b);
    send(&mut seq, &mut b, &mut f.desk);
    for desk in [&f.desk, &b] {
        let d = desk.workshop(w).unwrap();
        assert_eq!((d.summary.enrolled, d.summary.over_capacity), (3, 1), "both kept, flagged");
        let flagged: Vec<_> =
            desk.sync_exceptions().unwrap().into_iter().filter(|e| e.code == "workshop_over_capacity").collect();
        assert_eq!(flagged.len(), 1, "reported once");
    }
    // The manager makes room for both: the exception goes, at both desks.
    f.desk.edit_workshop(w, input(&f.desk, next_week(&f), 3)).unwrap();
    send(&mut seq, &mut f.desk, &mut b);
    for desk in [&f.desk, &b] {
        assert_eq!(desk.workshop(w).unwrap().summary.over_capacity, 0);
        assert!(!desk.sync_exceptions().unwrap().iter().any(|e| e.code == "workshop_over_capacity"), "cleared");
    }
    // Attendance marked at both desks converges on the later mark.
    f.clock.advance(Duration::days(8));
    f.desk.mark_workshop_attendance(w, 1, x, true).unwrap();
    f.clock.advance(Duration::seconds(5));
    b.mark_workshop_attendance(w, 1, x, false).unwrap();
    send(&mut seq, &mut b, &mut f.desk);
    send(&mut seq, &mut f.desk, &mut b);
    for desk in [&f.desk, &b] {
        let sheet = desk.workshop_attendance(w).unwrap();
        assert_eq!(sheet.rows.iter().find(|r| r.participant_id == x).unwrap().attended, 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(proptest_cases().min(24)))]

    /// On one desk, whatever staff do, no more places are held than the
    /// capacity and a freed place goes to the first waiting.
    #[test]
    fn one_desk_never_holds_more_than_the_capacity(
        steps in prop::collection::vec((0usize..6, 0u8..4), 1..30),
        capacity in 1u32..4,
    ) {
        let mut f = desk();
        let w = f.desk.create_workshop(input(&f.desk, next_week(&f), capacity)).unwrap().summary.id;
        let people: Vec<Uuid> = (0..6).map(|i| child(&mut f.desk, &format!("کودک {i}"))).collect();
        for (who, what) in steps {
            let p = people[who];
            let before = f.desk.workshop(w).unwrap();
            let first_waiting = before.roster.iter().find(|l| l.queue_position == Some(1)).map(|l| l.participant_id);
            let result = match what {
                0 | 1 => enrol(&mut f.desk, w, p, 1),
                2 => f.desk.withdraw(w, p, "انصراف"),
                _ => f.desk.accept_place(w, p),
            };
            let after = f.desk.workshop(w).unwrap();
            let held = after.summary.enrolled + after.summary.offered;
            prop_assert!(held <= capacity);
            prop_assert!(after.summary.waiting == 0 || held == capacity);
            if what == 2
                && result.is_ok()
                && standing(&before, p).is_some_and(|s| s != Standing::Waiting)
                && let Some(first) = first_waiting
            {
                prop_assert_eq!(standing(&after, first), Some(Standing::Offered));
            }
        }
    }
}
