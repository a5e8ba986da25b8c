//! Lending and returning by registration number (service B), renewals,
//! voids, and the lists the desk shows (open loans, history, overdue,
//! today's circulation).

mod derive;
mod desk;
mod reads;

pub(crate) use crate::rows::event::insert_event;
use derive::*;
pub(crate) use derive::{record_loan, rederive, refold_copy};

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Asia::Tehran;
use kanoon_domain::age_group::{self, AgeGroup};
use kanoon_domain::circulation::{
    Anomaly, CopyStanding, Event, EventRecord, IssueCode, LoanIssue, MemberStanding, Override, Severity, check_loan,
    fold, may_lend,
};
use kanoon_domain::entities::{Permission, WithdrawReason, normalize_registration_number};
use kanoon_domain::jalali::JalaliDate;
use kanoon_domain::policy::days_late;
use kanoon_domain::text;
use kanoon_protocol::Hlc;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::desk::{Desk, Write};
use crate::error::{Result, StoreError};
use crate::members::{MemberSummary, MemberView};
use crate::sql::{
    date_column, optional_date_column, optional_uuid_column, parse_date, parse_time, parse_uuid, uuid_column,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CheckOutRequest {
    pub member_id: Uuid,
    /// As scanned or typed, in order.
    pub registration_numbers: Vec<String>,
    /// The instructor has seen the warnings and lends anyway.
    pub confirm_warnings: bool,
    /// Lend despite refusals that policy lets a manager override; recorded.
    pub override_reason: Option<String>,
    /// Lent on this open van visit: due at the village's next visit.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub visit_id: Option<Uuid>,
}

impl CheckOutRequest {
    /// These books for this member: warnings not yet seen, no override.
    pub fn new(member_id: Uuid, registration_numbers: impl IntoIterator<Item = impl Into<String>>) -> Self {
        CheckOutRequest {
            member_id,
            registration_numbers: registration_numbers.into_iter().map(Into::into).collect(),
            confirm_warnings: false,
            override_reason: None,
            visit_id: None,
        }
    }

    /// The instructor has seen the warnings.
    pub fn confirmed(self) -> Self {
        CheckOutRequest { confirm_warnings: true, ..self }
    }

    /// A manager lends despite refusals, for this reason.
    pub fn overriding(self, reason: &str) -> Self {
        CheckOutRequest { override_reason: Some(reason.to_owned()), ..self }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum BookStatus {
    /// Recorded; `due_on` is set.
    Lent,
    /// Would be lent (preview only).
    Ready,
    /// Warnings to confirm or refusals a manager may override.
    NeedsConfirmation,
    /// Cannot be lent; the issues say why and what to do.
    Refused,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BookOutcome {
    pub registration_number: String,
    pub title: Option<String>,
    pub status: BookStatus,
    pub issues: Vec<LoanIssue>,
    pub loan_id: Option<Uuid>,
    pub due_on: Option<NaiveDate>,
    pub due_on_jalali: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CheckOutResult {
    pub books: Vec<BookOutcome>,
}

impl CheckOutResult {
    pub fn lent(&self) -> usize {
        self.books.iter().filter(|b| b.status == BookStatus::Lent).count()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CheckInResult {
    pub loan_id: Uuid,
    pub registration_number: String,
    pub title: String,
    pub member: MemberSummary,
    pub lent_on_jalali: String,
    pub due_on_jalali: String,
    pub days_late: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LoanView {
    pub loan_id: Uuid,
    pub copy_id: Uuid,
    pub registration_number: String,
    pub title: String,
    pub lent_on: NaiveDate,
    pub lent_on_jalali: String,
    pub due_on: NaiveDate,
    pub due_on_jalali: String,
    pub renewals: u32,
    pub days_overdue: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LoanHistoryRow {
    pub loan_id: Uuid,
    pub registration_number: String,
    pub title: String,
    pub lent_on_jalali: String,
    pub due_on_jalali: String,
    pub returned_on_jalali: Option<String>,
    /// The return event, to void a return recorded by mistake.
    pub return_id: Option<Uuid>,
    pub voided: bool,
    pub overridden: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OverdueRow {
    pub loan_id: Uuid,
    pub member_id: Uuid,
    pub member_number: String,
    pub member_name: String,
    pub guardian_phone: Option<String>,
    pub registration_number: String,
    pub title: String,
    pub due_on_jalali: String,
    pub days_overdue: u32,
    /// The latest call to this member's family about overdue books.
    pub last_call: Option<ReminderCallView>,
}

/// A recorded call about overdue books.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReminderCallView {
    pub called_on_jalali: String,
    pub note: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TodaySummary {
    pub date_jalali: String,
    pub loans: u32,
    pub returns: u32,
    pub renewals: u32,
    pub new_members: u32,
    pub overdue: u32,
}

fn jalali(d: NaiveDate) -> String {
    JalaliDate::from_gregorian(d).to_string()
}

/// What is known about a copy for the loan check.
struct CopyFacts {
    id: Option<Uuid>,
    title: Option<String>,
    standing: CopyStanding,
}

fn copy_facts(
    conn: &Connection,
    center: Uuid,
    member_id: Uuid,
    number: &str,
    groups: &[AgeGroup],
) -> Result<CopyFacts> {
    // An active copy of this center first; else whatever had the number.
    let row = conn
        .prepare_cached(
            "SELECT c.id, t.title, t.age_group, c.withdrawn, c.center_id = ?2,
                    (SELECT o.member_id FROM open_loans o WHERE o.copy_id = c.id LIMIT 1),
                    (SELECT m.first_name || ' ' || m.last_name FROM open_loans o JOIN members m ON m.id = o.member_id
                       WHERE o.copy_id = c.id LIMIT 1)
             FROM copies c JOIN titles t ON t.id = c.title_id
             WHERE c.registration_number = ?1
             ORDER BY c.center_id = ?2 DESC, c.withdrawn IS NULL DESC, c.created_at DESC LIMIT 1",
        )?
        .query_row(params![number, center.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, bool>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })
        .optional()?;
    let Some((id, title, group, withdrawn, here, borrower_id, borrower)) = row else {
        return Ok(CopyFacts { id: None, title: None, standing: CopyStanding::Unknown });
    };
    let standing = if let Some(reason) = withdrawn.as_deref().and_then(WithdrawReason::parse) {
        CopyStanding::Withdrawn(reason)
    } else if let Some(b) = borrower_id {
        CopyStanding::OnLoan { to_this_member: b == member_id.to_string(), borrower: borrower.unwrap_or_default() }
    } else if !here {
        CopyStanding::AtAnotherCenter
    } else {
        CopyStanding::Available { age_group: group.and_then(|g| groups.iter().find(|x| x.code == g).cloned()) }
    };
    Ok(CopyFacts { id: Some(parse_uuid(&id)?), title: Some(title), standing })
}

fn member_standing(
    conn: &Connection,
    member: &MemberView,
    today: NaiveDate,
    groups: &[AgeGroup],
) -> Result<MemberStanding> {
    let (open, overdue): (u32, u32) = conn
        .prepare_cached("SELECT count(*), coalesce(sum(due_on < ?2), 0) FROM open_loans WHERE member_id = ?1")?
        .query_row(params![member.id.to_string(), today.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))?;
    // An age group chosen by staff stands for the reader's age.
    let reader_age = match &member.details.age_group_override {
        Some(code) => groups.iter().find(|g| &g.code == code).map(|g| u32::from(g.min_age)),
        None => age_group::reader_age(
            member.details.birth_date.map(|b| b.to_gregorian()),
            member.details.school_grade,
            today,
        ),
    };
    Ok(MemberStanding {
        membership_ends: member.membership.ends_on,
        open_loans: open,
        in_this_loan: 0,
        overdue_loans: overdue,
        reader_age,
    })
}
