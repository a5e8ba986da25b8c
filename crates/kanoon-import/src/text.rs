//! Small text helpers shared by the reader, the mapping and the row parsers.

use kanoon_domain::text::{normalize_search, to_ascii_digits};

/// A number written with Persian digits, for messages.
pub(crate) fn persian_number(n: usize) -> String {
    n.to_string()
        .chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(0x06F0 + d).unwrap_or(c),
            None => c,
        })
        .collect()
}

/// Cleans a free-text cell for storage: trims, turns Arabic yeh/kaf (as old
/// Windows software writes them) into the Persian letters, drops control
/// characters and collapses runs of whitespace (line breaks included) into
/// one space. ZWNJ is kept: it is part of Persian spelling.
pub(crate) fn clean_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        let c = match c {
            '\u{064A}' | '\u{0649}' => '\u{06CC}',
            '\u{0643}' => '\u{06A9}',
            other => other,
        };
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if c.is_control() || c == '\u{FEFF}' {
            continue;
        }
        if pending_space && !out.is_empty() {
            out.push(' ');
        }
        pending_space = false;
        out.push(c);
    }
    out
}

/// A key to compare header texts and synonyms: search-normalized, then only
/// letters and digits kept (spaces, ZWNJ, punctuation, tatweel and
/// diacritics dropped) and the few letter variants folded
/// (آ/أ/إ→ا, ؤ→و, ئ/ي/ى→ی, ك→ک, ة→ه).
pub(crate) fn header_key(s: &str) -> String {
    normalize_search(s)
        .chars()
        .filter_map(|c| {
            let c = match c {
                'آ' | 'أ' | 'إ' => 'ا',
                'ؤ' => 'و',
                'ئ' | 'ي' | 'ى' => 'ی',
                'ك' => 'ک',
                'ة' => 'ه',
                other => other,
            };
            (c.is_alphanumeric() && c != '\u{0640}').then_some(c)
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Cell text with digits in ASCII and no whitespace or bidi marks at all,
/// for numbers people write with spaces or copy with hidden marks.
pub(crate) fn compact_digits(s: &str) -> String {
    to_ascii_digits(s)
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '\u{200c}' | '\u{200d}' | '\u{200e}' | '\u{200f}' | '\u{FEFF}'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persian_numbers() {
        assert_eq!(persian_number(0), "۰");
        assert_eq!(persian_number(1205), "۱۲۰۵");
    }

    #[test]
    fn clean_text_folds_arabic_letters_and_spaces() {
        assert_eq!(clean_text("  علي   كريمي\n"), "علی کریمی");
        assert_eq!(clean_text("می\u{200c}خواهم"), "می\u{200c}خواهم");
        assert_eq!(clean_text("\u{0007}a\tb"), "a b");
    }

    #[test]
    fn header_keys_ignore_spacing_and_letter_variants() {
        assert_eq!(header_key("نام خانوادگی"), header_key("نام‌خانوادگي"));
        assert_eq!(header_key("کد ملی"), header_key("كدملي"));
        assert_eq!(header_key("First_Name"), header_key("first name"));
    }
}
