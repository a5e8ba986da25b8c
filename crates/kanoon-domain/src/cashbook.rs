//! The center's cash book (issue 13): every payment the desk takes and
//! every refund is an event with its amount in rials, its method and a
//! receipt number the desk issues; a staff member's day is closed (صندوق)
//! with totals a manager confirms, and a closed day never changes — a
//! mistake is reversed by a new entry on an open day.
//!
//! Receipt numbers are sequential per desk (`ReceiptNumber`), so two PCs
//! set up with one desk number, or a desk restored from an older backup,
//! issue a number twice: `audit_receipts` finds every such clash (and any
//! gap) from the entries, as member-number clashes are found, never
//! silently.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::DomainError;
use crate::text::to_persian_digits;

/// What a payment was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum PaymentKind {
    MembershipFee,
    Tuition,
    /// One installment of a workshop's tuition.
    Installment,
    /// A lost book replaced, where the center charges it.
    LostBook,
}

/// How it was paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    Cash,
    /// The card reader (POS); the entry keeps the reader's reference number.
    Card,
}

impl PaymentKind {
    pub const ALL: [PaymentKind; 4] =
        [PaymentKind::MembershipFee, PaymentKind::Tuition, PaymentKind::Installment, PaymentKind::LostBook];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentKind::MembershipFee => "membership_fee",
            PaymentKind::Tuition => "tuition",
            PaymentKind::Installment => "installment",
            PaymentKind::LostBook => "lost_book",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// As staff read it on a receipt.
    pub fn persian(self) -> &'static str {
        match self {
            PaymentKind::MembershipFee => "حق عضویت",
            PaymentKind::Tuition => "شهریهٔ کارگاه",
            PaymentKind::Installment => "قسط شهریهٔ کارگاه",
            PaymentKind::LostBook => "بهای کتاب گم‌شده",
        }
    }
}

impl PaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Cash => "cash",
            PaymentMethod::Card => "card",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentMethod> {
        [PaymentMethod::Cash, PaymentMethod::Card].into_iter().find(|m| m.as_str() == s)
    }

    pub fn persian(self) -> &'static str {
        match self {
            PaymentMethod::Cash => "نقدی",
            PaymentMethod::Card => "کارت‌خوان",
        }
    }
}

/// A receipt's number: the desk that issued it and its place in that
/// desk's sequence (from 1, no gaps).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReceiptNumber {
    pub desk: u8,
    pub seq: u32,
}

impl ReceiptNumber {
    /// The next number of `desk` after the highest it has issued.
    pub fn next(desk: u8, last: Option<u32>) -> Option<ReceiptNumber> {
        let seq = match last {
            None => 1,
            Some(n) => n.checked_add(1)?,
        };
        Some(ReceiptNumber { desk, seq })
    }

    /// As printed: «۲-۱۴۵» (desk, then number).
    pub fn printed(&self) -> String {
        to_persian_digits(&format!("{}-{}", self.desk, self.seq))
    }
}

/// One line of the cash book: a payment (amount > 0) or a refund or
/// reversal (amount < 0), each with its own receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashEntry {
    pub id: Uuid,
    pub receipt: ReceiptNumber,
    pub staff_id: Uuid,
    /// The day it counts in (the desk's Asia/Tehran date when taken).
    pub day: NaiveDate,
    pub kind: PaymentKind,
    pub method: PaymentMethod,
    pub amount_rials: i64,
}

/// Receipt numbers issued twice, and numbers missing, per desk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReceiptAudit {
    /// (number, the entries that carry it): two or more each.
    pub clashes: Vec<(ReceiptNumber, Vec<Uuid>)>,
    /// Numbers of a desk below its highest that no entry carries.
    pub gaps: Vec<ReceiptNumber>,
}

/// Checks the receipt numbers of a center's cash book (one entry per id:
/// an entry seen twice through sync is one entry).
pub fn audit_receipts<'a>(entries: impl IntoIterator<Item = &'a CashEntry>) -> ReceiptAudit {
    let mut by_number: BTreeMap<ReceiptNumber, BTreeSet<Uuid>> = BTreeMap::new();
    for e in entries {
        by_number.entry(e.receipt).or_default().insert(e.id);
    }
    let mut audit = ReceiptAudit::default();
    let mut highest: BTreeMap<u8, u32> = BTreeMap::new();
    for (number, ids) in &by_number {
        if ids.len() > 1 {
            audit.clashes.push((*number, ids.iter().copied().collect()));
        }
        let h = highest.entry(number.desk).or_default();
        *h = (*h).max(number.seq);
    }
    for (desk, top) in highest {
        for seq in 1..top {
            let number = ReceiptNumber { desk, seq };
            if !by_number.contains_key(&number) {
                audit.gaps.push(number);
            }
        }
    }
    audit
}

/// A staff member's day, closed and confirmed by a manager.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayClosing {
    pub staff_id: Uuid,
    pub day: NaiveDate,
    pub confirmed_by: Uuid,
    /// The totals the manager confirmed (`day_totals` then).
    pub totals: Vec<DayTotal>,
}

/// One total of a day: a kind paid by a method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTotal {
    pub kind: PaymentKind,
    pub method: PaymentMethod,
    pub count: u32,
    pub amount_rials: i64,
}

/// A staff member's totals for a day, by kind and method (refunds and
/// reversals count against their kind).
pub fn day_totals<'a>(
    entries: impl IntoIterator<Item = &'a CashEntry>,
    staff_id: Uuid,
    day: NaiveDate,
) -> Vec<DayTotal> {
    let mut sums: BTreeMap<(PaymentKind, PaymentMethod), (u32, i64)> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for e in entries {
        if e.staff_id == staff_id && e.day == day && seen.insert(e.id) {
            let s = sums.entry((e.kind, e.method)).or_default();
            s.0 += 1;
            s.1 += e.amount_rials;
        }
    }
    sums.into_iter()
        .map(|((kind, method), (count, amount_rials))| DayTotal { kind, method, count, amount_rials })
        .collect()
}

/// Whether `staff_id` may still record on `day`: not once it is closed.
pub fn check_open(closings: &[DayClosing], staff_id: Uuid, day: NaiveDate) -> Result<(), DomainError> {
    if closings.iter().any(|c| c.staff_id == staff_id && c.day == day) {
        return Err(DomainError::DayClosed(day));
    }
    Ok(())
}

/// Checks a refund of `amount` against what was paid and already refunded
/// for the same thing: never more back than was paid.
pub fn check_refund(paid_rials: i64, refunded_rials: i64, amount_rials: i64) -> Result<(), DomainError> {
    if amount_rials <= 0 {
        return Err(DomainError::NotPositive);
    }
    let left = (paid_rials - refunded_rials).max(0);
    if amount_rials > left {
        return Err(DomainError::RefundTooLarge(amount_rials, left));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use proptest::prelude::*;

    use super::*;

    fn entry(desk: u8, seq: u32, staff: Uuid, amount: i64) -> CashEntry {
        CashEntry {
            id: Uuid::now_v7(),
            receipt: ReceiptNumber { desk, seq },
            staff_id: staff,
            day: NaiveDate::from_ymd_opt(2026, 12, 6).unwrap(),
            kind: PaymentKind::Tuition,
            method: PaymentMethod::Cash,
            amount_rials: amount,
        }
    }

    #[test]
    fn a_restored_desk_issuing_a_number_again_is_a_clash_not_a_silent_overwrite() {
        let staff = Uuid::now_v7();
        let mut book: Vec<CashEntry> = (1..=5).map(|n| entry(1, n, staff, 100)).collect();
        // Restored from the backup taken after receipt 3: issues 4 again.
        book.push(entry(1, 4, staff, 250));
        let audit = audit_receipts(&book);
        assert_eq!(audit.clashes.len(), 1);
        assert_eq!(audit.clashes[0].0, ReceiptNumber { desk: 1, seq: 4 });
        assert!(audit.gaps.is_empty());
        // The same entry arriving twice through sync is no clash.
        let again = book[0].clone();
        book.push(again);
        assert_eq!(audit_receipts(&book).clashes.len(), 1);
    }

    #[test]
    fn a_closed_day_refuses_entries_and_refunds_stop_at_what_was_paid() {
        let staff = Uuid::now_v7();
        let day = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let closing = DayClosing { staff_id: staff, day, confirmed_by: Uuid::now_v7(), totals: vec![] };
        assert_eq!(check_open(std::slice::from_ref(&closing), staff, day), Err(DomainError::DayClosed(day)));
        assert!(check_open(&[closing], Uuid::now_v7(), day).is_ok());
        assert!(check_refund(1_000_000, 400_000, 600_000).is_ok());
        assert_eq!(check_refund(1_000_000, 400_000, 600_001), Err(DomainError::RefundTooLarge(600_001, 600_000)));
        assert_eq!(ReceiptNumber { desk: 2, seq: 145 }.printed(), "۲-۱۴۵");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::proptest_cases()))]

        /// A desk that numbers each receipt after its highest issues them
        /// unique and gap-free, whatever the desks' interleaving.
        #[test]
        fn receipts_numbered_by_each_desk_are_unique_and_gap_free(desks in prop::collection::vec(1u8..4, 0..80)) {
            let staff = Uuid::now_v7();
            let mut last: BTreeMap<u8, u32> = BTreeMap::new();
            let mut book = Vec::new();
            for desk in desks {
                let number = ReceiptNumber::next(desk, last.get(&desk).copied()).unwrap();
                last.insert(desk, number.seq);
                book.push(CashEntry { receipt: number, ..entry(desk, 0, staff, 1) });
            }
            let audit = audit_receipts(&book);
            prop_assert!(audit.clashes.is_empty());
            prop_assert!(audit.gaps.is_empty());
        }

        /// The day's totals add up to the entries of that staff member and
        /// day, each counted once.
        #[test]
        fn day_totals_equal_the_entries(amounts in prop::collection::vec((-5_000i64..50_000, any::<bool>(), any::<bool>()), 0..40)) {
            let (me, other) = (Uuid::now_v7(), Uuid::now_v7());
            let book: Vec<CashEntry> = amounts.iter().enumerate().map(|(i, &(a, mine, card))| CashEntry {
                method: if card { PaymentMethod::Card } else { PaymentMethod::Cash },
                ..entry(1, u32::try_from(i).unwrap() + 1, if mine { me } else { other }, a)
            }).collect();
            let doubled: Vec<&CashEntry> = book.iter().chain(book.iter()).collect();
            let totals = day_totals(doubled, me, NaiveDate::from_ymd_opt(2026, 12, 6).unwrap());
            let expected: i64 = book.iter().filter(|e| e.staff_id == me).map(|e| e.amount_rials).sum();
            prop_assert_eq!(totals.iter().map(|t| t.amount_rials).sum::<i64>(), expected);
            prop_assert_eq!(totals.iter().map(|t| t.count as usize).sum::<usize>(), book.iter().filter(|e| e.staff_id == me).count());
        }
    }
}
