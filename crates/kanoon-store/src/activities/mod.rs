//! The weekly activity program (service C): the center's activity kinds,
//! sessions planned week by week (copied, moved, cancelled with a reason),
//! attendance scanned card after card or ticked on a list, a member's
//! activity history and an instructor's month. The rules are the domain's
//! (`kanoon_domain::activities`); sessions are records, attendance is
//! append-only events, both through the outbox.

mod attendance;
mod program;

use chrono::{NaiveDate, NaiveTime};
use kanoon_domain::activities::SessionStatus;
use kanoon_domain::jalali::JalaliDate;
use kanoon_domain::text;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::rows::activity::SessionRecord;

/// An activity kind as the planner picks it: the province's or the
/// center's own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ActivityKindView {
    pub code: String,
    pub name: String,
    /// The center's own record (None: the province's list).
    pub id: Option<Uuid>,
    pub retired: bool,
}

/// What the planner types for a session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionInput {
    pub kind: String,
    pub title: String,
    pub age_group: String,
    pub on: NaiveDate,
    /// "HH:MM" (digits of any script).
    pub at: String,
    pub minutes: u16,
    pub room: String,
    pub instructor_id: Uuid,
    pub capacity: u16,
}

/// Where a session stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    Planned,
    Moved,
    Cancelled,
}

/// A session as the week's program shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionView {
    pub id: Uuid,
    pub kind: String,
    pub kind_name: String,
    pub title: String,
    pub age_group: String,
    /// The planned day and time.
    pub on: NaiveDate,
    pub at: String,
    /// When it takes place (the planned slot, or where it was moved; None
    /// when cancelled).
    pub held_on: Option<NaiveDate>,
    pub held_on_jalali: Option<String>,
    pub held_weekday: Option<String>,
    pub held_at: Option<String>,
    pub minutes: u16,
    pub room: String,
    pub instructor_id: Uuid,
    pub instructor_name: String,
    pub capacity: u16,
    pub state: SessionState,
    /// Why it was moved or cancelled.
    pub reason: Option<String>,
    /// Each card once, voids left out.
    pub attendance: u32,
}

/// A week of the program, Saturday to Friday.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WeekProgram {
    pub week_start: NaiveDate,
    /// "۱۵ آذر ۱۴۰۵ تا ۲۱ آذر ۱۴۰۵".
    pub title_jalali: String,
    /// By the day and time they take place, cancelled ones at their
    /// planned slot.
    pub sessions: Vec<SessionView>,
}

/// The member a scanned card belongs to, as attendance shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Attendee {
    pub member_id: Uuid,
    pub member_number: String,
    pub full_name: String,
    pub age_group: Option<String>,
}

/// A warning shown beside a recorded attendance (never a refusal).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AttendanceWarning {
    /// `not_a_member`, `other_age_group`, `already_in`.
    pub code: String,
    pub message: String,
}

/// What a scan or a tick recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AttendanceScan {
    /// None when the card was already in (nothing new recorded).
    pub attendance_id: Option<Uuid>,
    pub card: String,
    pub attendee: Option<Attendee>,
    pub warnings: Vec<AttendanceWarning>,
    /// The session's attendance after it.
    pub count: u32,
}

/// One attendance of a session's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AttendanceRow {
    pub attendance_id: Uuid,
    pub card: String,
    pub attendee: Option<Attendee>,
    /// Tehran time it was recorded, "۱۴۰۵/۰۹/۱۶ ۱۰:۰۵".
    pub recorded_jalali: String,
    /// Entered after the session's day, by `staff_name`.
    pub late: bool,
    pub staff_name: Option<String>,
}

/// A session a member attended, for the member file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MemberActivity {
    pub session_id: Uuid,
    pub title: String,
    pub kind_name: String,
    pub held_on_jalali: String,
    pub instructor_name: String,
}

/// Sessions and attendance of one kind in an instructor's month.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct KindTotal {
    pub kind_name: String,
    pub sessions: u32,
    pub attendance: u32,
}

/// An instructor's own report for a Jalali month.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InstructorMonth {
    pub instructor_id: Uuid,
    pub instructor_name: String,
    /// "آذر ۱۴۰۵".
    pub month_name: String,
    pub held: u32,
    pub cancelled: u32,
    pub attendance: u32,
    pub by_kind: Vec<KindTotal>,
    /// Held sessions in order, with their attendance.
    pub sessions: Vec<SessionView>,
}

/// "HH:MM" from what was typed (Persian or Latin digits, "9:5" too).
pub(crate) fn parse_clock(input: &str) -> Result<NaiveTime> {
    let ascii = text::to_ascii_digits(input.trim());
    let bad = || StoreError::InvalidInput(format!("ساعت «{}» درست نیست؛ مانند ۱۶:۳۰ بنویسید.", input.trim()));
    let (h, m) = ascii.split_once(':').ok_or_else(bad)?;
    let (h, m) = (h.parse::<u32>().map_err(|_| bad())?, m.parse::<u32>().map_err(|_| bad())?);
    NaiveTime::from_hms_opt(h, m, 0).ok_or_else(bad)
}

pub(crate) fn clock_text(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

fn jalali(d: NaiveDate) -> JalaliDate {
    JalaliDate::from_gregorian(d)
}

/// The state and reason of a session's status.
fn state_of(record: &SessionRecord) -> (SessionState, Option<String>) {
    match &record.status {
        SessionStatus::Planned => (SessionState::Planned, None),
        SessionStatus::Moved { reason, .. } => (SessionState::Moved, Some(reason.clone())),
        SessionStatus::Cancelled { reason } => (SessionState::Cancelled, Some(reason.clone())),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_clock_is_read_in_either_script() {
        assert_eq!(parse_clock("۱۶:۳۰").unwrap(), NaiveTime::from_hms_opt(16, 30, 0).unwrap());
        assert_eq!(parse_clock(" 9:05 ").unwrap(), NaiveTime::from_hms_opt(9, 5, 0).unwrap());
        assert!(parse_clock("25:00").is_err());
        assert!(parse_clock("ده").is_err());
    }
}
