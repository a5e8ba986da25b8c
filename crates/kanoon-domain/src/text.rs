//! Persian text: digit scripts, normalization for search keys, and a
//! collation key for Persian alphabetical order.
//!
//! Text typed at different desks differs invisibly: Arabic ي/ك from an Arabic
//! keyboard layout, ZWNJ typed or not, harakat, tatweel, bidi marks from
//! copy-paste. Search keys erase those differences; the collation key orders
//! names the way a Persian reader expects (پ after ب, گ after ک), which plain
//! code-point order does not.

use std::cmp::Ordering;

const ZWNJ: char = '\u{200C}';
const ZWJ: char = '\u{200D}';

/// Zero-width and bidirectional formatting marks (ZWSP, ZWNJ, ZWJ, LRM,
/// RLM, ALM, embeddings, isolates, BOM): invisible in input, never data.
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Persian (U+06F0–06F9) and Arabic-Indic (U+0660–0669) digits → ASCII;
/// everything else unchanged.
pub fn to_ascii_digits(s: &str) -> String {
    s.chars().map(ascii_digit_of).collect()
}

fn ascii_digit_of(c: char) -> char {
    match c {
        '\u{06F0}'..='\u{06F9}' => shift(c, 0x06F0, '0'),
        '\u{0660}'..='\u{0669}' => shift(c, 0x0660, '0'),
        _ => c,
    }
}

/// ASCII digits → Persian digits (for display).
pub fn to_persian_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => shift(c, u32::from('0'), '\u{06F0}'),
            _ => c,
        })
        .collect()
}

/// Moves `c` from a run starting at `from` to the run starting at `to`.
fn shift(c: char, from: u32, to: char) -> char {
    char::from_u32(u32::from(to) + (u32::from(c) - from)).unwrap_or(c)
}

/// Text as it is stored (names, titles, authors, addresses): what the
/// person typed, in one spelling. Arabic ي/ى → ی and ك → ک (an Arabic
/// keyboard layout types them, the card would print them), Arabic-Indic
/// digits → Persian digits, tatweel and bidi/format marks dropped, ZWNJ
/// kept once and only between letters, whitespace runs → one space,
/// trimmed. Unlike `normalize_search` it keeps every letter the reader
/// sees (آ, ة, ئ, hamza) and its punctuation. Idempotent.
/// An amount of rials as staff read it: Persian digits in groups of three
/// separated by «٬» (U+066C), «۱٬۲۵۰٬۰۰۰».
pub fn format_rials(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('\u{066C}');
        }
        grouped.push(c);
    }
    let sign = if n < 0 { "-" } else { "" };
    to_persian_digits(&format!("{sign}{grouped}"))
}

pub fn clean_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    let mut pending_zwnj = false;
    for c in s.chars() {
        let c = match c {
            'ي' | 'ى' => 'ی',
            'ك' => 'ک',
            '\u{0660}'..='\u{0669}' => shift(c, 0x0660, '\u{06F0}'),
            _ => c,
        };
        if c == ZWNJ {
            pending_zwnj = true;
        } else if c.is_whitespace() {
            pending_space = true;
        } else if c == '\u{0640}' || (is_invisible(c) && c != ZWJ) || matches!(c, '\u{061C}' | '\u{2066}'..='\u{2069}')
        {
            // tatweel, bidi and format marks: never data
        } else {
            if !out.is_empty() {
                if pending_space {
                    out.push(' ');
                } else if pending_zwnj {
                    out.push(ZWNJ);
                }
            }
            pending_space = false;
            pending_zwnj = false;
            out.push(c);
        }
    }
    out
}

/// Invisible characters that carry no letters: harakat, tanwin, shadda,
/// sukun, hamza above/below, superscript alef, tatweel, bidi and format
/// marks, and Latin combining accents.
fn is_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{064B}'..='\u{065F}'
            | '\u{0670}'
            | '\u{0640}'
            | '\u{0300}'..='\u{036F}'
            | '\u{061C}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// What a character becomes in a search key.
enum Folded {
    Drop,
    Space,
    Char(char),
}

/// Letter variants that people type interchangeably. ئ goes to ی because
/// its hamza is a mark we drop anyway (ی + U+0654 must equal ئ), and so
/// «پائیز» finds «پاییز».
fn fold_letter(c: char) -> char {
    match c {
        'ي' | 'ى' | 'ئ' => 'ی',
        'ك' => 'ک',
        'ة' | 'ۀ' => 'ه',
        'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
        'ؤ' => 'و',
        _ => ascii_digit_of(c),
    }
}

fn fold_for_search(c: char) -> Folded {
    if is_ignorable(c) {
        Folded::Drop
    } else if c == ZWNJ || c == ZWJ || c.is_whitespace() {
        Folded::Space
    } else {
        let f = fold_letter(c);
        if f.is_alphanumeric() {
            Folded::Char(f)
        } else {
            // Punctuation and symbols separate words.
            Folded::Space
        }
    }
}

/// Search key: lower-case Latin; ي, ى, ئ → ی; ك → ک; ة, ۀ → ه; أ, إ, آ, ٱ → ا;
/// ؤ → و; Persian/Arabic digits → ASCII; harakat, tanwin, shadda, sukun,
/// superscript alef, tatweel, bidi and format marks removed; ZWNJ and ZWJ →
/// space; any other punctuation → space; whitespace collapsed and trimmed.
pub fn normalize_search(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        match fold_for_search(c) {
            Folded::Drop => {}
            Folded::Space => pending_space = true,
            Folded::Char(f) => {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                // Some lower-case forms carry a combining mark (İ → i̇); drop it
                // so normalizing twice changes nothing.
                out.extend(f.to_lowercase().filter(|l| !is_ignorable(*l)));
            }
        }
    }
    out
}

/// The text to put in a full-text index for `s`: the normalized form plus,
/// when `s` contains ZWNJ (or ZWJ), the words of the joined form (ZWNJ
/// removed) that the normalized form lacks, so «کتاب‌های» is indexed as
/// «کتاب های کتابهای» and found whether or not the searcher types the ZWNJ.
pub fn index_text(s: &str) -> String {
    index_with_joins(s, is_indexed_joined)
}

/// Whether `index_text` also indexes neighbours `left right` joined: a
/// prefix or suffix Persian writes with ZWNJ. (`index_name_text` joins
/// every pair, so this holds for names too.)
fn is_indexed_joined(left: &str, right: &str) -> bool {
    JOINED_PREFIXES.contains(&left) || JOINED_SUFFIXES.contains(&right)
}

/// `index_text` for people's names: every pair of neighbouring words is
/// also indexed joined («پاک نژاد» → «پاکنژاد», «محمد رضا» → «محمدرضا»),
/// since a name's parts are written with a space, ZWNJ or nothing.
pub fn index_name_text(s: &str) -> String {
    index_with_joins(s, |_, _| true)
}

/// Parts Persian writes with ZWNJ and people often type with a space:
/// «می خواهم», «کتاب های», «بزرگ ترین».
const JOINED_PREFIXES: &[&str] = &["می", "نمی", "بی"];
const JOINED_SUFFIXES: &[&str] = &["ها", "های", "هایی", "هایش", "هایم", "هایت", "ای", "تر", "ترین", "ام", "اند"];

fn index_with_joins(s: &str, join: impl Fn(&str, &str) -> bool) -> String {
    let normalized = normalize_search(s);
    let mut words: Vec<String> = normalized.split(' ').filter(|w| !w.is_empty()).map(str::to_owned).collect();
    let mut extra: Vec<String> = Vec::new();
    if s.contains([ZWNJ, ZWJ]) {
        let joined: String = s.chars().filter(|c| *c != ZWNJ && *c != ZWJ).collect();
        extra.extend(normalize_search(&joined).split(' ').filter(|w| !w.is_empty()).map(str::to_owned));
    }
    // A query typed with ZWNJ is searched joined: index the joined form of
    // neighbours written with a space too.
    for pair in words.windows(2) {
        if join(&pair[0], &pair[1]) {
            extra.push(format!("{}{}", pair[0], pair[1]));
        }
    }
    for w in extra {
        if !words.contains(&w) {
            words.push(w);
        }
    }
    words.join(" ")
}

/// An FTS5 MATCH expression for user query `q`: every typed word must match
/// as a prefix (`"کتاب"*`), ANDed. A word typed with ZWNJ matches its joined
/// form or its parts side by side (`("کتابخانه"* OR "کتاب خانه"*)`), or
/// its joined form alone when the index joins its parts (`"کتابهای"*`); a word
/// after a space may also be joined to the previous one
/// (`"محمد"* AND ("رضا"* OR "محمدرضا"*)`). `None` when nothing searchable
/// remains. Quotes are removed from words, so the expression is always valid.
pub fn fts_query(q: &str) -> Option<String> {
    // Each typed word (split on whitespace only) with its parts, which ZWNJ,
    // punctuation or other marks separate once normalized.
    let words: Vec<Vec<String>> = q
        .split(char::is_whitespace)
        .map(|raw| {
            normalize_search(raw).split(' ').map(|p| p.replace('"', "")).filter(|p| !p.is_empty()).collect::<Vec<_>>()
        })
        .filter(|parts| !parts.is_empty())
        .collect();
    let quote = |w: &str| format!("\"{w}\"*");
    let mut terms: Vec<String> = Vec::with_capacity(words.len());
    for (i, parts) in words.iter().enumerate() {
        let term = if let [left, right] = parts.as_slice()
            && is_indexed_joined(left, right)
        {
            // «کتاب‌های»: the index holds it joined however it was stored
            // (`index_text` joins these pairs written with a space), so
            // the phrase would only cost: «های»* is on most titles.
            quote(&parts.concat())
        } else if parts.len() > 1 {
            // «کتاب‌خانه»: stored joined, with ZWNJ, or with a space.
            format!("({} OR \"{}\"*)", quote(&parts.concat()), parts.join(" "))
        } else if i > 0 && words[i - 1].len() == 1 {
            // «محمد رضا» also finds «محمدرضا» (the first word's prefix
            // already matches the joined form).
            format!("({} OR {})", quote(&parts[0]), quote(&format!("{}{}", words[i - 1][0], parts[0])))
        } else {
            quote(&parts[0])
        };
        terms.push(term);
    }
    if terms.is_empty() { None } else { Some(terms.join(" AND ")) }
}

/// The Persian alphabet in order; a letter's index is its rank in the key.
const ALPHABET: [char; 33] = [
    'آ', 'ا', 'ب', 'پ', 'ت', 'ث', 'ج', 'چ', 'ح', 'خ', 'د', 'ذ', 'ر', 'ز', 'ژ', 'س', 'ش', 'ص', 'ض', 'ط', 'ظ', 'ع', 'غ',
    'ف', 'ق', 'ک', 'گ', 'ل', 'م', 'ن', 'و', 'ه', 'ی',
];

/// Private-use code points: Persian letters at `PERSIAN_BASE + rank`, Latin
/// a–z after them, and `OTHER_MARK` (followed by the character itself) for
/// anything else, which therefore sorts after every known letter.
const PERSIAN_BASE: u32 = 0xE000;
const LATIN_BASE: u32 = 0xE040;
const OTHER_MARK: char = '\u{E0FF}';

/// Maps a letter variant to the alphabet letter it sorts with. Unlike search,
/// آ stays distinct from ا (it comes first in the alphabet).
fn collation_letter(c: char) -> char {
    match c {
        'ي' | 'ى' | 'ئ' => 'ی',
        'ك' => 'ک',
        'ة' | 'ۀ' => 'ه',
        'أ' | 'إ' | 'ٱ' | 'ء' => 'ا',
        'ؤ' => 'و',
        _ => c,
    }
}

/// Persian alphabetical sort key: a string whose plain order (`Ord` on
/// `String`, BINARY collation in SQLite — both are code-point order) is
/// Persian alphabetical order.
///
/// Encoding: a space (whitespace runs, ZWNJ and punctuation, collapsed and
/// trimmed) is `' '`, lowest of all, so «آب» < «آبان» and «علی رضا» <
/// «علیرضا»; digits of any script become ASCII digits, before letters (digit
/// by digit, not numerically); Persian letters become U+E000 + alphabet
/// rank, with variants (ي ى ئ → ی, ك → ک, ة ۀ → ه, أ إ ٱ ء → ا, ؤ → و)
/// sharing their letter's rank; Latin letters, case-insensitive, follow at
/// U+E040 + (letter − 'a'); any other character is U+E0FF followed by
/// itself. Diacritics, tatweel and bidi marks are ignored.
pub fn collation_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    let mut pending_space = false;
    for c in s.chars() {
        if is_ignorable(c) || c == ZWJ {
            continue;
        }
        if c == ZWNJ || c.is_whitespace() {
            pending_space = true;
            continue;
        }
        let c = collation_letter(ascii_digit_of(c));
        let mapped: Option<char> = if c.is_ascii_digit() {
            Some(c)
        } else if let Some(rank) = ALPHABET.iter().position(|a| *a == c) {
            private_use(PERSIAN_BASE, rank)
        } else if c.is_ascii_alphabetic() {
            let lower = c.to_ascii_lowercase();
            private_use(LATIN_BASE, usize::from(lower as u8 - b'a'))
        } else if c.is_alphanumeric() {
            None
        } else {
            // Punctuation and symbols separate words, like a space.
            pending_space = true;
            continue;
        };
        if pending_space && !out.is_empty() {
            out.push(' ');
        }
        pending_space = false;
        match mapped {
            Some(m) => out.push(m),
            None => {
                out.push(OTHER_MARK);
                out.extend(c.to_lowercase());
            }
        }
    }
    out
}

fn private_use(base: u32, rank: usize) -> Option<char> {
    u32::try_from(rank).ok().and_then(|r| char::from_u32(base + r))
}

/// Compares two strings in Persian alphabetical order (the order of
/// [`collation_key`]). Strings with equal keys (e.g. «علي» and «علی») are
/// then ordered by code point, so the order is total and a sort is
/// deterministic.
pub fn compare_persian(a: &str, b: &str) -> Ordering {
    collation_key(a).cmp(&collation_key(b)).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn rials_are_grouped_by_three_in_persian_digits() {
        assert_eq!(format_rials(0), "۰");
        assert_eq!(format_rials(999), "۹۹۹");
        assert_eq!(format_rials(1_250_000), "۱٬۲۵۰٬۰۰۰");
        assert_eq!(format_rials(-350_000), "-۳۵۰٬۰۰۰");
    }

    #[test]
    fn clean_text_spells_persian_one_way() {
        assert_eq!(clean_text("  كيميا   كريمي "), "کیمیا کریمی");
        assert_eq!(clean_text("علي\u{200F}رضا"), "علیرضا");
        assert_eq!(clean_text("کتاب\u{200C}\u{200C}های"), "کتاب\u{200C}های");
        assert_eq!(clean_text("کتاب\u{200C} های"), "کتاب های");
        assert_eq!(clean_text("\u{200C}سارا\u{200C}"), "سارا");
        assert_eq!(clean_text("پلاك ١٢"), "پلاک ۱۲");
        assert_eq!(clean_text("كـــتاب"), "کتاب");
        assert_eq!(clean_text("آیدا مؤمنی"), "آیدا مؤمنی");
    }

    proptest::proptest! {
        #[test]
        fn clean_text_is_idempotent_and_keeps_the_search_key(s in "[ a-zيكىی١٢۳۴\u{200C}\u{200F}\u{0640}ابپتسآ.-]{0,24}") {
            let once = clean_text(&s);
            proptest::prop_assert_eq!(clean_text(&once), once.clone());
            proptest::prop_assert_eq!(normalize_search(&once), normalize_search(&s));
        }
    }
    use proptest::prelude::*;

    #[test]
    fn digits() {
        assert_eq!(to_ascii_digits("۱۴۰۴/٠١/15"), "1404/01/15");
        assert_eq!(to_ascii_digits("کد ۰۹۱۲"), "کد 0912");
        assert_eq!(to_persian_digits("1404/01/15 abc"), "۱۴۰۴/۰۱/۱۵ abc");
        assert_eq!(to_ascii_digits(&to_persian_digits("0123456789")), "0123456789");
        assert_eq!(normalize_search("۱۲۳ ١٢٣ 123"), "123 123 123");
    }

    #[test]
    fn arabic_and_persian_letters_normalize_the_same() {
        assert_eq!(normalize_search("كتاب"), normalize_search("کتاب"));
        assert_eq!(normalize_search("علي"), "علی");
        assert_eq!(normalize_search("موسى"), "موسی");
        assert_eq!(normalize_search("مدرسة"), "مدرسه");
        assert_eq!(normalize_search("خانۀ"), "خانه");
        assert_eq!(normalize_search("خانهٔ"), "خانه");
        assert_eq!(normalize_search("آب"), "اب");
        assert_eq!(normalize_search("مؤمن"), "مومن");
        assert_eq!(normalize_search("پائیز"), normalize_search("پاییز"));
        assert_eq!(normalize_search("ئ"), normalize_search("ی\u{0654}"));
    }

    #[test]
    fn zwnj_and_joined_forms() {
        assert_eq!(normalize_search("کتاب\u{200C}های"), "کتاب های");
        assert_eq!(normalize_search("كتابهاي"), "کتابهای");
        let indexed = index_text("کتاب\u{200C}های");
        assert_eq!(indexed, "کتاب های کتابهای");
        // Both spellings of the query find it.
        for q in ["كتابهاي", "کتاب‌های", "کتاب"] {
            for w in normalize_search(q).split(' ') {
                assert!(indexed.split(' ').any(|iw| iw.starts_with(w)), "{q}");
            }
        }
        assert_eq!(index_text("کتاب"), "کتاب");
        assert_eq!(index_text("کتاب‌های کودک و کتاب‌های نوجوان"), "کتاب های کودک و کتاب های نوجوان کتابهای");
        assert_eq!(index_text("می خواهم بدانم"), "می خواهم بدانم میخواهم");
        // A name stored with a space is found by the query typed with ZWNJ
        // or as one word.
        // (The store's search tests run these queries through FTS5.)
        let stored = index_name_text("علی پاک نژاد");
        assert_eq!(stored, "علی پاک نژاد علیپاک پاکنژاد");
        assert_eq!(fts_query("پاک‌نژاد").as_deref(), Some("(\"پاکنژاد\"* OR \"پاک نژاد\"*)"));
    }

    #[test]
    fn diacritics_tatweel_bidi_removed() {
        assert_eq!(normalize_search("کِتاب"), "کتاب");
        assert_eq!(normalize_search("كِتــــابٌ"), "کتاب");
        assert_eq!(normalize_search("\u{200F}علی\u{200E}"), "علی");
        assert_eq!(normalize_search("\u{FEFF}محمّد"), "محمد");
    }

    #[test]
    fn punctuation_and_case() {
        assert_eq!(normalize_search("  Harry   POTTER! "), "harry potter");
        assert_eq!(normalize_search("«شازده کوچولو»، جلد ۲"), "شازده کوچولو جلد 2");
        assert_eq!(normalize_search("..."), "");
        assert_eq!(normalize_search(""), "");
    }

    /// Quoted non-empty terms, each followed by `*`, combined only with
    /// AND, OR and balanced parentheses.
    fn is_well_formed_query(q: &str) -> bool {
        let mut depth = 0i32;
        let mut rest = q;
        while let Some(c) = rest.chars().next() {
            if c == '"' {
                let Some(end) = rest[1..].find('"') else { return false };
                if end == 0 || !rest[1 + end + 1..].starts_with('*') {
                    return false;
                }
                rest = &rest[1 + end + 2..];
            } else if let Some(r) = rest.strip_prefix(" AND ").or_else(|| rest.strip_prefix(" OR ")) {
                rest = r;
            } else if c == '(' || c == ')' {
                depth += if c == '(' { 1 } else { -1 };
                if depth < 0 {
                    return false;
                }
                rest = &rest[1..];
            } else {
                return false;
            }
        }
        depth == 0
    }

    #[test]
    fn fts_queries() {
        assert!(is_well_formed_query("(\"a\"* OR \"a b\"*) AND \"c\"*"));
        assert!(!is_well_formed_query("\"a\"* \"b\"*"));
        assert_eq!(fts_query("كتاب"), Some("\"کتاب\"*".to_string()));
        assert_eq!(fts_query(" کتاب‌های  کودک "), Some("\"کتابهای\"* AND \"کودک\"*".to_string()));
        assert_eq!(fts_query("کتاب‌خانه"), Some("(\"کتابخانه\"* OR \"کتاب خانه\"*)".to_string()));
        assert_eq!(fts_query("می‌خوا"), Some("\"میخوا\"*".to_string()));
        assert_eq!(fts_query("محمد رضا"), Some("\"محمد\"* AND (\"رضا\"* OR \"محمدرضا\"*)".to_string()));
        assert_eq!(
            fts_query("\"a\" OR b*"),
            Some("\"a\"* AND (\"or\"* OR \"aor\"*) AND (\"b\"* OR \"orb\"*)".to_string())
        );
        assert_eq!(fts_query(""), None);
        assert_eq!(fts_query(" \"\" ؟! \u{200C} "), None);
        assert_eq!(fts_query("ِ"), None);
    }

    #[test]
    fn persian_alphabetical_sort() {
        let mut v = vec!["گل", "کتاب", "چای", "جنگل", "پدر", "بابا", "ژاله", "زهرا", "آب", "ابر"];
        v.sort_by(|a, b| compare_persian(a, b));
        assert_eq!(v, ["آب", "ابر", "بابا", "پدر", "جنگل", "چای", "زهرا", "ژاله", "کتاب", "گل"]);
        // Same through the key (what SQLite's BINARY collation sees).
        let mut keys: Vec<(String, &str)> = v.iter().rev().map(|s| (collation_key(s), *s)).collect();
        keys.sort();
        let sorted: Vec<&str> = keys.iter().map(|(_, s)| *s).collect();
        assert_eq!(sorted, v);
    }

    #[test]
    fn collation_details() {
        let lt = |a: &str, b: &str| {
            assert_eq!(compare_persian(a, b), Ordering::Less, "{a} < {b}");
            assert!(collation_key(a) <= collation_key(b), "{a} <= {b}");
        };
        lt("آب", "آبان");
        lt("علی رضا", "علیرضا");
        lt("12", "آ");
        lt("ی", "a");
        lt("Zebra", "ábc");
        lt("ب", "پ");
        lt("ک", "گ");
        lt("ز", "ژ");
        lt("ه", "ی");
        assert_eq!(collation_key("علي"), collation_key("علی"));
        assert_eq!(collation_key("كتاب"), collation_key("کتاب"));
        assert_eq!(collation_key("کِتــاب"), collation_key("کتاب"));
        assert_eq!(collation_key("کتاب‌ها"), collation_key("کتاب ها"));
        assert_eq!(collation_key("  کتاب   ها "), collation_key("کتاب ها"));
        assert_eq!(collation_key("۱۲"), collation_key("12"));
        assert_eq!(collation_key("ABC"), collation_key("abc"));
        assert_eq!(collation_key("مدرسة"), collation_key("مدرسه"));
        assert_eq!(collation_key("\u{200F}علی"), collation_key("علی"));
        assert_ne!(collation_key("آب"), collation_key("اب"));
        // Equal keys still give a total order.
        assert_ne!(compare_persian("علي", "علی"), Ordering::Equal);
        assert_eq!(compare_persian("علی", "علی"), Ordering::Equal);
    }

    /// A Persian word (letters only, no variants) and noise applied to it.
    fn persian_word() -> impl Strategy<Value = Vec<char>> {
        prop::collection::vec(prop::sample::select(ALPHABET.to_vec()), 1..10)
    }

    /// Per-letter noise: (a diacritic or tatweel after it?, a ZWNJ after it?).
    fn noise(len: usize) -> impl Strategy<Value = Vec<(Option<char>, bool)>> {
        let mark = prop::option::of(prop::sample::select(vec![
            '\u{064E}', '\u{064F}', '\u{0650}', '\u{0651}', '\u{0652}', '\u{064B}', '\u{0640}', '\u{200F}', '\u{200E}',
        ]));
        prop::collection::vec((mark, any::<bool>()), len)
    }

    /// Swaps letters for their Arabic variants (the ones search must equate).
    fn arabicize(c: char, swap: bool) -> char {
        match (c, swap) {
            ('ی', true) => 'ي',
            ('ک', true) => 'ك',
            _ => c,
        }
    }

    fn digit_in_script(d: u8, script: u8) -> char {
        let base = match script % 3 {
            0 => u32::from('0'),
            1 => 0x06F0,
            _ => 0x0660,
        };
        char::from_u32(base + u32::from(d)).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::proptest_cases()))]

        /// Diacritics, tatweel, bidi marks, ی/ي, ک/ك and digit scripts never
        /// change the search key.
        #[test]
        fn variants_do_not_change_search_key(
            (word, noise, swaps) in persian_word().prop_flat_map(|w| {
                let n = w.len();
                (Just(w), noise(n), prop::collection::vec(any::<bool>(), n))
            }),
            digits in prop::collection::vec((0u8..10, 0u8..3), 0..5),
        ) {
            let mut clean: String = word.iter().collect();
            let mut noisy = String::new();
            for ((c, (mark, _)), swap) in word.iter().zip(&noise).zip(&swaps) {
                noisy.push(arabicize(*c, *swap));
                if let Some(m) = mark {
                    noisy.push(*m);
                }
            }
            if !digits.is_empty() {
                clean.push(' ');
                noisy.push(' ');
                for (d, script) in &digits {
                    clean.push(digit_in_script(*d, 0));
                    noisy.push(digit_in_script(*d, *script));
                }
            }
            prop_assert_eq!(normalize_search(&noisy), normalize_search(&clean));
            prop_assert_eq!(collation_key(&noisy), collation_key(&clean));
        }

        /// A record whose text has ZWNJs (as catalogued) is found by a query
        /// typed with or without them, with any variant noise, and by any
        /// prefix of it: every query word is a prefix of an indexed word.
        #[test]
        fn zwnj_records_found_with_or_without_zwnj(
            (word, noise, swaps) in persian_word().prop_flat_map(|w| {
                let n = w.len();
                (Just(w), noise(n), prop::collection::vec(any::<bool>(), n))
            }),
            query_has_zwnj in any::<bool>(),
            cut in 0usize..10,
        ) {
            // The record: the word with ZWNJs where the noise says.
            let mut record = String::new();
            for (c, (_, zwnj)) in word.iter().zip(&noise) {
                record.push(*c);
                if *zwnj {
                    record.push('\u{200C}');
                }
            }
            // The query: a prefix of the word, noisy, ZWNJs kept or dropped.
            let keep = word.len() - cut.min(word.len() - 1);
            let mut query = String::new();
            for ((c, (mark, zwnj)), swap) in word.iter().zip(&noise).zip(&swaps).take(keep) {
                query.push(arabicize(*c, *swap));
                if let Some(m) = mark {
                    query.push(*m);
                }
                if *zwnj && query_has_zwnj {
                    query.push('\u{200C}');
                }
            }
            let indexed = index_text(&record);
            let q = normalize_search(&query);
            prop_assert!(!q.is_empty());
            for w in q.split(' ') {
                prop_assert!(
                    indexed.split(' ').any(|iw| iw.starts_with(w)),
                    "query word {:?} not in index {:?}", w, indexed
                );
            }
            // And the index never repeats a word the normalized form has.
            let mut seen = std::collections::HashSet::new();
            let normalized = normalize_search(&record);
            let extra: Vec<&str> = indexed.split(' ').skip(normalized.split(' ').count()).collect();
            for w in extra {
                prop_assert!(seen.insert(w));
                prop_assert!(!normalized.split(' ').any(|n| n == w));
            }
            prop_assert!(fts_query(&query).is_some());
        }

        /// Any text: normalization is idempotent, never leaves double or edge
        /// spaces, and the FTS5 expression has only whole quoted terms.
        #[test]
        fn arbitrary_text_is_safe(s in "(\\PC|[\u{0600}-\u{06FF}\u{200B}-\u{200F}\" ])*") {
            let n = normalize_search(&s);
            prop_assert_eq!(normalize_search(&n), n.clone());
            prop_assert!(!n.starts_with(' ') && !n.ends_with(' ') && !n.contains("  "));
            let idx = index_text(&s);
            prop_assert!(idx.starts_with(&n));
            let _ = collation_key(&s);
            match fts_query(&s) {
                None => prop_assert!(n.is_empty()),
                Some(q) => prop_assert!(is_well_formed_query(&q), "{}", q),
            }
        }

        /// Sorting by key equals sorting by compare_persian, and the key order
        /// agrees with the alphabet for single letters.
        #[test]
        fn key_order_is_alphabet_order(a in persian_word(), b in persian_word()) {
            let sa: String = a.iter().collect();
            let sb: String = b.iter().collect();
            let ranks = |w: &[char]| -> Vec<usize> {
                w.iter().filter_map(|c| ALPHABET.iter().position(|x| x == c)).collect()
            };
            prop_assert_eq!(compare_persian(&sa, &sb), ranks(&a).cmp(&ranks(&b)));
        }
    }
}
