//! Identifiers people type or scan: Iranian national id, mobile numbers,
//! member numbers (digits with a check digit).
//!
//! All parsers accept any digit script (a barcode scanner under the Persian
//! keyboard layout types Persian digits) and keep the original input in the
//! error so the message can show what was typed.

use crate::DomainError;
use crate::text::is_invisible;
use crate::text::to_ascii_digits;

/// ASCII digits of `input`, dropping the separators in `skip` and invisible
/// bidi marks (copy-paste from RTL text brings them); `None` if anything else
/// remains.
fn digits_only(input: &str, skip: impl Fn(char) -> bool) -> Option<String> {
    let mut out = String::with_capacity(input.len());
    for c in to_ascii_digits(input).chars() {
        if c.is_ascii_digit() {
            out.push(c);
        } else if !(skip(c) || is_invisible(c)) {
            return None;
        }
    }
    Some(out)
}

fn is_dash(c: char) -> bool {
    matches!(c, '-' | '_' | '\u{2010}'..='\u{2015}' | '\u{2212}')
}

fn digit_values(ascii_digits: &str) -> impl Iterator<Item = u32> + '_ {
    ascii_digits.chars().filter_map(|c| c.to_digit(10))
}

/// An Iranian national id (کد ملی): always 10 ASCII digits, leading zeros
/// kept.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(transparent)]
pub struct NationalId(String);

impl NationalId {
    /// Accepts ASCII/Persian/Arabic-Indic digits, ignores spaces and dashes;
    /// 8 or 9 digits are left-padded with zeros (old cards drop leading
    /// zeros). Valid when 10 digits, not all the same digit, and the check
    /// digit matches: s = Σ d_i·(10−i) for i = 0..8, r = s mod 11, valid iff
    /// d9 == r when r < 2, else d9 == 11 − r.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let err = || DomainError::InvalidNationalId(input.to_string());
        let digits = digits_only(input, |c| c.is_whitespace() || is_dash(c)).ok_or_else(err)?;
        let padded = match digits.len() {
            8 | 9 => format!("{digits:0>10}"),
            10 => digits,
            _ => return Err(err()),
        };
        let d: Vec<u32> = digit_values(&padded).collect();
        // Repeated digits pass the checksum but are never issued.
        if d.iter().all(|x| Some(x) == d.first()) {
            return Err(err());
        }
        let (body, check) = d.split_at(9);
        if check.first().copied() != Some(national_id_check_digit(body)) {
            return Err(err());
        }
        Ok(Self(padded))
    }

    /// The valid national id with these nine leading digits (its check
    /// digit computed): demo data and tests make ids with it.
    pub fn from_body(nine_digits: &str) -> Result<Self, DomainError> {
        let body: Vec<u32> = digit_values(nine_digits).collect();
        if body.len() != 9 || nine_digits.chars().count() != 9 {
            return Err(DomainError::InvalidNationalId(nine_digits.to_owned()));
        }
        Self::parse(&format!("{nine_digits}{}", national_id_check_digit(&body)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The check digit for the first nine digits of a national id.
fn national_id_check_digit(body: &[u32]) -> u32 {
    let s: u32 = body.iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
    let r = s % 11;
    if r < 2 { r } else { 11 - r }
}

impl std::fmt::Display for NationalId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An Iranian mobile number, normalized to `09xxxxxxxxx`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(transparent)]
pub struct Mobile(String);

impl Mobile {
    /// Any digit script; ignores spaces, dashes, parentheses; accepts
    /// `09…`, `+989…`, `00989…`, `989…` and `9xxxxxxxxx` (10 digits) forms —
    /// also `+98 (0)9…` — and normalizes to `09xxxxxxxxx`.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let err = || DomainError::InvalidMobile(input.to_string());
        let trimmed = input.trim_matches(|c: char| c.is_whitespace() || is_invisible(c));
        let (international, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let digits = digits_only(rest, |c| c.is_whitespace() || is_dash(c) || c == '(' || c == ')').ok_or_else(err)?;
        let national: &str = if international {
            digits.strip_prefix("98").ok_or_else(err)?
        } else {
            match digits.len() {
                14 => digits.strip_prefix("0098").ok_or_else(err)?,
                12 => digits.strip_prefix("98").ok_or_else(err)?,
                _ => &digits,
            }
        };
        // After a country code, people often keep the trunk zero: +98 (0)912…
        let national = match national.len() {
            11 => national.strip_prefix('0').ok_or_else(err)?,
            _ => national,
        };
        if national.len() != 10 || !national.starts_with('9') {
            return Err(err());
        }
        Ok(Self(format!("0{national}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Mobile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Member numbers: digits only = center code digits + desk number (always 2
/// digits, zero-padded) + counter (at least 5 digits, zero-padded) + 1 Luhn
/// check digit (Luhn: catches every single-digit error and most adjacent
/// transpositions, and is widely known).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(transparent)]
pub struct MemberNumber(String);

/// 1 center digit + 2 desk digits + 5 counter digits + 1 check digit.
const MEMBER_NUMBER_MIN_LEN: usize = 9;
/// 8 center digits + 2 desk digits + 20 counter digits (u64) + 1 check digit.
const MEMBER_NUMBER_MAX_LEN: usize = 31;

impl MemberNumber {
    /// `center_code` must be 1–8 digits (any script, surrounding spaces
    /// ignored), `desk_number` 1..=99. Errors are `DomainError::Invalid`
    /// with a Persian message: they are setup mistakes, not a misread card.
    pub fn compose(center_code: &str, desk_number: u8, counter: u64) -> Result<Self, DomainError> {
        let center = to_ascii_digits(center_code.trim());
        if !(1..=8).contains(&center.len()) || !center.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::Invalid(format!("کد مرکز «{center_code}» معتبر نیست؛ باید ۱ تا ۸ رقم باشد.")));
        }
        if !(1..=99).contains(&desk_number) {
            return Err(DomainError::Invalid(format!("شماره میز «{desk_number}» معتبر نیست؛ باید از ۱ تا ۹۹ باشد.")));
        }
        let body = format!("{center}{desk_number:02}{counter:05}");
        let check = luhn_check_digit(&body);
        Ok(Self(format!("{body}{check}")))
    }

    /// Accepts any digit script, ignores spaces (and dashes); verifies the
    /// Luhn check digit and the minimal length (1+2+5+1 digits).
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let err = || DomainError::InvalidMemberNumber(input.to_string());
        let digits = digits_only(input, |c| c.is_whitespace() || is_dash(c)).ok_or_else(err)?;
        if !(MEMBER_NUMBER_MIN_LEN..=MEMBER_NUMBER_MAX_LEN).contains(&digits.len()) {
            return Err(err());
        }
        let (body, check) = digits.split_at(digits.len() - 1);
        if check != luhn_check_digit(body).to_string() {
            return Err(err());
        }
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for MemberNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The Luhn check digit to append to `digits` (ASCII; other characters are
/// skipped).
pub fn luhn_check_digit(digits: &str) -> u8 {
    // Doubling starts at the rightmost payload digit, since the check digit
    // will sit to its right.
    let sum: u32 = digit_values(digits)
        .collect::<Vec<_>>()
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 0 {
                let dd = d * 2;
                if dd > 9 { dd - 9 } else { dd }
            } else {
                d
            }
        })
        .sum();
    // sum % 10 < 10, so the cast cannot truncate.
    ((10 - sum % 10) % 10) as u8
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    #[test]
    fn an_id_is_made_from_nine_digits_with_its_check_digit() {
        assert_eq!(NationalId::from_body("008457594").map(|n| n.as_str().to_owned()), Ok("0084575948".to_owned()));
        assert!(NationalId::from_body("11111111").is_err());
        assert!(NationalId::from_body("111111111").is_err(), "one repeated digit is never issued");
    }

    use super::*;
    use crate::text::to_persian_digits;
    use proptest::prelude::*;

    fn nid_ok(s: &str) -> bool {
        NationalId::parse(s).is_ok()
    }

    /// The remainder r of the formula, for reasoning in tests.
    fn remainder(id: &str) -> u32 {
        let d: Vec<u32> = id.chars().map(|c| c.to_digit(10).unwrap()).collect();
        (0..9).map(|i| d[i] * (10 - i as u32)).sum::<u32>() % 11
    }

    #[test]
    fn known_national_ids() {
        // 0084575948: s = 212, r = 3, check = 8.
        assert_eq!(NationalId::parse("0084575948").unwrap().as_str(), "0084575948");
        // Vectors checked by hand and re-derived below from the formula.
        for id in ["0084575948", "4608968882", "0010532129", "0013542419", "1234567891"] {
            let d: Vec<u32> = id.chars().map(|c| c.to_digit(10).unwrap()).collect();
            let r = remainder(id);
            let want = if r < 2 { r } else { 11 - r };
            assert_eq!(d[9], want, "{id} is a valid test vector");
            assert!(nid_ok(id), "{id}");
        }
    }

    #[test]
    fn national_id_input_forms() {
        let want = NationalId::parse("0084575948").unwrap();
        assert_eq!(NationalId::parse("۰۰۸۴۵۷۵۹۴۸").unwrap(), want);
        assert_eq!(NationalId::parse("٠٠٨٤٥٧٥٩٤٨").unwrap(), want);
        assert_eq!(NationalId::parse(" 008-457594-8 ").unwrap(), want);
        // Old cards drop leading zeros.
        assert_eq!(NationalId::parse("84575948").unwrap(), want);
        assert_eq!(NationalId::parse("084575948").unwrap(), want);
        assert_eq!(serde_json::to_string(&want).unwrap(), "\"0084575948\"".to_string());
    }

    #[test]
    fn national_id_rejections() {
        // All the same digit: every such id passes the checksum.
        for d in 0..=9u32 {
            let id: String = std::iter::repeat_n(char::from_digit(d, 10).unwrap(), 10).collect();
            assert_eq!(NationalId::parse(&id), Err(DomainError::InvalidNationalId(id.clone())));
        }
        for bad in
            ["0084575949", "0084575940", "", "1234567", "12345678901", "00845759a8", "0084575948 x", "۰۰۸۴۵۷۵۹۴۷"]
        {
            assert_eq!(NationalId::parse(bad), Err(DomainError::InvalidNationalId(bad.to_string())), "{bad:?}");
        }
    }

    #[test]
    fn mobile_forms() {
        for input in [
            "09121234567",
            "۰۹۱۲۱۲۳۴۵۶۷",
            "٠٩١٢١٢٣٤٥٦٧",
            "+989121234567",
            "+98 912 123 4567",
            "+98 (0)912-123-4567",
            "00989121234567",
            "989121234567",
            "9121234567",
            "0912 123 45 67",
            "(0912) 123-4567",
            "\u{200E}+98 912 123 4567\u{200E}",
        ] {
            assert_eq!(Mobile::parse(input).unwrap().as_str(), "09121234567", "{input:?}");
        }
        for bad in [
            "",
            "0912123456",
            "091212345678",
            "02112345678",
            "+19121234567",
            "+9121234567",
            "0091121234567",
            "8121234567",
            "0912abc4567",
            "0912+1234567",
        ] {
            assert_eq!(Mobile::parse(bad), Err(DomainError::InvalidMobile(bad.to_string())), "{bad:?}");
        }
    }

    #[test]
    fn luhn_known_values() {
        // The classic example: 7992739871 + check digit 3.
        assert_eq!(luhn_check_digit("7992739871"), 3);
        assert_eq!(luhn_check_digit(""), 0);
        assert_eq!(luhn_check_digit("0"), 0);
        assert_eq!(luhn_check_digit("1"), 8);
    }

    #[test]
    fn member_number_compose_and_parse() {
        let m = MemberNumber::compose("1234", 3, 17).unwrap();
        assert_eq!(&m.as_str()[..11], "12340300017");
        assert_eq!(m.as_str().len(), 12);
        assert_eq!(MemberNumber::parse(m.as_str()).unwrap(), m);
        assert_eq!(MemberNumber::parse(&to_persian_digits(m.as_str())).unwrap(), m);
        assert_eq!(MemberNumber::compose("۱۲۳۴", 3, 17).unwrap(), m, "Persian-digit center code");
        // Counters past five digits just grow.
        let big = MemberNumber::compose("7", 99, 1_234_567).unwrap();
        assert_eq!(&big.as_str()[..10], "7991234567");
        assert!(MemberNumber::parse(big.as_str()).is_ok());
    }

    #[test]
    fn member_number_rejections() {
        assert!(matches!(MemberNumber::compose("", 1, 1), Err(DomainError::Invalid(_))));
        assert!(MemberNumber::compose("123456789", 1, 1).is_err());
        assert!(MemberNumber::compose("12a", 1, 1).is_err());
        assert!(MemberNumber::compose("12", 0, 1).is_err());
        assert!(MemberNumber::compose("12", 100, 1).is_err());
        // Too short even with a valid Luhn digit.
        let short = format!("1234567{}", luhn_check_digit("1234567"));
        for bad in [short.as_str(), "", "abc", "12340300017"] {
            assert_eq!(MemberNumber::parse(bad), Err(DomainError::InvalidMemberNumber(bad.to_string())), "{bad:?}");
        }
    }

    #[test]
    fn a_refused_number_is_quoted_back_in_persian_digits() {
        let message = MemberNumber::parse("9").map(|_| ()).unwrap_err().to_string();
        assert!(message.contains("«۹»"), "{message}");
        assert!(!message.chars().any(|c| c.is_ascii_digit()), "{message}");
    }

    fn all_same_digit(s: &str) -> bool {
        let mut cs = s.chars();
        cs.next().is_none_or(|first| cs.all(|c| c == first))
    }

    fn replace_digit(s: &str, pos: usize, d: char) -> String {
        s.chars().enumerate().map(|(i, c)| if i == pos { d } else { c }).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::proptest_cases()))]

        /// Appending the computed check digit to any nine digits gives a valid
        /// id, unless all ten digits are equal.
        #[test]
        fn computed_check_digit_is_valid(body in prop::collection::vec(0u32..10, 9)) {
            let check = national_id_check_digit(&body);
            let id: String = body.iter().chain(std::iter::once(&check))
                .map(|d| char::from_digit(*d, 10).unwrap()).collect();
            let all_same = all_same_digit(&id);
            prop_assert_eq!(nid_ok(&id), !all_same);
            prop_assert_eq!(nid_ok(&to_persian_digits(&id)), !all_same);
        }

        /// Changing one digit of a valid id makes it invalid, with one
        /// exception the mod-11 scheme allows: r = 1 and r = 10 both give
        /// check digit 1, so a change in positions 0–8 that moves r between
        /// 1 and 10 keeps the id valid. (A change in 0–8 always changes r,
        /// since the weights 10..2 and the digit difference are non-zero mod
        /// the prime 11; the check digit is a function of r, so changing
        /// position 9 alone is always caught.)
        #[test]
        fn single_digit_change(
            body in prop::collection::vec(0u32..10, 9),
            pos in 0usize..10,
            delta in 1u32..10,
        ) {
            let check = national_id_check_digit(&body);
            let id: String = body.iter().chain(std::iter::once(&check))
                .map(|d| char::from_digit(*d, 10).unwrap()).collect();
            prop_assume!(nid_ok(&id));
            let old = id.chars().nth(pos).unwrap().to_digit(10).unwrap();
            let new = char::from_digit((old + delta) % 10, 10).unwrap();
            let changed = replace_digit(&id, pos, new);
            let (r0, r1) = (remainder(&id), remainder(&changed));
            if pos < 9 {
                prop_assert_ne!(r0, r1);
            }
            let exception = pos < 9 && check == 1 && ((r0, r1) == (1, 10) || (r0, r1) == (10, 1));
            let all_same = all_same_digit(&changed);
            prop_assert_eq!(nid_ok(&changed), exception && !all_same);
        }

        /// Member numbers round-trip through parse in any digit script, and
        /// every single-digit typo is detected.
        #[test]
        fn member_number_round_trip_and_typos(
            center in "[0-9]{1,8}",
            desk in 1u8..=99,
            counter in any::<u64>(),
            pos_seed in any::<usize>(),
            delta in 1u32..10,
        ) {
            let m = MemberNumber::compose(&center, desk, counter).unwrap();
            prop_assert_eq!(MemberNumber::parse(m.as_str()).unwrap(), m.clone());
            prop_assert_eq!(MemberNumber::parse(&to_persian_digits(m.as_str())).unwrap(), m.clone());
            let s = m.as_str();
            let pos = pos_seed % s.len();
            let old = s.chars().nth(pos).unwrap().to_digit(10).unwrap();
            let typo = replace_digit(s, pos, char::from_digit((old + delta) % 10, 10).unwrap());
            prop_assert!(MemberNumber::parse(&typo).is_err(), "{} → {}", s, typo);
        }
    }
}
