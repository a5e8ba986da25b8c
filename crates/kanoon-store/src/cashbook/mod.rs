//! The center's cash book: payments taken with a receipt number this desk
//! issues (sequential, never reused), refunds as their own entries and
//! never more than was paid, a staff member's day closed and confirmed by
//! a manager, after which it cannot change; receipt numbers issued twice
//! are found and reported. The rules are the domain's
//! (`kanoon_domain::cashbook`); workshop tuition is `tuition`.

mod tuition;

pub use tuition::TuitionInput;

use chrono::NaiveDate;
use kanoon_domain::cashbook::{self, PaymentKind, PaymentMethod, ReceiptNumber, audit_receipts, day_totals};
use kanoon_domain::entities::Permission;
use kanoon_domain::jalali::{self, JalaliDate};
use kanoon_domain::text;
use kanoon_protocol::EntityKind;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::desk::Desk;
use crate::error::{Result, StoreError};
use crate::rows::cash::{self, CashData, ClosingData, StoredEntry};

/// Largest amount one entry may carry (ten billion rials): a slip of the
/// keyboard, not a payment.
const MAX_RIALS: i64 = 10_000_000_000;

/// A payment as staff enter it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PaymentInput {
    pub kind: PaymentKind,
    pub method: PaymentMethod,
    /// The card reader's reference number (a card payment needs it).
    pub pos_ref: Option<String>,
    pub amount_rials: i64,
    /// Who paid (a member's or a family's name).
    pub payer: String,
    pub member_id: Option<Uuid>,
}

/// One line of the cash book, as the window shows and prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CashEntryView {
    pub id: Uuid,
    /// «۱-۱۲» (desk, then number).
    pub receipt: String,
    pub kind: PaymentKind,
    pub kind_name: String,
    pub method: PaymentMethod,
    pub method_name: String,
    pub pos_ref: Option<String>,
    /// Negative for a refund.
    pub amount_rials: i64,
    pub payer: String,
    pub member_id: Option<Uuid>,
    /// For a refund: the payment it gives back.
    pub refund_of: Option<Uuid>,
    pub reason: Option<String>,
    pub staff_name: Option<String>,
    pub day_jalali: String,
    pub recorded_jalali: String,
    /// For a payment: what may still be refunded.
    pub refundable_rials: i64,
    /// Tuition: the workshop it is for.
    pub workshop_id: Option<Uuid>,
    pub workshop_title: Option<String>,
    pub participant_id: Option<Uuid>,
}

/// A day's total of one kind paid by one method.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DayTotalView {
    pub kind_name: String,
    pub method_name: String,
    pub count: u32,
    pub amount_rials: i64,
}

/// Who confirmed a closed day, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DayClosed {
    pub confirmed_by: Option<String>,
    pub at_jalali: String,
    /// The day's total as the manager confirmed it.
    pub confirmed_rials: i64,
}

/// A staff member's day of cash (صندوق).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CashDay {
    pub day: NaiveDate,
    pub day_jalali: String,
    pub staff_id: Uuid,
    pub entries: Vec<CashEntryView>,
    pub totals: Vec<DayTotalView>,
    pub cash_rials: i64,
    pub card_rials: i64,
    pub closed: Option<DayClosed>,
}

/// A receipt number issued twice, or one missing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReceiptProblem {
    /// `clash` or `gap`.
    pub code: String,
    pub receipt: String,
    pub entry_ids: Vec<Uuid>,
    pub message: String,
}

impl Desk {
    /// Takes a payment into the cash book with the next receipt number of
    /// this desk.
    pub fn take_payment(&mut self, input: PaymentInput) -> Result<CashEntryView> {
        let staff = self.require(Permission::TakePayments)?.clone();
        check_amount(input.amount_rials)?;
        let payer = text::clean_text(&input.payer);
        if payer.is_empty() {
            return Err(StoreError::InvalidInput("نام پرداخت‌کننده را بنویسید.".into()));
        }
        let pos_ref = pos_reference(input.method, input.pos_ref.as_deref())?;
        if let Some(m) = input.member_id {
            self.member(m)?;
        }
        self.record_entry(&staff, |receipt, day| CashData {
            receipt,
            day,
            kind: input.kind,
            method: input.method,
            pos_ref,
            amount_rials: input.amount_rials,
            payer,
            member_id: input.member_id,
            refund_of: None,
            reason: None,
            staff_name: Some(staff.full_name.clone()),
            workshop_id: None,
            participant_id: None,
        })
    }

    /// Gives back part or all of a payment (its own entry and receipt, on
    /// today's book of the signed-in staff member, by the payment's method),
    /// never more than is left of it.
    pub fn refund_payment(&mut self, payment_id: Uuid, amount_rials: i64, reason: &str) -> Result<CashEntryView> {
        let staff = self.require(Permission::TakePayments)?.clone();
        let reason = text::clean_text(reason);
        if reason.is_empty() {
            return Err(StoreError::InvalidInput("دلیل برگشت پول را بنویسید.".into()));
        }
        let paid = cash::entry(&self.conn, payment_id)?
            .filter(|e| e.refund_of.is_none())
            .ok_or_else(|| StoreError::NotFound("این پرداخت در دفتر صندوق پیدا نشد.".into()))?;
        cashbook::check_refund(paid.entry.amount_rials, cash::refunded(&self.conn, payment_id)?, amount_rials)?;
        self.record_entry(&staff, |receipt, day| CashData {
            receipt,
            day,
            kind: paid.entry.kind,
            method: paid.entry.method,
            pos_ref: None,
            amount_rials,
            payer: paid.payer.clone(),
            member_id: paid.member_id,
            refund_of: Some(payment_id),
            reason: Some(reason),
            staff_name: Some(staff.full_name.clone()),
            workshop_id: paid.workshop_id,
            participant_id: paid.participant_id,
        })
    }

    /// Records one entry on today's book of `staff` (refused once the day
    /// is closed) with the next receipt number of this desk: a payment, or
    /// a refund when the entry names the payment it gives back.
    fn record_entry(
        &mut self,
        staff: &kanoon_domain::entities::Staff,
        entry: impl FnOnce(ReceiptNumber, NaiveDate) -> CashData,
    ) -> Result<CashEntryView> {
        let today = self.today();
        self.check_day_open(staff.id, today)?;
        let id = Uuid::now_v7();
        let desk = self.identity.as_ref().ok_or(StoreError::NotSetUp)?.desk_number;
        self.write(|w| {
            let data = entry(cash::next_receipt(&w.tx, desk)?, today);
            let refund = data.refund_of.is_some();
            let kind = if refund { cash::REFUND } else { cash::PAYMENT };
            let stamp = w.service_event(EntityKind::CASH, id, kind, serde_json::to_value(&data)?)?;
            cash::insert_entry(&w.tx, id, refund, &data, &stamp, &mut Vec::new())
        })?;
        self.cash_entry(id)
    }

    /// One entry, as its receipt prints it.
    pub fn cash_entry(&self, id: Uuid) -> Result<CashEntryView> {
        self.signed()?;
        let e = cash::entry(&self.conn, id)?.ok_or_else(|| StoreError::NotFound("این رسید پیدا نشد.".into()))?;
        self.entry_view(e)
    }

    /// A staff member's day: every entry, totals by kind and method, and
    /// whether it is closed. Staff see their own; a manager anyone's.
    pub fn cash_day(&self, staff_id: Uuid, day: NaiveDate) -> Result<CashDay> {
        let me = self.signed()?;
        if me.id != staff_id {
            self.require(Permission::CloseCash)?;
        }
        let entries = cash::entries_where(&self.conn, "day = ?1", &day.to_string())?;
        let mine: Vec<StoredEntry> = entries.into_iter().filter(|e| e.entry.staff_id == staff_id).collect();
        let totals = day_totals(mine.iter().map(|e| &e.entry), staff_id, day);
        let by = |m: PaymentMethod| mine.iter().filter(|e| e.entry.method == m).map(|e| e.entry.amount_rials).sum();
        let closed = cash::closing_of(&self.conn, staff_id, day)?.map(|c| DayClosed {
            confirmed_by: c.confirmed_by,
            at_jalali: crate::sql::parse_time(&c.at).map(jalali::format_tehran_datetime).unwrap_or_default(),
            confirmed_rials: c.totals.iter().map(|t| t.amount_rials).sum(),
        });
        Ok(CashDay {
            day,
            day_jalali: JalaliDate::from_gregorian(day).to_persian_string(),
            staff_id,
            cash_rials: by(PaymentMethod::Cash),
            card_rials: by(PaymentMethod::Card),
            totals: totals
                .iter()
                .map(|t| DayTotalView {
                    kind_name: t.kind.persian().to_owned(),
                    method_name: t.method.persian().to_owned(),
                    count: t.count,
                    amount_rials: t.amount_rials,
                })
                .collect(),
            entries: mine.into_iter().map(|e| self.entry_view(e)).collect::<Result<_>>()?,
            closed,
        })
    }

    /// A manager confirms a staff member's day as closed, with its totals:
    /// from then on nothing is recorded on it.
    pub fn close_cash_day(&mut self, staff_id: Uuid, day: NaiveDate) -> Result<CashDay> {
        let manager = self.require(Permission::CloseCash)?.clone();
        if day > self.today() {
            return Err(StoreError::InvalidInput("روزی را که هنوز نرسیده نمی‌توان بست.".into()));
        }
        if cash::closing_of(&self.conn, staff_id, day)?.is_some() {
            return Err(StoreError::Conflict("صندوق این روز پیش‌تر بسته و تأیید شده است.".into()));
        }
        let entries = cash::entries_where(&self.conn, "day = ?1", &day.to_string())?;
        let totals = day_totals(entries.iter().map(|e| &e.entry), staff_id, day);
        let staff_name = entries
            .iter()
            .find(|e| e.entry.staff_id == staff_id)
            .and_then(|e| e.staff_name.clone())
            .or(self.staff_name_of(staff_id)?);
        let data =
            ClosingData { staff_id, staff_name, day, totals, confirmed_by_name: Some(manager.full_name.clone()) };
        self.write(|w| {
            let id = Uuid::now_v7();
            let stamp = w.service_event(EntityKind::CASH_CLOSING, id, cash::CLOSED, serde_json::to_value(&data)?)?;
            cash::insert_closing(&w.tx, id, &data, &stamp)
        })?;
        self.cash_day(staff_id, day)
    }

    /// Receipt numbers issued twice and numbers missing (a manager's
    /// check; clashes also arrive as sync exceptions).
    pub fn receipt_problems(&self) -> Result<Vec<ReceiptProblem>> {
        self.require(Permission::CloseCash)?;
        let all = cash::entries_where(&self.conn, "1 = 1 OR ?1 = ''", "")?;
        let audit = audit_receipts(all.iter().map(|e| &e.entry));
        let mut out = Vec::new();
        for (number, ids) in audit.clashes {
            out.push(ReceiptProblem {
                code: "clash".into(),
                receipt: number.printed(),
                message: format!(
                    "رسید شمارهٔ {} دو بار صادر شده است (دو رایانه با یک شمارهٔ میز، یا بازگردانی از پشتیبان قدیمی)؛ هر دو پرداخت نگه داشته شده‌اند.",
                    number.printed()
                ),
                entry_ids: ids,
            });
        }
        for number in audit.gaps {
            out.push(ReceiptProblem {
                code: "gap".into(),
                receipt: number.printed(),
                message: format!("رسید شمارهٔ {} در دفتر نیست.", number.printed()),
                entry_ids: Vec::new(),
            });
        }
        Ok(out)
    }

    fn check_day_open(&self, staff: Uuid, day: NaiveDate) -> Result<()> {
        if cash::closing_of(&self.conn, staff, day)?.is_some() {
            return Err(kanoon_domain::DomainError::DayClosed(day).into());
        }
        Ok(())
    }

    fn staff_name_of(&self, id: Uuid) -> Result<Option<String>> {
        use crate::rows::Record;
        Ok(crate::rows::staff::StaffRecord::load(&self.conn, id)?.map(|(s, _)| s.full_name))
    }

    fn entry_view(&self, e: StoredEntry) -> Result<CashEntryView> {
        let refundable = if e.refund_of.is_none() {
            (e.entry.amount_rials - cash::refunded(&self.conn, e.entry.id)?).max(0)
        } else {
            0
        };
        Ok(CashEntryView {
            id: e.entry.id,
            receipt: e.entry.receipt.printed(),
            kind: e.entry.kind,
            kind_name: e.entry.kind.persian().to_owned(),
            method: e.entry.method,
            method_name: e.entry.method.persian().to_owned(),
            pos_ref: e.pos_ref,
            amount_rials: e.entry.amount_rials,
            payer: e.payer,
            member_id: e.member_id,
            refund_of: e.refund_of,
            reason: e.reason,
            staff_name: e.staff_name,
            day_jalali: JalaliDate::from_gregorian(e.entry.day).to_persian_string(),
            recorded_jalali: crate::sql::parse_time(&e.at).map(jalali::format_tehran_datetime).unwrap_or_default(),
            refundable_rials: refundable,
            workshop_title: match e.workshop_id {
                Some(w) => {
                    use crate::rows::Record;
                    crate::rows::workshop::WorkshopRecord::load(&self.conn, w)?.map(|(r, _)| r.title)
                }
                None => None,
            },
            workshop_id: e.workshop_id,
            participant_id: e.participant_id,
        })
    }
}

fn check_amount(amount: i64) -> Result<()> {
    if amount <= 0 {
        return Err(kanoon_domain::DomainError::NotPositive.into());
    }
    if amount > MAX_RIALS {
        return Err(StoreError::InvalidInput(format!(
            "مبلغ {} ریال بیش از اندازه است؛ مبلغ را دوباره بنویسید.",
            text::format_rials(amount)
        )));
    }
    Ok(())
}

/// A card payment's reference number (digits), required; none for cash.
fn pos_reference(method: PaymentMethod, input: Option<&str>) -> Result<Option<String>> {
    let digits: String = text::to_ascii_digits(input.unwrap_or("")).chars().filter(|c| !c.is_whitespace()).collect();
    match method {
        PaymentMethod::Cash => Ok(None),
        PaymentMethod::Card if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) => {
            Err(StoreError::InvalidInput("شمارهٔ پیگیری کارت‌خوان را از رسید دستگاه بنویسید (فقط رقم).".into()))
        }
        PaymentMethod::Card => Ok(Some(digits)),
    }
}
