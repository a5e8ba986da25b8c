//! Property tests of the loan rules over the real store: random sequences
//! of desk actions, invariants checked after every step.

use std::collections::BTreeMap;

use chrono::Duration;
use kanoon_domain::circulation::{Event, fold};
use kanoon_domain::text;
use kanoon_protocol::OpBody;
use kanoon_store::circulation::{BookStatus, CheckOutRequest};
use kanoon_store::members::{RegisterMember, RegisterOutcome};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::support::*;

#[derive(Clone, Debug)]
enum Action {
    Lend { member: usize, copies: Vec<u8>, confirm: bool, override_: bool },
    Return { copy: u8 },
    Void { pick: usize },
    Renew { pick: usize },
    Wait { days: i64 },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => (0usize..3, proptest::collection::vec(0u8..8, 1..4), any::<bool>(), prop::bool::weighted(0.2))
            .prop_map(|(member, copies, confirm, override_)| Action::Lend { member, copies, confirm, override_ }),
        3 => (0u8..8).prop_map(|copy| Action::Return { copy }),
        1 => any::<usize>().prop_map(|pick| Action::Void { pick }),
        1 => any::<usize>().prop_map(|pick| Action::Renew { pick }),
        1 => (1i64..6).prop_map(|days| Action::Wait { days }),
    ]
}

/// Ops in the outbox whose body is an event, and all ops.
fn outbox_counts(desk: &kanoon_store::Desk) -> (usize, usize) {
    let ops = desk.outbox(1_000_000).unwrap();
    (ops.iter().filter(|o| matches!(o.body, OpBody::Event { .. })).count(), ops.len())
}

#[test]
fn loan_rules_hold_for_any_sequence_of_desk_actions() {
    let mut runner = TestRunner::new(Config { cases: crate::support::proptest_cases(), ..Config::default() });
    runner
        .run(&proptest::collection::vec(action(), 1..25), |actions| {
            let mut f = desk();
            books(&mut f.desk, "کتاب آزمون", 0, 8);
            let members: Vec<_> = (0..3).map(|i| register(&mut f.desk, &format!("عضو{i}"), "آزمون", 100 + i)).collect();
            for a in actions {
                let (events_before, ops_before) = outbox_counts(&f.desk);
                let log_before = f.desk.event_log().unwrap().len();
                let open_before = f.desk.all_open_loans().unwrap().len();
                match a {
                    Action::Lend { member, copies, confirm, override_ } => {
                        let out = f
                            .desk
                            .check_out(CheckOutRequest {
                                member_id: members[member].id,
                                registration_numbers: copies.iter().map(|c| c.to_string()).collect(),
                                confirm_warnings: confirm,
                                override_reason: override_.then(|| "درخواست مدیر".to_owned()),
                                visit_id: None,
                            })
                            .unwrap();
                        let lent = out.books.iter().filter(|b| b.status == BookStatus::Lent).count();
                        prop_assert_eq!(f.desk.event_log().unwrap().len(), log_before + lent);
                    }
                    Action::Return { copy } => match f.desk.check_in(&copy.to_string()) {
                        Ok(_) => prop_assert_eq!(f.desk.all_open_loans().unwrap().len() + 1, open_before),
                        Err(_) => prop_assert_eq!(f.desk.all_open_loans().unwrap().len(), open_before),
                    },
                    Action::Void { pick } => {
                        let log = f.desk.event_log().unwrap();
                        let target = &log[pick % log.len()];
                        let voidable = target.event.kind() != "void";
                        let result = f.desk.void_event(target.id, "ثبت اشتباه");
                        if voidable && result.is_ok() {
                            // Both events stay; state is as if the target never happened.
                            let after = f.desk.event_log().unwrap();
                            prop_assert!(after.iter().any(|e| e.id == target.id));
                            let without: Vec<_> = after
                                .iter()
                                .filter(|e| {
                                    e.id != target.id
                                        && !matches!(e.event, Event::Void { target: t, .. } if t == target.id)
                                })
                                .cloned()
                                .collect();
                            prop_assert_eq!(fold(&after).open_loans, fold(&without).open_loans);
                        }
                    }
                    Action::Renew { pick } => {
                        let open = f.desk.all_open_loans().unwrap();
                        if !open.is_empty() {
                            let _ = f.desk.renew_loan(open[pick % open.len()].loan_id);
                        }
                    }
                    Action::Wait { days } => f.clock.advance(Duration::days(days)),
                }

                // Every recorded event has exactly one outbox op, written with it.
                let log = f.desk.event_log().unwrap();
                let (events_after, ops_after) = outbox_counts(&f.desk);
                prop_assert_eq!(events_after, log.len());
                prop_assert_eq!(ops_after - ops_before, events_after - events_before);

                // The derived table is the domain fold of the log.
                let state = fold(&log);
                let open = f.desk.all_open_loans().unwrap();
                prop_assert_eq!(
                    open.iter().map(|l| l.loan_id).collect::<Vec<_>>(),
                    state.open_loans.keys().copied().collect::<Vec<_>>()
                );

                // A copy never has two open loans.
                let mut per_copy = BTreeMap::new();
                for l in &open {
                    *per_copy.entry(l.copy_id).or_insert(0) += 1;
                }
                prop_assert!(per_copy.values().all(|n| *n == 1), "{:?}", per_copy);

                // Open loans beyond the limit (2) each carry a recorded override.
                for m in &members {
                    let mine: Vec<_> = open.iter().filter(|l| l.member_id == m.id).collect();
                    let overridden = mine
                        .iter()
                        .filter(|l| {
                            log.iter().any(|e| {
                                e.id == l.loan_id && matches!(&e.event, Event::Loan { overridden: Some(_), .. })
                            })
                        })
                        .count();
                    prop_assert!(mine.len() <= 2 + overridden, "{} open, {} overridden", mine.len(), overridden);
                }
            }
            Ok(())
        })
        .unwrap();
}

/// Variants of a name as people type it: Arabic ي/ك, diacritics, tatweel,
/// the parts of a compound last name written with ZWNJ, a space or joined
/// (whichever way it was stored), a prefix.
fn typed_variant(name: &str) -> impl Strategy<Value = String> + use<> {
    let name = name.to_owned();
    (any::<bool>(), any::<bool>(), any::<bool>(), 0u8..4, 0usize..4).prop_map(
        move |(arabic, harakat, tatweel, joint, cut)| {
            // The first space separates first and last name; later spaces and
            // ZWNJs are joints inside the last name.
            let (first, last) = name.split_once(' ').unwrap_or((&name, ""));
            let last: String = last
                .chars()
                .filter_map(|c| match c {
                    ' ' | '\u{200c}' => match joint {
                        0 => Some(c),
                        1 => Some('\u{200c}'),
                        2 => None,
                        _ => Some(' '),
                    },
                    c => Some(c),
                })
                .collect();
            let mut s = String::new();
            for (i, c) in format!("{first} {last}").chars().enumerate() {
                let c = match c {
                    'ی' if arabic => 'ي',
                    'ک' if arabic => 'ك',
                    c => c,
                };
                s.push(c);
                if harakat && i == 1 {
                    s.push('\u{064E}');
                }
                if tatweel && i == 2 {
                    s.push('\u{0640}');
                }
            }
            // A prefix of the last word (at least 2 letters) still finds it.
            let words: Vec<&str> = s.split(' ').collect();
            let last = words[words.len() - 1];
            let keep = last.chars().count().saturating_sub(cut).max(2);
            let mut out: Vec<String> = words[..words.len() - 1].iter().map(|w| w.to_string()).collect();
            out.push(last.chars().take(keep).collect());
            out.join(" ")
        },
    )
}

#[test]
fn search_finds_a_member_whatever_letters_digits_zwnj_or_diacritics_are_typed() {
    let mut f = desk();
    // Compound last names stored with ZWNJ, with a space, and joined.
    let names =
        [("کیان", "کاظمی‌نیا"), ("یاسمین", "میرکریمی"), ("علی", "پاک نژاد"), ("فاطمه", "نیکبخت"), ("رها", "امیر‌حسینی")];
    let mut members = Vec::new();
    for (i, (first, last)) in names.iter().enumerate() {
        let m = match f
            .desk
            .register_member(RegisterMember::new(details(first, last, Some(national_id(500 + i as u64))), paid()))
            .unwrap()
        {
            RegisterOutcome::Registered { member } => *member,
            other => panic!("{other:?}"),
        };
        members.push(m);
    }
    let mut runner = TestRunner::new(Config { cases: crate::support::proptest_cases(), ..Config::default() });
    let strategy = (0usize..names.len(), any::<bool>()).prop_flat_map(|(i, by_number)| {
        let (first, last) = names[i];
        (Just(i), Just(by_number), typed_variant(&format!("{first} {last}")), 0u8..3)
    });
    runner
        .run(&strategy, |(i, by_number, query, script)| {
            let query = if by_number {
                let n = &members[i].member_number;
                match script {
                    0 => n.clone(),
                    1 => text::to_persian_digits(n),
                    _ => n.chars().map(|c| char::from_u32(c as u32 - '0' as u32 + 0x0660).unwrap_or(c)).collect(),
                }
            } else {
                query
            };
            let hits = f.desk.find_members(&query, 20).unwrap();
            prop_assert!(
                hits.iter().any(|h| h.id == members[i].id),
                "«{}» did not find {}",
                query,
                members[i].full_name
            );
            Ok(())
        })
        .unwrap();
}
