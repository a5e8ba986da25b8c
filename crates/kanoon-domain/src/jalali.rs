//! Jalali (Solar Hijri) dates over ICU4X's Persian calendar, and Asia/Tehran
//! local time. Storage is ISO (`chrono::NaiveDate` / UTC timestamps); this
//! module converts for display and input.
//!
//! Leap years come from ICU's Persian calendar (the 33-year rule with its
//! table of astronomical corrections), never from the 2820-year rule, which
//! disagrees with the official calendar (e.g. on 1403/1404).

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use icu_calendar::Date;
use icu_calendar::cal::Persian;
use icu_calendar::types::RataDie;

use crate::DomainError;
use crate::text::{to_ascii_digits, to_persian_digits};

/// ICU's `try_new_persian` accepts these years; outside them we clamp rather
/// than fail, since no library record is dated there.
const MIN_YEAR: i32 = -9999;
const MAX_YEAR: i32 = 9999;

const MONTH_NAMES: [&str; 12] =
    ["فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند"];

/// A day of the Jalali calendar. Construct with [`JalaliDate::new`] or
/// [`JalaliDate::parse`] to get a validated date; the fields are public for
/// pattern matching and serde, so the conversions below stay total (they
/// clamp instead of panicking) even for a hand-built invalid value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct JalaliDate {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl JalaliDate {
    /// A validated Jalali date (month 1–12, day within the month, Esfand 30
    /// only in leap years).
    pub fn new(year: i32, month: u8, day: u8) -> Result<Self, DomainError> {
        Date::try_new_persian(year, month, day)
            .map(|_| Self { year, month, day })
            .map_err(|_| DomainError::InvalidDate(format!("{}/{:02}/{:02}", year, month, day)))
    }

    /// The Jalali date of a Gregorian (ISO) date.
    pub fn from_gregorian(d: NaiveDate) -> Self {
        // chrono's days-from-CE count (0001-01-01 = 1) is exactly the
        // Rata Die numbering ICU uses, and this path cannot fail.
        let rd = RataDie::new(i64::from(d.num_days_from_ce()));
        let p = Date::from_rata_die(rd, Persian);
        Self { year: p.year().extended_year(), month: p.month().ordinal, day: p.day_of_month().0 }
    }

    /// The Gregorian (ISO) date of this Jalali date.
    pub fn to_gregorian(&self) -> NaiveDate {
        let p = self.to_icu();
        let rd = p.to_rata_die().to_i64_date();
        i32::try_from(rd).ok().and_then(NaiveDate::from_num_days_from_ce_opt).unwrap_or(if rd < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        })
    }

    /// The ICU date, clamping out-of-range fields so this never fails.
    fn to_icu(self) -> Date<Persian> {
        if let Ok(d) = Date::try_new_persian(self.year, self.month, self.day) {
            return d;
        }
        let year = self.year.clamp(MIN_YEAR, MAX_YEAR);
        let month = self.month.clamp(1, 12);
        let day = self.day.clamp(1, Self::days_in_month(year, month));
        Date::try_new_persian(year, month, day)
            // Unreachable in practice: every field is now in range.
            .unwrap_or_else(|_| Date::from_rata_die(RataDie::new(0), Persian))
    }

    /// Whether Esfand of `year` has 30 days (ICU's Persian calendar).
    /// Years outside ±9999 are reported as common years.
    pub fn is_leap_year(year: i32) -> bool {
        Date::try_new_persian(year, 1, 1).map(|d| d.is_in_leap_year()).unwrap_or(false)
    }

    /// Days in `month` of `year`: 31 for months 1–6, 30 for 7–11, 29 or 30
    /// for Esfand; 0 for a month outside 1–12.
    pub fn days_in_month(year: i32, month: u8) -> u8 {
        match month {
            1..=6 => 31,
            7..=11 => 30,
            12 if Self::is_leap_year(year) => 30,
            12 => 29,
            _ => 0,
        }
    }

    /// Parses a typed date: `1404/01/15`, `1404-1-5`, `۱۴۰۴/۰۱/۱۵` or with
    /// Arabic-Indic digits, optionally surrounded by spaces (and invisible
    /// bidi marks, which copy-paste from RTL text brings along). The year
    /// must have four digits so that «۰۴/۱/۵» is not read as year 4.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let err = || DomainError::InvalidDate(input.to_string());
        let trimmed = input.trim_matches(|c: char| c.is_whitespace() || is_bidi_mark(c));
        let ascii = to_ascii_digits(trimmed);
        let parts: Vec<&str> = ascii.split(['/', '-']).collect();
        let [y, m, d] = parts.as_slice() else {
            return Err(err());
        };
        let all_digits =
            |s: &str, min: usize, max: usize| (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(y, 4, 4) || !all_digits(m, 1, 2) || !all_digits(d, 1, 2) {
            return Err(err());
        }
        let year: i32 = y.parse().map_err(|_| err())?;
        let month: u8 = m.parse().map_err(|_| err())?;
        let day: u8 = d.parse().map_err(|_| err())?;
        if year < 1 {
            return Err(err());
        }
        Self::new(year, month, day).map_err(|_| err())
    }

    /// `1404/01/15`.
    pub fn to_string_latin(&self) -> String {
        format!("{:04}/{:02}/{:02}", self.year, self.month, self.day)
    }

    /// `۱۴۰۴/۰۱/۱۵`.
    pub fn to_persian_string(&self) -> String {
        to_persian_digits(&self.to_string_latin())
    }

    /// The Persian month name, فروردین … اسفند.
    pub fn month_name(&self) -> &'static str {
        let i = usize::from(self.month.clamp(1, 12)) - 1;
        MONTH_NAMES.get(i).copied().unwrap_or("")
    }

    /// `۱۵ فروردین ۱۴۰۴`.
    pub fn to_long_persian(&self) -> String {
        to_persian_digits(&format!("{} {} {}", self.day, self.month_name(), self.year))
    }

    /// The Persian weekday name, شنبه … جمعه.
    pub fn weekday_name(&self) -> &'static str {
        use chrono::Weekday;
        match self.to_gregorian().weekday() {
            Weekday::Sat => "شنبه",
            Weekday::Sun => "یکشنبه",
            Weekday::Mon => "دوشنبه",
            Weekday::Tue => "سه‌شنبه",
            Weekday::Wed => "چهارشنبه",
            Weekday::Thu => "پنجشنبه",
            Weekday::Fri => "جمعه",
        }
    }
}

impl std::fmt::Display for JalaliDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_persian_string())
    }
}

fn is_bidi_mark(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// The civil date in Asia/Tehran for a UTC instant (use chrono-tz's
/// Asia::Tehran; DST existed before 1402 and must be honoured for old
/// timestamps).
pub fn tehran_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&chrono_tz::Asia::Tehran).date_naive()
}

/// "۱۴۰۴/۰۱/۱۵ ۱۴:۰۵" in Tehran time.
pub fn format_tehran_datetime(at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&chrono_tz::Asia::Tehran);
    let date = JalaliDate::from_gregorian(local.date_naive());
    format!("{} {}", date.to_persian_string(), to_persian_digits(&format!("{:02}:{:02}", local.hour(), local.minute())))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use chrono::TimeZone;

    fn g(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn leap_years_follow_icu() {
        assert!(JalaliDate::is_leap_year(1403));
        assert!(!JalaliDate::is_leap_year(1404));
        assert!(JalaliDate::new(1403, 12, 30).is_ok());
        assert!(JalaliDate::new(1404, 12, 30).is_err());
        assert_eq!(JalaliDate::days_in_month(1403, 12), 30);
        assert_eq!(JalaliDate::days_in_month(1404, 12), 29);
        assert_eq!(JalaliDate::days_in_month(1404, 1), 31);
        assert_eq!(JalaliDate::days_in_month(1404, 7), 30);
        assert_eq!(JalaliDate::days_in_month(1404, 13), 0);
        // Leap years of the current cycle, per the official calendar.
        for y in [1391, 1395, 1399, 1403, 1408] {
            assert!(JalaliDate::is_leap_year(y), "{y}");
        }
    }

    #[test]
    fn known_conversions() {
        let nowruz = JalaliDate::new(1404, 1, 1).unwrap();
        assert_eq!(nowruz.to_gregorian(), g(2025, 3, 21));
        assert_eq!(JalaliDate::from_gregorian(g(2025, 3, 21)), nowruz);
        let last = JalaliDate::new(1403, 12, 30).unwrap();
        assert_eq!(last.to_gregorian(), g(2025, 3, 20));
        assert_eq!(JalaliDate::from_gregorian(g(2025, 3, 20)), last);
        assert_eq!(JalaliDate::from_gregorian(g(1979, 2, 11)), JalaliDate::new(1357, 11, 22).unwrap());
    }

    #[test]
    fn round_trip_every_day_1300_to_1500() {
        let mut prev: Option<NaiveDate> = None;
        let mut count = 0;
        for year in 1300..=1500 {
            for month in 1..=12u8 {
                for day in 1..=JalaliDate::days_in_month(year, month) {
                    let j = JalaliDate::new(year, month, day).unwrap();
                    let gd = j.to_gregorian();
                    assert_eq!(JalaliDate::from_gregorian(gd), j);
                    if let Some(p) = prev {
                        assert_eq!(p.succ_opt(), Some(gd), "{j:?}");
                    }
                    prev = Some(gd);
                    count += 1;
                }
            }
        }
        // 201 years of 365 days plus one per leap year.
        let leaps = (1300..=1500).filter(|y| JalaliDate::is_leap_year(*y)).count();
        assert_eq!(count, 201 * 365 + leaps);
    }

    #[test]
    fn parse_digit_scripts_and_separators() {
        let want = JalaliDate::new(1404, 1, 15).unwrap();
        assert_eq!(JalaliDate::parse("1404/01/15").unwrap(), want);
        assert_eq!(JalaliDate::parse("۱۴۰۴/۰۱/۱۵").unwrap(), want);
        assert_eq!(JalaliDate::parse("١٤٠٤/٠١/١٥").unwrap(), want);
        assert_eq!(JalaliDate::parse("  1404-1-15 ").unwrap(), want);
        assert_eq!(JalaliDate::parse("\u{200F}۱۴۰۴/۱/۱۵\u{200F}").unwrap(), want);
        assert_eq!(JalaliDate::parse("1404-1-5").unwrap(), JalaliDate::new(1404, 1, 5).unwrap());
    }

    #[test]
    fn parse_rejects_invalid() {
        for bad in [
            "1404/13/01",
            "1404/12/30",
            "1404/00/10",
            "1404/01/00",
            "1404/07/31",
            "abc",
            "",
            "   ",
            "1404/01",
            "1404/01/15/1",
            "04/01/15",
            "14040/01/15",
            "1404/001/15",
            "1404//15",
            "+1404/01/15",
            "1404/1 /15",
            "0000/01/01",
        ] {
            assert_eq!(JalaliDate::parse(bad), Err(DomainError::InvalidDate(bad.to_string())), "{bad:?}");
        }
    }

    #[test]
    fn formatting() {
        let d = JalaliDate::new(1404, 1, 15).unwrap();
        assert_eq!(d.to_string_latin(), "1404/01/15");
        assert_eq!(d.to_persian_string(), "۱۴۰۴/۰۱/۱۵");
        assert_eq!(d.to_string(), "۱۴۰۴/۰۱/۱۵");
        assert_eq!(d.month_name(), "فروردین");
        assert_eq!(d.to_long_persian(), "۱۵ فروردین ۱۴۰۴");
        assert_eq!(JalaliDate::new(1403, 12, 1).unwrap().month_name(), "اسفند");
        // 2025-03-21 was a Friday.
        assert_eq!(JalaliDate::new(1404, 1, 1).unwrap().weekday_name(), "جمعه");
        assert_eq!(JalaliDate::new(1404, 1, 2).unwrap().weekday_name(), "شنبه");
    }

    #[test]
    fn invalid_hand_built_value_does_not_panic() {
        let d = JalaliDate { year: 1404, month: 14, day: 40 };
        let _ = d.to_gregorian();
        let _ = d.month_name();
        let _ = d.weekday_name();
        let far = JalaliDate { year: i32::MAX, month: 0, day: 0 };
        let _ = far.to_gregorian();
        let _ = JalaliDate::from_gregorian(NaiveDate::MAX);
        let _ = JalaliDate::from_gregorian(NaiveDate::MIN);
    }

    #[test]
    fn tehran_offsets() {
        let at = Utc.with_ymd_and_hms(2025, 3, 20, 21, 0, 0).unwrap();
        assert_eq!(tehran_date(at), g(2025, 3, 21));
        let before = Utc.with_ymd_and_hms(2025, 3, 20, 20, 29, 0).unwrap();
        assert_eq!(tehran_date(before), g(2025, 3, 20));
        // Summer 2020 was +04:30 (DST until 1401).
        let summer = Utc.with_ymd_and_hms(2020, 6, 1, 20, 0, 0).unwrap();
        assert_eq!(tehran_date(summer), g(2020, 6, 2));
        // Summer 2025: no DST any more, +03:30.
        let summer25 = Utc.with_ymd_and_hms(2025, 6, 1, 20, 0, 0).unwrap();
        assert_eq!(tehran_date(summer25), g(2025, 6, 1));
    }

    #[test]
    fn tehran_datetime_format() {
        let at = Utc.with_ymd_and_hms(2025, 4, 4, 10, 35, 0).unwrap();
        assert_eq!(format_tehran_datetime(at), "۱۴۰۴/۰۱/۱۵ ۱۴:۰۵");
        let summer = Utc.with_ymd_and_hms(2020, 6, 1, 20, 0, 0).unwrap();
        assert_eq!(format_tehran_datetime(summer), "۱۳۹۹/۰۳/۱۳ ۰۰:۳۰");
    }
}
