//! Demo data: a center with realistic Persian members, titles, copies and
//! years of loan history, at the reference size of the design (60,000
//! copies, 40,000 titles, 6,000 members, 300,000 past loans) or any
//! fraction. Used by the benchmarks, the demo database of the README's run
//! command, and tests. Deterministic for a given seed.
//!
//! It writes through the same inserts as the use cases (so every record
//! and event has its outbox op, like a migrated center's history), with the
//! transaction's clock moved through the past day by day.

use std::collections::VecDeque;

use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, Utc, Weekday};
use kanoon_domain::circulation::{Event, Fee};
use kanoon_domain::entities::{Documents, Gender};
use kanoon_domain::jalali::JalaliDate;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::catalog::{TitleInput, insert_copy, insert_title};
use crate::circulation::record_loan;
use crate::desk::Desk;
use crate::error::Result;
use crate::members::{MemberDetails, NewMember, add_membership_period, insert_member, validate};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DemoSize {
    pub titles: usize,
    pub copies: usize,
    pub members: usize,
    pub past_loans: usize,
}

impl DemoSize {
    /// DESIGN §8: the largest center doubled.
    pub const REFERENCE: DemoSize = DemoSize { titles: 40_000, copies: 60_000, members: 6_000, past_loans: 300_000 };

    /// A fraction of the reference size (at least a handful of each).
    pub fn fraction(f: f64) -> DemoSize {
        let scale = |n: usize, min: usize| ((n as f64 * f).round() as usize).max(min);
        let r = Self::REFERENCE;
        let titles = scale(r.titles, 5);
        DemoSize {
            titles,
            copies: scale(r.copies, 8).max(titles),
            members: scale(r.members, 5),
            past_loans: scale(r.past_loans, 10),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DemoSummary {
    pub titles: usize,
    pub copies: usize,
    pub members: usize,
    pub loans: usize,
    pub open_loans: usize,
    /// Registration numbers of copies on the shelf at the end (benches lend them).
    pub available_registration_numbers: Vec<String>,
    pub member_numbers: Vec<String>,
}

impl std::fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} titles, {} copies, {} members, {} loans ({} open)",
            self.titles, self.copies, self.members, self.loans, self.open_loans
        )
    }
}

/// The demo center (the README's run command and the demo bins), with
/// `manager` as its first manager's username.
pub fn demo_center(manager: &str) -> crate::SetupRequest {
    crate::SetupRequest {
        center_code: "1234".into(),
        center_name: "مرکز فرهنگی هنری شماره ۱ اراک".into(),
        center_kind: kanoon_domain::entities::CenterKind::Fixed,
        desk_number: 1,
        manager_username: manager.into(),
        manager_full_name: "مدیر نمونه".into(),
    }
}

const FIRST_NAMES_F: &[&str] = &[
    "فاطمه",
    "زهرا",
    "مریم",
    "زینب",
    "سارا",
    "نرگس",
    "ستایش",
    "هستی",
    "یاسمن",
    "آیدا",
    "مهسا",
    "ریحانه",
    "کوثر",
    "نازنین",
    "هانیه",
    "مبینا",
    "فرشته",
    "الناز",
    "پریا",
    "رها",
    "آوا",
    "ترانه",
    "شیما",
    "نیایش",
    "ملیکا",
    "یکتا",
];
const FIRST_NAMES_M: &[&str] = &[
    "علی",
    "محمد",
    "حسین",
    "امیرحسین",
    "مهدی",
    "رضا",
    "امیرعلی",
    "ابوالفضل",
    "محمدطاها",
    "آرین",
    "سینا",
    "پارسا",
    "کیان",
    "یوسف",
    "عرفان",
    "بردیا",
    "سبحان",
    "متین",
    "امید",
    "کاوه",
    "بهراد",
    "نیما",
    "سام",
    "آرمان",
    "یاسین",
];
const LAST_NAMES: &[&str] = &[
    "احمدی",
    "محمدی",
    "حسینی",
    "رضایی",
    "کریمی",
    "موسوی",
    "جعفری",
    "قاسمی",
    "صادقی",
    "رحیمی",
    "کاظمی",
    "نوری",
    "فراهانی",
    "اراکی",
    "تفرشی",
    "آشتیانی",
    "ساوجی",
    "خمینی‌پور",
    "محلاتی",
    "شازندی",
    "دلیجانی",
    "کمیجانی",
    "گودرزی",
    "یزدانی",
    "پاک‌نژاد",
    "نیک‌بخت",
    "چمران",
    "ژیان",
    "بهرامی",
    "پارسا",
    "آقایی",
    "میرزایی",
    "سلیمانی",
    "طاهری",
    "عباسی",
    "شریفی",
    "زارعی",
    "باقری",
    "یوسفی",
    "ملکی",
    "حیدری",
    "امینی",
    "صفری",
    "فتحی",
    "مرادی",
];
const VILLAGES: &[&str] = &["ابراهیم‌آباد", "کرهرود", "سنجان", "ساروق", "فرمهین", "خنجین", "آستانه", "نراق"];
const TITLE_HEADS: &[&str] = &[
    "قصه‌های",
    "ماجراهای",
    "راز",
    "سفر",
    "خانه",
    "باغ",
    "کتاب",
    "افسانه‌های",
    "شعرهای",
    "دنیای",
    "سرزمین",
    "ستاره‌های",
    "رؤیای",
    "آواز",
    "پرواز",
    "جنگل",
    "دریای",
    "کوه",
    "شهر",
    "بچه‌های",
];
const TITLE_TAILS: &[&str] = &[
    "مجید",
    "کلاغ‌ها",
    "ماهی سیاه کوچولو",
    "شب",
    "باران",
    "پرنده کوچک",
    "مادربزرگ",
    "کوچه ما",
    "آسمان",
    "خرگوش باهوش",
    "درخت سیب",
    "روباه و زاغ",
    "ماه و خورشید",
    "دهکده",
    "رنگین‌کمان",
    "قلعه",
    "پدربزرگ",
    "دوستی",
    "کودکان",
    "حیوانات",
    "شاهنامه",
    "گل سرخ",
    "زمستان",
    "تابستان",
    "دانش",
    "اختراع‌ها",
];
const AUTHORS: &[&str] = &[
    "هوشنگ مرادی کرمانی",
    "صمد بهرنگی",
    "مصطفی رحماندوست",
    "محمدرضا یوسفی",
    "فرهاد حسن‌زاده",
    "جمشید خانیان",
    "احمدرضا احمدی",
    "هوشنگ مرادی",
    "شکوه قاسم‌نیا",
    "ناصر یوسفی",
    "سوسن طاقدیس",
    "جعفر ابراهیمی",
    "افسانه شعبان‌نژاد",
    "محمدعلی بهمنی",
    "طاهره ایبد",
    "مهدی آذریزدی",
    "محمود کیانوش",
    "عباس یمینی شریف",
    "ثمینه باغچه‌بان",
];
const PUBLISHERS: &[&str] =
    &["کانون پرورش فکری کودکان و نوجوانان", "افق", "قدیانی", "پیدایش", "امیرکبیر", "چکه", "به‌نشر", "مدرسه"];
const SUBJECTS: &[&str] = &["داستان", "شعر", "علمی", "تاریخ", "افسانه", "طبیعت", "هنر", "دانستنی"];
const AGE_GROUPS: &[&str] = &["الف", "ب", "ج", "د", "ه", "+0", "+4", "+7", "+9", "+12", "+15"];

fn pick<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    list[rng.random_range(0..list.len())]
}

/// A valid national id (check digit computed, never one repeated digit).
fn national_id(rng: &mut StdRng) -> String {
    loop {
        let body = format!("{:09}", rng.random_range(0..1_000_000_000u32));
        if let Ok(id) = kanoon_domain::ids::NationalId::from_body(&body) {
            return id.as_str().to_owned();
        }
    }
}

fn title_input(rng: &mut StdRng, i: usize) -> TitleInput {
    let mut title = format!("{} {}", pick(rng, TITLE_HEADS), pick(rng, TITLE_TAILS));
    // Many titles share words, like real collections; volumes make them distinct.
    if !i.is_multiple_of(3) {
        title.push_str(&format!(" {}", kanoon_domain::text::to_persian_digits(&(i % 97 + 1).to_string())));
    }
    TitleInput {
        title,
        author: pick(rng, AUTHORS).to_owned(),
        translator: String::new(),
        illustrator: if rng.random_bool(0.4) { pick(rng, AUTHORS).to_owned() } else { String::new() },
        publisher: pick(rng, PUBLISHERS).to_owned(),
        year: Some(rng.random_range(1370..1404)),
        isbn: String::new(),
        age_group: Some(pick(rng, AGE_GROUPS).to_owned()),
        subjects: pick(rng, SUBJECTS).to_owned(),
    }
}

fn member_details(rng: &mut StdRng, today: NaiveDate, village: bool) -> MemberDetails {
    let gender = if rng.random_bool(0.55) { Gender::Female } else { Gender::Male };
    let first = match gender {
        Gender::Female => pick(rng, FIRST_NAMES_F),
        Gender::Male => pick(rng, FIRST_NAMES_M),
    };
    let age_days = rng.random_range(3 * 365..17 * 365);
    let birth = today.checked_sub_days(Days::new(age_days)).unwrap_or(today);
    let grade = (age_days / 365).saturating_sub(6).min(12) as u8;
    MemberDetails {
        first_name: first.to_owned(),
        last_name: pick(rng, LAST_NAMES).to_owned(),
        father_name: pick(rng, FIRST_NAMES_M).to_owned(),
        gender,
        birth_date: Some(JalaliDate::from_gregorian(birth)),
        national_id: Some(national_id(rng)),
        alternative_id: None,
        school_grade: Some(grade),
        guardian_phone: Some(format!("09{}{:07}", rng.random_range(10..40), rng.random_range(0..10_000_000u32))),
        address: format!("اراک، خیابان {}، کوچه {}", pick(rng, LAST_NAMES), rng.random_range(1..40)),
        village: village.then(|| pick(rng, VILLAGES).to_owned()),
        village_id: None,
        documents: Documents { photo: rng.random_bool(0.9), birth_certificate_copy: rng.random_bool(0.95) },
        age_group_override: None,
    }
}

fn at_noon(d: NaiveDate) -> DateTime<Utc> {
    // 12:30 Tehran.
    d.and_hms_opt(9, 0, 0).map(|t| t.and_utc()).unwrap_or_default()
}

/// Fills a set-up desk (signed in) with demo data; the history ends
/// today by the desk's clock.
pub fn generate(desk: &mut Desk, size: DemoSize, seed: u64) -> Result<DemoSummary> {
    let mut rng = StdRng::seed_from_u64(seed);
    let today = desk.today();
    let village = desk.id()?.center.kind != kanoon_domain::entities::CenterKind::Fixed;
    let history_days = 3 * 365;
    let start = today.checked_sub_days(Days::new(history_days)).unwrap_or(today);
    let groups = desk.age_groups()?;
    let kind = desk.id()?.center.kind;
    let mut summary = DemoSummary::default();

    // Catalog: titles, then copies numbered 1.. as stamped at the center.
    let mut copy_ids: Vec<Uuid> = Vec::with_capacity(size.copies);
    let mut numbers: Vec<String> = Vec::with_capacity(size.copies);
    for chunk_start in (0..size.titles).step_by(5_000) {
        let chunk_end = (chunk_start + 5_000).min(size.titles);
        desk.write(|w| {
            w.now = at_noon(start);
            for i in chunk_start..chunk_end {
                let t = title_input(&mut rng, i);
                let title_id = insert_title(w, &t)?;
                // Every title has a copy; the rest are spread over titles.
                let spare = size.copies.saturating_sub(size.titles);
                let mut n = 1 + spare.checked_div(size.titles).unwrap_or(0);
                if i < spare.checked_rem(size.titles).unwrap_or(0) {
                    n += 1;
                }
                for _ in 0..n {
                    let number = (copy_ids.len() + 1).to_string();
                    copy_ids.push(insert_copy(w, title_id, &number)?);
                    numbers.push(number);
                }
            }
            Ok(())
        })?;
    }
    summary.titles = size.titles;
    summary.copies = copy_ids.len();

    // Members join over the first part of the history.
    let mut members: Vec<Uuid> = Vec::with_capacity(size.members);
    for chunk_start in (0..size.members).step_by(2_000) {
        let chunk_end = (chunk_start + 2_000).min(size.members);
        desk.write(|w| {
            for _ in chunk_start..chunk_end {
                let joined = start + Duration::days(rng.random_range(0..history_days as i64 / 2));
                w.now = at_noon(joined);
                let valid = validate(member_details(&mut rng, joined, village), kind, &groups, today)?;
                let id = insert_member(w, NewMember { valid: &valid, legacy_number: None, photo: None })?;
                // Yearly periods from joining until past today.
                let mut from = joined;
                while from <= today {
                    let to = from + Duration::days(365);
                    add_membership_period(
                        w,
                        id,
                        from,
                        to,
                        Fee::Paid { amount_rials: 350_000, receipt_number: rng.random_range(1000..99999).to_string() },
                    )?;
                    from = to + Duration::days(1);
                }
                members.push(id);
            }
            Ok(())
        })?;
    }
    summary.members = members.len();
    summary.member_numbers = members_numbers(desk, &members)?;

    // Loans day by day: open stacks, 1–2 books, most back within the week.
    let open_days: Vec<NaiveDate> = (0..history_days)
        .filter_map(|d| start.checked_add_days(Days::new(d)))
        .filter(|d| d.weekday() != Weekday::Fri)
        .collect();
    // Loans spread evenly over the open days (quota for day i).
    let n_days = open_days.len().max(1);
    let quota = |i: usize| (i + 1) * size.past_loans / n_days - i * size.past_loans / n_days;
    let mut on_shelf: Vec<usize> = (0..copy_ids.len()).collect();
    // (return day, copy index, loan id, member index)
    let mut out: VecDeque<(NaiveDate, usize, Uuid, usize)> = VecDeque::new();
    let mut open_per_member = vec![0u8; members.len()];
    let mut loans = 0;
    for (chunk_index, days) in open_days.chunks(30).enumerate() {
        desk.write(|w| {
            for (offset, day) in days.iter().enumerate() {
                let day_index = chunk_index * 30 + offset;
                w.now = at_noon(*day);
                // Returns due today come back first.
                let mut keep = VecDeque::with_capacity(out.len());
                while let Some((back, copy, loan, member)) = out.pop_front() {
                    if back <= *day && back < today {
                        w.event(
                            Uuid::now_v7(),
                            Event::Return { loan_id: loan, copy_id: copy_ids[copy], returned_on: *day },
                        )?;
                        w.tx.execute("DELETE FROM open_loans WHERE loan_id = ?1", [loan.to_string()])?;
                        on_shelf.push(copy);
                        open_per_member[member] -= 1;
                    } else {
                        keep.push_back((back, copy, loan, member));
                    }
                }
                out = keep;
                let mut made = 0;
                let mut attempts = 0;
                while made < quota(day_index) && attempts < 20 * quota(day_index) {
                    attempts += 1;
                    if on_shelf.is_empty() || members.is_empty() {
                        break;
                    }
                    let member = rng.random_range(0..members.len());
                    if open_per_member[member] >= 2 {
                        continue;
                    }
                    made += 1;
                    let copy = on_shelf.swap_remove(rng.random_range(0..on_shelf.len()));
                    let due = *day + Duration::days(7);
                    let loan = record_loan(w, copy_ids[copy], members[member], *day, due, None, None)?;
                    let back = *day + Duration::days(rng.random_range(1..15));
                    out.push_back((back, copy, loan, member));
                    open_per_member[member] += 1;
                    loans += 1;
                }
            }
            Ok(())
        })?;
    }
    summary.loans = loans;
    summary.open_loans = out.len();
    summary.available_registration_numbers = on_shelf.iter().map(|i| numbers[*i].clone()).collect();
    Ok(summary)
}

fn members_numbers(desk: &Desk, ids: &[Uuid]) -> Result<Vec<String>> {
    let mut stmt = desk.conn.prepare_cached("SELECT member_number FROM members WHERE id = ?1")?;
    ids.iter().map(|id| Ok(stmt.query_row([id.to_string()], |r| r.get(0))?)).collect()
}
