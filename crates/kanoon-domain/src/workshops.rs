//! Workshops (service D): who holds a place, who waits, what a family pays
//! and gets back, who completed. Pure rules over a workshop's terms and the
//! enrolment events folded in order, so the desk and the server decide the
//! same.
//!
//! A place is decided where it is taken: the desk records "enrolled" or
//! "waiting" in the event, from the roster it has (`Roster::decide`). Two
//! desks offline can each give away the last place; after sync both stay
//! enrolled (a family paid at each) and the roster says it is over capacity
//! for the manager (`Roster::over_capacity`) — never silently moved to the
//! waiting list.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What the rules read of a workshop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkshopTerms {
    /// Places; more only with a manager's recorded override.
    pub capacity: u32,
    /// Enrolled participants needed for the workshop to run.
    pub minimum: u32,
    pub tuition_rials: i64,
}

/// Where a participant stands in one workshop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    Enrolled,
    /// On the waiting list, in the order they joined it.
    Waiting,
    /// A freed place offered to the first waiting: held for them until
    /// they accept (enrolled) or decline (withdrawn).
    Offered,
    Withdrawn,
}

impl Standing {
    /// Whether the participant holds one of the places.
    pub fn holds_place(self) -> bool {
        matches!(self, Standing::Enrolled | Standing::Offered)
    }
}

/// One enrolment event of a workshop, as the roster folds it (the store
/// keeps its id, time, staff member and payment beside it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RosterEvent {
    /// `standing` is what the desk decided when it recorded it: enrolled
    /// or waiting. `over_capacity_by`: the manager who let it past a full
    /// workshop.
    Join {
        participant: Uuid,
        standing: Standing,
        over_capacity_by: Option<Uuid>,
    },
    /// A freed place offered to a waiting participant.
    Offer {
        participant: Uuid,
    },
    Accept {
        participant: Uuid,
    },
    /// A withdrawal, or an offer declined.
    Leave {
        participant: Uuid,
    },
}

/// The fold of a workshop's enrolment events, in log order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Roster {
    standing: BTreeMap<Uuid, Standing>,
    /// Waiting participants in the order they joined the list.
    queue: Vec<Uuid>,
    /// Places a manager allowed past the capacity.
    overrides: u32,
}

impl Roster {
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a RosterEvent>) -> Roster {
        let mut roster = Roster::default();
        for event in events {
            roster.apply(event);
        }
        roster
    }

    /// Applies one event. An event about a participant in another state
    /// than it expects (an offer to someone no longer waiting, a second
    /// join) changes nothing: the log keeps it, the roster does not move.
    pub fn apply(&mut self, event: &RosterEvent) {
        match *event {
            RosterEvent::Join { participant, standing, over_capacity_by } => {
                if self.standing.contains_key(&participant) && self.standing(participant) != Some(Standing::Withdrawn) {
                    return;
                }
                let standing = if standing == Standing::Waiting { Standing::Waiting } else { Standing::Enrolled };
                if standing == Standing::Waiting {
                    self.queue.push(participant);
                }
                if over_capacity_by.is_some() && standing == Standing::Enrolled {
                    self.overrides += 1;
                }
                self.standing.insert(participant, standing);
            }
            RosterEvent::Offer { participant } => {
                if self.standing(participant) == Some(Standing::Waiting) {
                    self.queue.retain(|p| *p != participant);
                    self.standing.insert(participant, Standing::Offered);
                }
            }
            RosterEvent::Accept { participant } => {
                if self.standing(participant) == Some(Standing::Offered) {
                    self.standing.insert(participant, Standing::Enrolled);
                }
            }
            RosterEvent::Leave { participant } => {
                if self.standing(participant).is_some_and(|s| s != Standing::Withdrawn) {
                    self.queue.retain(|p| *p != participant);
                    self.standing.insert(participant, Standing::Withdrawn);
                }
            }
        }
    }

    pub fn standing(&self, participant: Uuid) -> Option<Standing> {
        self.standing.get(&participant).copied()
    }

    /// Every participant's standing.
    pub fn standings(&self) -> impl Iterator<Item = Standing> + '_ {
        self.standing.values().copied()
    }

    /// Places held (enrolled, or offered and not yet answered).
    pub fn places_held(&self) -> u32 {
        u32::try_from(self.standing.values().filter(|s| s.holds_place()).count()).unwrap_or(u32::MAX)
    }

    /// The waiting list, first to be offered first.
    pub fn waiting(&self) -> &[Uuid] {
        &self.queue
    }

    /// What a new participant gets at this desk now: a place while one is
    /// free, else the waiting list (a manager may still enrol past the
    /// capacity, recorded in the event).
    pub fn decide(&self, terms: &WorkshopTerms) -> Standing {
        if self.places_held() < terms.capacity + self.overrides { Standing::Enrolled } else { Standing::Waiting }
    }

    /// Who is offered a freed place: the first waiting, while a place is
    /// free.
    pub fn next_offer(&self, terms: &WorkshopTerms) -> Option<Uuid> {
        (self.places_held() < terms.capacity + self.overrides).then(|| self.queue.first().copied()).flatten()
    }

    /// Places held beyond the capacity and the manager's overrides: two
    /// desks gave away the last place offline. Shown to the manager.
    pub fn over_capacity(&self, terms: &WorkshopTerms) -> u32 {
        self.places_held().saturating_sub(terms.capacity + self.overrides)
    }

    /// Whether the workshop has its minimum to run.
    pub fn can_run(&self, terms: &WorkshopTerms) -> bool {
        self.places_held() >= terms.minimum
    }
}

/// `count` installments of what a family owes (`tuition − exemption`),
/// equal but for the rials that do not divide, which the first ones carry:
/// they sum to exactly what is owed. None for no installments or an
/// exemption outside `0..=tuition`.
pub fn installments(tuition_rials: i64, exemption_rials: i64, count: u32) -> Option<Vec<i64>> {
    if count == 0 || tuition_rials < 0 || !(0..=tuition_rials).contains(&exemption_rials) {
        return None;
    }
    let owed = tuition_rials - exemption_rials;
    let n = i64::from(count);
    let (each, rest) = (owed / n, owed % n);
    Some((0..n).map(|i| each + i64::from(i < rest)).collect())
}

/// When a withdrawal is refunded, as the center's policy sets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRule {
    /// Withdrawn before the first session: this share of what was paid, in
    /// percent.
    pub before_start_percent: u8,
    /// After it: the sessions not yet held, pro rata, of this share.
    pub after_start_percent: u8,
}

/// What a withdrawal gives back: by the rule, and never more than was paid
/// less what was already refunded. A workshop cancelled for want of its
/// minimum refunds all that was paid (`cancelled`).
pub fn refund_due(
    rule: &RefundRule,
    paid_rials: i64,
    refunded_rials: i64,
    sessions_held: u32,
    sessions_total: u32,
    cancelled: bool,
) -> i64 {
    let left = (paid_rials - refunded_rials).max(0);
    if cancelled {
        return left;
    }
    let by_rule = if sessions_held == 0 {
        paid_rials * i64::from(rule.before_start_percent.min(100)) / 100
    } else {
        let remaining = i64::from(sessions_total.saturating_sub(sessions_held));
        let total = i64::from(sessions_total.max(1));
        paid_rials * i64::from(rule.after_start_percent.min(100)) / 100 * remaining / total
    };
    by_rule.clamp(0, left)
}

/// The completion rule: attended at least `percent` of the sessions held
/// (none held: not completed).
pub fn completed(attended: u32, held: u32, percent: u8) -> bool {
    held > 0 && u64::from(attended.min(held)) * 100 >= u64::from(percent.min(100)) * u64::from(held)
}

/// Most sessions one workshop may have (a year of three a week).
pub const MAX_SESSIONS: u16 = 160;

/// The days of a workshop's `count` sessions: from `first_on`, on the
/// weekdays given (0 = Saturday … 6 = Friday, the Persian week), in order.
/// Empty when no weekday is valid or `count` is 0 or past `MAX_SESSIONS`.
pub fn session_days(first_on: NaiveDate, weekdays: &[u8], count: u16) -> Vec<NaiveDate> {
    let valid: Vec<u8> = weekdays.iter().copied().filter(|d| *d < 7).collect();
    if valid.is_empty() || count == 0 || count > MAX_SESSIONS {
        return Vec::new();
    }
    let mut days = Vec::with_capacity(usize::from(count));
    let mut day = first_on;
    while days.len() < usize::from(count) {
        if valid.contains(&persian_weekday(day)) {
            days.push(day);
        }
        day += Duration::days(1);
    }
    days
}

/// A day's place in the Persian week: 0 = Saturday … 6 = Friday.
pub fn persian_weekday(day: NaiveDate) -> u8 {
    // chrono: Monday = 0 … Sunday = 6; Saturday is 5.
    u8::try_from((day.weekday().num_days_from_monday() + 2) % 7).unwrap_or(0)
}

/// What a participant still owes: tuition less the exemption, less what
/// was paid net of refunds (never below zero).
pub fn balance_due(tuition_rials: i64, exemption_rials: i64, paid_net_rials: i64) -> i64 {
    (tuition_rials - exemption_rials.clamp(0, tuition_rials.max(0)) - paid_net_rials).max(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use proptest::prelude::*;

    use super::*;

    const TERMS: WorkshopTerms = WorkshopTerms { capacity: 2, minimum: 2, tuition_rials: 3_000_000 };

    fn join(p: Uuid, roster: &Roster) -> RosterEvent {
        RosterEvent::Join { participant: p, standing: roster.decide(&TERMS), over_capacity_by: None }
    }

    #[test]
    fn the_third_waits_and_gets_the_place_the_first_frees() {
        let [a, b, c] = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
        let mut r = Roster::default();
        for p in [a, b, c] {
            let e = join(p, &r);
            r.apply(&e);
        }
        assert_eq!(
            [r.standing(a), r.standing(b), r.standing(c)],
            [Some(Standing::Enrolled), Some(Standing::Enrolled), Some(Standing::Waiting)]
        );
        assert_eq!(r.next_offer(&TERMS), None);
        r.apply(&RosterEvent::Leave { participant: a });
        assert_eq!(r.next_offer(&TERMS), Some(c));
        r.apply(&RosterEvent::Offer { participant: c });
        assert_eq!(r.decide(&TERMS), Standing::Waiting, "an offered place is held");
        r.apply(&RosterEvent::Accept { participant: c });
        assert_eq!(r.standing(c), Some(Standing::Enrolled));
        assert_eq!(r.over_capacity(&TERMS), 0);
    }

    #[test]
    fn two_desks_giving_the_last_place_offline_keep_both_and_flag_it() {
        let [a, b, c] = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
        let mut shared = Roster::default();
        let first = join(a, &shared);
        shared.apply(&first);
        // Each desk decides on the roster it has: one place left at both.
        let at_one = join(b, &shared);
        let at_two = join(c, &shared);
        let merged = Roster::fold([&first, &at_one, &at_two]);
        assert_eq!(merged.places_held(), 3);
        assert_eq!(merged.over_capacity(&TERMS), 1);
        assert_eq!(merged.standing(c), Some(Standing::Enrolled));
    }

    #[test]
    fn a_manager_override_is_a_place_not_an_excess() {
        let [a, b, c] = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
        let manager = Uuid::now_v7();
        let mut r = Roster::default();
        for p in [a, b] {
            let e = join(p, &r);
            r.apply(&e);
        }
        r.apply(&RosterEvent::Join { participant: c, standing: Standing::Enrolled, over_capacity_by: Some(manager) });
        assert_eq!((r.places_held(), r.over_capacity(&TERMS)), (3, 0));
    }

    #[test]
    fn installments_carry_the_odd_rials_first() {
        assert_eq!(installments(1_000_000, 0, 3).unwrap(), vec![333_334, 333_333, 333_333]);
        assert_eq!(installments(1_000_000, 400_000, 2).unwrap(), vec![300_000, 300_000]);
        assert_eq!(installments(1_000_000, 1_000_001, 2), None);
        assert_eq!(installments(1_000_000, 0, 0), None);
    }

    #[test]
    fn refunds_follow_the_rule_and_a_cancellation_returns_everything() {
        let rule = RefundRule { before_start_percent: 100, after_start_percent: 50 };
        assert_eq!(refund_due(&rule, 1_000_000, 0, 0, 10, false), 1_000_000);
        assert_eq!(refund_due(&rule, 1_000_000, 0, 4, 10, false), 300_000);
        assert_eq!(refund_due(&rule, 1_000_000, 900_000, 0, 10, false), 100_000);
        assert_eq!(refund_due(&rule, 1_000_000, 200_000, 9, 10, true), 800_000);
    }

    #[test]
    fn completion_is_three_quarters_of_the_sessions_held() {
        assert!(completed(9, 12, 75));
        assert!(!completed(8, 12, 75));
        assert!(!completed(0, 0, 75));
    }

    #[test]
    fn sessions_fall_on_the_weekdays_from_the_first_day() {
        // 1405/04/01 is a Monday (Persian weekday 2).
        let first = NaiveDate::from_ymd_opt(2026, 6, 22).unwrap();
        assert_eq!(persian_weekday(first), 2);
        let days = session_days(first, &[0, 2], 4);
        let expected: Vec<NaiveDate> = [22, 27, 29]
            .iter()
            .map(|d| NaiveDate::from_ymd_opt(2026, 6, *d).unwrap())
            .chain([NaiveDate::from_ymd_opt(2026, 7, 4).unwrap()])
            .collect();
        assert_eq!(days, expected);
        assert!(session_days(first, &[9], 3).is_empty());
        assert!(session_days(first, &[1], 0).is_empty());
    }

    #[test]
    fn the_balance_is_what_is_left_of_tuition_less_exemption() {
        assert_eq!(balance_due(3_000_000, 1_000_000, 500_000), 1_500_000);
        assert_eq!(balance_due(3_000_000, 0, 3_500_000), 0);
        assert_eq!(balance_due(3_000_000, 9_000_000, 0), 0);
    }

    fn arb_events(people: usize) -> impl Strategy<Value = Vec<(usize, u8)>> {
        prop::collection::vec((0..people, 0u8..4), 0..60)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::proptest_cases()))]

        /// On one desk (every join decided on the roster in hand, every
        /// freed place offered), no more places are held than the capacity
        /// and a freed place goes to the first waiting.
        #[test]
        fn one_desk_never_exceeds_capacity_and_offers_in_order(ops in arb_events(8), capacity in 1u32..5) {
            let terms = WorkshopTerms { capacity, minimum: 1, tuition_rials: 0 };
            let people: Vec<Uuid> = (0..8).map(|_| Uuid::now_v7()).collect();
            let mut r = Roster::default();
            for (who, what) in ops {
                let p = people[who];
                let event = match what {
                    0 => RosterEvent::Join { participant: p, standing: r.decide(&terms), over_capacity_by: None },
                    1 => RosterEvent::Leave { participant: p },
                    2 => RosterEvent::Accept { participant: p },
                    _ => RosterEvent::Offer { participant: p },
                };
                // A desk only offers to the one `next_offer` names.
                if matches!(event, RosterEvent::Offer { .. }) && r.next_offer(&terms) != Some(p) {
                    continue;
                }
                r.apply(&event);
                while let Some(first) = r.next_offer(&terms) {
                    prop_assert_eq!(Some(first), r.waiting().first().copied());
                    r.apply(&RosterEvent::Offer { participant: first });
                }
                prop_assert!(r.places_held() <= capacity);
                prop_assert_eq!(r.over_capacity(&terms), 0);
                prop_assert!(r.waiting().is_empty() || r.places_held() == capacity);
            }
        }

        #[test]
        fn installments_sum_to_tuition_less_exemption(tuition in 0i64..1_000_000_000, exemption_share in 0u32..=100, count in 1u32..13) {
            let exemption = tuition * i64::from(exemption_share) / 100;
            let parts = installments(tuition, exemption, count).unwrap();
            prop_assert_eq!(parts.len(), count as usize);
            prop_assert_eq!(parts.iter().sum::<i64>(), tuition - exemption);
            let (max, min) = (parts.iter().max().unwrap(), parts.iter().min().unwrap());
            prop_assert!(max - min <= 1);
        }

        #[test]
        fn refunds_never_exceed_what_was_paid(
            paid in 0i64..100_000_000, refunded in 0i64..100_000_000, held in 0u32..20, total in 0u32..20,
            before in 0u8..=255, after in 0u8..=255, cancelled: bool,
        ) {
            let rule = RefundRule { before_start_percent: before, after_start_percent: after };
            let due = refund_due(&rule, paid, refunded, held, total, cancelled);
            prop_assert!(due >= 0);
            prop_assert!(due + refunded.min(paid) <= paid || due == 0);
        }
    }
}
