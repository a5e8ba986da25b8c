//! The van's villages and routes (A-2, issue 14): the villages a center
//! covers, the fortnightly route plan, the visits as they really happen
//! (moved off closed days, cancelled or moved by staff), and the due dates
//! that follow them.
//!
//! A loan made in a village is due at the village's next real visit, not
//! after N days: the child can only hand the book back when the van comes.
//! So every due date here is computed from the plan, the closed days and
//! the changes staff recorded, and a visit that does not happen moves its
//! due dates to the following one — nobody becomes overdue for it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::DomainError;
use crate::activities::week_start;
use crate::policy::ClosedDays;

/// Longest name (village, district, contact) in characters: a printed
/// list's column, not a paragraph.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest free text (a reason, a school's name) in characters.
pub const MAX_NOTE_CHARS: usize = 500;
/// Longest phone number as typed, with spaces and dashes.
pub const MAX_PHONE_CHARS: usize = 20;
/// How far ahead `next_visit_after` looks: a village with no visit within
/// a year is off the route.
pub const HORIZON_DAYS: i64 = 366;

/// A village a center covers (or has looked at and found not eligible).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Village {
    pub id: Uuid,
    pub name: String,
    /// دهستان / بخش, as staff know it ("" when not given).
    pub district: String,
    /// Eligible under the mobile- or postal-library guideline.
    pub eligible: bool,
    /// Why not, when not eligible (kept if it becomes eligible later: the
    /// history of the decision is worth a line).
    pub ineligible_reason: Option<String>,
    /// From the center, by road.
    pub distance_km: Option<u32>,
    /// The school that often hosts the visit.
    pub school: Option<String>,
    /// The local contact ("" when none).
    pub contact_name: String,
    pub contact_phone: String,
    /// Children living there, when known.
    pub children: Option<u32>,
}

impl Village {
    /// Refuses an empty name and fields too long to print; a landline is
    /// as good as a mobile here, so the phone is only checked for digits.
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.name.trim().is_empty() {
            return Err(DomainError::Invalid("نام روستا را بنویسید.".into()));
        }
        let texts = [
            ("نام روستا", Some(self.name.as_str()), MAX_NAME_CHARS),
            ("نام دهستان", Some(self.district.as_str()), MAX_NAME_CHARS),
            ("نام رابط", Some(self.contact_name.as_str()), MAX_NAME_CHARS),
            ("نام مدرسه", self.school.as_deref(), MAX_NOTE_CHARS),
            ("دلیل", self.ineligible_reason.as_deref(), MAX_NOTE_CHARS),
        ];
        for (label, text, max) in texts {
            check_length(label, text.unwrap_or(""), max)?;
        }
        let phone = self.contact_phone.trim();
        let phone_ok = phone.chars().count() <= MAX_PHONE_CHARS
            && phone.chars().all(|c| c.is_numeric() || matches!(c, ' ' | '-' | '+'));
        if !phone_ok {
            return Err(DomainError::Invalid(format!(
                "شمارهٔ تلفن رابط «{phone}» معتبر نیست؛ فقط رقم بنویسید (حداکثر {} نویسه).",
                crate::text::to_persian_digits(&MAX_PHONE_CHARS.to_string())
            )));
        }
        Ok(())
    }
}

fn check_length(label: &str, text: &str, max: usize) -> Result<(), DomainError> {
    if text.trim().chars().count() > max {
        return Err(DomainError::Invalid(format!(
            "{label} بیش از {} نویسه است؛ آن را کوتاه‌تر بنویسید.",
            crate::text::to_persian_digits(&max.to_string())
        )));
    }
    Ok(())
}

/// When a village is visited: a day of the week and which week of the
/// fortnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Slot {
    /// 0 = Saturday … 5 = Thursday (the Persian week; Friday is closed).
    pub weekday: u8,
    /// 0: the plan's first week, 1: its second.
    pub week: u8,
}

impl Slot {
    pub fn new(weekday: u8, week: u8) -> Result<Self, DomainError> {
        if weekday > 5 {
            return Err(DomainError::Invalid("روز بازدید باید از شنبه تا پنجشنبه باشد.".into()));
        }
        if week > 1 {
            return Err(DomainError::Invalid("هفتهٔ بازدید باید هفتهٔ اول یا دوم باشد.".into()));
        }
        Ok(Self { weekday, week })
    }

    /// Days from the fortnight's first Saturday.
    fn offset(self) -> i64 {
        i64::from(self.week) * 7 + i64::from(self.weekday)
    }
}

/// The van's route: a slot per covered village, every two weeks from the
/// fortnight that starts on `anchor`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RoutePlan {
    /// The Saturday of the plan's week 0 (any other day counts as its
    /// week's Saturday).
    pub anchor: NaiveDate,
    /// One slot per village: a village on the route twice a fortnight would
    /// break "due at the next visit".
    pub slots: BTreeMap<Uuid, Slot>,
}

impl RoutePlan {
    pub fn new(anchor: NaiveDate) -> Self {
        Self { anchor: week_start(anchor), slots: BTreeMap::new() }
    }

    /// Puts `village` on the route, or moves it to another slot.
    pub fn set_slot(&mut self, village: Uuid, slot: Slot) {
        self.slots.insert(village, slot);
    }

    /// Takes `village` off the route.
    pub fn remove(&mut self, village: Uuid) -> Option<Slot> {
        self.slots.remove(&village)
    }

    /// The planned days of `village` in `from..=to`, before closed days
    /// move them.
    pub fn planned(&self, village: Uuid, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        let Some(slot) = self.slots.get(&village) else {
            return Vec::new();
        };
        let Some(first) = add_days(week_start(self.anchor), slot.offset()) else {
            return Vec::new();
        };
        // The first planned day on or after `from`, before or after the anchor.
        let behind = (from - first).num_days();
        let fortnights = behind.div_euclid(14) + i64::from(behind.rem_euclid(14) > 0);
        let mut days = Vec::new();
        let mut day = add_days(first, fortnights * 14);
        while let Some(d) = day.filter(|d| *d <= to) {
            days.push(d);
            day = add_days(d, 14);
        }
        days
    }

    /// The days `village` is visited in `from..=to` by the plan: each
    /// planned day, or the next open day when it is closed (a Friday or a
    /// holiday), so a visit is never on a closed day.
    ///
    /// A closure long enough to push a visit onto (or past) the next
    /// planned one merges the two: the village gets that one visit, not
    /// two on one day or out of order. Loans of the visit before are due
    /// then, 28 days at most after a fortnight's rhythm.
    pub fn scheduled(&self, village: Uuid, closed: &ClosedDays, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        // A visit moves less than 14 days, so its planned day is at most 13 before `from`.
        let Some(start) = add_days(from, -13) else {
            return Vec::new();
        };
        self.planned(village, start, to)
            .into_iter()
            .filter_map(|planned| {
                let day = closed.next_open_day(planned);
                let merged = add_days(planned, 14).is_some_and(|next| day >= next);
                (!merged).then_some(day)
            })
            .filter(|day| (from..=to).contains(day))
            .collect()
    }
}

/// A change staff recorded to one visit of a village.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VisitChange {
    /// The visit of `on` does not happen (breakdown, snow, road closed).
    Cancelled { village: Uuid, on: NaiveDate, reason: String },
    /// The visit of `from` happens on `to` instead.
    Moved { village: Uuid, from: NaiveDate, to: NaiveDate, reason: String },
}

impl VisitChange {
    pub fn village(&self) -> Uuid {
        match self {
            VisitChange::Cancelled { village, .. } | VisitChange::Moved { village, .. } => *village,
        }
    }

    /// The days it names.
    fn days(&self) -> Vec<NaiveDate> {
        match self {
            VisitChange::Cancelled { on, .. } => vec![*on],
            VisitChange::Moved { from, to, .. } => vec![*from, *to],
        }
    }

    /// What staff may record: a reason, and a move onto an open day other
    /// than the visit's own (the plan never goes onto a closed day; neither
    /// does a move).
    pub fn check(&self, closed: &ClosedDays) -> Result<(), DomainError> {
        let (VisitChange::Cancelled { reason, .. } | VisitChange::Moved { reason, .. }) = self;
        if reason.trim().is_empty() {
            return Err(DomainError::Invalid("دلیل تغییر بازدید را بنویسید.".into()));
        }
        check_length("دلیل", reason, MAX_NOTE_CHARS)?;
        if let VisitChange::Moved { from, to, .. } = self {
            if from == to {
                return Err(DomainError::Invalid("روز تازهٔ بازدید با روز پیشین یکی است.".into()));
            }
            if closed.is_closed(*to) {
                return Err(DomainError::Invalid("روز تازهٔ بازدید تعطیل است؛ روز دیگری انتخاب کنید.".into()));
            }
        }
        Ok(())
    }
}

/// The real visits of `village` in `from..=to`: the plan's, with `changes`
/// applied in order (the log's). A change naming a day without a visit
/// changes nothing; a visit moved onto a day that has one is one visit.
/// Changes of other villages are ignored, so the center's whole list can
/// be passed.
pub fn real_visits(
    village: Uuid,
    plan: &RoutePlan,
    closed: &ClosedDays,
    changes: &[VisitChange],
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<NaiveDate> {
    let mine: Vec<&VisitChange> = changes.iter().filter(|c| c.village() == village).collect();
    // A change may bring a visit in from outside the range: plan over every day named too.
    let (lo, hi) = mine.iter().flat_map(|c| c.days()).fold((from, to), |(lo, hi), d| (lo.min(d), hi.max(d)));
    let mut days: BTreeSet<NaiveDate> = plan.scheduled(village, closed, lo, hi).into_iter().collect();
    for change in mine {
        match change {
            VisitChange::Cancelled { on, .. } => {
                days.remove(on);
            }
            VisitChange::Moved { from, to, .. } => {
                if days.remove(from) {
                    days.insert(*to);
                }
            }
        }
    }
    days.range(from..=to).copied().collect()
}

/// The due date of a loan made in `village` on `day`: the village's next
/// real visit after it. None when there is none within `HORIZON_DAYS`
/// (the village is off the route): the store then lends by the center's
/// loan days.
pub fn next_visit_after(
    village: Uuid,
    day: NaiveDate,
    plan: &RoutePlan,
    closed: &ClosedDays,
    changes: &[VisitChange],
) -> Option<NaiveDate> {
    let from = day.succ_opt()?;
    let to = add_days(day, HORIZON_DAYS)?;
    real_visits(village, plan, closed, changes, from, to).first().copied()
}

/// A loan's due date moved by a visit change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DueDateMove {
    pub loan_id: Uuid,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// The new due dates after `change`, for the village's open loans given as
/// (loan id, due date): a loan due on the cancelled visit is due at the
/// next real visit after it; a loan due on a moved visit at the moved one
/// (or the first real visit after, if that too was changed). Other loans
/// are untouched, and so is a loan with no visit left within a year.
/// `changes` may already hold `change`: applying it twice is applying it
/// once.
pub fn due_dates_after_change(
    change: &VisitChange,
    loans: &[(Uuid, NaiveDate)],
    plan: &RoutePlan,
    closed: &ClosedDays,
    changes: &[VisitChange],
) -> Vec<DueDateMove> {
    let mut all = changes.to_vec();
    all.push(change.clone());
    let village = change.village();
    let (changed, new_due) = match change {
        VisitChange::Cancelled { on, .. } => (*on, next_visit_after(village, *on, plan, closed, &all)),
        VisitChange::Moved { from, to, .. } => {
            (*from, to.pred_opt().and_then(|before| next_visit_after(village, before, plan, closed, &all)))
        }
    };
    let Some(new_due) = new_due else {
        return Vec::new();
    };
    loans
        .iter()
        .filter(|(_, due)| *due == changed && new_due != changed)
        .map(|&(loan_id, from)| DueDateMove { loan_id, from, to: new_due })
        .collect()
}

fn add_days(day: NaiveDate, days: i64) -> Option<NaiveDate> {
    day.checked_add_signed(Duration::days(days))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use chrono::{Datelike, Weekday};
    use proptest::prelude::*;

    use super::*;
    use crate::jalali::JalaliDate;

    fn j(y: i32, m: u8, d: u8) -> NaiveDate {
        JalaliDate::new(y, m, d).unwrap().to_gregorian()
    }

    fn village() -> Village {
        Village {
            id: Uuid::now_v7(),
            name: "خنداب".into(),
            district: "مرکزی".into(),
            eligible: true,
            ineligible_reason: None,
            distance_km: Some(42),
            school: Some("دبستان شهید رجایی".into()),
            contact_name: "آقای احمدی".into(),
            contact_phone: "۰۸۶ ۳۳۲۲ ۱۱۰۰".into(),
            children: Some(85),
        }
    }

    /// 1404/01/09 is a Saturday: the plan's week 0.
    fn plan_with(v: Uuid, slot: Slot) -> RoutePlan {
        let mut plan = RoutePlan::new(j(1404, 1, 9));
        plan.set_slot(v, slot);
        plan
    }

    fn cancelled(v: Uuid, on: NaiveDate) -> VisitChange {
        VisitChange::Cancelled { village: v, on, reason: "برف و راه بسته".into() }
    }

    #[test]
    fn a_village_needs_a_name_and_short_fields() {
        assert_eq!(village().validate(), Ok(()));
        assert!(Village { name: "  ".into(), ..village() }.validate().is_err());
        assert!(Village { district: "د".repeat(MAX_NAME_CHARS + 1), ..village() }.validate().is_err());
        assert!(Village { contact_phone: "09xx".into(), ..village() }.validate().is_err());
        let not_eligible =
            Village { eligible: false, ineligible_reason: Some("کمتر از ۲۰ کودک".into()), ..village() };
        assert_eq!(not_eligible.validate(), Ok(()));
    }

    #[test]
    fn slots_are_saturday_to_thursday_of_two_weeks() {
        assert!(Slot::new(5, 1).is_ok());
        assert!(Slot::new(6, 0).is_err(), "Friday");
        assert!(Slot::new(0, 2).is_err());
    }

    #[test]
    fn the_plan_visits_every_other_week_on_its_day_and_before_the_anchor() {
        let v = Uuid::now_v7();
        // Monday of week 1: 1404/01/18, then every 14 days.
        let plan = plan_with(v, Slot::new(2, 1).unwrap());
        let days = plan.planned(v, j(1404, 1, 1), j(1404, 2, 31));
        assert_eq!(days.first(), Some(&j(1404, 1, 4)));
        assert!(days.contains(&j(1404, 1, 18)));
        assert!(days.windows(2).all(|w| (w[1] - w[0]).num_days() == 14));
        assert!(days.iter().all(|d| d.weekday() == Weekday::Mon));
        assert!(plan.planned(Uuid::now_v7(), j(1404, 1, 1), j(1404, 12, 29)).is_empty());
    }

    #[test]
    fn a_visit_on_a_holiday_moves_to_the_next_open_day() {
        let v = Uuid::now_v7();
        let plan = plan_with(v, Slot::new(0, 0).unwrap()); // Saturdays of week 0
        let mut closed = ClosedDays::default();
        // Nowruz: 1404/01/23 is a Saturday visit; say the 23rd and 24th are closed.
        closed.holidays.extend([j(1404, 1, 23), j(1404, 1, 24)]);
        let days = plan.scheduled(v, &closed, j(1404, 1, 9), j(1404, 2, 10));
        assert_eq!(days, vec![j(1404, 1, 9), j(1404, 1, 25), j(1404, 2, 6)]);
    }

    #[test]
    fn a_closure_reaching_the_next_visit_merges_the_two() {
        let v = Uuid::now_v7();
        let plan = plan_with(v, Slot::new(0, 0).unwrap());
        let mut closed = ClosedDays::default();
        // Closed from the visit of 1404/01/23 up to the visit of 02/06, that one included.
        let mut d = j(1404, 1, 23);
        while d <= j(1404, 2, 6) {
            closed.holidays.insert(d);
            d = d.succ_opt().unwrap();
        }
        let days = plan.scheduled(v, &closed, j(1404, 1, 9), j(1404, 2, 25));
        assert_eq!(days, vec![j(1404, 1, 9), j(1404, 2, 7), j(1404, 2, 20)]);
    }

    #[test]
    fn a_loan_is_due_at_the_next_visit_even_when_a_holiday_moved_it() {
        let v = Uuid::now_v7();
        let plan = plan_with(v, Slot::new(0, 0).unwrap());
        let mut closed = ClosedDays::default();
        assert_eq!(next_visit_after(v, j(1404, 1, 9), &plan, &closed, &[]), Some(j(1404, 1, 23)));
        closed.holidays.insert(j(1404, 1, 23));
        assert_eq!(next_visit_after(v, j(1404, 1, 9), &plan, &closed, &[]), Some(j(1404, 1, 24)));
        // Lent on the moved visit itself: due at the one after.
        assert_eq!(next_visit_after(v, j(1404, 1, 24), &plan, &closed, &[]), Some(j(1404, 2, 6)));
        assert_eq!(next_visit_after(Uuid::now_v7(), j(1404, 1, 9), &plan, &closed, &[]), None);
    }

    #[test]
    fn a_cancelled_visit_is_skipped_and_a_moved_one_is_due_where_it_went() {
        let v = Uuid::now_v7();
        let plan = plan_with(v, Slot::new(0, 0).unwrap());
        let closed = ClosedDays::default();
        let other = Uuid::now_v7();
        let changes = vec![cancelled(v, j(1404, 1, 23)), cancelled(other, j(1404, 2, 6))];
        assert_eq!(next_visit_after(v, j(1404, 1, 9), &plan, &closed, &changes), Some(j(1404, 2, 6)));
        let moved =
            VisitChange::Moved { village: v, from: j(1404, 2, 6), to: j(1404, 2, 8), reason: "عروسی".into() };
        assert_eq!(moved.check(&closed), Ok(()));
        let changes = [changes, vec![moved]].concat();
        assert_eq!(next_visit_after(v, j(1404, 1, 9), &plan, &closed, &changes), Some(j(1404, 2, 8)));
        // A change of a day with no visit changes nothing.
        let stray = [cancelled(v, j(1404, 1, 10))];
        assert_eq!(next_visit_after(v, j(1404, 1, 9), &plan, &closed, &stray), Some(j(1404, 1, 23)));
    }

    #[test]
    fn cancelling_a_visit_moves_only_the_loans_due_on_it() {
        let v = Uuid::now_v7();
        let plan = plan_with(v, Slot::new(0, 0).unwrap());
        let mut closed = ClosedDays::default();
        closed.holidays.insert(j(1404, 2, 6));
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let loans = [(a, j(1404, 1, 23)), (b, j(1404, 1, 23)), (c, j(1404, 2, 7))];
        let change = cancelled(v, j(1404, 1, 23));
        let moves = due_dates_after_change(&change, &loans, &plan, &closed, &[]);
        // The next visit is 02/06, a holiday: 02/07.
        let expected: Vec<DueDateMove> =
            [a, b].iter().map(|&loan_id| DueDateMove { loan_id, from: j(1404, 1, 23), to: j(1404, 2, 7) }).collect();
        assert_eq!(moves, expected);
        assert_eq!(due_dates_after_change(&change, &loans, &plan, &closed, std::slice::from_ref(&change)), expected);
        let moved =
            VisitChange::Moved { village: v, from: j(1404, 2, 7), to: j(1404, 2, 9), reason: "خرابی".into() };
        let moves = due_dates_after_change(&moved, &loans, &plan, &closed, &[change]);
        assert_eq!(moves, vec![DueDateMove { loan_id: c, from: j(1404, 2, 7), to: j(1404, 2, 9) }]);
    }

    #[test]
    fn a_change_needs_a_reason_and_an_open_day() {
        let v = Uuid::now_v7();
        let closed = ClosedDays::default();
        let blank = VisitChange::Cancelled { village: v, on: j(1404, 1, 9), reason: " ".into() };
        assert!(blank.check(&closed).is_err());
        // 1404/01/15 is a Friday.
        let onto_friday =
            VisitChange::Moved { village: v, from: j(1404, 1, 9), to: j(1404, 1, 15), reason: "x".into() };
        assert!(onto_friday.check(&closed).is_err());
    }

    /// The first and last days of 1404.
    fn year_1404() -> (NaiveDate, NaiveDate) {
        (j(1404, 1, 1), j(1404, 12, 29))
    }

    fn arb_closed() -> impl Strategy<Value = ClosedDays> {
        // Single holidays and runs of up to 20 days (Nowruz, a closure).
        prop::collection::vec((0i64..365, 1i64..21), 0..12).prop_map(|runs| {
            let mut closed = ClosedDays::default();
            let start = year_1404().0;
            for (at, len) in runs {
                for d in at..at + len {
                    closed.holidays.insert(start + Duration::days(d));
                }
            }
            closed
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::proptest_cases()))]

        /// Over the whole year 1404, for any slot, anchor and holidays:
        /// never a visit on a closed day; every planned day's visit there
        /// once (none missing, none doubled); 14 days apart wherever no
        /// closed day moved one.
        #[test]
        fn the_route_keeps_its_fortnight_over_a_jalali_year(
            weekday in 0u8..6, week in 0u8..2, anchor_weeks in -60i64..60, closed in arb_closed(),
        ) {
            let (first, last) = year_1404();
            let v = Uuid::now_v7();
            let mut plan = RoutePlan::new(j(1404, 1, 2) + Duration::weeks(anchor_weeks));
            plan.set_slot(v, Slot::new(weekday, week).unwrap());
            let visits = plan.scheduled(v, &closed, first, last);

            prop_assert!(visits.windows(2).all(|w| w[0] < w[1]), "in order, none doubled");
            for &day in &visits {
                prop_assert!(!closed.is_closed(day));
                prop_assert!((first..=last).contains(&day));
            }
            // Every planned day (from 13 days before the year, which may move into it) is visited
            // on its next open day, unless that is past the year.
            let planned = plan.planned(v, first - Duration::days(13), last);
            let expected: BTreeSet<NaiveDate> =
                planned.iter().map(|p| closed.next_open_day(*p)).filter(|d| (first..=last).contains(d)).collect();
            prop_assert_eq!(visits.iter().copied().collect::<BTreeSet<_>>(), expected);
            for w in visits.windows(2) {
                let moved = planned.iter().any(|p| *p > w[0] - Duration::days(14) && *p <= w[1] && closed.is_closed(*p));
                if !moved {
                    prop_assert_eq!((w[1] - w[0]).num_days(), 14);
                }
            }
            if closed.holidays.is_empty() {
                // 365 days hold 26 or 27 fortnightly days.
                prop_assert!(visits.len() == 26 || visits.len() == 27);
            }
        }

        /// A loan made on a real visit is due at the next real visit, with
        /// cancellations skipped: after the lending day, on an open day,
        /// never on a cancelled one.
        #[test]
        fn a_loan_is_due_at_the_next_real_visit(
            weekday in 0u8..6, week in 0u8..2, closed in arb_closed(), cancel in prop::collection::vec(0usize..26, 0..6),
        ) {
            let (first, last) = year_1404();
            let v = Uuid::now_v7();
            let plan = plan_with(v, Slot::new(weekday, week).unwrap());
            let visits = plan.scheduled(v, &closed, first, last);
            let changes: Vec<VisitChange> = cancel.iter().filter_map(|i| visits.get(*i)).map(|d| cancelled(v, *d)).collect();
            let real = real_visits(v, &plan, &closed, &changes, first, last);
            for pair in real.windows(2) {
                prop_assert_eq!(next_visit_after(v, pair[0], &plan, &closed, &changes), Some(pair[1]));
            }
            for change in &changes {
                let VisitChange::Cancelled { on, .. } = change else { continue };
                prop_assert!(!real.contains(on));
                let loan = (Uuid::now_v7(), *on);
                let moves = due_dates_after_change(change, &[loan], &plan, &closed, &changes);
                let next = next_visit_after(v, *on, &plan, &closed, &changes);
                prop_assert_eq!(moves.first().map(|m| m.to), next);
                prop_assert!(moves.iter().all(|m| m.to > *on && !closed.is_closed(m.to)));
            }
        }
    }
}
