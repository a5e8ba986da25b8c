//! The postal center's parcels: books sent to a member by post as ordinary
//! loans due at the parcel's expected return, received back one by one,
//! or lost in the post (the loan closes, the copy is withdrawn as lost,
//! the member is neither charged nor blocked).

use std::collections::BTreeSet;

use kanoon_domain::DomainError;
use kanoon_domain::circulation::Event;
use kanoon_domain::entities::{Permission, WithdrawReason};
use kanoon_domain::parcels::{self, PostalRule};
use kanoon_domain::text;
use kanoon_protocol::EntityKind;
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use super::{ParcelBookState, ParcelBookView, ParcelInput, ParcelView, jalali};
use crate::catalog::{CopyStatus, change_copy};
use crate::circulation::record_loan;
use crate::desk::Desk;
use crate::error::{Result, StoreError};
use crate::rows::outreach::{self as rows, ParcelBookData, ParcelOutcome, ParcelSent};
use crate::sql::{parse_date, parse_uuid};
use kanoon_domain::entities::normalize_registration_number;

const PARCEL_MISSING: &str = "این بسته پیدا نشد؛ فهرست بسته‌ها را دوباره باز کنید.";
/// Highest postage staff may type (rials): a typo's guard, ~100× a parcel's.
const MAX_POSTAGE_RIALS: i64 = 100_000_000;

impl Desk {
    /// Sends a parcel: each book is lent to the member, due at the
    /// parcel's expected return (the postal rule's loan days).
    pub fn send_parcel(&mut self, input: ParcelInput) -> Result<ParcelView> {
        self.require(Permission::ServeVillages)?;
        self.require(Permission::LoanDesk)?;
        self.check_circulation_clock()?;
        let member = self.member(input.member_id)?;
        if member.merged_into.is_some() {
            return Err(StoreError::Conflict(
                "این پرونده عضو با پرونده دیگری ادغام شده است؛ عضو را دوباره پیدا کنید.".into(),
            ));
        }
        if !(0..=MAX_POSTAGE_RIALS).contains(&input.postage_rials) {
            return Err(StoreError::InvalidInput("هزینهٔ پست را به ریال و درست بنویسید.".into()));
        }
        let tracking = text::to_ascii_digits(&text::clean_text(&input.tracking_number));
        if tracking.chars().count() > parcels::MAX_TRACKING_CHARS {
            return Err(StoreError::InvalidInput("کد رهگیری بیش از اندازه بلند است.".into()));
        }
        let rule = PostalRule::default();
        let mut copies = Vec::new();
        let mut out = BTreeSet::new();
        for raw in &input.registration_numbers {
            let copy = self.copy_by_registration_number(raw)?;
            match copy.status {
                CopyStatus::Available => {}
                CopyStatus::OnLoan { .. } => {
                    out.insert(copy.id);
                }
                _ => {
                    return Err(StoreError::Conflict(format!(
                        "کتاب با شماره ثبت «{}» در قفسه نیست و نمی‌توان آن را فرستاد.",
                        text::to_persian_digits(&copy.registration_number)
                    )));
                }
            }
            copies.push((copy.id, copy.registration_number));
        }
        let ids: Vec<Uuid> = copies.iter().map(|(id, _)| *id).collect();
        parcels::check_copies(&ids, rule.parcel_size, &out).map_err(|e| match e {
            DomainError::CopyOut(id) | DomainError::CopyTwiceInParcel(id) => {
                let number = copies.iter().find(|(c, _)| *c == id).map(|(_, n)| n.as_str()).unwrap_or_default();
                let why = if matches!(e, DomainError::CopyOut(_)) {
                    "در امانت است"
                } else {
                    "دو بار آمده است"
                };
                StoreError::Conflict(format!("کتاب با شماره ثبت «{}» {why}.", text::to_persian_digits(number)))
            }
            other => other.into(),
        })?;
        let id = Uuid::now_v7();
        let member_id = member.id;
        let closed = self.reference()?.policy.closed.clone();
        self.write(|w| {
            let today = w.today();
            let expected_on = closed.due_date(today, rule.loan_days);
            let mut books = Vec::with_capacity(ids.len());
            for copy_id in &ids {
                let loan_id = record_loan(w, *copy_id, member_id, today, expected_on, None, None)?;
                books.push(ParcelBookData { copy_id: *copy_id, loan_id });
            }
            let data = ParcelSent {
                member_id,
                books,
                dispatched_on: today,
                expected_on,
                postage_rials: input.postage_rials,
                tracking,
            };
            let stamp = w.service_event(EntityKind::PARCEL, id, rows::SENT, serde_json::to_value(&data)?)?;
            rows::insert_parcel(&w.tx, id, &data, &stamp)
        })?;
        self.parcel(id)
    }

    /// A book of a parcel came back: its loan closes (a book recorded lost
    /// that arrives after all goes back on the shelf).
    pub fn receive_parcel_book(&mut self, parcel_id: Uuid, registration_number: &str) -> Result<ParcelView> {
        self.require(Permission::ServeVillages)?;
        self.check_circulation_clock()?;
        let (copy_id, loan_id, state) = self.parcel_book(parcel_id, registration_number)?;
        if state == ParcelBookState::Received {
            return Err(StoreError::Conflict("بازگشت این کتاب پیش‌تر ثبت شده است.".into()));
        }
        let loan_open = self.loan_is_open(loan_id)?;
        self.write(|w| {
            let on = w.today();
            if loan_open {
                w.event(Uuid::now_v7(), Event::Return { loan_id, copy_id, returned_on: on })?;
                w.tx.prepare_cached("DELETE FROM open_loans WHERE loan_id = ?1")?.execute([loan_id.to_string()])?;
            }
            if state == ParcelBookState::Lost {
                change_copy(w, copy_id, |c| c.withdrawn = None)?;
            }
            outcome(w, rows::RECEIVED, ParcelOutcome { parcel_id, copy_id, on })
        })?;
        self.parcel(parcel_id)
    }

    /// A book of a parcel was lost in the post: its loan closes with no
    /// lateness, the copy is withdrawn as lost, and the member is neither
    /// charged nor blocked for it.
    pub fn lose_parcel_book(&mut self, parcel_id: Uuid, registration_number: &str) -> Result<ParcelView> {
        self.require(Permission::ServeVillages)?;
        self.check_circulation_clock()?;
        let (copy_id, loan_id, state) = self.parcel_book(parcel_id, registration_number)?;
        if state != ParcelBookState::Out || !self.loan_is_open(loan_id)? {
            return Err(StoreError::Conflict("این کتاب دیگر در راه نیست؛ نمی‌توان آن را گم‌شده ثبت کرد.".into()));
        }
        self.write(|w| {
            let on = w.today();
            w.event(Uuid::now_v7(), Event::Return { loan_id, copy_id, returned_on: on })?;
            w.tx.prepare_cached("DELETE FROM open_loans WHERE loan_id = ?1")?.execute([loan_id.to_string()])?;
            change_copy(w, copy_id, |c| c.withdrawn = Some(WithdrawReason::Lost))?;
            outcome(w, rows::LOST, ParcelOutcome { parcel_id, copy_id, on })
        })?;
        self.parcel(parcel_id)
    }

    /// The parcels of a member (or every member's), latest first; open
    /// ones only when `open_only`.
    pub fn parcels(&self, member_id: Option<Uuid>, open_only: bool) -> Result<Vec<ParcelView>> {
        self.signed()?;
        let ids: Vec<String> = self
            .conn
            .prepare_cached(
                "SELECT id FROM parcels WHERE ?1 IS NULL OR member_id = ?1 ORDER BY dispatched_on DESC, hlc DESC
                 LIMIT 500",
            )?
            .query_map([member_id.map(|m| m.to_string())], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::new();
        for id in ids {
            let p = self.parcel(parse_uuid(&id)?)?;
            if !open_only || p.open {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// One parcel, with where each of its books is.
    pub fn parcel(&self, id: Uuid) -> Result<ParcelView> {
        self.signed()?;
        let row: Option<(String, String, String, i64, String)> = self
            .conn
            .prepare_cached(
                "SELECT member_id, dispatched_on, expected_on, postage_rials, tracking FROM parcels WHERE id = ?1",
            )?
            .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .optional()?;
        let (member_id, dispatched, expected, postage_rials, tracking_number) =
            row.ok_or_else(|| StoreError::NotFound(PARCEL_MISSING.into()))?;
        let member = self.member(parse_uuid(&member_id)?)?;
        let (dispatched_on, expected_on) = (parse_date(&dispatched)?, parse_date(&expected)?);
        let mut stmt = self.conn.prepare_cached(
            "SELECT b.copy_id, c.registration_number, t.title,
                    EXISTS (SELECT 1 FROM open_loans o WHERE o.loan_id = b.loan_id),
                    (SELECT o.outcome || ' ' || o.on_day FROM parcel_outcomes o
                     WHERE o.parcel_id = b.parcel_id AND o.copy_id = b.copy_id ORDER BY o.hlc DESC LIMIT 1)
             FROM parcel_books b JOIN copies c ON c.id = b.copy_id JOIN titles t ON t.id = c.title_id
             WHERE b.parcel_id = ?1 ORDER BY c.registration_number",
        )?;
        let rows = stmt.query_map([id.to_string()], |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get::<_, bool>(3)?, r.get::<_, Option<String>>(4)?))
        })?;
        let mut books = Vec::new();
        for row in rows {
            let (copy_id, registration_number, title, open, last) = row?;
            let (state, on) = match last.as_deref().and_then(|l| l.split_once(' ')) {
                Some((rows::LOST, on)) if !open => (ParcelBookState::Lost, Some(parse_date(on)?)),
                Some((_, on)) if !open => (ParcelBookState::Received, Some(parse_date(on)?)),
                // Returned at the loan desk, not from this parcel's screen.
                _ if !open => (ParcelBookState::Received, None),
                _ => (ParcelBookState::Out, None),
            };
            books.push(ParcelBookView {
                copy_id: parse_uuid(&copy_id)?,
                registration_number,
                title,
                state,
                on_jalali: on.map(jalali),
            });
        }
        let open = books.iter().any(|b| b.state == ParcelBookState::Out);
        Ok(ParcelView {
            id,
            member_id: member.id,
            member_name: member.full_name,
            member_number: member.member_number,
            address: member.details.address,
            dispatched_on,
            dispatched_jalali: jalali(dispatched_on),
            expected_on,
            expected_jalali: jalali(expected_on),
            postage_rials,
            tracking_number,
            books,
            open,
            overdue: open && self.today() > expected_on,
        })
    }

    /// A book of a parcel by its registration number: (copy, loan, state).
    fn parcel_book(&self, parcel_id: Uuid, registration_number: &str) -> Result<(Uuid, Uuid, ParcelBookState)> {
        let parcel = self.parcel(parcel_id)?;
        let number = normalize_registration_number(registration_number);
        let book = parcel.books.iter().find(|b| b.registration_number == number).ok_or_else(|| {
            StoreError::NotFound(format!("کتاب با شماره ثبت «{}» در این بسته نیست.", text::to_persian_digits(&number)))
        })?;
        let loan: String = self
            .conn
            .prepare_cached("SELECT loan_id FROM parcel_books WHERE parcel_id = ?1 AND copy_id = ?2")?
            .query_row(params![parcel_id.to_string(), book.copy_id.to_string()], |r| r.get(0))?;
        Ok((book.copy_id, parse_uuid(&loan)?, book.state))
    }

    fn loan_is_open(&self, loan_id: Uuid) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM open_loans WHERE loan_id = ?1)")?
            .query_row([loan_id.to_string()], |r| r.get(0))?)
    }
}

fn outcome(w: &mut crate::write::Write<'_>, kind: &str, o: ParcelOutcome) -> Result<()> {
    let id = Uuid::now_v7();
    let stamp = w.service_event(EntityKind::PARCEL, id, kind, serde_json::to_value(o)?)?;
    rows::insert_outcome(&w.tx, id, kind, &o, &stamp)
}
