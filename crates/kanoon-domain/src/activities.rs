//! The weekly activity program (service C): activity kinds as data, a
//! week's sessions, copying last week's plan, moving or cancelling a session
//! with its reason, and attendance scanned card after card (issue 13: the
//! store, sync and window build on these).
//!
//! Weeks are Iranian weeks, Saturday to Friday (`week_start`). Attendance
//! never blocks: a card of a non-member or of another age group is let in
//! with a warning the instructor sees (`check_attendee`), and a card scanned
//! twice counts once (`attendance_count`).

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A kind of activity: the province's list, which a center may extend.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityKind {
    /// Stable code (the province's, or the center's own).
    pub code: String,
    /// As staff see and print it.
    pub name: String,
}

/// The province's list as shipped.
pub fn default_activity_kinds() -> Vec<ActivityKind> {
    [
        ("storytelling", "قصه‌گویی"),
        ("reading_circle", "حلقهٔ کتاب‌خوانی"),
        ("painting", "نقاشی"),
        ("crafts", "کاردستی"),
        ("theatre", "نمایش"),
        ("music", "موسیقی"),
        ("science", "علمی"),
        ("film", "فیلم"),
    ]
    .into_iter()
    .map(|(code, name)| ActivityKind { code: code.to_owned(), name: name.to_owned() })
    .collect()
}

/// The Saturday that starts the Iranian week of `day`.
pub fn week_start(day: NaiveDate) -> NaiveDate {
    let since_saturday = (day.weekday().num_days_from_monday() + 2) % 7;
    day - Duration::days(i64::from(since_saturday))
}

/// What happened to a planned session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SessionStatus {
    Planned,
    Moved { on: NaiveDate, at: NaiveTime, reason: String },
    Cancelled { reason: String },
}

/// One session of the week's program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: Uuid,
    pub kind: String,
    pub title: String,
    /// The age group it is for (a code of `age_group`).
    pub age_group: String,
    /// The planned day and time (a day of its week).
    pub on: NaiveDate,
    pub at: NaiveTime,
    pub minutes: u16,
    pub room: String,
    pub instructor_id: Uuid,
    pub capacity: u16,
    pub status: SessionStatus,
}

impl Session {
    /// When it takes place: the planned slot, or where it was moved; None
    /// when cancelled.
    pub fn held_at(&self) -> Option<(NaiveDate, NaiveTime)> {
        match &self.status {
            SessionStatus::Planned => Some((self.on, self.at)),
            SessionStatus::Moved { on, at, .. } => Some((*on, *at)),
            SessionStatus::Cancelled { .. } => None,
        }
    }
}

/// Last week's plan as this week's: every session of the week starting
/// `from` (its planned slot, even if it was moved or cancelled then: that
/// was that week's matter) on the same weekday of the week starting `to`,
/// planned, with a new id from `new_id`. Sessions outside the week are
/// left out.
pub fn copy_week(
    sessions: &[Session],
    from: NaiveDate,
    to: NaiveDate,
    mut new_id: impl FnMut() -> Uuid,
) -> Vec<Session> {
    let (from, to) = (week_start(from), week_start(to));
    let shift = to - from;
    sessions
        .iter()
        .filter(|s| week_start(s.on) == from)
        .map(|s| Session { id: new_id(), on: s.on + shift, status: SessionStatus::Planned, ..s.clone() })
        .collect()
}

/// What the instructor is told when a card is scanned into a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttendeeWarning {
    /// The card is no member of this center: let in, counted as a visitor.
    NotAMember,
    /// The member's age group is not the session's.
    OtherAgeGroup,
    /// Already scanned into this session: counted once.
    AlreadyIn,
}

impl AttendeeWarning {
    pub fn message(self) -> &'static str {
        match self {
            AttendeeWarning::NotAMember => "این کارت عضو این مرکز نیست؛ به‌عنوان مهمان ثبت شد.",
            AttendeeWarning::OtherAgeGroup => "گروه سنی این عضو با گروه این برنامه فرق دارد؛ حضورش ثبت شد.",
            AttendeeWarning::AlreadyIn => "این عضو پیش‌تر در همین برنامه ثبت شده است.",
        }
    }
}

/// Checks a scanned attendee: the warnings to show, never a refusal.
/// `member_age_group` is None for a card that is no member.
pub fn check_attendee(session: &Session, member_age_group: Option<&str>, already_in: bool) -> Vec<AttendeeWarning> {
    let mut warnings = Vec::new();
    match member_age_group {
        None => warnings.push(AttendeeWarning::NotAMember),
        Some(group) if group != session.age_group => warnings.push(AttendeeWarning::OtherAgeGroup),
        Some(_) => {}
    }
    if already_in {
        warnings.push(AttendeeWarning::AlreadyIn);
    }
    warnings
}

/// Attendance of a session from its scans (card numbers as read): each
/// card once, whatever the repeats or the order.
pub fn attendance_count<'a>(scans: impl IntoIterator<Item = &'a str>) -> usize {
    scans.into_iter().collect::<BTreeSet<_>>().len()
}

/// Whether `day` is a weekday the center's week has (Friday is closed).
pub fn is_working_day(day: NaiveDate) -> bool {
    day.weekday() != Weekday::Fri
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use proptest::prelude::*;

    use super::*;

    fn session(on: NaiveDate) -> Session {
        Session {
            id: Uuid::now_v7(),
            kind: "storytelling".into(),
            title: "قصه‌های شب".into(),
            age_group: "ب".into(),
            on,
            at: NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
            minutes: 60,
            room: "کتابخانه".into(),
            instructor_id: Uuid::now_v7(),
            capacity: 20,
            status: SessionStatus::Planned,
        }
    }

    #[test]
    fn weeks_start_on_saturday() {
        // 2026-12-05 is a Saturday.
        let saturday = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        assert_eq!(saturday.weekday(), Weekday::Sat);
        for d in 0..7 {
            assert_eq!(week_start(saturday + Duration::days(d)), saturday);
        }
        assert_eq!(week_start(saturday - Duration::days(1)), saturday - Duration::days(7));
    }

    #[test]
    fn copying_a_week_plans_every_session_again_a_week_on() {
        let saturday = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        let mut week =
            vec![session(saturday), session(saturday + Duration::days(3)), session(saturday + Duration::days(8))];
        week[1].status = SessionStatus::Cancelled { reason: "برق رفت".into() };
        let next = copy_week(&week, saturday, saturday + Duration::days(7), Uuid::now_v7);
        assert_eq!(next.len(), 2, "the session of the following week is not copied");
        assert_eq!(next[0].on, saturday + Duration::days(7));
        assert_eq!(next[1].on, saturday + Duration::days(10));
        assert!(next.iter().all(|s| s.status == SessionStatus::Planned));
        assert!(next.iter().all(|s| week.iter().all(|w| w.id != s.id)));
    }

    #[test]
    fn a_scan_warns_but_never_refuses() {
        let s = session(NaiveDate::from_ymd_opt(2026, 12, 5).unwrap());
        assert_eq!(check_attendee(&s, Some("ب"), false), vec![]);
        assert_eq!(check_attendee(&s, Some("ج"), false), vec![AttendeeWarning::OtherAgeGroup]);
        assert_eq!(check_attendee(&s, None, true), vec![AttendeeWarning::NotAMember, AttendeeWarning::AlreadyIn]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::proptest_cases()))]

        #[test]
        fn attendance_counts_each_card_once(cards in prop::collection::vec(0u8..30, 0..80)) {
            let scans: Vec<String> = cards.iter().map(|c| format!("1404{c:03}")).collect();
            let distinct: BTreeSet<u8> = cards.iter().copied().collect();
            prop_assert_eq!(attendance_count(scans.iter().map(String::as_str)), distinct.len());
        }

        #[test]
        fn a_copied_week_keeps_weekday_and_time(offset in 0i64..7, weeks in 1i64..60) {
            let saturday = NaiveDate::from_ymd_opt(2026, 3, 21).unwrap();
            let from = week_start(saturday);
            let s = session(from + Duration::days(offset));
            let to = from + Duration::weeks(weeks);
            let copied = copy_week(std::slice::from_ref(&s), from, to, Uuid::now_v7);
            prop_assert_eq!(copied.len(), 1);
            prop_assert_eq!(copied[0].on.weekday(), s.on.weekday());
            prop_assert_eq!(copied[0].at, s.at);
            prop_assert_eq!(week_start(copied[0].on), to);
        }
    }
}
