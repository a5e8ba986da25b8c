//! Postal parcels (A-3, issue 14): books sent to a village child by post
//! and received back one by one, what a loss in the post does, the postal
//! membership rules as data, and the wish list the next parcel is filled
//! from.
//!
//! Each book of a parcel is an ordinary loan for every report; the parcel
//! groups them for the post. It stays open while any book is out, so a
//! partial return is the normal case, not an error.
//!
//! A book lost in the post is the post's fault, not the child's: its loan
//! is closed (no lateness), the copy is withdrawn as lost, and the member
//! is neither charged nor blocked. The functions here return those effects
//! (`ParcelEffect`); the store applies them.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::DomainError;
use crate::policy::ClosedDays;

/// Books in a parcel unless the policy says otherwise (the province's
/// postal units send five).
pub const DEFAULT_PARCEL_SIZE: u32 = 5;
/// Longest tracking number as the post office prints it.
pub const MAX_TRACKING_CHARS: usize = 40;

/// The postal membership rules, as policy data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PostalRule {
    /// Postal members pay no membership fee.
    pub membership_free: bool,
    /// Nor for activities in their schools.
    pub activities_free: bool,
    /// Days from dispatch to the expected return: the post both ways and
    /// the reading between.
    pub loan_days: u32,
    pub min_age: u8,
    pub max_age: u8,
    /// Most books in one parcel, and what `fill_parcel` fills to.
    pub parcel_size: u32,
}

impl Default for PostalRule {
    fn default() -> Self {
        Self {
            membership_free: true,
            activities_free: true,
            loan_days: 45,
            min_age: 6,
            max_age: 20,
            parcel_size: DEFAULT_PARCEL_SIZE,
        }
    }
}

impl PostalRule {
    /// Whether a child of `age` (whole years) may be a postal member.
    pub fn admits_age(&self, age: u8) -> bool {
        (self.min_age..=self.max_age).contains(&age)
    }
}

/// Where one book of a parcel is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BookState {
    /// With the member or in the post.
    Out,
    Returned {
        on: NaiveDate,
    },
    /// Recorded lost in the post on this day.
    LostInPost {
        on: NaiveDate,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ParcelBook {
    pub copy_id: Uuid,
    pub state: BookState,
}

/// A parcel is open while any book is out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ParcelState {
    Open,
    Closed,
}

/// What a change to a parcel asks the store to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum ParcelEffect {
    /// Close the member's loan of the copy as returned on `on`.
    LoanReturned { copy_id: Uuid, on: NaiveDate },
    /// Close the loan as lost in the post: no lateness is counted.
    LoanClosedLostInPost { copy_id: Uuid, on: NaiveDate },
    /// Withdraw the copy as lost (`WithdrawReason::Lost`).
    CopyLost { copy_id: Uuid },
    /// No lost-book payment and no block for the member: the post lost it.
    MemberNotCharged { member_id: Uuid, copy_id: Uuid },
    /// A copy recorded lost arrived after all: back on the shelf (its loan
    /// was closed when it was lost).
    CopyFound { copy_id: Uuid, on: NaiveDate },
}

/// What staff fill in to send a parcel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Dispatch {
    pub id: Uuid,
    pub member_id: Uuid,
    /// The copies, in the packing slip's order.
    pub copies: Vec<Uuid>,
    pub dispatched_on: NaiveDate,
    pub postage_rials: i64,
    /// "" until the post office gives one.
    pub tracking_number: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Parcel {
    pub id: Uuid,
    pub member_id: Uuid,
    pub books: Vec<ParcelBook>,
    pub dispatched_on: NaiveDate,
    pub postage_rials: i64,
    pub tracking_number: String,
    /// The due date of its loans.
    pub expected_back_on: NaiveDate,
}

/// Checks the copies of a new parcel: at least one, at most `size`, each
/// once, and none of `copies_out` — the copies on loan or in an open
/// parcel (`copies_out` below gives the parcels' share) — so no copy is
/// ever in two parcels or on two loans.
pub fn check_copies(copies: &[Uuid], size: u32, copies_out: &BTreeSet<Uuid>) -> Result<(), DomainError> {
    if copies.is_empty() {
        return Err(DomainError::Invalid("بسته خالی است؛ دست‌کم یک کتاب در آن بگذارید.".into()));
    }
    if copies.len() > usize::try_from(size).unwrap_or(usize::MAX) {
        return Err(DomainError::Invalid(format!(
            "در هر بسته حداکثر {} کتاب فرستاده می‌شود.",
            crate::text::to_persian_digits(&size.to_string())
        )));
    }
    let mut seen = BTreeSet::new();
    for &copy in copies {
        if !seen.insert(copy) {
            return Err(DomainError::CopyTwiceInParcel(copy));
        }
        if copies_out.contains(&copy) {
            return Err(DomainError::CopyOut(copy));
        }
    }
    Ok(())
}

/// Every copy out in a parcel.
pub fn copies_out<'a>(parcels: impl IntoIterator<Item = &'a Parcel>) -> BTreeSet<Uuid> {
    parcels.into_iter().flat_map(|p| p.out()).collect()
}

impl Parcel {
    /// A parcel from what staff filled in, its copies checked against
    /// `copies_out` (see `check_copies`); expected back `rule.loan_days`
    /// after dispatch, on an open day.
    pub fn send(
        dispatch: Dispatch,
        rule: &PostalRule,
        closed: &ClosedDays,
        copies_out: &BTreeSet<Uuid>,
    ) -> Result<Parcel, DomainError> {
        check_copies(&dispatch.copies, rule.parcel_size, copies_out)?;
        if dispatch.postage_rials < 0 {
            return Err(DomainError::Invalid("هزینهٔ پست نمی‌تواند منفی باشد.".into()));
        }
        let tracking_number = dispatch.tracking_number.trim().to_owned();
        if tracking_number.chars().count() > MAX_TRACKING_CHARS {
            return Err(DomainError::Invalid("کد رهگیری مرسوله بیش از اندازه بلند است.".into()));
        }
        Ok(Parcel {
            id: dispatch.id,
            member_id: dispatch.member_id,
            books: dispatch.copies.iter().map(|&copy_id| ParcelBook { copy_id, state: BookState::Out }).collect(),
            dispatched_on: dispatch.dispatched_on,
            postage_rials: dispatch.postage_rials,
            tracking_number,
            expected_back_on: closed.due_date(dispatch.dispatched_on, rule.loan_days),
        })
    }

    pub fn state(&self) -> ParcelState {
        if self.books.iter().any(|b| b.state == BookState::Out) { ParcelState::Open } else { ParcelState::Closed }
    }

    /// The copies still out.
    pub fn out(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.books.iter().filter(|b| b.state == BookState::Out).map(|b| b.copy_id)
    }

    /// Open past its expected return (the reminder list's).
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.state() == ParcelState::Open && today > self.expected_back_on
    }

    /// A book received back on `on`. A book recorded lost that arrives
    /// after all is found again.
    pub fn receive(&mut self, copy_id: Uuid, on: NaiveDate) -> Result<Vec<ParcelEffect>, DomainError> {
        if on < self.dispatched_on {
            return Err(DomainError::Invalid("تاریخ برگشت پیش از تاریخ ارسال بسته است.".into()));
        }
        let book = self.book_mut(copy_id)?;
        let effect = match book.state {
            BookState::Out => ParcelEffect::LoanReturned { copy_id, on },
            BookState::LostInPost { .. } => ParcelEffect::CopyFound { copy_id, on },
            BookState::Returned { .. } => {
                return Err(DomainError::Invalid("این کتاب پیش‌تر از این بسته برگشته است.".into()));
            }
        };
        book.state = BookState::Returned { on };
        Ok(vec![effect])
    }

    /// A book of the parcel lost in the post, recorded on `on`: its loan
    /// closes, the copy is lost, and the member is not charged.
    pub fn lose(&mut self, copy_id: Uuid, on: NaiveDate) -> Result<Vec<ParcelEffect>, DomainError> {
        let member_id = self.member_id;
        let book = self.book_mut(copy_id)?;
        if book.state != BookState::Out {
            return Err(DomainError::Invalid("این کتاب بیرون نیست؛ نمی‌توان آن را گم‌شده در پست ثبت کرد.".into()));
        }
        book.state = BookState::LostInPost { on };
        Ok(vec![
            ParcelEffect::LoanClosedLostInPost { copy_id, on },
            ParcelEffect::CopyLost { copy_id },
            ParcelEffect::MemberNotCharged { member_id, copy_id },
        ])
    }

    /// The whole parcel lost in the post: every book still out is lost.
    pub fn lose_all(&mut self, on: NaiveDate) -> Vec<ParcelEffect> {
        let out: Vec<Uuid> = self.out().collect();
        out.into_iter().flat_map(|copy| self.lose(copy, on).unwrap_or_default()).collect()
    }

    fn book_mut(&mut self, copy_id: Uuid) -> Result<&mut ParcelBook, DomainError> {
        self.books
            .iter_mut()
            .find(|b| b.copy_id == copy_id)
            .ok_or_else(|| DomainError::Invalid("این کتاب در این بسته نیست.".into()))
    }
}

/// A member's wished titles, first wished first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WishList {
    pub titles: Vec<Uuid>,
}

impl WishList {
    /// Adds a title at the end; false if it is already wished.
    pub fn add(&mut self, title_id: Uuid) -> bool {
        if self.titles.contains(&title_id) {
            return false;
        }
        self.titles.push(title_id);
        true
    }

    pub fn remove(&mut self, title_id: Uuid) {
        self.titles.retain(|t| *t != title_id);
    }

    /// Takes off the titles a parcel carried: the child has them now.
    pub fn sent(&mut self, picks: &[Pick]) {
        self.titles.retain(|t| picks.iter().all(|p| p.title_id != *t));
    }
}

/// A copy picked for the next parcel, for the title wished.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Pick {
    pub title_id: Uuid,
    pub copy_id: Uuid,
}

/// The next parcel from a wish list: in wish order, the first free copy of
/// each title (`available`: the free copies by title, in the order the
/// instructor would take them), skipping titles with none, never a title
/// or a copy twice, at most `size` books.
pub fn fill_parcel(wishes: &[Uuid], available: &BTreeMap<Uuid, Vec<Uuid>>, size: u32) -> Vec<Pick> {
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let mut picks: Vec<Pick> = Vec::new();
    for &title_id in wishes {
        if picks.len() >= size {
            break;
        }
        if picks.iter().any(|p| p.title_id == title_id) {
            continue;
        }
        let mut free = available.get(&title_id).into_iter().flatten();
        if let Some(&copy_id) = free.find(|c| picks.iter().all(|p| p.copy_id != **c)) {
            picks.push(Pick { title_id, copy_id });
        }
    }
    picks
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use proptest::prelude::*;

    use super::*;
    use crate::jalali::JalaliDate;

    fn j(y: i32, m: u8, d: u8) -> NaiveDate {
        JalaliDate::new(y, m, d).unwrap().to_gregorian()
    }

    fn dispatch(copies: Vec<Uuid>) -> Dispatch {
        Dispatch {
            id: Uuid::now_v7(),
            member_id: Uuid::now_v7(),
            copies,
            dispatched_on: j(1404, 7, 1),
            postage_rials: 450_000,
            tracking_number: " 123456789012345678901234 ".into(),
        }
    }

    fn five() -> Vec<Uuid> {
        (0..5).map(|_| Uuid::now_v7()).collect()
    }

    #[test]
    fn the_postal_rule_is_free_longer_and_for_six_to_twenty() {
        let rule = PostalRule::default();
        assert!(rule.membership_free && rule.activities_free);
        assert_eq!((rule.loan_days, rule.parcel_size), (45, 5));
        assert!(rule.admits_age(6) && rule.admits_age(20));
        assert!(!rule.admits_age(5) && !rule.admits_age(21));
    }

    #[test]
    fn a_parcel_is_expected_back_after_the_postal_days_on_an_open_day() {
        let p =
            Parcel::send(dispatch(five()), &PostalRule::default(), &ClosedDays::default(), &BTreeSet::new()).unwrap();
        // 1404/07/01 + 45 days = 1404/08/16, a Friday: back on Saturday.
        assert_eq!(p.expected_back_on, j(1404, 8, 17));
        assert_eq!(p.tracking_number, "123456789012345678901234");
        assert_eq!(p.state(), ParcelState::Open);
        assert!(!p.is_overdue(j(1404, 8, 17)) && p.is_overdue(j(1404, 8, 18)));
    }

    #[test]
    fn empty_oversized_duplicate_or_busy_copies_are_refused() {
        let rule = PostalRule::default();
        let closed = ClosedDays::default();
        let none = BTreeSet::new();
        assert!(matches!(Parcel::send(dispatch(vec![]), &rule, &closed, &none), Err(DomainError::Invalid(_))));
        let six = [five(), vec![Uuid::now_v7()]].concat();
        assert!(matches!(Parcel::send(dispatch(six), &rule, &closed, &none), Err(DomainError::Invalid(_))));
        let c = Uuid::now_v7();
        assert_eq!(Parcel::send(dispatch(vec![c, c]), &rule, &closed, &none), Err(DomainError::CopyTwiceInParcel(c)));
        let on_loan = BTreeSet::from([c]);
        assert_eq!(Parcel::send(dispatch(vec![c]), &rule, &closed, &on_loan), Err(DomainError::CopyOut(c)));
        let negative = Dispatch { postage_rials: -1, ..dispatch(vec![c]) };
        assert!(Parcel::send(negative, &rule, &closed, &none).is_err());
    }

    #[test]
    fn a_partial_return_keeps_the_parcel_open_until_the_last_book() {
        let copies = five();
        let mut p =
            Parcel::send(dispatch(copies.clone()), &PostalRule::default(), &ClosedDays::default(), &BTreeSet::new())
                .unwrap();
        for &c in &copies[..3] {
            assert_eq!(
                p.receive(c, j(1404, 8, 10)).unwrap(),
                vec![ParcelEffect::LoanReturned { copy_id: c, on: j(1404, 8, 10) }]
            );
        }
        assert_eq!(p.state(), ParcelState::Open);
        assert_eq!(copies_out([&p]), copies[3..].iter().copied().collect());
        assert!(p.receive(copies[0], j(1404, 8, 11)).is_err(), "received twice");
        assert!(p.receive(Uuid::now_v7(), j(1404, 8, 11)).is_err(), "not in this parcel");
        assert!(p.receive(copies[3], j(1404, 6, 30)).is_err(), "before it was sent");

        let effects = p.lose(copies[3], j(1404, 8, 20)).unwrap();
        assert_eq!(
            effects,
            vec![
                ParcelEffect::LoanClosedLostInPost { copy_id: copies[3], on: j(1404, 8, 20) },
                ParcelEffect::CopyLost { copy_id: copies[3] },
                ParcelEffect::MemberNotCharged { member_id: p.member_id, copy_id: copies[3] },
            ]
        );
        assert_eq!(p.state(), ParcelState::Open);
        p.receive(copies[4], j(1404, 8, 21)).unwrap();
        assert_eq!(p.state(), ParcelState::Closed);
        assert!(copies_out([&p]).is_empty());
        // The lost book turns up after all: found, the parcel stays closed.
        assert_eq!(
            p.receive(copies[3], j(1404, 9, 2)).unwrap(),
            vec![ParcelEffect::CopyFound { copy_id: copies[3], on: j(1404, 9, 2) }]
        );
        assert!(p.lose(copies[3], j(1404, 9, 3)).is_err(), "a returned book is not lost");
    }

    #[test]
    fn a_whole_parcel_lost_loses_only_the_books_still_out() {
        let copies = five();
        let mut p =
            Parcel::send(dispatch(copies.clone()), &PostalRule::default(), &ClosedDays::default(), &BTreeSet::new())
                .unwrap();
        p.receive(copies[0], j(1404, 8, 1)).unwrap();
        let effects = p.lose_all(j(1404, 9, 1));
        let lost: Vec<Uuid> = effects
            .iter()
            .filter_map(|e| if let ParcelEffect::CopyLost { copy_id } = e { Some(*copy_id) } else { None })
            .collect();
        assert_eq!(lost, copies[1..].to_vec());
        assert_eq!(effects.iter().filter(|e| matches!(e, ParcelEffect::MemberNotCharged { .. })).count(), 4);
        assert_eq!(p.state(), ParcelState::Closed);
    }

    #[test]
    fn the_next_parcel_follows_the_wish_list() {
        let t: Vec<Uuid> = (0..7).map(|_| Uuid::now_v7()).collect();
        let c: Vec<Uuid> = (0..7).map(|_| Uuid::now_v7()).collect();
        let mut wishes = WishList::default();
        for title in [t[0], t[1], t[2], t[0], t[3], t[4], t[5], t[6]] {
            wishes.add(title);
        }
        assert_eq!(wishes.titles.len(), 7, "a title is wished once");
        // No free copy of t[1]; the rest have one each.
        let available: BTreeMap<Uuid, Vec<Uuid>> = [
            (t[0], vec![c[0]]),
            (t[1], vec![]),
            (t[2], vec![c[2]]),
            (t[3], vec![c[3]]),
            (t[4], vec![c[4]]),
            (t[5], vec![c[5]]),
            (t[6], vec![c[6]]),
        ]
        .into_iter()
        .collect();
        let picks = fill_parcel(&wishes.titles, &available, DEFAULT_PARCEL_SIZE);
        let titles: Vec<Uuid> = picks.iter().map(|p| p.title_id).collect();
        assert_eq!(titles, vec![t[0], t[2], t[3], t[4], t[5]]);
        wishes.sent(&picks);
        assert_eq!(wishes.titles, vec![t[1], t[6]]);
    }

    /// One step of a postal desk's life.
    #[derive(Clone, Debug)]
    enum Step {
        Send(Vec<usize>),
        Receive(usize, usize),
        Lose(usize, usize),
        LoseAll(usize),
    }

    fn arb_step() -> impl Strategy<Value = Step> {
        prop_oneof![
            prop::collection::vec(0usize..12, 0..7).prop_map(Step::Send),
            (0usize..8, 0usize..6).prop_map(|(p, b)| Step::Receive(p, b)),
            (0usize..8, 0usize..6).prop_map(|(p, b)| Step::Lose(p, b)),
            (0usize..8).prop_map(Step::LoseAll),
        ]
    }

    /// A loss spares the member for every copy lost and returns no loan.
    fn check_loss(effects: &[ParcelEffect]) -> Result<(), TestCaseError> {
        let lost = effects.iter().filter(|e| matches!(e, ParcelEffect::CopyLost { .. })).count();
        let spared = effects.iter().filter(|e| matches!(e, ParcelEffect::MemberNotCharged { .. })).count();
        let closed = effects.iter().filter(|e| matches!(e, ParcelEffect::LoanClosedLostInPost { .. })).count();
        prop_assert_eq!((lost, spared), (closed, closed));
        let returned = effects.iter().any(|e| matches!(e, ParcelEffect::LoanReturned { .. }));
        prop_assert!(!returned, "a loss is no return");
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::proptest_cases()))]

        /// Whatever staff do, a copy is out in one parcel at most, a parcel
        /// is open exactly while a book is out, and a loss never charges
        /// the member nor closes a loan as returned.
        #[test]
        fn a_copy_is_never_in_two_open_parcels(steps in prop::collection::vec(arb_step(), 0..40)) {
            let copies: Vec<Uuid> = (0..12).map(|_| Uuid::now_v7()).collect();
            let (rule, closed) = (PostalRule::default(), ClosedDays::default());
            let mut parcels: Vec<Parcel> = Vec::new();
            let on = j(1404, 9, 1);
            for step in steps {
                match step {
                    Step::Send(picked) => {
                        let chosen: Vec<Uuid> = picked.iter().map(|i| copies[*i]).collect();
                        let busy = copies_out(&parcels);
                        let sent = Parcel::send(dispatch(chosen.clone()), &rule, &closed, &busy);
                        let clash = chosen.iter().any(|c| busy.contains(c));
                        prop_assert_eq!(sent.is_ok(), !chosen.is_empty() && chosen.len() <= 5 && !clash
                            && chosen.iter().collect::<BTreeSet<_>>().len() == chosen.len());
                        parcels.extend(sent);
                    }
                    Step::Receive(p, b) => {
                        if let Some(parcel) = parcels.get_mut(p) {
                            let Some(copy) = parcel.books.get(b).map(|x| x.copy_id) else { continue };
                            let _ = parcel.receive(copy, on);
                        }
                    }
                    Step::Lose(p, b) => {
                        let Some(parcel) = parcels.get_mut(p) else { continue };
                        let Some(copy) = parcel.books.get(b).map(|x| x.copy_id) else { continue };
                        check_loss(&parcel.lose(copy, on).unwrap_or_default())?;
                    }
                    Step::LoseAll(p) => {
                        let Some(parcel) = parcels.get_mut(p) else { continue };
                        check_loss(&parcel.lose_all(on))?;
                    }
                }
                let mut seen = BTreeSet::new();
                for parcel in &parcels {
                    for copy in parcel.out() {
                        prop_assert!(seen.insert(copy), "a copy out in two parcels");
                    }
                    prop_assert_eq!(parcel.state() == ParcelState::Open, parcel.out().next().is_some());
                }
            }
        }

        /// A parcel from any wish list and stock: at most `size` books, no
        /// title or copy twice, each a free copy of its title, in wish
        /// order, and full unless no other wished title has a free copy.
        #[test]
        fn fill_parcel_never_exceeds_the_size_nor_repeats_a_title(
            wish_idx in prop::collection::vec(0usize..10, 0..15),
            stock in prop::collection::vec(prop::collection::vec(0usize..8, 0..3), 10),
            size in 0u32..8,
        ) {
            let titles: Vec<Uuid> = (0..10).map(|_| Uuid::now_v7()).collect();
            let copies: Vec<Uuid> = (0..8).map(|_| Uuid::now_v7()).collect();
            let wishes: Vec<Uuid> = wish_idx.iter().map(|i| titles[*i]).collect();
            let available: BTreeMap<Uuid, Vec<Uuid>> =
                titles.iter().zip(&stock).map(|(t, cs)| (*t, cs.iter().map(|c| copies[*c]).collect())).collect();
            let picks = fill_parcel(&wishes, &available, size);
            prop_assert!(picks.len() <= size as usize);
            prop_assert_eq!(picks.iter().map(|p| p.title_id).collect::<BTreeSet<_>>().len(), picks.len());
            prop_assert_eq!(picks.iter().map(|p| p.copy_id).collect::<BTreeSet<_>>().len(), picks.len());
            for p in &picks {
                prop_assert!(available[&p.title_id].contains(&p.copy_id));
            }
            let positions: Vec<usize> =
                picks.iter().map(|p| wishes.iter().position(|w| *w == p.title_id).unwrap()).collect();
            prop_assert!(positions.windows(2).all(|w| w[0] < w[1]), "in wish order");
            if picks.len() < size as usize {
                let used: BTreeSet<Uuid> = picks.iter().map(|p| p.copy_id).collect();
                for w in &wishes {
                    let picked = picks.iter().any(|p| p.title_id == *w);
                    prop_assert!(picked || available[w].iter().all(|c| used.contains(c)));
                }
            }
        }
    }
}
