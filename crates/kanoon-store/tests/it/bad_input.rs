//! What the desk does with input it should not get: unknown numbers and
//! ids, empty and blank fields, very long text, control characters and
//! bidi marks, and arbitrary strings (property test). Never a panic, only
//! InvalidInput / NotFound / Conflict, and nothing written.

use std::cell::RefCell;

use kanoon_domain::circulation::IssueCode;
use kanoon_domain::entities::WithdrawReason;
use kanoon_domain::ids::MemberNumber;
use kanoon_domain::text::to_persian_digits;
use kanoon_store::circulation::{BookStatus, CheckOutRequest};
use kanoon_store::members::{MemberView, Photo, RegisterMember, RegisterOutcome};
use kanoon_store::{Desk, ErrorCode, StoreError};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use uuid::Uuid;

use crate::support::*;

const EXPECTED: [ErrorCode; 3] = [ErrorCode::InvalidInput, ErrorCode::NotFound, ErrorCode::Conflict];

fn is_persian(message: &str) -> bool {
    message.chars().any(|c| ('\u{0627}'..='\u{06CC}').contains(&c))
}

/// Asserts `r` failed with `code` and a Persian message.
fn assert_err<T: std::fmt::Debug>(r: Result<T, StoreError>, code: ErrorCode, what: &str) {
    match r {
        Ok(v) => panic!("{what}: expected {code:?}, got {v:?}"),
        Err(e) => {
            assert_eq!(e.code(), code, "{what}: {e}");
            assert!(is_persian(&e.to_string()), "{what}: message not Persian: {e}");
        }
    }
}

fn try_register(desk: &mut Desk, first: &str, last: &str, nid: u64) -> Result<MemberView, StoreError> {
    desk.register_member(RegisterMember::new(details(first, last, Some(national_id(nid))), paid())).map(|out| match out
    {
        RegisterOutcome::Registered { member } => *member,
        other => panic!("{other:?}"),
    })
}

#[test]
fn unknown_registration_numbers_are_reported_and_nothing_is_written() {
    let (mut f, m) = desk_with_reader(("کتاب", 1, 2), ("سارا", "کریمی", 1));
    let ops = f.desk.outbox_len().unwrap();
    let events = f.desk.event_log().unwrap().len();

    let out = lend(&mut f.desk, m.id, &["999999", "۹۹۹", "ABC-1"]);
    assert_eq!(out.lent(), 0);
    for b in &out.books {
        assert_eq!(b.status, BookStatus::Refused, "{b:?}");
        assert_eq!(b.issues.iter().map(|i| i.code).collect::<Vec<_>>(), vec![IssueCode::UnknownRegistrationNumber]);
        assert!(b.issues.iter().all(|i| is_persian(&i.message)));
        assert_eq!((b.loan_id, b.due_on), (None, None));
    }
    assert_eq!(f.desk.outbox_len().unwrap(), ops);
    assert_eq!(f.desk.event_log().unwrap().len(), events);

    for n in ["999999", "۹۹۹", "1 2"] {
        assert_err(f.desk.check_in(n), ErrorCode::NotFound, n);
    }
    // A known copy that is on the shelf: not on loan.
    assert_err(f.desk.check_in("۲"), ErrorCode::Conflict, "on the shelf");
    assert_eq!(f.desk.outbox_len().unwrap(), ops);
    assert_eq!(f.desk.event_log().unwrap().len(), events);
    assert!(f.desk.open_loans_of(m.id).unwrap().is_empty());
}

#[test]
fn empty_and_blank_input_is_refused_or_finds_nothing_and_writes_nothing() {
    let mut f = desk();
    let t = f.desk.add_title_with_copies(title("کلاغ‌ها", None), &["1".to_string()]).unwrap();
    let m = register(&mut f.desk, "علی", "رضایی", 2);
    let ops = f.desk.outbox_len().unwrap();
    let blanks = ["", " ", "   ", "\t\n", "\u{3000}"];

    for b in blanks {
        assert_err(f.desk.member_by_number(b), ErrorCode::InvalidInput, &format!("member_by_number({b:?})"));
        assert!(f.desk.find_members(b, 10).unwrap().is_empty(), "find_members({b:?})");
        assert!(f.desk.find_titles(b, 10).unwrap().is_empty(), "find_titles({b:?})");
        for r in [f.desk.copy_by_registration_number(b).map(|_| ()), f.desk.check_in(b).map(|_| ())] {
            let e = r.expect_err(b);
            assert!(matches!(e.code(), ErrorCode::InvalidInput | ErrorCode::NotFound), "{b:?}: {e}");
            assert!(is_persian(&e.to_string()));
        }
        assert_err(f.desk.add_copy(t.id, b), ErrorCode::InvalidInput, &format!("add_copy({b:?})"));
        assert_err(f.desk.add_title(title(b, None)), ErrorCode::InvalidInput, &format!("add_title({b:?})"));
        assert_err(try_register(&mut f.desk, b, "رضایی", 3), ErrorCode::InvalidInput, "blank first name");
        assert_err(try_register(&mut f.desk, "علی", b, 3), ErrorCode::InvalidInput, "blank last name");
        let mut d = m.details.clone();
        d.last_name = b.into();
        assert_err(f.desk.edit_member(m.id, d), ErrorCode::InvalidInput, "edit to a blank name");
        assert_err(f.desk.void_event(Uuid::now_v7(), b), ErrorCode::InvalidInput, "void without a reason");
    }
    let out = lend(&mut f.desk, m.id, &["", "  "]);
    assert!(out.books.iter().all(|b| b.status == BookStatus::Refused), "{out:?}");
    assert_eq!(f.desk.outbox_len().unwrap(), ops);
    assert_eq!(f.desk.title(t.id).unwrap().copies.len(), 1);
    assert_eq!(f.desk.list_members(0, 10).unwrap().len(), 1);
}

#[test]
fn unknown_ids_are_not_found_and_nothing_is_written() {
    let (mut f, m) = desk_with_reader(("کتاب", 1, 1), ("مریم", "حسینی", 4));
    let ops = f.desk.outbox_len().unwrap();
    for id in [Uuid::nil(), Uuid::now_v7(), m.id] {
        if id == m.id {
            // A member id is not a title, a copy, a loan or an event.
            assert_err(f.desk.title(id), ErrorCode::NotFound, "title(member id)");
            assert_err(f.desk.copy(id), ErrorCode::NotFound, "copy(member id)");
            assert_err(f.desk.renew_loan(id), ErrorCode::NotFound, "renew_loan(member id)");
            assert_err(f.desk.void_event(id, "اشتباه"), ErrorCode::NotFound, "void_event(member id)");
            continue;
        }
        assert_err(f.desk.member(id), ErrorCode::NotFound, "member");
        assert_err(f.desk.member_card(id), ErrorCode::NotFound, "member_card");
        assert_err(f.desk.edit_member(id, m.details.clone()), ErrorCode::NotFound, "edit_member");
        assert_err(f.desk.renew_membership(id, paid()), ErrorCode::NotFound, "renew_membership");
        let photo = Photo { mime: "image/jpeg".into(), bytes: vec![0xFF, 0xD8, 0xFF, 0xD9] };
        assert_err(f.desk.set_member_photo(id, photo), ErrorCode::NotFound, "set_member_photo");
        assert_err(f.desk.title(id), ErrorCode::NotFound, "title");
        assert_err(f.desk.edit_title(id, title("تازه", None)), ErrorCode::NotFound, "edit_title");
        assert_err(f.desk.add_copy(id, "77"), ErrorCode::NotFound, "add_copy");
        assert_err(f.desk.copy(id), ErrorCode::NotFound, "copy");
        assert_err(f.desk.withdraw_copy(id, WithdrawReason::Lost), ErrorCode::NotFound, "withdraw_copy");
        assert_err(f.desk.reinstate_copy(id), ErrorCode::NotFound, "reinstate_copy");
        assert_err(f.desk.transfer_copy(id, "5678"), ErrorCode::NotFound, "transfer_copy");
        assert_err(f.desk.renew_loan(id), ErrorCode::NotFound, "renew_loan");
        assert_err(f.desk.void_event(id, "اشتباه"), ErrorCode::NotFound, "void_event");
        let req = CheckOutRequest::new(id, ["1"]).confirmed();
        assert_err(f.desk.check_out(req), ErrorCode::NotFound, "check_out");
        assert!(f.desk.member_edits(id).unwrap().is_empty());
        assert!(f.desk.open_loans_of(id).unwrap().is_empty());
        assert!(f.desk.loan_history(id, 10).unwrap().is_empty());
    }
    assert_eq!(f.desk.outbox_len().unwrap(), ops);
    assert!(f.desk.open_loans_of(m.id).unwrap().is_empty());
}

#[test]
fn very_long_text_is_handled() {
    let mut f = desk();
    let long_name: String = "کتابخوان".chars().cycle().take(10_000).collect();
    let long_digits: String = "۱۲۳۴۵۶۷۸۹۰".chars().cycle().take(10_000).collect();
    let words = "کتاب ".repeat(2_000);

    let m = try_register(&mut f.desk, &long_name, "کریمی", 5).unwrap();
    assert_eq!(f.desk.member(m.id).unwrap().details.first_name, long_name);
    let t = f.desk.add_title(title(&long_name, None)).unwrap();
    assert_eq!(f.desk.find_titles("کتابخوان", 5).unwrap()[0].id, t.id);
    assert!(f.desk.find_members("کتابخوان", 5).unwrap().iter().any(|s| s.id == m.id));

    let ops = f.desk.outbox_len().unwrap();
    for q in [&long_name, &long_digits, &words] {
        f.desk.find_members(q, 10).unwrap();
        f.desk.find_titles(q, 10).unwrap();
        assert_err(f.desk.member_by_number(q), ErrorCode::InvalidInput, "member_by_number(long)");
        assert_err(f.desk.copy_by_registration_number(q), ErrorCode::NotFound, "copy_by_registration_number(long)");
        assert_err(f.desk.check_in(q), ErrorCode::NotFound, "check_in(long)");
    }
    let out = lend(&mut f.desk, m.id, &[long_digits.as_str()]);
    assert_eq!(out.books[0].issues[0].code, IssueCode::UnknownRegistrationNumber);
    assert_eq!(f.desk.outbox_len().unwrap(), ops);
    // A registration number stamped by hand is short; a 10k one is still just a number.
    f.desk.add_copy(t.id, &long_digits).unwrap();
    assert_eq!(f.desk.list_members(0, 10).unwrap().len(), 1);
    assert_eq!(f.desk.list_titles(0, 10).unwrap().len(), 1);
}

#[test]
fn a_search_with_thousands_of_words_does_not_fail() {
    let mut f = desk();
    register(&mut f.desk, "سارا", "کریمی", 6);
    f.desk.add_title(title("کتاب ما", None)).unwrap();
    // A paste of a whole page into the search box.
    let page: String = (0..3_000).map(|i| format!("واژه{i} ")).collect();
    let zwnj_page: String = (0..3_000).map(|i| format!("کتاب\u{200c}{i} ")).collect();
    for q in [&page, &zwnj_page] {
        let members = f.desk.find_members(q, 10);
        assert!(members.is_ok(), "find_members: {}", members.unwrap_err());
        let titles = f.desk.find_titles(q, 10);
        assert!(titles.is_ok(), "find_titles: {}", titles.unwrap_err());
    }
}

#[test]
fn control_characters_and_bidi_marks_in_names_do_not_break_anything() {
    let mut f = desk();
    let names = [
        ("سارا\u{0000}", "کریمی"),
        ("\u{0007}علی", "رضایی\u{0008}"),
        ("\u{202E}مریم\u{202C}", "\u{200F}حسینی\u{200E}"),
        ("\u{FEFF}نرگس", "موسوی\r\nدوم"),
        ("\u{2067}Ali\u{2069}", "\u{061C}Reza\u{200D}"),
        ("زهرا\u{0301}\u{064B}", "ا\u{0640}\u{0640}حمدی"),
    ];
    let mut registered = Vec::new();
    for (i, (first, last)) in names.iter().enumerate() {
        match try_register(&mut f.desk, first, last, 10 + i as u64) {
            Ok(m) => registered.push(m),
            Err(e) => assert!(EXPECTED.contains(&e.code()), "{first:?} {last:?}: {e}"),
        }
        let _ = f.desk.add_title(title(&format!("{first} {last}"), None));
    }
    assert!(!registered.is_empty());
    let listed = f.desk.list_members(0, 100).unwrap();
    assert_eq!(listed.len(), registered.len());
    for m in &registered {
        f.desk.member_card(m.id).unwrap();
        assert_eq!(f.desk.member_by_number(&m.member_number).unwrap().id, m.id);
        for q in [&m.details.first_name, &m.details.last_name] {
            f.desk.find_members(q, 10).unwrap();
            f.desk.find_titles(q, 10).unwrap();
        }
    }
    f.desk.list_titles(0, 100).unwrap();
    // The RTL-marked name is found by its plain spelling.
    let hits = f.desk.find_members("مریم حسینی", 10).unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
}

#[test]
fn a_name_or_title_made_only_of_invisible_marks_is_refused_as_empty() {
    let mut f = desk();
    let ops = f.desk.outbox_len().unwrap();
    for invisible in ["\u{200F}", "\u{200C}\u{200C}", "\u{202B}\u{202C}", "\u{FEFF}", "\u{200B}"] {
        assert_err(
            try_register(&mut f.desk, invisible, "کریمی", 20),
            ErrorCode::InvalidInput,
            &format!("{invisible:?}"),
        );
        assert_err(
            try_register(&mut f.desk, "سارا", invisible, 20),
            ErrorCode::InvalidInput,
            &format!("{invisible:?}"),
        );
        assert_err(f.desk.add_title(title(invisible, None)), ErrorCode::InvalidInput, &format!("{invisible:?}"));
    }
    assert_eq!(f.desk.outbox_len().unwrap(), ops);
    assert!(f.desk.list_members(0, 10).unwrap().is_empty());
    assert!(f.desk.list_titles(0, 10).unwrap().is_empty());
}

#[test]
fn bidi_marks_around_a_registration_number_are_ignored() {
    // Copy-paste from a Persian document or spreadsheet brings invisible
    // marks along; member numbers already ignore them.
    let (mut f, m) = desk_with_reader(("کتاب", 12, 1), ("سارا", "کریمی", 30));
    for typed in ["\u{2067}۱۲\u{2069}", "\u{FEFF}12", "\u{200B}12", "\u{061C}12", "\u{202B}12\u{202C}", "12\u{200D}"]
    {
        assert_eq!(
            f.desk.copy_by_registration_number(typed).map(|c| c.registration_number).ok().as_deref(),
            Some("12"),
            "{typed:?}"
        );
        let out = lend(&mut f.desk, m.id, &[typed]);
        assert_eq!(out.lent(), 1, "{typed:?}: {out:?}");
        let back = f.desk.check_in(typed);
        assert!(back.is_ok(), "{typed:?}: {}", back.unwrap_err());
    }
    let member_number = format!("\u{2067}{}\u{2069}", to_persian_digits(&m.member_number));
    assert_eq!(f.desk.member_by_number(&member_number).unwrap().id, m.id);
}

/// Strings people (and scanners, and copy-paste) could put in a field.
fn any_input(known: Vec<String>) -> impl Strategy<Value = String> {
    let special: Vec<String> = [
        "",
        " ",
        "\t\n",
        "\u{200c}",
        "\u{200f}\u{200e}",
        "\"",
        "*",
        "\"*",
        "NEAR(a b)",
        "a AND b",
        "OR",
        "NOT",
        "^",
        "text:کتاب",
        "(",
        ")",
        "'",
        "''",
        "; DROP TABLE members; --",
        "%",
        "_",
        "\\",
        "\0",
        "۱",
        "١",
        "𝟙𝟚𝟛",
        "\u{FEFF}",
        "-",
        "+98",
        "1e9",
        "18446744073709551616",
        "0000000000",
        "1111111111",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(known)
    .collect();
    prop_oneof![
        3 => any::<String>(),
        2 => "[0-9۰-۹٠-٩ \\-\u{200c}\u{200f}]{0,40}",
        2 => "[ا-ی پچژکگ\u{200c}\u{064b}-\u{0652}\u{0640}\"*()^:+-]{0,30}",
        2 => prop::sample::select(special.clone()),
        1 => (prop::sample::select(special.clone()), prop::sample::select(special), any::<String>())
            .prop_map(|(a, b, c)| format!("{a}{c}{b}")),
    ]
}

#[test]
fn arbitrary_strings_never_panic_fail_only_as_input_errors_and_write_nothing() {
    let mut f = desk();
    books(&mut f.desk, "کتاب آزمون", 1, 5);
    f.desk.add_title_with_copies(title("کتاب‌های ما", Some("ب")), &["الف-۱۲".to_string()]).unwrap();
    let a = register(&mut f.desk, "سارا", "کریمی", 40);
    let b = register(&mut f.desk, "علی", "پاک‌نژاد", 41);
    let typo = {
        let mut n: Vec<char> = a.member_number.chars().collect();
        n[3] = if n[3] == '9' { '0' } else { char::from_u32(n[3] as u32 + 1).unwrap() };
        n.into_iter().collect::<String>()
    };
    let known = vec![
        a.member_number.clone(),
        to_persian_digits(&b.member_number),
        typo,
        MemberNumber::compose("1234", 1, 777).unwrap().as_str().to_owned(),
        national_id(40),
        to_persian_digits(&national_id(41)),
        "1".into(),
        " ۳ ".into(),
        "الف-12".into(),
        "کتاب".into(),
        "كتاب‌".into(),
    ];
    let ops = f.desk.outbox_len().unwrap();
    let member = a.id;
    let desk = RefCell::new(f.desk);

    let check = |what: &str, input: &str, r: Result<(), StoreError>| -> Result<(), TestCaseError> {
        if let Err(e) = r {
            prop_assert!(EXPECTED.contains(&e.code()), "{}({:?}) failed with {:?}: {}", what, input, e.code(), e);
            prop_assert!(is_persian(&e.to_string()), "{}({:?}): message not Persian: {}", what, input, e);
        }
        Ok(())
    };
    let mut runner =
        TestRunner::new(Config { cases: proptest_cases(), failure_persistence: None, ..Config::default() });
    runner
        .run(&any_input(known), |s| {
            let mut desk = desk.borrow_mut();
            check("member_by_number", &s, desk.member_by_number(&s).map(|_| ()))?;
            check("find_members", &s, desk.find_members(&s, 20).map(|_| ()))?;
            check("find_titles", &s, desk.find_titles(&s, 20).map(|_| ()))?;
            check("copy_by_registration_number", &s, desk.copy_by_registration_number(&s).map(|_| ()))?;
            check("preview_check_out", &s, desk.preview_check_out(member, std::slice::from_ref(&s)).map(|_| ()))?;
            let back = desk.check_in(&s);
            prop_assert!(back.is_err(), "check_in({:?}) returned a book that was not on loan", s);
            check("check_in", &s, back.map(|_| ()))?;
            prop_assert_eq!(desk.outbox_len().unwrap(), ops, "{:?} wrote to the outbox", s);
            Ok(())
        })
        .unwrap();
    assert!(desk.borrow().all_open_loans().unwrap().is_empty());
}
