//! Age groups as data. Shelves are arranged by age group and books carry
//! either Kanoon's older letters (by school grade; sources differ on the
//! exact bands, so they are editable data) or, since 1399, minimum-age
//! marks. Reading below one's group is normal; the useful warning is
//! "this book is for older readers".

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum AgeScheme {
    /// الف، ب، ج، د، ه — the older scheme, by school grade.
    Letters,
    /// +0 … +15 — minimum age, used since 1399.
    MinimumAge,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AgeGroup {
    /// As printed on the book: "الف", "ب", "+7", ...
    pub code: String,
    pub scheme: AgeScheme,
    /// Shown to staff, e.g. «گروه ب: سال‌های اول تا سوم دبستان».
    pub label: String,
    /// Youngest age (completed years) the group is meant for.
    pub min_age: u8,
    /// Order on the shelf within its scheme.
    pub sort: u8,
}

/// Both schemes as shipped; centers may edit them.
pub fn default_age_groups() -> Vec<AgeGroup> {
    let g = |code: &str, scheme, label: &str, min_age, sort| AgeGroup {
        code: code.to_owned(),
        scheme,
        label: label.to_owned(),
        min_age,
        sort,
    };
    use AgeScheme::*;
    vec![
        g("الف", Letters, "گروه الف: پیش از دبستان", 0, 1),
        g("ب", Letters, "گروه ب: سال‌های اول تا سوم دبستان", 7, 2),
        g("ج", Letters, "گروه ج: سال‌های چهارم تا ششم دبستان", 10, 3),
        g("د", Letters, "گروه د: دوره اول متوسطه", 13, 4),
        g("ه", Letters, "گروه ه: دوره دوم متوسطه", 16, 5),
        g("+0", MinimumAge, "از تولد", 0, 1),
        g("+2", MinimumAge, "از ۲ سالگی", 2, 2),
        g("+4", MinimumAge, "از ۴ سالگی", 4, 3),
        g("+7", MinimumAge, "از ۷ سالگی", 7, 4),
        g("+9", MinimumAge, "از ۹ سالگی", 9, 5),
        g("+12", MinimumAge, "از ۱۲ سالگی", 12, 6),
        g("+15", MinimumAge, "از ۱۵ سالگی", 15, 7),
        g("مربی", MinimumAge, "مربیان و والدین", 18, 8),
    ]
}

/// Normalizes an age-group mark as written on a book or in a spreadsheet:
/// «هـ» → «ه», «۷+» / "7+" / "+۷" → "+7". Returns None for unknown marks.
pub fn normalize_code(input: &str) -> Option<String> {
    let s: String = crate::text::to_ascii_digits(input.trim())
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{0640}' && *c != '\u{200c}')
        .collect();
    match s.as_str() {
        "الف" | "ا" => return Some("الف".into()),
        "ب" => return Some("ب".into()),
        "ج" => return Some("ج".into()),
        "د" => return Some("د".into()),
        "ه" | "ە" => return Some("ه".into()),
        "مربی" | "مربي" | "بزرگسال" => return Some("مربی".into()),
        _ => {}
    }
    let digits = s.trim_start_matches('+').trim_end_matches('+');
    if !digits.is_empty() && digits.len() <= 2 && digits.chars().all(|c| c.is_ascii_digit()) {
        return Some(format!("+{}", digits.parse::<u8>().ok()?));
    }
    None
}

/// Completed years of age on a date.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> u32 {
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years.max(0).unsigned_abs()
}

/// A member's age for the age-group check: from the birth date, else
/// estimated from the school grade (a first-grader is about 7).
pub fn reader_age(birth: Option<NaiveDate>, school_grade: Option<u8>, on: NaiveDate) -> Option<u32> {
    match (birth, school_grade) {
        (Some(b), _) => Some(age_on(b, on)),
        (None, Some(grade)) => Some(6 + u32::from(grade)),
        (None, None) => None,
    }
}

/// The warning rule: the member is younger than the book's group.
pub fn is_for_older_readers(book_group: &AgeGroup, reader_age: u32) -> bool {
    reader_age < u32::from(book_group.min_age)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn group(code: &str) -> AgeGroup {
        default_age_groups().into_iter().find(|g| g.code == code).unwrap()
    }

    #[test]
    fn warns_only_when_the_reader_is_younger_than_the_group() {
        assert!(is_for_older_readers(&group("+12"), 8));
        assert!(!is_for_older_readers(&group("+7"), 12));
        assert!(!is_for_older_readers(&group("+7"), 7));
        assert!(is_for_older_readers(&group("د"), 9));
    }

    #[test]
    fn marks_are_normalized_whatever_the_digit_script_or_plus_side() {
        for m in ["۷+", "+7", "7+", "+۷", " +7 "] {
            assert_eq!(normalize_code(m).as_deref(), Some("+7"), "{m}");
        }
        assert_eq!(normalize_code("هـ").as_deref(), Some("ه"));
        assert_eq!(normalize_code("الف").as_deref(), Some("الف"));
        assert_eq!(normalize_code("ز"), None);
        assert_eq!(normalize_code("+123"), None);
    }

    #[test]
    fn age_counts_completed_years() {
        let b = NaiveDate::from_ymd_opt(2015, 6, 10).unwrap();
        assert_eq!(age_on(b, NaiveDate::from_ymd_opt(2025, 6, 9).unwrap()), 9);
        assert_eq!(age_on(b, NaiveDate::from_ymd_opt(2025, 6, 10).unwrap()), 10);
        assert_eq!(reader_age(None, Some(1), NaiveDate::MIN), Some(7));
    }
}
