//! Circulation policy as data: a default rule that always exists, optional
//! rules per center kind, and the calendar of closed days.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::entities::CenterKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum OverdueHandling {
    /// Lend anyway, after the instructor has seen the warning.
    Warn,
    /// Refuse until the overdue books are back (overridable if allowed).
    Block,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LoanRule {
    pub max_open_loans: u32,
    pub loan_days: u32,
    pub max_renewals: u32,
    pub overdue: OverdueHandling,
    /// Whether a manager may lend despite a refusal that can be overridden
    /// (expired membership, limit reached, overdue block). Always recorded.
    pub allow_override: bool,
}

impl Default for LoanRule {
    /// The seed's rule: 1 or 2 books for 7 days.
    fn default() -> Self {
        Self { max_open_loans: 2, loan_days: 7, max_renewals: 1, overdue: OverdueHandling::Warn, allow_override: true }
    }
}

/// The center's whole circulation policy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Policy {
    /// Always present; used when no more specific rule matches.
    pub default_rule: LoanRule,
    /// Rules for a kind of center (e.g. the van lends until its next visit).
    pub by_center_kind: BTreeMap<String, LoanRule>,
    pub closed: ClosedDays,
}

impl Policy {
    /// The shipped policy: the default rule, 14 days for mobile centers
    /// (a village is visited every two weeks), Fridays closed.
    pub fn shipped() -> Self {
        let mut by_center_kind = BTreeMap::new();
        by_center_kind
            .insert(CenterKind::Mobile.as_str().to_owned(), LoanRule { loan_days: 14, ..LoanRule::default() });
        by_center_kind
            .insert(CenterKind::Postal.as_str().to_owned(), LoanRule { loan_days: 21, ..LoanRule::default() });
        Self { default_rule: LoanRule::default(), by_center_kind, closed: ClosedDays::default() }
    }

    pub fn rule_for(&self, kind: CenterKind) -> &LoanRule {
        self.by_center_kind.get(kind.as_str()).unwrap_or(&self.default_rule)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ClosedDays {
    /// Closed every week (Friday).
    pub weekly: Vec<Weekday>,
    /// Holidays by date; lunar holidays move, so each year has its own list.
    pub holidays: BTreeSet<NaiveDate>,
}

impl Default for ClosedDays {
    fn default() -> Self {
        Self { weekly: vec![Weekday::Fri], holidays: BTreeSet::new() }
    }
}

impl ClosedDays {
    pub fn is_closed(&self, d: NaiveDate) -> bool {
        self.weekly.contains(&d.weekday()) || self.holidays.contains(&d)
    }

    /// `d` itself if open, else the next open day. A calendar closed for a
    /// whole year is a configuration error; the date is then returned as is.
    pub fn next_open_day(&self, d: NaiveDate) -> NaiveDate {
        let mut day = d;
        for _ in 0..366 {
            if !self.is_closed(day) {
                return day;
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => return d,
            }
        }
        d
    }

    /// Due date of a loan made on `lent_on` for `days` days.
    pub fn due_date(&self, lent_on: NaiveDate, days: u32) -> NaiveDate {
        let raw = lent_on.checked_add_days(Days::new(u64::from(days))).unwrap_or(lent_on);
        self.next_open_day(raw)
    }
}

/// Whole days a return on `returned_on` is late for `due`.
pub fn days_late(due: NaiveDate, returned_on: NaiveDate) -> u32 {
    u32::try_from((returned_on - due).num_days()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_due_date_on_friday_moves_to_saturday() {
        let c = ClosedDays::default();
        // 2025-03-21 is a Friday (1 Farvardin 1404).
        assert_eq!(c.due_date(d(2025, 3, 14), 7), d(2025, 3, 22));
        assert_eq!(c.due_date(d(2025, 3, 15), 7), d(2025, 3, 22));
    }

    #[test]
    fn holidays_chain_with_fridays() {
        let mut c = ClosedDays::default();
        c.holidays.insert(d(2025, 3, 22));
        c.holidays.insert(d(2025, 3, 23));
        assert_eq!(c.due_date(d(2025, 3, 14), 7), d(2025, 3, 24));
    }

    #[test]
    fn a_calendar_closed_every_day_does_not_hang() {
        let c = ClosedDays {
            weekly: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
                Weekday::Sat,
                Weekday::Sun,
            ],
            holidays: BTreeSet::new(),
        };
        assert_eq!(c.next_open_day(d(2025, 1, 1)), d(2025, 1, 1));
    }

    #[test]
    fn lateness_is_zero_on_or_before_the_due_date() {
        assert_eq!(days_late(d(2025, 3, 22), d(2025, 3, 22)), 0);
        assert_eq!(days_late(d(2025, 3, 22), d(2025, 3, 20)), 0);
        assert_eq!(days_late(d(2025, 3, 22), d(2025, 3, 25)), 3);
    }

    #[test]
    fn mobile_centers_lend_for_two_weeks_and_others_fall_back_to_the_default() {
        let p = Policy::shipped();
        assert_eq!(p.rule_for(CenterKind::Mobile).loan_days, 14);
        assert_eq!(p.rule_for(CenterKind::Fixed), &LoanRule::default());
    }
}
