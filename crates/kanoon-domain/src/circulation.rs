//! Append-only events and what they add up to.
//!
//! Events are immutable and owned by the center that recorded them; merge
//! is a set union by event id. Derived state ("this copy is on loan", "this
//! member's open loans", "membership valid until") is always the fold of the
//! events, so the desk and the server compute it with the same function and
//! a late event is handled by folding again.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use kanoon_protocol::Hlc;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::age_group::{self, AgeGroup};
use crate::entities::WithdrawReason;
use crate::policy::{LoanRule, OverdueHandling};

/// A recorded override of a loan refusal: who allowed it and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Override {
    pub by_staff: Uuid,
    pub reason: String,
    /// The refusals that were overridden.
    pub codes: Vec<IssueCode>,
}

/// How a membership period was paid for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Fee {
    Paid {
        amount_rials: i64,
        receipt_number: String,
    },
    /// A fee exemption from policy (postal members, free programmes), with
    /// the reason staff gave for this member.
    Exempt {
        exemption: String,
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// The event id is the loan id.
    Loan {
        copy_id: Uuid,
        member_id: Uuid,
        lent_on: NaiveDate,
        due_on: NaiveDate,
        overridden: Option<Override>,
        /// The village of a van visit's loan: its due date is the village's
        /// next visit, and moves when that visit is cancelled or moved.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        village_id: Option<Uuid>,
    },
    Return {
        loan_id: Uuid,
        copy_id: Uuid,
        returned_on: NaiveDate,
    },
    Renewal {
        loan_id: Uuid,
        due_on: NaiveDate,
    },
    Transfer {
        copy_id: Uuid,
        from_center: Uuid,
        to_center: Uuid,
    },
    /// The event id is the period id.
    Membership {
        member_id: Uuid,
        starts_on: NaiveDate,
        ends_on: NaiveDate,
        fee: Fee,
    },
    /// Cancels a mistaken event; both stay in the log.
    Void {
        target: Uuid,
        reason: String,
    },
    /// A call to a member's family about overdue books, and what came of
    /// it («پاسخ نداد», «قول داد فردا بیاورد»). Changes no loan.
    ReminderCall {
        member_id: Uuid,
        /// The overdue loans the call was about.
        loan_ids: Vec<Uuid>,
        called_on: NaiveDate,
        note: String,
    },
}

impl Event {
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Loan { .. } => "loan",
            Event::Return { .. } => "return",
            Event::Renewal { .. } => "renewal",
            Event::Transfer { .. } => "transfer",
            Event::Membership { .. } => "membership",
            Event::Void { .. } => "void",
            Event::ReminderCall { .. } => "reminder_call",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EventRecord {
    pub id: Uuid,
    pub hlc: Hlc,
    pub device_id: Uuid,
    pub at: DateTime<Utc>,
    pub event: Event,
}

impl EventRecord {
    /// The total order every peer folds in.
    fn order_key(&self) -> (Hlc, Uuid, Uuid) {
        (self.hlc, self.device_id, self.id)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OpenLoan {
    pub loan_id: Uuid,
    pub copy_id: Uuid,
    pub member_id: Uuid,
    pub lent_on: NaiveDate,
    pub due_on: NaiveDate,
    pub renewals: u32,
}

/// Something in the log that breaks an invariant of the real world. Sync
/// turns these into exceptions staff resolve; the fold never hides them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Anomaly {
    /// The same copy was lent again while a loan of it was open.
    CopyLentTwice { copy_id: Uuid, open_loan: Uuid, new_loan: Uuid },
    /// A return or renewal of a loan that is not open.
    LoanNotOpen { event_id: Uuid, loan_id: Uuid },
    /// A void whose target is not in the log (yet).
    VoidTargetMissing { event_id: Uuid, target: Uuid },
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CirculationState {
    pub open_loans: BTreeMap<Uuid, OpenLoan>,
    /// Last center each transferred copy was sent to.
    pub copy_center: BTreeMap<Uuid, Uuid>,
    /// Membership periods in force, by member: (starts, ends).
    pub memberships: BTreeMap<Uuid, Vec<(NaiveDate, NaiveDate)>>,
    pub anomalies: Vec<Anomaly>,
}

impl Anomaly {
    /// The code the exception is reported under (desks and server alike).
    pub fn code(&self) -> &'static str {
        match self {
            Anomaly::CopyLentTwice { .. } => "copy_lent_twice",
            Anomaly::LoanNotOpen { .. } => "loan_not_open",
            Anomaly::VoidTargetMissing { .. } => "void_target_missing",
        }
    }

    /// The exception's id: the same on every peer that finds it.
    pub fn exception_id(&self) -> Uuid {
        match self {
            Anomaly::CopyLentTwice { open_loan, new_loan, .. } => exception_id(self.code(), &[*open_loan, *new_loan]),
            Anomaly::LoanNotOpen { event_id, .. } | Anomaly::VoidTargetMissing { event_id, .. } => {
                exception_id(self.code(), &[*event_id])
            }
        }
    }
}

/// The id of the exception `code` about `ids` (in any order): derived, so
/// it is recorded once however often, and on however many desks, the ops
/// that show it arrive, and a resolution written anywhere names it.
pub fn exception_id(code: &str, ids: &[Uuid]) -> Uuid {
    let mut sorted = ids.to_vec();
    sorted.sort();
    let key = std::iter::once(code.to_owned()).chain(sorted.iter().map(Uuid::to_string)).collect::<Vec<_>>().join("/");
    Uuid::new_v5(&Uuid::NAMESPACE_OID, key.as_bytes())
}

impl CirculationState {
    pub fn open_loans_of_copy(&self, copy_id: Uuid) -> impl Iterator<Item = &OpenLoan> {
        self.open_loans.values().filter(move |l| l.copy_id == copy_id)
    }

    pub fn open_loans_of_member(&self, member_id: Uuid) -> impl Iterator<Item = &OpenLoan> {
        self.open_loans.values().filter(move |l| l.member_id == member_id)
    }

    /// The last day of the member's latest membership period.
    pub fn membership_ends(&self, member_id: Uuid) -> Option<NaiveDate> {
        self.memberships.get(&member_id)?.iter().map(|(_, end)| *end).max()
    }
}

/// Folds events, in any order and with duplicates, into derived state.
/// Voided events are left out as if they had never happened (the void and
/// its target both stay in the log).
pub fn fold(events: &[EventRecord]) -> CirculationState {
    let mut sorted: Vec<&EventRecord> = events.iter().collect();
    sorted.sort_by_key(|e| e.order_key());
    sorted.dedup_by_key(|e| e.id);

    let ids: BTreeSet<Uuid> = sorted.iter().map(|e| e.id).collect();
    let mut voided = BTreeSet::new();
    let mut state = CirculationState::default();
    for e in &sorted {
        if let Event::Void { target, .. } = &e.event {
            if ids.contains(target) {
                voided.insert(*target);
            } else {
                state.anomalies.push(Anomaly::VoidTargetMissing { event_id: e.id, target: *target });
            }
        }
    }

    // Returns and renewals name their loan, so they apply whatever the
    // clocks say: a desk whose clock lags can record the return of a loan
    // made on a desk whose clock runs ahead.
    let live: Vec<&EventRecord> = sorted.into_iter().filter(|e| !voided.contains(&e.id)).collect();
    let loans: BTreeSet<Uuid> = live.iter().filter(|e| matches!(e.event, Event::Loan { .. })).map(|e| e.id).collect();
    let mut returned: BTreeSet<Uuid> = BTreeSet::new();
    for e in &live {
        match &e.event {
            Event::Return { loan_id, .. } if loans.contains(loan_id) && returned.insert(*loan_id) => {}
            Event::Return { loan_id, .. } | Event::Renewal { loan_id, .. } if !loans.contains(loan_id) => {
                state.anomalies.push(Anomaly::LoanNotOpen { event_id: e.id, loan_id: *loan_id });
            }
            Event::Return { loan_id, .. } => {
                // A second return of the same loan.
                state.anomalies.push(Anomaly::LoanNotOpen { event_id: e.id, loan_id: *loan_id });
            }
            _ => {}
        }
    }

    // Seen so far in clock order: returns, and renewals whose loan sorts later.
    let mut seen_returns: BTreeSet<Uuid> = BTreeSet::new();
    let mut transfers: BTreeMap<Uuid, Vec<(Uuid, Uuid)>> = BTreeMap::new();
    let mut early_renewals: BTreeMap<Uuid, Vec<NaiveDate>> = BTreeMap::new();
    for e in live {
        match &e.event {
            Event::Loan { copy_id, member_id, lent_on, due_on, .. } => {
                if seen_returns.contains(&e.id) {
                    continue;
                }
                let already_open = state.open_loans_of_copy(*copy_id).next().map(|l| l.loan_id);
                if let Some(open_loan) = already_open {
                    state.anomalies.push(Anomaly::CopyLentTwice { copy_id: *copy_id, open_loan, new_loan: e.id });
                }
                let renewed = early_renewals.remove(&e.id).unwrap_or_default();
                let renewed_due = renewed.iter().copied().max().map_or(*due_on, |r| r.max(*due_on));
                state.open_loans.insert(
                    e.id,
                    OpenLoan {
                        loan_id: e.id,
                        copy_id: *copy_id,
                        member_id: *member_id,
                        lent_on: *lent_on,
                        due_on: renewed_due,
                        renewals: u32::try_from(renewed.len()).unwrap_or(u32::MAX),
                    },
                );
            }
            Event::Return { loan_id, .. } => {
                state.open_loans.remove(loan_id);
                seen_returns.insert(*loan_id);
            }
            Event::Renewal { loan_id, due_on } => match state.open_loans.get_mut(loan_id) {
                // Two desks renewing the same loan never shorten it.
                Some(loan) => {
                    loan.due_on = loan.due_on.max(*due_on);
                    loan.renewals += 1;
                }
                None if seen_returns.contains(loan_id) => {
                    state.anomalies.push(Anomaly::LoanNotOpen { event_id: e.id, loan_id: *loan_id });
                }
                None if loans.contains(loan_id) => early_renewals.entry(*loan_id).or_default().push(*due_on),
                None => {}
            },
            Event::Transfer { copy_id, from_center, to_center } => {
                transfers.entry(*copy_id).or_default().push((*from_center, *to_center));
            }
            Event::Membership { member_id, starts_on, ends_on, .. } => {
                state.memberships.entry(*member_id).or_default().push((*starts_on, *ends_on));
            }
            Event::Void { .. } | Event::ReminderCall { .. } => {}
        }
    }
    // Renewals of loans that were returned before the loan sorted in.
    for (loan_id, _) in early_renewals {
        if seen_returns.contains(&loan_id) {
            state.anomalies.push(Anomaly::LoanNotOpen { event_id: loan_id, loan_id });
        }
    }
    for (copy_id, links) in transfers {
        if let Some(at) = copy_location(&links) {
            state.copy_center.insert(copy_id, at);
        }
    }
    state
}

/// Where a copy is after its transfers (from, to), given in clock order.
/// The transfers form a chain from where the first one left: follow the
/// links instead of trusting the clocks, since a desk whose clock runs ahead
/// can record an earlier link with a later clock.
pub fn copy_location(links: &[(Uuid, Uuid)]) -> Option<Uuid> {
    let (origin, _) = *links.first()?;
    // The origin is a center no link arrives at (else the first by clock).
    let start = links.iter().map(|(from, _)| *from).find(|f| !links.iter().any(|(_, to)| to == f)).unwrap_or(origin);
    let mut used = vec![false; links.len()];
    let mut at = start;
    while let Some(i) = links.iter().enumerate().position(|(i, (from, _))| !used[i] && *from == at) {
        used[i] = true;
        at = links[i].1;
    }
    Some(at)
}

/// Why a loan is refused or needs a second look. A closed set: the UI and
/// tests branch on the code, people read the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum IssueCode {
    UnknownRegistrationNumber,
    CopyWithdrawn,
    CopyLost,
    AlreadyOnLoan,
    AlreadyOnLoanToThisMember,
    CopyAtAnotherCenter,
    RepeatedInThisLoan,
    NoMembership,
    MembershipExpired,
    LimitReached,
    OverdueBooks,
    ForOlderReaders,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Lending goes ahead once the instructor has seen it.
    Warning,
    /// Lending is refused unless overridden (when `overridable`).
    Refusal,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LoanIssue {
    pub code: IssueCode,
    pub severity: Severity,
    pub overridable: bool,
    /// Persian: what is wrong and what to do.
    pub message: String,
}

/// What the check needs to know about the member at the moment of lending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberStanding {
    pub membership_ends: Option<NaiveDate>,
    /// Open loans recorded before this loan.
    pub open_loans: u32,
    /// Books already accepted earlier in this same loan (the cart).
    pub in_this_loan: u32,
    pub overdue_loans: u32,
    pub reader_age: Option<u32>,
}

/// What the check needs to know about the copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CopyStanding {
    Unknown,
    Withdrawn(WithdrawReason),
    /// Open loan to this member (true) or another member (false).
    OnLoan {
        to_this_member: bool,
        borrower: String,
    },
    AtAnotherCenter,
    Available {
        age_group: Option<AgeGroup>,
    },
}

/// Every reason lending this copy to this member today is refused or
/// deserves a warning. An empty list means lend.
pub fn check_loan(member: &MemberStanding, copy: &CopyStanding, rule: &LoanRule, today: NaiveDate) -> Vec<LoanIssue> {
    let mut issues = Vec::new();
    let mut refuse = |code, overridable, message: String| {
        issues.push(LoanIssue { code, severity: Severity::Refusal, overridable, message })
    };

    match copy {
        CopyStanding::Unknown => refuse(
            IssueCode::UnknownRegistrationNumber,
            false,
            "این شماره ثبت در فهرست کتاب‌های مرکز نیست؛ شماره را دوباره بخوانید یا کتاب را در فهرست‌نویسی ثبت کنید."
                .into(),
        ),
        CopyStanding::Withdrawn(WithdrawReason::Lost) => refuse(
            IssueCode::CopyLost,
            false,
            "این نسخه مفقود ثبت شده است؛ اگر پیدا شده، ابتدا در فهرست‌نویسی «بازگرداندن به مجموعه» را بزنید.".into(),
        ),
        CopyStanding::Withdrawn(reason) => refuse(
            IssueCode::CopyWithdrawn,
            false,
            format!("این نسخه از مجموعه خارج شده است ({}) و امانت داده نمی‌شود.", reason.persian()),
        ),
        CopyStanding::OnLoan { to_this_member: true, .. } => refuse(
            IssueCode::AlreadyOnLoanToThisMember,
            false,
            "این کتاب هم‌اکنون در امانت همین عضو است؛ اگر آن را برگردانده، ابتدا بازگشت را ثبت کنید.".into(),
        ),
        CopyStanding::OnLoan { borrower, .. } => refuse(
            IssueCode::AlreadyOnLoan,
            false,
            format!(
                "این کتاب در امانت {borrower} است؛ اگر کتاب در دست شماست، ابتدا بازگشت آن را ثبت کنید (در پنجره امانت با Ctrl+B)."
            ),
        ),
        CopyStanding::AtAnotherCenter => refuse(
            IssueCode::CopyAtAnotherCenter,
            false,
            "این نسخه به مرکز دیگری منتقل شده است؛ ابتدا انتقال آن را به این مرکز ثبت کنید.".into(),
        ),
        CopyStanding::Available { .. } => {}
    }
    // The member's own rules belong to the books that could be lent; a
    // wrong number or a book out of reach says only what is wrong with it.
    if !matches!(copy, CopyStanding::Available { .. }) {
        return issues;
    }

    let overridable = rule.allow_override;
    // What to do when a manager may lend anyway.
    let or_override =
        if overridable { " یا مدیر مرکز با نوشتن دلیل اجازه دهد" } else { "" };
    match member.membership_ends {
        None => refuse(
            IssueCode::NoMembership,
            overridable,
            format!("این عضو دوره عضویت ثبت‌شده‌ای ندارد؛ ابتدا عضویت را تمدید کنید{or_override}."),
        ),
        Some(end) if end < today => refuse(
            IssueCode::MembershipExpired,
            overridable,
            format!(
                "عضویت این عضو در {} به پایان رسیده است؛ ابتدا عضویت را تمدید کنید{or_override}.",
                crate::jalali::JalaliDate::from_gregorian(end)
            ),
        ),
        Some(_) => {}
    }
    if member.open_loans + member.in_this_loan >= rule.max_open_loans {
        let n = |v: u32| crate::text::to_persian_digits(&v.to_string());
        let holds = match (member.open_loans, member.in_this_loan) {
            (lent, 0) => format!("{} کتاب در امانت دارد", n(lent)),
            (0, cart) => format!("{} کتاب در همین فهرست دارد", n(cart)),
            (lent, cart) => format!("{} کتاب در امانت و {} کتاب در همین فهرست دارد", n(lent), n(cart)),
        };
        refuse(
            IssueCode::LimitReached,
            overridable,
            format!(
                "این عضو {holds} و سقف امانت {} کتاب است؛ ابتدا کتابی را برگردانید{or_override}.",
                n(rule.max_open_loans)
            ),
        );
    }
    if member.overdue_loans > 0 {
        let message = format!(
            "این عضو {} کتاب دیرکرددار دارد.",
            crate::text::to_persian_digits(&member.overdue_loans.to_string())
        );
        match rule.overdue {
            OverdueHandling::Warn => issues.push(LoanIssue {
                code: IssueCode::OverdueBooks,
                severity: Severity::Warning,
                overridable: true,
                message,
            }),
            OverdueHandling::Block => issues.push(LoanIssue {
                code: IssueCode::OverdueBooks,
                severity: Severity::Refusal,
                overridable,
                message: format!("{message} تا بازگشت آن‌ها امانت جدید داده نمی‌شود{or_override}."),
            }),
        }
    }
    if let (CopyStanding::Available { age_group: Some(group) }, Some(age)) = (copy, member.reader_age)
        && age_group::is_for_older_readers(group, age)
    {
        issues.push(LoanIssue {
            code: IssueCode::ForOlderReaders,
            severity: Severity::Warning,
            overridable: true,
            message: format!("این کتاب برای گروه سنی بزرگ‌تر است ({}).", group.label),
        });
    }
    issues
}

/// Whether a loan with these issues may go ahead: warnings need the
/// instructor's confirmation, refusals need a recorded override that policy
/// allows, and some refusals can never be overridden.
pub fn may_lend(issues: &[LoanIssue], warnings_confirmed: bool, override_given: bool) -> bool {
    issues.iter().all(|i| match i.severity {
        Severity::Warning => warnings_confirmed,
        Severity::Refusal => i.overridable && override_given,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 4, day).unwrap()
    }

    fn rec(n: u128, wall: i64, event: Event) -> EventRecord {
        EventRecord {
            id: Uuid::from_u128(n),
            hlc: Hlc::new(wall, 0),
            device_id: Uuid::from_u128(1),
            at: DateTime::<Utc>::from_timestamp(wall, 0).unwrap(),
            event,
        }
    }

    fn standing(open: u32) -> MemberStanding {
        MemberStanding {
            membership_ends: Some(d(30)),
            open_loans: open,
            in_this_loan: 0,
            overdue_loans: 0,
            reader_age: Some(9),
        }
    }

    fn codes(issues: &[LoanIssue]) -> Vec<IssueCode> {
        issues.iter().map(|i| i.code).collect()
    }

    #[test]
    fn every_reason_is_reported_not_just_the_first() {
        let m = MemberStanding {
            membership_ends: Some(d(1)),
            open_loans: 1,
            in_this_loan: 1,
            overdue_loans: 1,
            reader_age: Some(8),
        };
        let group = crate::age_group::default_age_groups().into_iter().find(|g| g.code == "+12");
        let issues = check_loan(&m, &CopyStanding::Available { age_group: group }, &LoanRule::default(), d(10));
        assert_eq!(
            codes(&issues),
            vec![
                IssueCode::MembershipExpired,
                IssueCode::LimitReached,
                IssueCode::OverdueBooks,
                IssueCode::ForOlderReaders
            ]
        );
        assert!(!may_lend(&issues, true, false));
        assert!(may_lend(&issues, true, true));
    }

    #[test]
    fn the_limit_message_counts_the_cart_apart_and_stays_off_unknown_numbers() {
        let m = MemberStanding { in_this_loan: 1, membership_ends: None, ..standing(1) };
        let issues = check_loan(&m, &CopyStanding::Available { age_group: None }, &LoanRule::default(), d(10));
        let limit = issues.iter().find(|i| i.code == IssueCode::LimitReached).unwrap();
        assert!(limit.message.contains("۱ کتاب در امانت و ۱ کتاب در همین فهرست"), "{}", limit.message);
        // A manager may lend anyway: the text says how, not only "return one".
        assert!(limit.message.contains("مدیر مرکز"), "{}", limit.message);
        let unknown = check_loan(&m, &CopyStanding::Unknown, &LoanRule::default(), d(10));
        assert_eq!(codes(&unknown), vec![IssueCode::UnknownRegistrationNumber]);
    }

    #[test]
    fn a_copy_on_loan_can_never_be_overridden() {
        let issues = check_loan(
            &standing(0),
            &CopyStanding::OnLoan { to_this_member: false, borrower: "x".into() },
            &LoanRule::default(),
            d(10),
        );
        assert_eq!(codes(&issues), vec![IssueCode::AlreadyOnLoan]);
        assert!(!may_lend(&issues, true, true));
    }

    #[test]
    fn overdue_blocks_when_policy_says_block() {
        let rule = LoanRule { overdue: OverdueHandling::Block, ..LoanRule::default() };
        let m = MemberStanding { overdue_loans: 1, ..standing(0) };
        let issues = check_loan(&m, &CopyStanding::Available { age_group: None }, &rule, d(10));
        assert_eq!(issues[0].severity, Severity::Refusal);
        let no_override = LoanRule { allow_override: false, ..rule };
        let issues = check_loan(&m, &CopyStanding::Available { age_group: None }, &no_override, d(10));
        assert!(!may_lend(&issues, true, true));
    }

    #[test]
    fn return_closes_the_loan_it_names() {
        let copy = Uuid::from_u128(50);
        let member = Uuid::from_u128(60);
        let events = vec![
            rec(
                10,
                1,
                Event::Loan {
                    copy_id: copy,
                    member_id: member,
                    lent_on: d(1),
                    due_on: d(8),
                    overridden: None,
                    village_id: None,
                },
            ),
            rec(11, 2, Event::Return { loan_id: Uuid::from_u128(10), copy_id: copy, returned_on: d(3) }),
            rec(
                12,
                3,
                Event::Loan {
                    copy_id: copy,
                    member_id: member,
                    lent_on: d(3),
                    due_on: d(10),
                    overridden: None,
                    village_id: None,
                },
            ),
        ];
        let s = fold(&events);
        assert_eq!(s.open_loans.keys().copied().collect::<Vec<_>>(), vec![Uuid::from_u128(12)]);
        assert!(s.anomalies.is_empty());
    }

    #[test]
    fn a_return_or_renewal_whose_clock_sorts_before_its_loan_still_applies() {
        let copy = Uuid::from_u128(50);
        let member = Uuid::from_u128(60);
        // Desk A's clock runs ahead: its loans sort after B's return and renewal.
        let events = vec![
            rec(11, 1, Event::Return { loan_id: Uuid::from_u128(10), copy_id: copy, returned_on: d(3) }),
            rec(
                10,
                9,
                Event::Loan {
                    copy_id: copy,
                    member_id: member,
                    lent_on: d(1),
                    due_on: d(8),
                    overridden: None,
                    village_id: None,
                },
            ),
            rec(21, 2, Event::Renewal { loan_id: Uuid::from_u128(20), due_on: d(20) }),
            rec(
                20,
                8,
                Event::Loan {
                    copy_id: Uuid::from_u128(51),
                    member_id: member,
                    lent_on: d(1),
                    due_on: d(8),
                    overridden: None,
                    village_id: None,
                },
            ),
            rec(
                30,
                10,
                Event::Loan {
                    copy_id: copy,
                    member_id: member,
                    lent_on: d(4),
                    due_on: d(11),
                    overridden: None,
                    village_id: None,
                },
            ),
        ];
        let s = fold(&events);
        assert_eq!(s.open_loans.keys().copied().collect::<Vec<_>>(), vec![Uuid::from_u128(20), Uuid::from_u128(30)]);
        assert_eq!(s.open_loans[&Uuid::from_u128(20)].due_on, d(20));
        assert_eq!(s.open_loans[&Uuid::from_u128(20)].renewals, 1);
        assert!(s.anomalies.is_empty(), "{:?}", s.anomalies);
    }

    #[test]
    fn a_copy_is_where_its_chain_of_transfers_ends_whatever_the_clocks() {
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        // B→C was recorded with a lagging clock, so it sorts before A→B.
        assert_eq!(copy_location(&[(b, c), (a, b)]), Some(c));
        assert_eq!(copy_location(&[(a, b), (b, a), (a, c)]), Some(c));
        assert_eq!(copy_location(&[]), None);
    }

    #[test]
    fn a_renewal_after_the_return_is_an_anomaly_and_renewals_never_shorten() {
        let copy = Uuid::from_u128(50);
        let member = Uuid::from_u128(60);
        let loan = Uuid::from_u128(10);
        let events = vec![
            rec(
                10,
                1,
                Event::Loan {
                    copy_id: copy,
                    member_id: member,
                    lent_on: d(1),
                    due_on: d(8),
                    overridden: None,
                    village_id: None,
                },
            ),
            rec(11, 2, Event::Renewal { loan_id: loan, due_on: d(20) }),
            rec(12, 3, Event::Renewal { loan_id: loan, due_on: d(15) }),
        ];
        assert_eq!(fold(&events).open_loans[&loan].due_on, d(20));
        let mut returned = events.clone();
        returned.insert(1, rec(13, 1, Event::Return { loan_id: loan, copy_id: copy, returned_on: d(2) }));
        returned[1].hlc = Hlc::new(1, 1);
        let s = fold(&returned);
        assert!(s.open_loans.is_empty());
        assert_eq!(s.anomalies.len(), 2, "{:?}", s.anomalies);
    }

    #[test]
    fn a_copy_lent_twice_is_an_anomaly_and_both_loans_stay_open() {
        let copy = Uuid::from_u128(50);
        let events = vec![
            rec(
                10,
                1,
                Event::Loan {
                    copy_id: copy,
                    member_id: Uuid::from_u128(1),
                    lent_on: d(1),
                    due_on: d(8),
                    overridden: None,
                    village_id: None,
                },
            ),
            rec(
                11,
                2,
                Event::Loan {
                    copy_id: copy,
                    member_id: Uuid::from_u128(2),
                    lent_on: d(1),
                    due_on: d(8),
                    overridden: None,
                    village_id: None,
                },
            ),
        ];
        let s = fold(&events);
        assert_eq!(s.open_loans.len(), 2);
        assert_eq!(
            s.anomalies,
            vec![Anomaly::CopyLentTwice {
                copy_id: copy,
                open_loan: Uuid::from_u128(10),
                new_loan: Uuid::from_u128(11)
            }]
        );
    }

    /// A random but well-formed log over a few copies and members.
    fn arb_log() -> impl Strategy<Value = Vec<EventRecord>> {
        proptest::collection::vec((0u8..4, 0u128..4, 0u128..3, 0usize..64), 1..40).prop_map(|steps| {
            let mut log: Vec<EventRecord> = Vec::new();
            for (i, (kind, copy, member, pick)) in steps.into_iter().enumerate() {
                let id = 1000 + i as u128;
                let wall = i as i64 + 1;
                let copy_id = Uuid::from_u128(100 + copy);
                let loans: Vec<Uuid> =
                    log.iter().filter(|e| matches!(e.event, Event::Loan { .. })).map(|e| e.id).collect();
                let event = match kind {
                    0 => Event::Loan {
                        copy_id,
                        member_id: Uuid::from_u128(200 + member),
                        lent_on: d(1),
                        due_on: d(8),
                        overridden: None,
                        village_id: None,
                    },
                    1 if !loans.is_empty() => {
                        Event::Return { loan_id: loans[pick % loans.len()], copy_id, returned_on: d(5) }
                    }
                    2 if !loans.is_empty() => Event::Renewal { loan_id: loans[pick % loans.len()], due_on: d(15) },
                    3 if !log.is_empty() => {
                        Event::Void { target: log[pick % log.len()].id, reason: "اشتباه".into() }
                    }
                    _ => Event::Membership {
                        member_id: Uuid::from_u128(200 + member),
                        starts_on: d(1),
                        ends_on: d(28),
                        fee: Fee::Paid { amount_rials: 350_000, receipt_number: "1".into() },
                    },
                };
                log.push(rec(id, wall, event));
            }
            log
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::proptest_cases()))]

        #[test]
        fn the_fold_of_a_shuffled_log_with_duplicates_is_the_same(
            log in arb_log(),
            seed in any::<u64>(),
        ) {
            let mut shuffled = log.clone();
            // Deterministic shuffle and duplication from the seed.
            let mut x = seed | 1;
            for i in (1..shuffled.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                shuffled.swap(i, (x % (i as u64 + 1)) as usize);
            }
            let dup = shuffled[(x % shuffled.len() as u64) as usize].clone();
            shuffled.push(dup);
            prop_assert_eq!(fold(&log), fold(&shuffled));
        }

        #[test]
        fn a_void_is_as_if_the_event_had_not_happened(log in arb_log(), pick in any::<usize>()) {
            // Only logs without voids, so the comparison is exact.
            let log: Vec<EventRecord> =
                log.into_iter().filter(|e| !matches!(e.event, Event::Void { .. })).collect();
            prop_assume!(!log.is_empty());
            let target = log[pick % log.len()].clone();
            let mut with_void = log.clone();
            with_void.push(rec(9999, 10_000, Event::Void { target: target.id, reason: "اشتباه".into() }));
            let without: Vec<EventRecord> = log.iter().filter(|e| e.id != target.id).cloned().collect();
            let (a, b) = (fold(&with_void), fold(&without));
            prop_assert_eq!(a.open_loans, b.open_loans);
            prop_assert_eq!(a.memberships, b.memberships);
            prop_assert_eq!(a.copy_center, b.copy_center);
            // Both events are kept in the log.
            prop_assert!(with_void.iter().any(|e| e.id == target.id));
        }

        #[test]
        fn a_return_closes_exactly_one_loan(log in arb_log()) {
            let log: Vec<EventRecord> =
                log.into_iter().filter(|e| !matches!(e.event, Event::Void { .. })).collect();
            let before = fold(&log);
            if let Some(open) = before.open_loans.values().next().cloned() {
                let mut after_log = log.clone();
                after_log.push(rec(9999, 10_000, Event::Return { loan_id: open.loan_id, copy_id: open.copy_id, returned_on: d(9) }));
                let after = fold(&after_log);
                prop_assert_eq!(after.open_loans.len() + 1, before.open_loans.len());
                prop_assert!(!after.open_loans.contains_key(&open.loan_id));
            }
        }
    }
}
