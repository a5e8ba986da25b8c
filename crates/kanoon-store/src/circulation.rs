//! Lending and returning by registration number (service B), renewals,
//! voids, and the lists the desk shows (open loans, history, overdue,
//! today's circulation).

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
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

use crate::desk::{Desk, Write, parse_date, parse_uuid};
use crate::error::{Result, StoreError};
use crate::members::{MemberSummary, MemberView};

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
        overdue_loans: overdue,
        reader_age,
    })
}

/// Reads `id, hlc, device_id, at, data` rows into event records.
fn read_events(stmt: &mut rusqlite::CachedStatement<'_>, args: impl rusqlite::Params) -> Result<Vec<EventRecord>> {
    let rows = stmt.query_map(args, |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
        ))
    })?;
    rows.map(|row| {
        let (id, hlc, device, at, data) = row?;
        Ok(EventRecord {
            id: parse_uuid(&id)?,
            hlc: Hlc::parse_sortable(&hlc).ok_or_else(|| StoreError::Corrupt(format!("ساعت رویداد «{hlc}»")))?,
            device_id: parse_uuid(&device)?,
            at: DateTime::parse_from_rfc3339(&at)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| StoreError::Corrupt(format!("زمان رویداد «{at}»")))?,
            event: serde_json::from_str(&data)?,
        })
    })
    .collect()
}

/// Re-derives the state an event touches (a copy's loans and location, a
/// member's membership periods) from the log; a void re-derives what its
/// target touched. Returns what the fold found wrong in the real world.
pub(crate) fn rederive(tx: &Connection, event: &Event) -> Result<Rederived> {
    match event {
        Event::Loan { copy_id, .. } | Event::Return { copy_id, .. } | Event::Transfer { copy_id, .. } => {
            Ok(Rederived { copy: Some(*copy_id), anomalies: refold_copy(tx, *copy_id)? })
        }
        Event::Renewal { loan_id, .. } => {
            let copy: Option<String> = tx
                .query_row("SELECT copy_id FROM events WHERE id = ?1", [loan_id.to_string()], |r| r.get(0))
                .optional()?
                .flatten();
            match copy {
                Some(copy) => {
                    let copy = parse_uuid(&copy)?;
                    Ok(Rederived { copy: Some(copy), anomalies: refold_copy(tx, copy)? })
                }
                None => Ok(Rederived::default()),
            }
        }
        Event::Membership { member_id, .. } => {
            tx.execute("DELETE FROM memberships WHERE member_id = ?1", [member_id.to_string()])?;
            tx.execute(
                "INSERT INTO memberships (period_id, member_id, starts_on, ends_on)
                 SELECT id, member_id, json_extract(data, '$.starts_on'), json_extract(data, '$.ends_on') FROM events
                 WHERE kind = 'membership' AND member_id = ?1
                   AND NOT EXISTS (SELECT 1 FROM voided v WHERE v.event_id = events.id)",
                [member_id.to_string()],
            )?;
            Ok(Rederived::default())
        }
        Event::Void { target, .. } => {
            let data: Option<String> =
                tx.query_row("SELECT data FROM events WHERE id = ?1", [target.to_string()], |r| r.get(0)).optional()?;
            match data {
                Some(data) => rederive(tx, &serde_json::from_str(&data)?),
                None => Ok(Rederived::default()),
            }
        }
    }
}

/// What re-deriving after an event found: the copy it re-folded, if any,
/// and what the fold of that copy's whole log finds wrong.
#[derive(Default)]
pub(crate) struct Rederived {
    pub copy: Option<Uuid>,
    pub anomalies: Vec<Anomaly>,
}

/// Re-derives the open loans of one copy from its events with the domain
/// fold (after a void, or a late event from sync).
pub(crate) fn refold_copy(tx: &Connection, copy_id: Uuid) -> Result<Vec<Anomaly>> {
    let mut stmt = tx.prepare_cached(
        "SELECT id, hlc, device_id, at, data FROM events
         WHERE copy_id = ?1
            OR loan_id IN (SELECT id FROM events WHERE copy_id = ?1)
            OR loan_id IN (SELECT id FROM events WHERE loan_id IN (SELECT id FROM events WHERE copy_id = ?1))",
    )?;
    let events = read_events(&mut stmt, [copy_id.to_string()])?;
    let state = fold(&events);
    tx.execute("DELETE FROM open_loans WHERE copy_id = ?1", [copy_id.to_string()])?;
    for l in state.open_loans_of_copy(copy_id) {
        tx.execute(
            "INSERT INTO open_loans (loan_id, copy_id, member_id, lent_on, due_on, renewals) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                l.loan_id.to_string(),
                l.copy_id.to_string(),
                l.member_id.to_string(),
                l.lent_on.to_string(),
                l.due_on.to_string(),
                l.renewals
            ],
        )?;
    }
    // Where the copy is: its last standing transfer; with none standing,
    // where the first transfer took it from.
    let first_from = events
        .iter()
        .filter_map(|e| match e.event {
            Event::Transfer { from_center, .. } => Some((e.hlc, from_center)),
            _ => None,
        })
        .min()
        .map(|(_, from)| from);
    if let Some(center) = state.copy_center.get(&copy_id).copied().or(first_from) {
        tx.execute("UPDATE copies SET center_id = ?2 WHERE id = ?1", params![copy_id.to_string(), center.to_string()])?;
    }
    Ok(state.anomalies)
}

pub(crate) fn record_loan(
    w: &mut Write<'_>,
    copy_id: Uuid,
    member_id: Uuid,
    lent_on: NaiveDate,
    due_on: NaiveDate,
    overridden: Option<Override>,
) -> Result<Uuid> {
    let loan_id = Uuid::now_v7();
    w.event(loan_id, Event::Loan { copy_id, member_id, lent_on, due_on, overridden })?;
    w.tx.prepare_cached(
        "INSERT INTO open_loans (loan_id, copy_id, member_id, lent_on, due_on) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        loan_id.to_string(),
        copy_id.to_string(),
        member_id.to_string(),
        lent_on.to_string(),
        due_on.to_string()
    ])?;
    Ok(loan_id)
}

impl Desk {
    /// Checks each book as it is scanned, without recording anything.
    pub fn preview_check_out(&self, member_id: Uuid, registration_numbers: &[String]) -> Result<CheckOutResult> {
        self.signed()?;
        let req = CheckOutRequest {
            member_id,
            registration_numbers: registration_numbers.to_vec(),
            confirm_warnings: false,
            override_reason: None,
        };
        let member = self.member(member_id)?;
        self.evaluate(&self.conn, &member, &req, false)
    }

    /// Lends the books that may be lent, in one transaction, and reports for
    /// every registration number either its due date or every reason it
    /// was not lent.
    pub fn check_out(&mut self, req: CheckOutRequest) -> Result<CheckOutResult> {
        let staff = self.require(Permission::LoanDesk)?.clone();
        self.check_clock()?;
        let member = self.member(req.member_id)?;
        if member.merged_into.is_some() {
            return Err(StoreError::Conflict(
                "این پرونده عضو با پرونده دیگری ادغام شده است؛ کارت را دوباره اسکن کنید.".into(),
            ));
        }
        let reason = req.override_reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
        let can_override = staff.role.allows(Permission::OverrideLoanRules);
        if reason.is_some() && !can_override {
            return Err(StoreError::Forbidden("فقط مدیر مرکز می‌تواند از قواعد امانت چشم‌پوشی کند.".into()));
        }
        let reference = self.reference()?;
        let kind = self.id()?.center.kind;
        let loan_days = reference.policy.rule_for(kind).loan_days;
        let closed = &reference.policy.closed;
        let staff_id = staff.id;
        let req = CheckOutRequest { override_reason: reason, ..req };
        let mut out = self.evaluate(&self.conn, &member, &req, true)?;
        self.write(|w| {
            let today = w.today();
            let due_on = closed.due_date(today, loan_days);
            for b in out.books.iter_mut().filter(|b| b.status == BookStatus::Ready) {
                let copy_id = b.loan_id.take().ok_or_else(|| StoreError::Corrupt("copy id".into()))?;
                // The check ran just before this transaction; the one fact
                // another connection could have changed meanwhile is re-read.
                let taken: bool =
                    w.tx.prepare_cached("SELECT EXISTS (SELECT 1 FROM open_loans WHERE copy_id = ?1)")?
                        .query_row([copy_id.to_string()], |r| r.get(0))?;
                if taken {
                    b.status = BookStatus::Refused;
                    b.issues.push(LoanIssue {
                        code: IssueCode::AlreadyOnLoan,
                        severity: Severity::Refusal,
                        overridable: false,
                        message: "این کتاب همین حالا در میز دیگری امانت داده شد.".into(),
                    });
                    continue;
                }
                let refusals: Vec<IssueCode> =
                    b.issues.iter().filter(|i| i.severity == Severity::Refusal).map(|i| i.code).collect();
                let overridden = (!refusals.is_empty()).then(|| Override {
                    by_staff: staff_id,
                    reason: req.override_reason.clone().unwrap_or_default(),
                    codes: refusals,
                });
                b.loan_id = Some(record_loan(w, copy_id, req.member_id, today, due_on, overridden)?);
                b.status = BookStatus::Lent;
                b.due_on = Some(due_on);
                b.due_on_jalali = Some(jalali(due_on));
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The shared check. In `for_write` mode a Ready book carries its copy
    /// id in `loan_id` until the loan is recorded.
    fn evaluate(
        &self,
        conn: &Connection,
        member: &MemberView,
        req: &CheckOutRequest,
        for_write: bool,
    ) -> Result<CheckOutResult> {
        let center = self.id()?.center.id;
        let today = self.today();
        let reference = self.reference()?;
        let groups = &reference.age_groups;
        let mut standing = member_standing(conn, member, today, groups)?;
        let rule = reference.policy.rule_for(self.id()?.center.kind);
        let override_given = req.override_reason.is_some();
        let mut seen: Vec<String> = Vec::new();
        let mut books = Vec::with_capacity(req.registration_numbers.len());
        for raw in &req.registration_numbers {
            let number = normalize_registration_number(raw);
            let facts = copy_facts(conn, center, member.id, &number, groups)?;
            let mut issues = check_loan(&standing, &facts.standing, rule, today);
            if seen.contains(&number) {
                issues.insert(
                    0,
                    LoanIssue {
                        code: IssueCode::RepeatedInThisLoan,
                        severity: Severity::Refusal,
                        overridable: false,
                        message: "این شماره ثبت در همین امانت دو بار آمده است.".into(),
                    },
                );
            }
            seen.push(number.clone());
            let lendable = may_lend(&issues, req.confirm_warnings, override_given);
            let status = if lendable {
                standing.open_loans += 1;
                BookStatus::Ready
            } else if may_lend(&issues, true, true) {
                BookStatus::NeedsConfirmation
            } else {
                BookStatus::Refused
            };
            books.push(BookOutcome {
                registration_number: number,
                title: facts.title,
                status,
                issues,
                loan_id: if for_write && status == BookStatus::Ready { facts.id } else { None },
                due_on: None,
                due_on_jalali: None,
            });
        }
        Ok(CheckOutResult { books })
    }

    /// Closes the open loan of the scanned copy, whoever holds it, and
    /// reports lateness. Nothing is written if the copy is not on loan.
    pub fn check_in(&mut self, registration_number: &str) -> Result<CheckInResult> {
        self.require(Permission::LoanDesk)?;
        self.check_clock()?;
        let number = normalize_registration_number(registration_number);
        let center = self.id()?.center.id;
        let found = self
            .conn
            .prepare_cached(
                "SELECT o.loan_id, o.copy_id, t.title, o.member_id, o.lent_on, o.due_on
                 FROM copies c JOIN open_loans o ON o.copy_id = c.id JOIN titles t ON t.id = c.title_id
                 WHERE c.registration_number = ?1
                 ORDER BY c.center_id = ?2 DESC, o.lent_on, o.loan_id LIMIT 1",
            )?
            .query_row(params![number, center.to_string()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .optional()?;
        let Some((loan_id, copy_id, title, member_id, lent_on, due_on)) = found else {
            // Say which: unknown number, or a copy that is not out.
            self.copy_by_registration_number(&number)?;
            return Err(StoreError::Conflict(format!(
                "کتاب با شماره ثبت «{}» در امانت نیست؛ آن را به قفسه برگردانید.",
                text::to_persian_digits(&number)
            )));
        };
        let (loan_id, copy_id, member_id) = (parse_uuid(&loan_id)?, parse_uuid(&copy_id)?, parse_uuid(&member_id)?);
        let (lent_on, due_on) = (parse_date(&lent_on)?, parse_date(&due_on)?);
        let returned_on = self.write(|w| {
            let returned_on = w.today();
            w.event(Uuid::now_v7(), Event::Return { loan_id, copy_id, returned_on })?;
            w.tx.prepare_cached("DELETE FROM open_loans WHERE loan_id = ?1")?.execute([loan_id.to_string()])?;
            Ok(returned_on)
        })?;
        let member = self.member(member_id)?;
        Ok(CheckInResult {
            loan_id,
            registration_number: number,
            title,
            member: MemberSummary {
                id: member.id,
                member_number: member.member_number,
                full_name: member.full_name,
                father_name: member.details.father_name,
                national_id: member.national_id,
                membership_ends_on: member.membership.ends_on,
                membership_ends_jalali: member.membership.ends_on_jalali,
            },
            lent_on_jalali: jalali(lent_on),
            due_on_jalali: jalali(due_on),
            days_late: days_late(due_on, returned_on),
        })
    }

    /// Extends an open loan from today by the loan period, within the
    /// policy's number of renewals.
    pub fn renew_loan(&mut self, loan_id: Uuid) -> Result<LoanView> {
        self.require(Permission::LoanDesk)?;
        self.check_clock()?;
        let (member_id, renewals, current_due): (String, u32, String) = self
            .conn
            .query_row(
                "SELECT member_id, renewals, due_on FROM open_loans WHERE loan_id = ?1",
                [loan_id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound("این امانت باز نیست؛ شاید کتاب پیش‌تر برگشته است.".into()))?;
        let current_due = parse_date(&current_due)?;
        let policy = self.policy()?;
        let rule = policy.rule_for(self.id()?.center.kind).clone();
        if policy.closed.due_date(self.today(), rule.loan_days) <= current_due {
            return Err(StoreError::Conflict(format!(
                "این امانت تا {} اعتبار دارد و تمدید امروز آن را دیرتر نمی‌کند.",
                jalali(current_due)
            )));
        }
        if renewals >= rule.max_renewals {
            return Err(StoreError::Conflict(format!(
                "این امانت {} بار تمدید شده و بیش از این تمدید نمی‌شود؛ کتاب را بازگردانید.",
                text::to_persian_digits(&renewals.to_string())
            )));
        }
        self.write(|w| {
            // From today, but never earlier than the loan is already due.
            let due_on = policy.closed.due_date(w.today(), rule.loan_days).max(current_due);
            w.event(Uuid::now_v7(), Event::Renewal { loan_id, due_on })?;
            w.tx.execute(
                "UPDATE open_loans SET due_on = ?2, renewals = renewals + 1 WHERE loan_id = ?1",
                params![loan_id.to_string(), due_on.to_string()],
            )?;
            Ok(())
        })?;
        let member_id = parse_uuid(&member_id)?;
        self.open_loans_of(member_id)?
            .into_iter()
            .find(|l| l.loan_id == loan_id)
            .ok_or_else(|| StoreError::Corrupt("تمدید ثبت شد ولی امانت پیدا نشد".into()))
    }

    /// Cancels a mistaken loan, return, renewal or membership payment with
    /// a correcting event; both events stay in the log.
    pub fn void_event(&mut self, event_id: Uuid, reason: &str) -> Result<()> {
        self.require(Permission::VoidRecords)?;
        self.check_clock()?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::InvalidInput("دلیل ابطال را بنویسید.".into()));
        }
        let (kind, data): (String, String) = self
            .conn
            .query_row("SELECT kind, data FROM events WHERE id = ?1", [event_id.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?
            .ok_or_else(|| StoreError::NotFound("رویدادی که باید باطل شود پیدا نشد.".into()))?;
        if kind == "void" {
            return Err(StoreError::InvalidInput("ابطال را نمی‌توان باطل کرد؛ رویداد درست را دوباره ثبت کنید.".into()));
        }
        let already: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM voided WHERE event_id = ?1)",
            [event_id.to_string()],
            |r| r.get(0),
        )?;
        if already {
            return Err(StoreError::Conflict("این رویداد پیش‌تر باطل شده است.".into()));
        }
        let event: Event = serde_json::from_str(&data)?;
        match &event {
            Event::Return { loan_id, copy_id, .. } => self.check_return_can_be_voided(*loan_id, *copy_id)?,
            Event::Transfer { copy_id, from_center, .. } => {
                self.check_transfer_can_be_voided(*copy_id, *from_center)?
            }
            _ => {}
        }
        self.write(|w| {
            let void_id = Uuid::now_v7();
            w.event(void_id, Event::Void { target: event_id, reason: reason.to_owned() })?;
            w.tx.execute(
                "INSERT INTO voided (event_id, void_id) VALUES (?1, ?2)",
                params![event_id.to_string(), void_id.to_string()],
            )?;
            rederive(&w.tx, &event)?;
            Ok(())
        })
    }

    /// Voiding a return reopens its loan; refused when that would put the
    /// copy on loan twice or the member over the loan limit.
    fn check_return_can_be_voided(&self, loan_id: Uuid, copy_id: Uuid) -> Result<()> {
        let lent_again: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM open_loans WHERE copy_id = ?1)",
            [copy_id.to_string()],
            |r| r.get(0),
        )?;
        if lent_again {
            return Err(StoreError::Conflict(
                "این کتاب پس از آن بازگشت دوباره امانت داده شده است؛ ابتدا آن امانت را بررسی کنید.".into(),
            ));
        }
        let open: u32 = self.conn.query_row(
            "SELECT count(*) FROM open_loans WHERE member_id = (SELECT member_id FROM events WHERE id = ?1)",
            [loan_id.to_string()],
            |r| r.get(0),
        )?;
        let policy = self.policy()?;
        if open >= policy.rule_for(self.id()?.center.kind).max_open_loans {
            return Err(StoreError::Conflict(
                "با ابطال این بازگشت، امانت‌های عضو از سقف بیشتر می‌شود؛ به‌جای ابطال، امانت تازه‌ای با اجازه مدیر ثبت کنید."
                    .into(),
            ));
        }
        Ok(())
    }

    /// Voiding a transfer brings the copy back; refused when its number has
    /// since been given to another copy here.
    fn check_transfer_can_be_voided(&self, copy_id: Uuid, back_to: Uuid) -> Result<()> {
        if back_to != self.id()?.center.id {
            return Ok(());
        }
        let number = self.copy(copy_id)?.registration_number;
        match crate::catalog::active_copy_with_number(&self.conn, back_to, &number)? {
            Some(other) if other != copy_id => Err(StoreError::Conflict(format!(
                "شماره ثبت «{}» این نسخه اکنون به نسخه دیگری داده شده است؛ ابتدا شماره یکی از دو نسخه را اصلاح کنید.",
                text::to_persian_digits(&number)
            ))),
            _ => Ok(()),
        }
    }

    /// The member's open loans, earliest due first.
    pub fn open_loans_of(&self, member_id: Uuid) -> Result<Vec<LoanView>> {
        self.signed()?;
        let today = self.today();
        let mut stmt = self.conn.prepare_cached(
            "SELECT o.loan_id, o.copy_id, c.registration_number, t.title, o.lent_on, o.due_on, o.renewals
             FROM open_loans o JOIN copies c ON c.id = o.copy_id JOIN titles t ON t.id = c.title_id
             WHERE o.member_id = ?1 ORDER BY o.due_on, o.loan_id",
        )?;
        let rows = stmt.query_map([member_id.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, u32>(6)?,
            ))
        })?;
        rows.map(|r| {
            let (loan_id, copy_id, number, title, lent_on, due_on, renewals) = r?;
            let (lent_on, due_on) = (parse_date(&lent_on)?, parse_date(&due_on)?);
            Ok(LoanView {
                loan_id: parse_uuid(&loan_id)?,
                copy_id: parse_uuid(&copy_id)?,
                registration_number: number,
                title,
                lent_on,
                lent_on_jalali: jalali(lent_on),
                due_on,
                due_on_jalali: jalali(due_on),
                renewals,
                days_overdue: days_late(due_on, today),
            })
        })
        .collect()
    }

    /// The member's loans, newest first, with returns and voids.
    pub fn loan_history(&self, member_id: Uuid, limit: usize) -> Result<Vec<LoanHistoryRow>> {
        self.signed()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT l.id, c.registration_number, t.title, l.data,
                    (SELECT json_extract(r.data, '$.returned_on') FROM events r
                       WHERE r.loan_id = l.id AND r.kind = 'return'
                         AND NOT EXISTS (SELECT 1 FROM voided v WHERE v.event_id = r.id) LIMIT 1),
                    EXISTS (SELECT 1 FROM voided v WHERE v.event_id = l.id),
                    (SELECT json_extract(n.data, '$.due_on') FROM events n
                       WHERE n.loan_id = l.id AND n.kind = 'renewal'
                         AND NOT EXISTS (SELECT 1 FROM voided v WHERE v.event_id = n.id) ORDER BY n.hlc DESC LIMIT 1),
                    (SELECT r.id FROM events r
                       WHERE r.loan_id = l.id AND r.kind = 'return'
                         AND NOT EXISTS (SELECT 1 FROM voided v WHERE v.event_id = r.id) LIMIT 1)
             FROM events l JOIN copies c ON c.id = l.copy_id JOIN titles t ON t.id = c.title_id
             WHERE l.member_id = ?1 AND l.kind = 'loan' ORDER BY l.hlc DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![member_id.to_string(), limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, bool>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })?;
        rows.map(|r| {
            let (id, number, title, data, returned, voided, renewed_due, return_id) = r?;
            let Event::Loan { lent_on, due_on, overridden, .. } = serde_json::from_str(&data)? else {
                return Err(StoreError::Corrupt("رویداد امانت".into()));
            };
            let due_on = renewed_due.as_deref().map(parse_date).transpose()?.unwrap_or(due_on);
            Ok(LoanHistoryRow {
                loan_id: parse_uuid(&id)?,
                registration_number: number,
                title,
                lent_on_jalali: jalali(lent_on),
                due_on_jalali: jalali(due_on),
                returned_on_jalali: returned.as_deref().map(parse_date).transpose()?.map(jalali),
                return_id: return_id.as_deref().map(parse_uuid).transpose()?,
                voided,
                overridden: overridden.is_some(),
            })
        })
        .collect()
    }

    /// Overdue loans with the guardian's phone, most overdue first.
    pub fn overdue_loans(&self) -> Result<Vec<OverdueRow>> {
        self.signed()?;
        let today = self.today();
        let mut stmt = self.conn.prepare_cached(
            "SELECT o.loan_id, m.id, m.member_number, m.first_name || ' ' || m.last_name, m.guardian_phone,
                    c.registration_number, t.title, o.due_on
             FROM open_loans o JOIN members m ON m.id = o.member_id JOIN copies c ON c.id = o.copy_id
             JOIN titles t ON t.id = c.title_id
             WHERE o.due_on < ?1 ORDER BY o.due_on, m.sort_key",
        )?;
        let rows = stmt.query_map([today.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
            ))
        })?;
        rows.map(|r| {
            let (loan_id, member_id, member_number, member_name, guardian_phone, number, title, due_on) = r?;
            let due_on = parse_date(&due_on)?;
            Ok(OverdueRow {
                loan_id: parse_uuid(&loan_id)?,
                member_id: parse_uuid(&member_id)?,
                member_number,
                member_name,
                guardian_phone,
                registration_number: number,
                title,
                due_on_jalali: jalali(due_on),
                days_overdue: days_late(due_on, today),
            })
        })
        .collect()
    }

    /// Today's circulation (Tehran day) for the home screen.
    pub fn todays_circulation(&self) -> Result<TodaySummary> {
        self.signed()?;
        let today = self.today();
        let (from, to) = tehran_day_bounds(today);
        let count = |sql: &str| -> Result<u32> {
            Ok(self.conn.prepare_cached(sql)?.query_row(params![from, to], |r| r.get(0))?)
        };
        let counted = |kind: &str| {
            count(&format!(
                "SELECT count(*) FROM events e WHERE e.kind = '{kind}' AND e.at >= ?1 AND e.at < ?2
                   AND NOT EXISTS (SELECT 1 FROM voided v WHERE v.event_id = e.id)"
            ))
        };
        Ok(TodaySummary {
            date_jalali: JalaliDate::from_gregorian(today).to_long_persian(),
            loans: counted("loan")?,
            returns: counted("return")?,
            renewals: counted("renewal")?,
            new_members: count("SELECT count(*) FROM members WHERE created_at >= ?1 AND created_at < ?2")?,
            overdue: self
                .conn
                .prepare_cached("SELECT count(*) FROM open_loans WHERE due_on < ?1")?
                .query_row([today.to_string()], |r| r.get(0))?,
        })
    }
}

/// The UTC instants (RFC 3339) where a Tehran calendar day starts and ends.
fn tehran_day_bounds(day: NaiveDate) -> (String, String) {
    let start = |d: NaiveDate| {
        Tehran
            .from_local_datetime(&d.and_time(NaiveTime::MIN))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| d.and_time(NaiveTime::MIN).and_utc())
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    (start(day), start(day.succ_opt().unwrap_or(day)))
}

impl Desk {
    /// The whole event log (sync, audits and the tests that compare the
    /// derived tables with the domain fold).
    pub fn event_log(&self) -> Result<Vec<EventRecord>> {
        self.signed()?;
        let mut stmt = self.conn.prepare_cached("SELECT id, hlc, device_id, at, data FROM events ORDER BY hlc")?;
        read_events(&mut stmt, [])
    }

    /// The derived open-loans table as domain values.
    pub fn all_open_loans(&self) -> Result<Vec<kanoon_domain::circulation::OpenLoan>> {
        self.signed()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT loan_id, copy_id, member_id, lent_on, due_on, renewals FROM open_loans ORDER BY loan_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, u32>(5)?,
            ))
        })?;
        rows.map(|row| {
            let (loan, copy, member, lent, due, renewals) = row?;
            Ok(kanoon_domain::circulation::OpenLoan {
                loan_id: parse_uuid(&loan)?,
                copy_id: parse_uuid(&copy)?,
                member_id: parse_uuid(&member)?,
                lent_on: parse_date(&lent)?,
                due_on: parse_date(&due)?,
                renewals,
            })
        })
        .collect()
    }
}
