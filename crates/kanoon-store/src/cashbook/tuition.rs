//! Workshop tuition in the cash book: paid in full or by installments (a
//! payment never more than is still owed), and given back after a
//! withdrawal by the workshop's refund rule, or all of it once the
//! workshop is cancelled.

use kanoon_domain::cashbook::{PaymentKind, PaymentMethod};
use kanoon_domain::entities::Permission;
use kanoon_domain::text;
use kanoon_domain::workshops::Standing;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{CashEntryView, check_amount, pos_reference};
use crate::desk::Desk;
use crate::error::{Result, StoreError};
use crate::rows::cash::{self, CashData};
use crate::rows::load_existing;
use crate::rows::workshop::{self as rows, ParticipantRecord, Position, WorkshopRecord};

/// A tuition payment as staff enter it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TuitionInput {
    pub workshop_id: Uuid,
    pub participant_id: Uuid,
    pub method: PaymentMethod,
    pub pos_ref: Option<String>,
    pub amount_rials: i64,
}

impl Desk {
    /// Takes tuition (in full, or one installment) for a participant who
    /// holds a place; never more than is still owed.
    pub fn pay_tuition(&mut self, input: TuitionInput) -> Result<CashEntryView> {
        let staff = self.require(Permission::TakePayments)?.clone();
        check_amount(input.amount_rials)?;
        let pos_ref = pos_reference(input.method, input.pos_ref.as_deref())?;
        let (w, p, pos) = self.tuition_position(input.workshop_id, input.participant_id)?;
        if w.cancelled.is_some() {
            return Err(StoreError::Conflict("این کارگاه لغو شده است؛ شهریه گرفته نمی‌شود.".into()));
        }
        match pos.standing {
            Some(Standing::Enrolled | Standing::Offered) => {}
            Some(Standing::Waiting) => {
                return Err(StoreError::Conflict(
                    "این شرکت‌کننده در فهرست انتظار است؛ شهریه پس از گرفتن جا پرداخت می‌شود.".into(),
                ));
            }
            _ => return Err(StoreError::Conflict("این شرکت‌کننده در این کارگاه ثبت‌نام ندارد.".into())),
        }
        if pos.balance_rials == 0 {
            return Err(StoreError::Conflict("شهریهٔ این شرکت‌کننده کامل پرداخت شده است.".into()));
        }
        if input.amount_rials > pos.balance_rials {
            return Err(StoreError::InvalidInput(format!(
                "مبلغ {} ریال بیش از بدهی ({} ریال) است.",
                text::format_rials(input.amount_rials),
                text::format_rials(pos.balance_rials)
            )));
        }
        if pos.installments <= 1 && input.amount_rials != pos.balance_rials {
            return Err(StoreError::InvalidInput(format!(
                "شهریهٔ این ثبت‌نام یک‌جا پرداخت می‌شود: {} ریال.",
                text::format_rials(pos.balance_rials)
            )));
        }
        let kind = if pos.paid_rials == 0 && input.amount_rials == pos.owed_rials {
            PaymentKind::Tuition
        } else {
            PaymentKind::Installment
        };
        let payer = payer_of(&p);
        self.record_entry(&staff, |receipt, day| CashData {
            receipt,
            day,
            kind,
            method: input.method,
            pos_ref,
            amount_rials: input.amount_rials,
            payer,
            member_id: p.member_id,
            refund_of: None,
            reason: None,
            staff_name: Some(staff.full_name.clone()),
            workshop_id: Some(input.workshop_id),
            participant_id: Some(input.participant_id),
        })
    }

    /// Gives back what a participant who withdrew (or whose workshop was
    /// cancelled) is owed, on today's book of the signed-in staff member:
    /// one refund entry per payment, latest payment first.
    pub fn refund_tuition(&mut self, workshop_id: Uuid, participant_id: Uuid) -> Result<Vec<CashEntryView>> {
        let staff = self.require(Permission::TakePayments)?.clone();
        let (w, p, pos) = self.tuition_position(workshop_id, participant_id)?;
        if pos.refund_due_rials == 0 {
            return Err(StoreError::Conflict("چیزی برای برگرداندن به این شرکت‌کننده نمانده است.".into()));
        }
        let reason = match &w.cancelled {
            Some(why) => format!("لغو کارگاه «{}»: {why}", w.title),
            None => format!("انصراف از کارگاه «{}»", w.title),
        };
        let mut due = pos.refund_due_rials;
        let mut out = Vec::new();
        let payments = cash::of_participant(&self.conn, workshop_id, participant_id)?;
        for paid in payments.iter().rev().filter(|e| e.refund_of.is_none()) {
            if due == 0 {
                break;
            }
            let left = paid.entry.amount_rials - cash::refunded(&self.conn, paid.entry.id)?;
            let amount = left.min(due);
            if amount <= 0 {
                continue;
            }
            due -= amount;
            out.push(self.record_entry(&staff, |receipt, day| CashData {
                receipt,
                day,
                kind: paid.entry.kind,
                method: paid.entry.method,
                pos_ref: None,
                amount_rials: amount,
                payer: payer_of(&p),
                member_id: p.member_id,
                refund_of: Some(paid.entry.id),
                reason: Some(reason.clone()),
                staff_name: Some(staff.full_name.clone()),
                workshop_id: Some(workshop_id),
                participant_id: Some(participant_id),
            })?);
        }
        Ok(out)
    }

    fn tuition_position(
        &self,
        workshop_id: Uuid,
        participant_id: Uuid,
    ) -> Result<(WorkshopRecord, ParticipantRecord, Position)> {
        let (w, _) = load_existing::<WorkshopRecord>(&self.conn, workshop_id, "این کارگاه پیدا نشد.")?;
        let (p, _) = load_existing::<ParticipantRecord>(&self.conn, participant_id, "این شرکت‌کننده پیدا نشد.")?;
        let (roster, events) = rows::roster_of(&self.conn, workshop_id)?;
        let pos = rows::position(&self.conn, workshop_id, &w, participant_id, &roster, &events)?;
        Ok((w, p, pos))
    }
}

/// Who pays for a participant: the guardian when named, with the child.
fn payer_of(p: &ParticipantRecord) -> String {
    if p.guardian_name.is_empty() {
        p.full_name.clone()
    } else {
        format!("{} (ولی {})", p.guardian_name, p.full_name)
    }
}
