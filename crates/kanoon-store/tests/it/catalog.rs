//! The catalog through the `Desk`: titles with copies, registration numbers
//! (unique among active copies, freed by withdrawal), withdrawal and
//! reinstatement, transfers to another center, title search and order.

use kanoon_domain::circulation::IssueCode;
use kanoon_domain::entities::{Center, CenterKind, WithdrawReason};
use kanoon_protocol::OpBody;
use kanoon_store::catalog::CopyStatus;
use kanoon_store::circulation::BookStatus;
use kanoon_store::{Desk, ErrorCode};
use uuid::Uuid;

use crate::support::*;

fn numbers(ns: &[&str]) -> Vec<String> {
    ns.iter().map(|s| s.to_string()).collect()
}

fn title_names(desk: &Desk, q: &str) -> Vec<String> {
    desk.find_titles(q, 50).unwrap().into_iter().map(|h| h.title).collect()
}

fn is_persian(message: &str) -> bool {
    message.chars().any(|c| ('\u{0627}'..='\u{06CC}').contains(&c))
}

#[test]
fn a_title_is_added_with_its_copies_on_the_shelf() {
    let mut f = desk();
    let ops = f.desk.outbox_len().unwrap();
    let t = f.desk.add_title_with_copies(title("قصه‌های مجید", Some("ب")), &numbers(&[" ۱۰۲ ", "101", "١٠٣"])).unwrap();
    assert_eq!(t.details.title, "قصه‌های مجید");
    assert_eq!(t.details.age_group.as_deref(), Some("ب"));
    let regs: Vec<&str> = t.copies.iter().map(|c| c.registration_number.as_str()).collect();
    assert_eq!(regs, vec!["101", "102", "103"], "any digit script, stored as ASCII digits");
    assert!(t.copies.iter().all(|c| c.status == CopyStatus::Available && c.title_id == t.id));
    // One op for the title and one per copy, in the same transaction.
    assert_eq!(f.desk.outbox_len().unwrap(), ops + 4);

    let c = f.desk.copy_by_registration_number("۱۰۲").unwrap();
    assert_eq!((c.title.as_str(), c.registration_number.as_str()), ("قصه‌های مجید", "102"));
    let hit = &f.desk.find_titles("مجید", 5).unwrap()[0];
    assert_eq!((hit.id, hit.copies, hit.available), (t.id, 3, 3));
    let added = f.desk.add_copy(t.id, "104").unwrap();
    assert_eq!(added.status, CopyStatus::Available);
    assert_eq!(f.desk.title(t.id).unwrap().copies.len(), 4);
}

#[test]
fn a_registration_number_already_at_the_center_is_a_conflict_and_nothing_of_the_call_is_written() {
    let mut f = desk();
    let first = f.desk.add_title_with_copies(title("گنجشک‌ها", None), &numbers(&["10", "11"])).unwrap();
    let ops = f.desk.outbox_len().unwrap();

    let err = f.desk.add_title_with_copies(title("کلاغ سیاه", None), &numbers(&["12", "۱۰"])).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict, "{err}");
    assert!(is_persian(&err.to_string()) && err.to_string().contains("۱۰"), "{err}");
    assert!(title_names(&f.desk, "کلاغ").is_empty(), "the title of the refused call was created");
    assert_eq!(f.desk.list_titles(0, 10).unwrap().len(), 1);
    assert_eq!(f.desk.copy_by_registration_number("12").unwrap_err().code(), ErrorCode::NotFound);
    assert_eq!(f.desk.outbox_len().unwrap(), ops);

    // The same number twice in one call.
    let err = f.desk.add_title_with_copies(title("کبوتر", None), &numbers(&["20", "۲۰"])).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert!(title_names(&f.desk, "کبوتر").is_empty());
    assert_eq!(f.desk.copy_by_registration_number("20").unwrap_err().code(), ErrorCode::NotFound);

    // A single copy onto an existing title.
    assert_eq!(f.desk.add_copy(first.id, " 11 ").unwrap_err().code(), ErrorCode::Conflict);
    assert_eq!(f.desk.title(first.id).unwrap().copies.len(), 2);
    assert_eq!(f.desk.outbox_len().unwrap(), ops);
}

#[test]
fn a_withdrawn_copy_frees_its_number_and_cannot_come_back_while_the_number_is_taken() {
    let mut f = desk();
    let t = f.desk.add_title_with_copies(title("ماهی سیاه کوچولو", None), &numbers(&["10", "11"])).unwrap();
    let old = f.desk.copy_by_registration_number("10").unwrap();
    let withdrawn = f.desk.withdraw_copy(old.id, WithdrawReason::Lost).unwrap();
    assert_eq!(withdrawn.status, CopyStatus::Withdrawn { reason: WithdrawReason::Lost });
    assert_eq!(f.desk.withdraw_copy(old.id, WithdrawReason::Damaged).unwrap_err().code(), ErrorCode::Conflict);
    assert_eq!(f.desk.find_titles("ماهی", 5).unwrap()[0].copies, 1, "a withdrawn copy is not counted");

    let replacement = f.desk.add_copy(t.id, "۱۰").unwrap();
    assert_ne!(replacement.id, old.id);
    assert_eq!(replacement.status, CopyStatus::Available);
    assert_eq!(f.desk.copy_by_registration_number("10").unwrap().id, replacement.id, "the active copy wins");

    let err = f.desk.reinstate_copy(old.id).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict, "{err}");
    assert!(is_persian(&err.to_string()));
    assert_eq!(f.desk.copy(old.id).unwrap().status, CopyStatus::Withdrawn { reason: WithdrawReason::Lost });

    // A lost book found while its number is still free comes back.
    let other = f.desk.copy_by_registration_number("11").unwrap();
    f.desk.withdraw_copy(other.id, WithdrawReason::Lost).unwrap();
    assert_eq!(f.desk.reinstate_copy(other.id).unwrap().status, CopyStatus::Available);
    assert_eq!(f.desk.reinstate_copy(other.id).unwrap_err().code(), ErrorCode::Conflict, "already on the shelf");
    assert_eq!(f.desk.title(t.id).unwrap().copies.len(), 3);
}

#[test]
fn a_copy_on_loan_cannot_be_withdrawn() {
    let (mut f, m) = desk_with_reader(("کلاغ‌ها", 1, 1), ("سارا", "کریمی", 1));
    assert_eq!(lend(&mut f.desk, m.id, &["1"]).lent(), 1);
    let copy = f.desk.copy_by_registration_number("1").unwrap();
    let ops = f.desk.outbox_len().unwrap();
    let err = f.desk.withdraw_copy(copy.id, WithdrawReason::Weeded).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict, "{err}");
    assert!(is_persian(&err.to_string()));
    assert!(matches!(f.desk.copy(copy.id).unwrap().status, CopyStatus::OnLoan { .. }));
    assert_eq!(f.desk.outbox_len().unwrap(), ops);

    f.desk.check_in("1").unwrap();
    let w = f.desk.withdraw_copy(copy.id, WithdrawReason::Weeded).unwrap();
    assert_eq!(w.status, CopyStatus::Withdrawn { reason: WithdrawReason::Weeded });
}

#[test]
fn a_copy_transferred_to_another_center_is_elsewhere_and_is_not_lent_here() {
    let mut f = desk();
    books(&mut f.desk, "سفر به کوه", 1, 2);
    f.desk
        .add_center(Center {
            id: Uuid::nil(),
            code: "5678".into(),
            name: "مرکز سیار اراک".into(),
            kind: CenterKind::Mobile,
            address: String::new(),
            phone: String::new(),
        })
        .unwrap();
    let copy = f.desk.copy_by_registration_number("1").unwrap();

    assert_eq!(f.desk.transfer_copy(copy.id, "9999").unwrap_err().code(), ErrorCode::NotFound);
    assert_eq!(f.desk.transfer_copy(copy.id, "۱۲۳۴").unwrap_err().code(), ErrorCode::InvalidInput, "own center");

    let moved = f.desk.transfer_copy(copy.id, "۵۶۷۸").unwrap();
    assert_eq!(moved.status, CopyStatus::Elsewhere { center_code: "5678".into() });
    let hit = &f.desk.find_titles("سفر", 5).unwrap()[0];
    assert_eq!((hit.copies, hit.available), (1, 1), "only the copy still here is counted");

    let m = register(&mut f.desk, "علی", "رضایی", 2);
    let ops = f.desk.outbox_len().unwrap();
    let out = lend(&mut f.desk, m.id, &["1"]);
    assert_eq!(out.books[0].status, BookStatus::Refused);
    assert_eq!(out.books[0].issues.iter().map(|i| i.code).collect::<Vec<_>>(), vec![IssueCode::CopyAtAnotherCenter]);
    assert!(f.desk.open_loans_of(m.id).unwrap().is_empty());
    assert_eq!(f.desk.outbox_len().unwrap(), ops);
    // The copy left: it cannot be transferred again from here.
    assert_eq!(f.desk.transfer_copy(copy.id, "5678").unwrap_err().code(), ErrorCode::Conflict);
}

#[test]
fn title_search_ignores_zwnj_and_arabic_letters() {
    let mut f = desk();
    f.desk.add_title(title("کتابهای کودکان", None)).unwrap();
    f.desk.add_title(title("کتاب‌های ما", None)).unwrap();
    f.desk.add_title(title("دفتر نقاشی", None)).unwrap();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let both = sorted(vec!["کتاب‌های ما".to_owned(), "کتابهای کودکان".to_owned()]);
    assert_eq!(sorted(title_names(&f.desk, "کتاب‌های")), both, "typed with ZWNJ finds the one written without");
    assert_eq!(sorted(title_names(&f.desk, "کتابهای")), both, "typed without ZWNJ finds the one written with");
    assert_eq!(sorted(title_names(&f.desk, "كتاب")), both, "Arabic kaf");
    assert_eq!(title_names(&f.desk, "كتابهاي كودكان"), vec!["کتابهای کودکان"]);
    assert_eq!(title_names(&f.desk, "نقاشي"), vec!["دفتر نقاشی"]);
    assert!(title_names(&f.desk, "کبوتر").is_empty());
}

#[test]
fn title_search_finds_parts_written_with_a_space() {
    let mut f = desk();
    f.desk.add_title(title("قصه های شب", None)).unwrap();
    f.desk.add_title(title("کتاب خانه کوچک", None)).unwrap();
    f.desk.add_title(title("می خواهم بخوانم", None)).unwrap();
    // A suffix or prefix the index joins: the query's joined form finds it.
    assert_eq!(title_names(&f.desk, "قصه‌های"), vec!["قصه های شب"]);
    assert_eq!(title_names(&f.desk, "قصه‌ها"), vec!["قصه های شب"]);
    assert_eq!(title_names(&f.desk, "می‌خوا"), vec!["می خواهم بخوانم"]);
    // Any other pair: its parts side by side.
    assert_eq!(title_names(&f.desk, "کتاب‌خانه"), vec!["کتاب خانه کوچک"]);
}

#[test]
fn the_title_typed_exactly_comes_first() {
    let mut f = desk();
    for t in ["ماهی سیاه کوچولو و ماهی قرمز", "ماهی ماهی ماهی", "ماهی", "قصه‌های ماهی سیاه"]
    {
        f.desk.add_title(title(t, None)).unwrap();
    }
    assert_eq!(title_names(&f.desk, "ماهی")[0], "ماهی");
    assert_eq!(title_names(&f.desk, " ماهي ")[0], "ماهی", "Arabic ye, spaces");
    assert_eq!(title_names(&f.desk, "ماهی").len(), 4, "every match still listed, once");
}

#[test]
fn titles_are_listed_in_persian_alphabetical_order() {
    let mut f = desk();
    let shuffled =
        ["یک روز بارانی", "پرنده آبی", "ماهی سیاه", "آب", "چراغ", "ژاله", "کبوتر", "گنجشک", "بابا", "ریحانه", "ابر"];
    for t in shuffled {
        f.desk.add_title(title(t, None)).unwrap();
    }
    let listed: Vec<String> = f.desk.list_titles(0, 100).unwrap().into_iter().map(|h| h.title).collect();
    assert_eq!(
        listed,
        vec![
            "آب",
            "ابر",
            "بابا",
            "پرنده آبی",
            "چراغ",
            "ریحانه",
            "ژاله",
            "کبوتر",
            "گنجشک",
            "ماهی سیاه",
            "یک روز بارانی"
        ]
    );
    let page: Vec<String> = f.desk.list_titles(3, 2).unwrap().into_iter().map(|h| h.title).collect();
    assert_eq!(page, vec!["پرنده آبی", "چراغ"]);
}

#[test]
fn an_edited_title_is_one_op_and_search_and_order_follow_it() {
    let mut f = desk();
    let t = f.desk.add_title_with_copies(title("گنجشک‌ها", None), &numbers(&["1"])).unwrap();
    f.desk.add_title(title("ببر", None)).unwrap();
    let ops = f.desk.outbox(1_000).unwrap();

    let mut input = t.details.clone();
    input.title = "  آهوی کوچک ".into();
    let edited = f.desk.edit_title(t.id, input.clone()).unwrap();
    assert_eq!(edited.details.title, "آهوی کوچک");
    assert_eq!(edited.copies.len(), 1);

    let after = f.desk.outbox(1_000).unwrap();
    assert_eq!(after.len(), ops.len() + 1);
    let op = after.last().unwrap();
    assert_eq!(op.entity_id, t.id);
    match &op.body {
        OpBody::Patch { fields } => assert_eq!(fields.keys().collect::<Vec<_>>(), vec!["title"]),
        other => panic!("expected a patch, got {other:?}"),
    }

    assert_eq!(title_names(&f.desk, "آهو"), vec!["آهوی کوچک"]);
    assert!(title_names(&f.desk, "گنجشک").is_empty(), "the old title is still indexed");
    // Still found by the fields that did not change.
    assert!(title_names(&f.desk, "مرادی").contains(&"آهوی کوچک".to_owned()));
    let listed: Vec<String> = f.desk.list_titles(0, 10).unwrap().into_iter().map(|h| h.title).collect();
    assert_eq!(listed, vec!["آهوی کوچک", "ببر"]);
    assert_eq!(f.desk.copy_by_registration_number("1").unwrap().title, "آهوی کوچک");

    // Saving unchanged records nothing; an empty title is refused.
    f.desk.edit_title(t.id, input.clone()).unwrap();
    assert_eq!(f.desk.outbox_len().unwrap() as usize, after.len());
    input.title = "   ".into();
    assert_eq!(f.desk.edit_title(t.id, input).unwrap_err().code(), ErrorCode::InvalidInput);
    assert_eq!(f.desk.outbox_len().unwrap() as usize, after.len());
    assert_eq!(f.desk.title(t.id).unwrap().details.title, "آهوی کوچک");
}

#[test]
fn a_query_matching_thousands_of_titles_lists_the_newest_first_and_gives_the_total() {
    let mut f = desk();
    for i in 0..=kanoon_store::catalog::RANKED_MATCHES_MAX {
        f.desk.add_title(title(&format!("قصه‌های شب {i}"), None)).unwrap();
    }
    let many = f.desk.search_titles("قصه", 5).unwrap();
    assert_eq!(many.total, kanoon_store::catalog::RANKED_MATCHES_MAX + 1);
    assert!(!many.by_relevance);
    assert_eq!(many.hits[0].title, format!("قصه‌های شب {}", kanoon_store::catalog::RANKED_MATCHES_MAX));
    let few = f.desk.search_titles("قصه شب 12", 5).unwrap();
    assert!(few.by_relevance);
    assert_eq!(few.hits[0].title, "قصه‌های شب 12");
}

#[test]
fn a_mistyped_registration_number_is_corrected_and_duplicate_titles_merge_keeping_their_copies() {
    let mut f = desk();
    let a = f.desk.add_title_with_copies(title("شازده کوچولو", None), &["10".to_string()]).unwrap();
    let b = f.desk.add_title_with_copies(title("شازده كوچولو", None), &["11".to_string(), "12".to_string()]).unwrap();
    let c = f.desk.copy_by_registration_number("12").unwrap();
    assert_eq!(f.desk.edit_registration_number(c.id, "10").unwrap_err().code(), kanoon_store::ErrorCode::Conflict);
    let fixed = f.desk.edit_registration_number(c.id, "۱۳").unwrap();
    assert_eq!(fixed.registration_number, "13");
    assert!(f.desk.copy_by_registration_number("12").is_err());

    let before = f.desk.outbox_len().unwrap();
    let kept = f.desk.merge_titles(a.id, b.id).unwrap();
    let numbers: Vec<_> = kept.copies.iter().map(|c| c.registration_number.as_str()).collect();
    assert_eq!(numbers, vec!["10", "11", "13"]);
    // Two copies moved + the redirect, in one transaction.
    assert_eq!(f.desk.outbox_len().unwrap(), before + 3);
    let hits = f.desk.find_titles("شازده", 10).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].copies, 3);
    assert_eq!(f.desk.merge_titles(a.id, b.id).unwrap_err().code(), kanoon_store::ErrorCode::Conflict);
}

#[test]
fn a_book_with_an_unknown_age_group_is_refused_so_the_warning_cannot_silently_vanish() {
    let mut f = desk();
    let err = f.desk.add_title(title("گروه ناشناخته", Some("+8"))).unwrap_err();
    assert_eq!(err.code(), kanoon_store::ErrorCode::InvalidInput);
}

#[test]
fn voiding_a_transfer_brings_the_copy_back_to_the_shelf() {
    let mut f = desk();
    f.desk.add_title_with_copies(title("سفر", None), &["1".to_string()]).unwrap();
    f.desk.add_center(other_center("5678", "مرکز سیار", kanoon_domain::entities::CenterKind::Mobile)).unwrap();
    let copy = f.desk.copy_by_registration_number("1").unwrap();
    f.desk.transfer_copy(copy.id, "5678").unwrap();
    let transfer = f.desk.event_log().unwrap().into_iter().rev().find(|e| e.event.kind() == "transfer").unwrap();
    f.desk.void_event(transfer.id, "مرکز اشتباه انتخاب شد").unwrap();
    assert_eq!(f.desk.copy(copy.id).unwrap().status, kanoon_store::catalog::CopyStatus::Available);
}

#[test]
fn words_written_with_a_space_zwnj_or_joined_find_each_other() {
    let mut f = desk();
    let mut t = title("کتاب خانه کوچک", None);
    t.author = "علی پاک نژاد".into();
    f.desk.add_title(t).unwrap();
    f.desk.add_title(title("دانش آموز نمونه", None)).unwrap();
    f.desk.add_title(title("کتابهای من", None)).unwrap();
    let first = |q: &str| f.desk.find_titles(q, 5).unwrap().first().map(|h| h.title.clone());
    assert_eq!(first("کتاب‌خانه").as_deref(), Some("کتاب خانه کوچک"));
    assert_eq!(first("دانش‌آموز").as_deref(), Some("دانش آموز نمونه"));
    assert_eq!(first("پاک‌نژاد").as_deref(), Some("کتاب خانه کوچک"));
    assert_eq!(first("کتاب های من").as_deref(), Some("کتابهای من"));
}

#[test]
fn a_transfer_is_not_voided_when_its_number_was_reused_meanwhile() {
    let mut f = desk();
    let t = f.desk.add_title_with_copies(title("بازگشت نسخه", None), &["1".to_string()]).unwrap();
    f.desk.add_center(other_center("5678", "مرکز پستی", kanoon_domain::entities::CenterKind::Postal)).unwrap();
    let copy = f.desk.copy_by_registration_number("1").unwrap();
    f.desk.transfer_copy(copy.id, "5678").unwrap();
    f.desk.add_copy(t.id, "1").unwrap();
    let transfer = f.desk.event_log().unwrap().into_iter().rev().find(|e| e.event.kind() == "transfer").unwrap();
    let before = f.desk.outbox_len().unwrap();
    let err = f.desk.void_event(transfer.id, "اشتباه").unwrap_err();
    assert_eq!(err.code(), kanoon_store::ErrorCode::Conflict);
    assert!(err.to_string().contains("شماره ثبت"), "{err}");
    assert_eq!(f.desk.outbox_len().unwrap(), before);
}
