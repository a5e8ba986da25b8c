//! Membership through the `Desk`: registration (photo, documents, fee or
//! exemption, duplicates, alternative ids), member numbers, renewals, edits
//! with history, lookup by card number, search, the list and the card.

use chrono::{Days, Duration, NaiveDate};
use kanoon_domain::circulation::{Event, Fee};
use kanoon_domain::entities::{AlternativeId, Documents};
use kanoon_domain::ids::MemberNumber;
use kanoon_domain::text::to_persian_digits;
use kanoon_protocol::OpBody;
use kanoon_store::members::{FeeInput, MemberDetails, MemberView, Photo, RegisterMember, RegisterOutcome};
use kanoon_store::{ErrorCode, StoreError};

use crate::support::*;

/// The smallest thing that looks like a JPEG (SOI, a JFIF APP0, EOI).
const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
    0x00, 0xFF, 0xD9,
];

fn jpeg() -> Photo {
    Photo { mime: "image/jpeg".into(), bytes: JPEG.to_vec() }
}

fn request(details: MemberDetails) -> RegisterMember {
    RegisterMember { details, photo: None, fee: paid(), confirm_duplicate_national_id: false, legacy_number: None }
}

fn registered(out: RegisterOutcome) -> MemberView {
    match out {
        RegisterOutcome::Registered { member } => *member,
        other => panic!("not registered: {other:?}"),
    }
}

fn is_persian(message: &str) -> bool {
    message.chars().any(|c| ('\u{0627}'..='\u{06CC}').contains(&c))
}

/// The counter part of a member number (center 1234, desk 01, check digit last).
fn counter_of(number: &str) -> u64 {
    number[6..number.len() - 1].parse().unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Asserts `err` is an InvalidInput with a Persian message.
fn assert_invalid(err: &StoreError) {
    assert_eq!(err.code(), ErrorCode::InvalidInput, "{err}");
    assert!(is_persian(&err.to_string()), "message is not Persian: {err}");
}

#[test]
fn registration_with_photo_and_documents_gives_a_year_of_membership_shown_in_jalali() {
    let mut f = desk();
    let mut d = details("سارا", "کریمی", Some(national_id(11)));
    d.documents = Documents { photo: true, birth_certificate_copy: false };
    let m = registered(f.desk.register_member(RegisterMember { photo: Some(jpeg()), ..request(d) }).unwrap());
    assert!(m.has_photo);
    assert_eq!(m.details.documents, Documents { photo: true, birth_certificate_copy: false });
    assert_eq!(m.full_name, "سارا کریمی");
    assert_eq!(m.national_id, Some(national_id(11)));
    assert_eq!(m.guardian_phone.as_deref(), Some("09123456789"), "typed in Persian digits, stored normalized");
    assert!(m.membership.active);
    // Registered 1404/01/16 (2025-04-05) with the default 365-day period.
    assert_eq!(m.membership.ends_on, Some(date(2026, 4, 5)));
    assert_eq!(m.membership.ends_on_jalali.as_deref(), Some("۱۴۰۵/۰۱/۱۶"));
    assert_eq!(f.desk.member_photo(m.id).unwrap(), Some(jpeg()));
    // Re-read from the database, not just the returned view.
    assert_eq!(f.desk.member(m.id).unwrap(), m);

    let without = register(&mut f.desk, "علی", "رضایی", 12);
    assert!(!without.has_photo);
    assert_eq!(f.desk.member_photo(without.id).unwrap(), None);
}

#[test]
fn membership_is_active_through_its_last_day_and_not_after() {
    let mut f = desk();
    let m = register(&mut f.desk, "مینا", "اکبری", 13);
    let end = m.membership.ends_on.unwrap();
    // Noon in Tehran on the last day, then on the day after.
    let days = (end - date(2025, 4, 5)).num_days();
    f.clock.set(start_time() + Duration::days(days) + Duration::hours(2));
    assert!(f.desk.member(m.id).unwrap().membership.active);
    f.clock.advance(Duration::days(1));
    assert!(!f.desk.member(m.id).unwrap().membership.active);
}

#[test]
fn member_numbers_are_digits_with_center_and_desk_and_consecutive_counters() {
    let mut f = desk();
    let members: Vec<MemberView> = (0..4).map(|i| register(&mut f.desk, &format!("عضو{i}"), "شماره", 20 + i)).collect();
    let mut counters = Vec::new();
    for m in &members {
        let n = &m.member_number;
        assert!(n.chars().all(|c| c.is_ascii_digit()), "{n}");
        assert!(n.starts_with("123401"), "center 1234 + desk 01: {n}");
        assert_eq!(n.len(), 4 + 2 + 5 + 1, "{n}");
        assert_eq!(MemberNumber::parse(n).unwrap().as_str(), n);
        counters.push(counter_of(n));
    }
    assert_eq!(counters, vec![1, 2, 3, 4]);
}

#[test]
fn a_fee_exemption_is_recorded_with_its_reason() {
    let mut f = desk();
    let reason = "عضو مرکز پستی روستای خنداب";
    let m = registered(
        f.desk
            .register_member(RegisterMember {
                fee: FeeInput::Exempt { exemption: "postal".into(), reason: format!("  {reason} ") },
                ..request(details("نرگس", "موسوی", Some(national_id(30))))
            })
            .unwrap(),
    );
    assert!(m.membership.active);
    let fees: Vec<Fee> = f
        .desk
        .event_log()
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.event {
            Event::Membership { member_id, fee, .. } if member_id == m.id => Some(fee),
            _ => None,
        })
        .collect();
    assert_eq!(fees, vec![Fee::Exempt { exemption: "postal".into(), reason: reason.into() }]);
}

#[test]
fn a_bad_fee_is_refused_and_nothing_is_written() {
    let mut f = desk();
    let before = f.desk.outbox_len().unwrap();
    let bad = [
        FeeInput::Exempt { exemption: "postal".into(), reason: "".into() },
        FeeInput::Exempt { exemption: "postal".into(), reason: "   ".into() },
        FeeInput::Exempt { exemption: "vip".into(), reason: "آشنای مدیر".into() },
        FeeInput::Exempt { exemption: "".into(), reason: "بدون معافیت".into() },
        FeeInput::Paid { amount_rials: 0, receipt_number: "۱۲".into() },
        FeeInput::Paid { amount_rials: -350_000, receipt_number: "۱۲".into() },
        // (No receipt number is a fee paid here: the cash book takes it.)
        FeeInput::Paid { amount_rials: 20_000_000_000, receipt_number: "  ".into() },
    ];
    for (i, fee) in bad.into_iter().enumerate() {
        let err = f
            .desk
            .register_member(RegisterMember {
                fee: fee.clone(),
                ..request(details("پویا", "نادری", Some(national_id(40 + i as u64))))
            })
            .unwrap_err();
        assert_invalid(&err);
        assert_eq!(f.desk.outbox_len().unwrap(), before, "{fee:?} wrote something");
    }
    assert!(f.desk.list_members(0, 100).unwrap().is_empty());
    assert!(f.desk.event_log().unwrap().is_empty());
    // No member number was used up by the refused attempts.
    assert_eq!(counter_of(&register(&mut f.desk, "پویا", "نادری", 49).member_number), 1);
}

#[test]
fn a_national_id_already_registered_warns_and_writes_nothing_until_confirmed() {
    let mut f = desk();
    let nid = national_id(123_456_789);
    let first = register(&mut f.desk, "مریم", "حسینی", 123_456_789);
    let before = f.desk.outbox_len().unwrap();
    // The same id typed with Persian digits and a dash is the same id.
    let typed = format!("{}-{}", to_persian_digits(&nid[..3]), to_persian_digits(&nid[3..]));
    let out = f.desk.register_member(request(details("مریم", "حسینی", Some(typed.clone())))).unwrap();
    match out {
        RegisterOutcome::DuplicateNationalId { existing } => {
            assert_eq!(existing.len(), 1);
            assert_eq!(existing[0].id, first.id);
            assert_eq!(existing[0].member_number, first.member_number);
            assert_eq!(existing[0].national_id.as_deref(), Some(nid.as_str()));
        }
        other => panic!("expected the duplicate warning, got {other:?}"),
    }
    assert_eq!(f.desk.outbox_len().unwrap(), before);
    assert_eq!(f.desk.list_members(0, 10).unwrap().len(), 1);

    let second = registered(
        f.desk
            .register_member(RegisterMember {
                confirm_duplicate_national_id: true,
                ..request(details("مریم", "حسینی", Some(typed)))
            })
            .unwrap(),
    );
    assert_ne!(second.id, first.id);
    assert_eq!(second.national_id.as_deref(), Some(nid.as_str()));
    // The warning consumed no number.
    assert_eq!(counter_of(&second.member_number), counter_of(&first.member_number) + 1);
    let found: Vec<_> = f.desk.find_members(&nid, 10).unwrap().into_iter().map(|s| s.id).collect();
    assert!(found.contains(&first.id) && found.contains(&second.id), "{found:?}");
}

#[test]
fn a_national_id_with_its_leading_zero_dropped_is_still_a_duplicate() {
    let mut f = desk();
    let nid = national_id(12_345_678); // "012345678x"
    assert!(nid.starts_with('0'));
    register(&mut f.desk, "کیان", "صدری", 12_345_678);
    let out = f.desk.register_member(request(details("کیان", "صدری", Some(nid[1..].to_owned())))).unwrap();
    assert!(matches!(out, RegisterOutcome::DuplicateNationalId { .. }), "{out:?}");
}

#[test]
fn a_child_without_a_national_id_registers_with_an_alternative_id() {
    let mut f = desk();
    let mut d = details("محمد", "احمدی", None);
    d.alternative_id = Some(AlternativeId { kind: " کارت آمایش ".into(), value: "۱۲۳۴۵۶۷۸".into() });
    let m = registered(f.desk.register_member(request(d.clone())).unwrap());
    assert_eq!(m.national_id, None);
    assert_eq!(m.details.alternative_id, Some(AlternativeId { kind: "کارت آمایش".into(), value: "12345678".into() }));
    assert!(m.membership.active);

    // Neither a national id nor an alternative id: refused, nothing written.
    let before = f.desk.outbox_len().unwrap();
    d.alternative_id = Some(AlternativeId { kind: "کارت آمایش".into(), value: "  ".into() });
    assert_invalid(&f.desk.register_member(request(d.clone())).unwrap_err());
    d.alternative_id = Some(AlternativeId { kind: " ".into(), value: "۱۲۳".into() });
    assert_invalid(&f.desk.register_member(request(d)).unwrap_err());
    assert_eq!(f.desk.outbox_len().unwrap(), before);
}

#[test]
fn a_malformed_national_id_is_refused_with_a_persian_message_and_nothing_written() {
    let mut f = desk();
    let good = national_id(987_654_321);
    let last = good.chars().last().unwrap().to_digit(10).unwrap();
    let wrong_check = format!("{}{}", &good[..9], (last + 1) % 10);
    let before = f.desk.outbox_len().unwrap();
    for bad in
        [wrong_check.as_str(), "1111111111", "۰۰۰۰۰۰۰۰۰۰", "12345abcde", "کد ملی ندارد", "1234567", "00123456789"]
    {
        let err = f.desk.register_member(request(details("رضا", "یگانه", Some(bad.to_owned())))).unwrap_err();
        assert_invalid(&err);
        assert_eq!(f.desk.outbox_len().unwrap(), before, "{bad} wrote something");
    }
    assert!(f.desk.list_members(0, 10).unwrap().is_empty());
    assert_eq!(counter_of(&register(&mut f.desk, "رضا", "یگانه", 987_654_321).member_number), 1);
}

#[test]
fn a_refused_photo_refuses_the_registration_and_uses_no_member_number() {
    let mut f = desk();
    let before = f.desk.outbox_len().unwrap();
    for photo in [
        Photo { mime: "image/gif".into(), bytes: JPEG.to_vec() },
        Photo { mime: "image/jpeg".into(), bytes: Vec::new() },
        Photo { mime: "image/jpeg".into(), bytes: vec![0xFF; 3 * 1024 * 1024] },
    ] {
        let err = f
            .desk
            .register_member(RegisterMember {
                photo: Some(photo),
                ..request(details("هستی", "فرهادی", Some(national_id(50))))
            })
            .unwrap_err();
        assert_invalid(&err);
        assert_eq!(f.desk.outbox_len().unwrap(), before);
    }
    assert!(f.desk.list_members(0, 10).unwrap().is_empty());
    assert_eq!(counter_of(&register(&mut f.desk, "هستی", "فرهادی", 50).member_number), 1);
}

#[test]
fn renewing_before_the_end_extends_from_the_current_end() {
    let mut f = desk();
    let m = register(&mut f.desk, "پریا", "صالحی", 60);
    let old_end = m.membership.ends_on.unwrap();
    f.clock.advance(Duration::days(300));
    let ops = f.desk.outbox_len().unwrap();
    let renewed = f.desk.renew_membership(m.id, paid()).unwrap();
    assert_eq!(f.desk.outbox_len().unwrap(), ops + 1);
    // One more period of 365 days after the current end (1405/01/16 → 1406/01/16),
    // not counted from today and not a day more.
    assert_eq!(renewed.membership.ends_on, old_end.checked_add_days(Days::new(365)));
    assert_eq!(renewed.membership.ends_on_jalali.as_deref(), Some("۱۴۰۶/۰۱/۱۶"));
}

#[test]
fn renewing_an_expired_membership_starts_today() {
    let mut f = desk();
    let m = register(&mut f.desk, "کاوه", "امینی", 61);
    f.clock.advance(Duration::days(400));
    assert!(!f.desk.member(m.id).unwrap().membership.active);
    let renewed = f.desk.renew_membership(m.id, paid()).unwrap();
    assert!(renewed.membership.active);
    assert_eq!(renewed.membership.ends_on, f.desk.today().checked_add_days(Days::new(365)));
    // A bad fee renews nothing.
    let before = f.desk.outbox_len().unwrap();
    let err =
        f.desk.renew_membership(m.id, FeeInput::Exempt { exemption: "postal".into(), reason: " ".into() }).unwrap_err();
    assert_invalid(&err);
    assert_eq!(f.desk.outbox_len().unwrap(), before);
    assert_eq!(f.desk.member(m.id).unwrap().membership, renewed.membership);
}

#[test]
fn an_edit_keeps_the_old_and_new_values_and_is_one_op() {
    let mut f = desk();
    let m = register(&mut f.desk, "یاسمن", "شریفی", 70);
    let ops_before = f.desk.outbox(1_000).unwrap();
    let mut d = m.details.clone();
    d.last_name = "شریف‌زاده".into();
    d.address = "اراک، خیابان امام".into();
    let edited = f.desk.edit_member(m.id, d.clone()).unwrap();
    assert_eq!(edited.full_name, "یاسمن شریف‌زاده");
    assert_eq!(edited.member_number, m.member_number, "an edit never changes the number");

    let ops_after = f.desk.outbox(1_000).unwrap();
    assert_eq!(ops_after.len(), ops_before.len() + 1, "exactly one op per edit");
    let op = ops_after.last().unwrap();
    assert_eq!(op.entity_id, m.id);
    match &op.body {
        OpBody::Patch { fields } => {
            assert_eq!(fields.keys().map(String::as_str).collect::<Vec<_>>(), vec!["address", "last_name"]);
        }
        other => panic!("expected a patch, got {other:?}"),
    }

    let edits = f.desk.member_edits(m.id).unwrap();
    let mut fields: Vec<&str> = edits.iter().map(|e| e.field.as_str()).collect();
    fields.sort();
    assert_eq!(fields, vec!["address", "last_name"]);
    let last = edits.iter().find(|e| e.field == "last_name").unwrap();
    assert!(last.old_value.as_deref().is_some_and(|v| v.contains("شریفی")), "{last:?}");
    assert!(last.new_value.as_deref().is_some_and(|v| v.contains("شریف‌زاده")), "{last:?}");
    assert_eq!(last.staff.as_deref(), Some("زهرا احمدی"));
    assert!(last.at_jalali.starts_with("۱۴۰۴/۰۱/۱۶"), "{}", last.at_jalali);

    // Saving the form unchanged records nothing.
    f.desk.edit_member(m.id, d.clone()).unwrap();
    assert_eq!(f.desk.outbox_len().unwrap() as usize, ops_after.len());
    assert_eq!(f.desk.member_edits(m.id).unwrap().len(), 2);

    // A second edit is added on top, newest first; a bad one adds nothing.
    d.father_name = "حسن".into();
    f.desk.edit_member(m.id, d.clone()).unwrap();
    let edits = f.desk.member_edits(m.id).unwrap();
    assert_eq!(edits.len(), 3);
    assert_eq!(edits[0].field, "father_name");
    d.national_id = Some("1111111111".into());
    assert_invalid(&f.desk.edit_member(m.id, d).unwrap_err());
    assert_eq!(f.desk.member_edits(m.id).unwrap().len(), 3);
    assert_eq!(f.desk.outbox_len().unwrap() as usize, ops_after.len() + 1);

    // Search follows the edit.
    let hits = |q: &str| f.desk.find_members(q, 10).unwrap().into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(hits("شریف‌زاده"), vec![m.id]);
    assert_eq!(hits("شریفزاده"), vec![m.id]);
    assert!(hits("شریفی").is_empty(), "the old name is still indexed");
}

#[test]
fn the_edit_history_shows_plain_values_and_no_value_as_none() {
    let mut f = desk();
    let m = register(&mut f.desk, "امیر", "جعفری", 71);
    let mut d = m.details.clone();
    d.guardian_phone = None;
    f.desk.edit_member(m.id, d.clone()).unwrap();
    d.guardian_phone = Some("۰۹۳۵ ۱۱۱ ۲۲۳۳".into());
    d.last_name = "جعفرپور".into();
    f.desk.edit_member(m.id, d).unwrap();
    let edits = f.desk.member_edits(m.id).unwrap();
    let of = |field: &str| edits.iter().find(|e| e.field == field).unwrap();
    // What the history screen shows: the text as it was, not JSON.
    assert_eq!(of("last_name").old_value.as_deref(), Some("جعفری"));
    assert_eq!(of("last_name").new_value.as_deref(), Some("جعفرپور"));
    // The phone was removed, then added again: «no value» is None, not "null".
    let phone: Vec<_> = edits.iter().filter(|e| e.field == "guardian_phone").collect();
    assert_eq!(phone.len(), 2);
    assert_eq!(phone[0].old_value, None);
    assert_eq!(phone[0].new_value.as_deref(), Some("09351112233"));
    assert_eq!(phone[1].old_value.as_deref(), Some("09123456789"));
    assert_eq!(phone[1].new_value, None);
}

#[test]
fn a_card_number_is_found_in_any_digit_script_and_by_the_old_number() {
    let mut f = desk();
    let other = register(&mut f.desk, "حسن", "نوری", 80);
    let m = registered(
        f.desk
            .register_member(RegisterMember {
                legacy_number: Some(" ۷۷۰۱۲ ".into()),
                ..request(details("لیلا", "کاظمی", Some(national_id(81))))
            })
            .unwrap(),
    );
    assert_eq!(m.legacy_number.as_deref(), Some("77012"));
    let n = m.member_number.clone();
    let arabic_indic: String = n.chars().map(|c| char::from_u32(c as u32 - '0' as u32 + 0x0660).unwrap()).collect();
    for typed in [n.clone(), to_persian_digits(&n), arabic_indic, format!(" {} {} ", &n[..6], &n[6..])] {
        assert_eq!(f.desk.member_by_number(&typed).unwrap().id, m.id, "«{typed}»");
    }
    for typed in ["77012", "۷۷۰۱۲", " 77012 "] {
        assert_eq!(f.desk.member_by_number(typed).unwrap().id, m.id, "«{typed}»");
    }
    assert_eq!(f.desk.member_by_number(&other.member_number).unwrap().id, other.id);
}

#[test]
fn a_mistyped_member_number_is_refused_by_its_check_digit() {
    let mut f = desk();
    let members: Vec<MemberView> = (0..3).map(|i| register(&mut f.desk, &format!("عضو{i}"), "کارت", 90 + i)).collect();
    let n = members[1].member_number.clone();
    for i in 0..n.len() {
        for delta in 1..10 {
            let mut digits: Vec<u32> = n.chars().map(|c| c.to_digit(10).unwrap()).collect();
            digits[i] = (digits[i] + delta) % 10;
            let typo: String = digits.iter().map(|d| char::from_digit(*d, 10).unwrap()).collect();
            let err = f.desk.member_by_number(&typo).unwrap_err();
            assert_invalid(&err);
            assert!(err.to_string().contains("کارت"), "{err}");
        }
    }
    // A well-formed number that was never issued is not found (not invalid).
    let unissued = MemberNumber::compose("1234", 1, 999).unwrap();
    assert_eq!(f.desk.member_by_number(unissued.as_str()).unwrap_err().code(), ErrorCode::NotFound);
}

#[test]
fn search_finds_members_by_name_whatever_keyboard_was_used_and_by_national_id() {
    let mut f = desk();
    let reader = register(&mut f.desk, "مریم", "کتابدار", 100);
    let zwnj = register(&mut f.desk, "علی", "پاک‌نژاد", 101);
    let yasmin = register(&mut f.desk, "یاسمین", "میرکریمی", 102);
    let _noise = register(&mut f.desk, "بهرام", "بیضایی", 103);
    let ids = |f: &Fixture, q: &str| f.desk.find_members(q, 20).unwrap().into_iter().map(|s| s.id).collect::<Vec<_>>();

    assert_eq!(ids(&f, "كتاب"), vec![reader.id], "Arabic kaf finds a prefix of «کتابدار»");
    assert_eq!(ids(&f, "کتابدار"), vec![reader.id]);
    assert_eq!(ids(&f, "کتا"), vec![reader.id]);
    assert_eq!(ids(&f, "مریم كتابدار"), vec![reader.id]);
    assert_eq!(ids(&f, "پاکنژاد"), vec![zwnj.id], "ZWNJ not typed");
    assert_eq!(ids(&f, "پاک‌نژاد"), vec![zwnj.id], "ZWNJ typed");
    assert_eq!(ids(&f, "نژاد"), vec![zwnj.id], "the part after the ZWNJ");
    assert_eq!(ids(&f, "ياسمين"), vec![yasmin.id], "Arabic yeh");
    assert_eq!(ids(&f, "مير"), vec![yasmin.id]);
    assert!(ids(&f, "زهرا").is_empty(), "staff are not members");

    let nid = national_id(102);
    assert_eq!(ids(&f, &to_persian_digits(&nid)).first(), Some(&yasmin.id), "national id in Persian digits");
    assert_eq!(ids(&f, &nid).first(), Some(&yasmin.id));
    assert_eq!(ids(&f, &to_persian_digits(&zwnj.member_number)).first(), Some(&zwnj.id));
}

#[test]
fn the_member_list_is_in_persian_alphabetical_order_by_last_then_first_name() {
    let mut f = desk();
    // Inserted shuffled. Code-point order would put ر م ن before پ چ ژ ک گ.
    let shuffled = [
        ("لیلا", "یزدانی"),
        ("رضا", "پارسا"),
        ("سارا", "کریمی"),
        ("مهدی", "آقایی"),
        ("حسن", "نوری"),
        ("آرش", "کریمی"),
        ("نیما", "گودرزی"),
        ("ژاله", "ژیان"),
        ("بهار", "چمران"),
        ("زهره", "رضایی"),
        ("امید", "بهرامی"),
        ("مینا", "محمدی"),
    ];
    for (i, (first, last)) in shuffled.iter().enumerate() {
        register(&mut f.desk, first, last, 200 + i as u64);
    }
    let expected = [
        "مهدی آقایی",
        "امید بهرامی",
        "رضا پارسا",
        "بهار چمران",
        "زهره رضایی",
        "ژاله ژیان",
        "آرش کریمی",
        "سارا کریمی",
        "نیما گودرزی",
        "مینا محمدی",
        "حسن نوری",
        "لیلا یزدانی",
    ];
    let all: Vec<String> = f.desk.list_members(0, 100).unwrap().into_iter().map(|s| s.full_name).collect();
    assert_eq!(all, expected);
    // Pages follow the same order.
    let mut paged: Vec<String> = Vec::new();
    for page in 0..3 {
        paged.extend(f.desk.list_members(page * 5, 5).unwrap().into_iter().map(|s| s.full_name));
    }
    assert_eq!(paged, expected);
}

#[test]
fn a_name_typed_with_arabic_letters_is_stored_and_sorted_in_its_persian_spelling() {
    let mut f = desk();
    register(&mut f.desk, "علی", "یزدانی", 300);
    register(&mut f.desk, "رضا", "كريمي", 301); // Arabic kaf and yeh
    register(&mut f.desk, "سارا", "گودرزی", 302);
    register(&mut f.desk, "آرش", "کریمی", 303);
    let all: Vec<String> = f.desk.list_members(0, 10).unwrap().into_iter().map(|s| s.full_name).collect();
    assert_eq!(all, vec!["آرش کریمی", "رضا کریمی", "سارا گودرزی", "علی یزدانی"]);
    // Searching with either spelling finds the child.
    assert_eq!(f.desk.find_members("كريمي", 10).unwrap().len(), 2);
    assert_eq!(f.desk.find_members("کریمی", 10).unwrap().len(), 2);
}

#[test]
fn the_card_has_the_center_name_the_jalali_expiry_and_the_photo() {
    let mut f = desk();
    let m = registered(
        f.desk
            .register_member(RegisterMember {
                photo: Some(jpeg()),
                ..request(details("رعنا", "قاسمی", Some(national_id(400))))
            })
            .unwrap(),
    );
    let card = f.desk.member_card(m.id).unwrap();
    assert_eq!(card.member_number, m.member_number);
    assert_eq!(card.full_name, "رعنا قاسمی");
    assert_eq!(card.father_name, "محمد");
    assert_eq!(card.center_name, "مرکز شماره ۱ اراک");
    assert_eq!(card.expires_jalali.as_deref(), Some("۱۴۰۵/۰۱/۱۶"));
    assert_eq!(card.photo, Some(jpeg()));

    // A new photo replaces the old one on the card.
    let png = Photo { mime: "image/png".into(), bytes: b"\x89PNG\r\n\x1a\n-fake".to_vec() };
    f.desk.set_member_photo(m.id, png.clone()).unwrap();
    assert_eq!(f.desk.member_card(m.id).unwrap().photo, Some(png));
    assert_eq!(f.desk.member_card(uuid::Uuid::nil()).unwrap_err().code(), ErrorCode::NotFound);
}

#[test]
fn a_duplicate_member_merges_into_the_kept_one_and_its_card_still_works() {
    let mut f = desk();
    let keep = register(&mut f.desk, "مهسا", "رضوی", 901);
    let dup = register(&mut f.desk, "مهسا", "رضوی", 902);
    crate::support::books(&mut f.desk, "ادغام", 1, 1);
    f.desk.check_out(kanoon_store::circulation::CheckOutRequest::new(dup.id, ["1"]).confirmed()).unwrap();
    assert_eq!(f.desk.merge_members(keep.id, dup.id).unwrap_err().code(), kanoon_store::ErrorCode::Conflict);
    f.desk.check_in("1").unwrap();
    f.desk.merge_members(keep.id, dup.id).unwrap();
    assert_eq!(f.desk.member_by_number(&dup.member_number).unwrap().id, keep.id);
    let hits = f.desk.find_members("مهسا رضوی", 10).unwrap();
    assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![keep.id]);
    assert!(f.desk.list_members(0, 10).unwrap().iter().all(|m| m.id != dup.id));
    // Both records and the duplicate's history stay.
    assert_eq!(f.desk.loan_history(dup.id, 5).unwrap().len(), 1);
    assert_eq!(f.desk.member(dup.id).unwrap().merged_into, Some(keep.id));
}

#[test]
fn an_impossible_or_future_birth_date_is_refused() {
    let mut f = desk();
    for (y, m, d) in [(1404, 13, 40), (1404, 12, 30), (1410, 1, 1)] {
        let mut details = crate::support::details("نادر", "تاریخی", Some(crate::support::national_id(777)));
        details.birth_date = Some(kanoon_domain::jalali::JalaliDate { year: y, month: m, day: d });
        let err = f
            .desk
            .register_member(kanoon_store::members::RegisterMember::new(details, crate::support::paid()))
            .unwrap_err();
        assert_eq!(err.code(), kanoon_store::ErrorCode::InvalidInput, "{y}/{m}/{d}");
    }
}

#[test]
fn a_mistaken_payment_is_voided_from_the_periods_list_and_the_membership_follows() {
    let mut f = desk();
    let m = register(&mut f.desk, "بهار", "نادری", 903);
    let renewed = f.desk.renew_membership(m.id, crate::support::paid()).unwrap();
    assert_eq!(renewed.membership.ends_on_jalali.as_deref(), Some("۱۴۰۶/۰۱/۱۶"));
    let periods = f.desk.membership_periods(m.id).unwrap();
    assert_eq!(periods.len(), 2);
    f.desk.void_event(periods[0].period_id, "رسید تکراری ثبت شد").unwrap();
    let after = f.desk.member(m.id).unwrap();
    assert_eq!(after.membership.ends_on_jalali.as_deref(), Some("۱۴۰۵/۰۱/۱۶"));
    assert!(f.desk.membership_periods(m.id).unwrap()[0].voided);
}

#[test]
fn a_name_written_as_one_word_is_found_when_typed_in_two() {
    let mut f = desk();
    let m = register(&mut f.desk, "محمدرضا", "احمدی", 904);
    let hits = f.desk.find_members("محمد رضا احمدی", 5).unwrap();
    assert_eq!(hits.first().map(|h| h.id), Some(m.id));
}
