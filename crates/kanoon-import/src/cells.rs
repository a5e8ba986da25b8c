//! Parsers for single cell values. Each returns a Persian message saying
//! what is wrong and what to write instead; the caller adds row and column.

use chrono::NaiveDate;
use kanoon_domain::jalali::JalaliDate;
use kanoon_domain::text::{to_ascii_digits, to_persian_digits};

use crate::text::{compact_digits, header_key};

const DATE_HINT: &str = "آن را به شکل ۱۴۰۴/۰۱/۱۵ (شمسی) یا 2025-04-04 (میلادی) بنویسید";

/// Parses a date cell.
///
/// Accepted: a Jalali date with a 4-digit year in 1300..=1499, in any digit
/// script, separated by `/` or `-` (`1404/01/15`, `۱۴۰۴-۱-۵`); a Gregorian
/// ISO date `YYYY-MM-DD` (or with `/`) with year ≥ 1800, as Excel date
/// cells are read; either of them as 8 digits without separators
/// (`14040115`, as some old programs store dates). A time after the date
/// (`2024-03-05T10:00`, `1404/01/15 10:30`) is ignored. Anything else is an
/// error with a Persian message.
pub fn parse_date_cell(s: &str) -> Result<NaiveDate, String> {
    let shown = s.trim();
    let fail = |why: &str| Err(format!("تاریخ «{}» {why}؛ {DATE_HINT}.", to_persian_digits(shown)));
    let ascii = to_ascii_digits(shown);
    // Drop a time part: whatever follows the first space or a `T` after the date.
    let date_part = ascii.split(|c: char| c.is_whitespace() || c == 'T').next().unwrap_or_default();
    let parts: Vec<&str> = if date_part.chars().all(|c| c.is_ascii_digit()) && date_part.len() == 8 {
        vec![
            date_part.get(..4).unwrap_or_default(),
            date_part.get(4..6).unwrap_or_default(),
            date_part.get(6..).unwrap_or_default(),
        ]
    } else {
        date_part.split(['/', '-']).collect()
    };
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty() || p.len() > 4 || !p.chars().all(|c| c.is_ascii_digit())) {
        return fail("خوانا نیست");
    }
    let (Ok(y), Ok(m), Ok(d)) = (parts[0].parse::<i32>(), parts[1].parse::<u32>(), parts[2].parse::<u32>()) else {
        return fail("خوانا نیست");
    };
    if parts[0].len() != 4 {
        if parts[2].len() == 4 {
            return fail("باید با سال شروع شود (سال/ماه/روز)");
        }
        return fail("سال چهاررقمی ندارد");
    }
    match y {
        1300..=1499 => JalaliDate::parse(&format!("{y:04}/{m:02}/{d:02}"))
            .map(|j| j.to_gregorian())
            .or_else(|_| fail("در تقویم شمسی وجود ندارد")),
        1800..=9999 => NaiveDate::from_ymd_opt(y, m, d).map_or_else(|| fail("در تقویم میلادی وجود ندارد"), Ok),
        _ => fail("سال شمسی (۱۳۰۰ تا ۱۴۹۹) یا میلادی (از ۱۸۰۰) ندارد"),
    }
}

/// Parses a school grade: digits 0..=12 in any script, ordinal or cardinal
/// words («اول»/«یکم»… «دوازدهم»), optionally after «پایه»/«کلاس» and
/// before «ابتدایی»/«دبستان»; «پیش‌دبستانی»/«آمادگی» is 0.
pub(crate) fn parse_grade(s: &str) -> Result<u8, String> {
    let fail = || {
        Err(format!(
            "پایه تحصیلی «{}» شناخته نشد؛ عددی از ۰ (پیش‌دبستانی) تا ۱۲ یا نام پایه مانند «سوم» بنویسید.",
            s.trim()
        ))
    };
    let mut key = header_key(s);
    for prefix in ["پایه", "کلاس"] {
        if let Some(rest) = key.strip_prefix(&header_key(prefix)) {
            key = rest.to_owned();
        }
    }
    for suffix in ["ابتدایی", "دبستان", "ام"] {
        if let Some(rest) = key.strip_suffix(&header_key(suffix))
            && !rest.is_empty()
        {
            key = rest.to_owned();
        }
    }
    if !key.is_empty() && key.chars().all(|c| c.is_ascii_digit()) {
        return match key.parse::<u8>() {
            Ok(n) if n <= 12 => Ok(n),
            _ => fail(),
        };
    }
    const WORDS: &[(&str, u8)] = &[
        ("پیشدبستانی", 0),
        ("پیشدبستان", 0),
        ("امادگی", 0),
        ("اول", 1),
        ("یکم", 1),
        ("یک", 1),
        ("دوم", 2),
        ("دو", 2),
        ("سوم", 3),
        ("سه", 3),
        ("چهارم", 4),
        ("چهار", 4),
        ("پنجم", 5),
        ("پنج", 5),
        ("ششم", 6),
        ("شش", 6),
        ("هفتم", 7),
        ("هفت", 7),
        ("هشتم", 8),
        ("هشت", 8),
        ("نهم", 9),
        ("نه", 9),
        ("دهم", 10),
        ("ده", 10),
        ("یازدهم", 11),
        ("یازده", 11),
        ("دوازدهم", 12),
        ("دوازده", 12),
    ];
    WORDS.iter().find(|(w, _)| header_key(w) == key).map_or_else(fail, |&(_, n)| Ok(n))
}

/// Parses a publication year: digits in any script, 1300..=1499 (Jalali) or
/// 1800..=2100 (Gregorian), kept as written.
pub(crate) fn parse_year(s: &str) -> Result<i32, String> {
    let digits = compact_digits(s);
    match digits.parse::<i32>() {
        Ok(y) if (1300..=1499).contains(&y) || (1800..=2100).contains(&y) => Ok(y),
        _ => Err(format!(
            "سال نشر «{}» معتبر نیست؛ سال را چهاررقمی بنویسید، مانند ۱۳۹۸ یا ۲۰۱۹.",
            to_persian_digits(s.trim())
        )),
    }
}

/// Normalizes an ISBN: digits in any script, hyphens and spaces and a
/// leading «ISBN»/«شابک» label removed, `x` upper-cased; must be a valid
/// ISBN-10 or ISBN-13. A 9-digit value that becomes a valid ISBN-10 with a
/// leading zero (Excel drops it from numbers) is accepted with the zero.
pub(crate) fn parse_isbn(s: &str) -> Result<String, String> {
    let fail = || {
        Err(format!(
            "شابک «{}» معتبر نیست؛ ۱۰ یا ۱۳ رقم شابک را از پشت کتاب دوباره بخوانید یا خانه را خالی بگذارید.",
            to_persian_digits(s.trim())
        ))
    };
    let mut text = to_ascii_digits(s.trim());
    for label in ["ISBN", "isbn", "Isbn", "شابک"] {
        if let Some(rest) = text.strip_prefix(label) {
            text = rest.trim_start_matches([':', ' ', '-', '：']).to_owned();
        }
    }
    let mut isbn = String::new();
    for c in text.chars() {
        match c {
            '0'..='9' => isbn.push(c),
            'x' | 'X' => isbn.push('X'),
            '-' | '\u{2010}' | '\u{2011}' | '\u{2013}' | '\u{2212}' | '_' => {}
            c if c.is_whitespace() || matches!(c, '\u{200c}' | '\u{200e}' | '\u{200f}') => {}
            _ => return fail(),
        }
    }
    if isbn.len() == 9 && isbn10_ok(&format!("0{isbn}")) {
        return Ok(format!("0{isbn}"));
    }
    if (isbn.len() == 10 && isbn10_ok(&isbn)) || (isbn.len() == 13 && isbn13_ok(&isbn)) { Ok(isbn) } else { fail() }
}

fn isbn10_ok(isbn: &str) -> bool {
    let mut sum = 0u32;
    for (i, c) in isbn.chars().enumerate() {
        let v = match (c, i) {
            ('X', 9) => 10,
            (c, _) => match c.to_digit(10) {
                Some(v) => v,
                None => return false,
            },
        };
        sum += v * (10 - i as u32);
    }
    sum.is_multiple_of(11)
}

fn isbn13_ok(isbn: &str) -> bool {
    let mut sum = 0u32;
    for (i, c) in isbn.chars().enumerate() {
        let Some(v) = c.to_digit(10) else {
            return false;
        };
        sum += if i % 2 == 0 { v } else { 3 * v };
    }
    sum.is_multiple_of(10)
}

/// Normalizes an age group to its code with the domain's rule (letters
/// «الف»…«ه», also «هـ»; minimum-age marks "+7", "7+", "۷+"…); a leading
/// «گروه» or «گروه سنی» is ignored.
pub(crate) fn parse_age_group(s: &str) -> Result<String, String> {
    let mut text = s.trim().to_owned();
    for prefix in ["گروه سنی", "رده سنی", "گروه"] {
        if let Some(rest) = text.strip_prefix(prefix) {
            text = rest.trim().to_owned();
        }
    }
    let known = kanoon_domain::age_group::default_age_groups();
    match kanoon_domain::age_group::normalize_code(&text.replace(' ', "")) {
        Some(code) if known.iter().any(|g| g.code == code) => Ok(code),
        _ => Err(format!(
            "گروه سنی «{}» شناخته نشد؛ یکی از «الف»، «ب»، «ج»، «د»، «ه» یا نشانه‌های سنی «+۰»، «+۲»، «+۴»، «+۷»، «+۹»، «+۱۲»، «+۱۵» را بنویسید (فقط یک گروه).",
            s.trim()
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn gregorian_dates() {
        let d = NaiveDate::from_ymd_opt(2024, 3, 5).unwrap();
        assert_eq!(parse_date_cell("2024-03-05"), Ok(d));
        assert_eq!(parse_date_cell("2024/3/5"), Ok(d));
        assert_eq!(parse_date_cell(" 2024-03-05T10:20:00 "), Ok(d));
        assert_eq!(parse_date_cell("20240305"), Ok(d));
        assert!(parse_date_cell("2024-02-30").is_err());
    }

    #[test]
    fn bad_dates_say_why() {
        assert!(parse_date_cell("").is_err());
        assert!(parse_date_cell("15/01/1404").unwrap_err().contains("سال/ماه/روز"));
        assert!(parse_date_cell("98/01/15").unwrap_err().contains("چهاررقمی"));
        assert!(parse_date_cell("1600/01/01").is_err());
        assert!(parse_date_cell("فردا").unwrap_err().contains("«فردا»"));
        assert!(parse_date_cell("1404/01/15/3").is_err());
        assert!(parse_date_cell("99999999999/1/1").is_err());
    }

    #[test]
    fn grades() {
        assert_eq!(parse_grade("3"), Ok(3));
        assert_eq!(parse_grade("۱۲"), Ok(12));
        assert_eq!(parse_grade("پیش‌دبستانی"), Ok(0));
        assert_eq!(parse_grade("پیش دبستانی"), Ok(0));
        assert_eq!(parse_grade("سوم"), Ok(3));
        assert_eq!(parse_grade("پایه دوازدهم"), Ok(12));
        assert_eq!(parse_grade("اول ابتدایی"), Ok(1));
        assert_eq!(parse_grade("كلاس ششم"), Ok(6));
        assert_eq!(parse_grade("آمادگی"), Ok(0));
        assert!(parse_grade("13").is_err());
        assert!(parse_grade("دانشگاه").is_err());
        assert!(parse_grade("ام").is_err());
    }

    #[test]
    fn years() {
        assert_eq!(parse_year("۱۳۹۸"), Ok(1398));
        assert_eq!(parse_year("2019"), Ok(2019));
        assert!(parse_year("98").is_err());
        assert!(parse_year("1700").is_err());
    }

    #[test]
    fn isbns() {
        assert_eq!(parse_isbn("0-306-40615-2"), Ok("0306406152".to_owned()));
        assert_eq!(parse_isbn("306406152"), Ok("0306406152".to_owned()));
        assert_eq!(parse_isbn("978-0-306-40615-7"), Ok("9780306406157".to_owned()));
        assert_eq!(parse_isbn("ISBN: ۹۷۸-۰-۳۰۶-۴۰۶۱۵-۷"), Ok("9780306406157".to_owned()));
        assert_eq!(parse_isbn("شابک ۹۷۸-۰-۳۰۶-۴۰۶۱۵-۷"), Ok("9780306406157".to_owned()));
        assert_eq!(parse_isbn("0-8044-2957-x"), Ok("080442957X".to_owned()));
        assert!(parse_isbn("978-0-306-40615-8").is_err());
        assert!(parse_isbn("12345").is_err());
        assert!(parse_isbn("X123456789").is_err());
    }

    #[test]
    fn age_groups() {
        assert_eq!(parse_age_group("الف"), Ok("الف".to_owned()));
        assert_eq!(parse_age_group("گروه ب"), Ok("ب".to_owned()));
        assert_eq!(parse_age_group("هـ"), Ok("ه".to_owned()));
        assert_eq!(parse_age_group("۷+"), Ok("+7".to_owned()));
        assert_eq!(parse_age_group("+ 7"), Ok("+7".to_owned()));
        assert_eq!(parse_age_group("+0"), Ok("+0".to_owned()));
        assert_eq!(parse_age_group("۱۲+"), Ok("+12".to_owned()));
        assert!(parse_age_group("+8").is_err());
        assert!(parse_age_group("ب و ج").is_err());
        assert!(parse_age_group("ز").is_err());
    }
}
