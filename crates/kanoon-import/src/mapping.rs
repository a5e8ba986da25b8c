//! What is imported, the fields a column can be mapped to, and the suggested
//! mapping from header texts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ImportError;
use crate::table::Table;
use crate::text::header_key;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    /// One row per member.
    Members,
    /// One row per copy, with its title's details (a title with three
    /// copies is three rows).
    TitlesCopies,
    /// One row per copy out on loan now.
    OpenLoans,
}

/// A column's meaning, chosen by the user (or suggested).
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Hash, Ord, PartialOrd, Debug)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Field {
    // ---- members
    /// Card number in the software used before (kept as the legacy number).
    MemberNumber,
    /// نام
    FirstName,
    /// نام خانوادگی
    LastName,
    /// First and last name in one column: split at the first space (first
    /// word = first name, the rest = last name). Used for a row only when
    /// its first or last name cell is empty or unmapped.
    FullName,
    /// نام پدر
    FatherName,
    /// جنسیت
    Gender,
    /// تاریخ تولد
    BirthDate,
    /// کد ملی
    NationalId,
    /// Kind of the alternative id (کارت آمایش، گذرنامه…); «سایر» when unmapped or empty.
    AltIdKind,
    /// Alternative id for members without a national id.
    AltId,
    /// پایه تحصیلی (0 = پیش‌دبستانی … 12)
    SchoolGrade,
    /// تلفن همراه ولی
    GuardianPhone,
    /// نشانی
    Address,
    /// روستا
    Village,
    /// تاریخ عضویت
    JoinedOn,
    /// تاریخ پایان اعتبار عضویت
    MembershipExpires,
    // ---- titles & copies (one row = one copy)
    /// شماره ثبت of the copy
    RegistrationNumber,
    /// عنوان کتاب
    Title,
    /// نویسنده / پدیدآور
    Author,
    /// مترجم
    Translator,
    /// تصویرگر
    Illustrator,
    /// ناشر
    Publisher,
    /// سال نشر, Jalali or Gregorian as written
    Year,
    /// شابک
    Isbn,
    /// گروه سنی
    AgeGroup,
    /// موضوع
    Subjects,
    // ---- open loans
    /// The borrower's member number (as in the members file).
    LoanMemberNumber,
    /// The registration number of the copy on loan.
    LoanRegistrationNumber,
    /// تاریخ امانت
    LoanedOn,
    /// تاریخ بازگشت (سررسید)
    DueOn,
}

const MEMBER_FIELDS: &[Field] = &[
    Field::MemberNumber,
    Field::FirstName,
    Field::LastName,
    Field::FullName,
    Field::FatherName,
    Field::Gender,
    Field::BirthDate,
    Field::NationalId,
    Field::AltIdKind,
    Field::AltId,
    Field::SchoolGrade,
    Field::GuardianPhone,
    Field::Address,
    Field::Village,
    Field::JoinedOn,
    Field::MembershipExpires,
];

const TITLE_FIELDS: &[Field] = &[
    Field::RegistrationNumber,
    Field::Title,
    Field::Author,
    Field::Translator,
    Field::Illustrator,
    Field::Publisher,
    Field::Year,
    Field::Isbn,
    Field::AgeGroup,
    Field::Subjects,
];

const LOAN_FIELDS: &[Field] = &[Field::LoanMemberNumber, Field::LoanRegistrationNumber, Field::LoanedOn, Field::DueOn];

impl Field {
    /// The field's name in the mapping screen.
    pub fn persian_label(self) -> &'static str {
        match self {
            Field::MemberNumber => "شماره عضویت",
            Field::FirstName => "نام",
            Field::LastName => "نام خانوادگی",
            Field::FullName => "نام و نام خانوادگی (در یک ستون)",
            Field::FatherName => "نام پدر",
            Field::Gender => "جنسیت",
            Field::BirthDate => "تاریخ تولد",
            Field::NationalId => "کد ملی",
            Field::AltIdKind => "نوع شناسه جایگزین",
            Field::AltId => "شناسه جایگزین",
            Field::SchoolGrade => "پایه تحصیلی",
            Field::GuardianPhone => "تلفن همراه ولی",
            Field::Address => "نشانی",
            Field::Village => "روستا",
            Field::JoinedOn => "تاریخ عضویت",
            Field::MembershipExpires => "اعتبار عضویت تا",
            Field::RegistrationNumber => "شماره ثبت",
            Field::Title => "عنوان کتاب",
            Field::Author => "نویسنده",
            Field::Translator => "مترجم",
            Field::Illustrator => "تصویرگر",
            Field::Publisher => "ناشر",
            Field::Year => "سال نشر",
            Field::Isbn => "شابک",
            Field::AgeGroup => "گروه سنی",
            Field::Subjects => "موضوع",
            Field::LoanMemberNumber => "شماره عضویت امانت‌گیرنده",
            Field::LoanRegistrationNumber => "شماره ثبت کتاب",
            Field::LoanedOn => "تاریخ امانت",
            Field::DueOn => "تاریخ بازگشت",
        }
    }

    /// The fields of one kind of import, in the order the mapping screen
    /// shows them.
    pub fn fields_for(kind: ImportKind) -> &'static [Field] {
        match kind {
            ImportKind::Members => MEMBER_FIELDS,
            ImportKind::TitlesCopies => TITLE_FIELDS,
            ImportKind::OpenLoans => LOAN_FIELDS,
        }
    }

    /// The fields that must be mapped. For members `FullName` may stand in
    /// for `FirstName` + `LastName`, and one of `NationalId`/`AltId` must be
    /// mapped too (not listed here: it is a choice);
    /// [`ColumnMapping::missing`] applies these rules.
    pub fn required_for(kind: ImportKind) -> &'static [Field] {
        match kind {
            ImportKind::Members => &[Field::FirstName, Field::LastName],
            ImportKind::TitlesCopies => &[Field::RegistrationNumber, Field::Title],
            ImportKind::OpenLoans => &[Field::LoanMemberNumber, Field::LoanRegistrationNumber, Field::LoanedOn],
        }
    }

    /// Header texts this field is recognised by (compared after
    /// [`header_key`] folding, so spacing, ZWNJ, case and Arabic letter
    /// variants do not matter).
    fn synonyms(self) -> &'static [&'static str] {
        match self {
            Field::MemberNumber => &[
                "شماره عضویت",
                "شماره عضو",
                "کد عضویت",
                "کد عضو",
                "شماره کارت",
                "شماره کارت عضویت",
                "ش عضویت",
                "شماره اشتراک",
                "کد اشتراک",
                "member no",
                "member number",
                "member id",
                "membership no",
                "membership number",
                "card no",
                "card number",
                "member code",
            ],
            Field::FirstName => &["نام", "نام کوچک", "first name", "firstname", "given name", "fname", "first"],
            Field::LastName => &[
                "نام خانوادگی",
                "فامیلی",
                "فامیل",
                "نام فامیل",
                "last name",
                "surname",
                "family name",
                "lname",
                "last",
            ],
            Field::FullName => &[
                "نام و نام خانوادگی",
                "نام ونام خانوادگی",
                "نام کامل",
                "نام عضو",
                "نام و فامیل",
                "name",
                "full name",
                "member name",
                "student name",
            ],
            Field::FatherName => &["نام پدر", "father name", "fathers name", "father"],
            Field::Gender => &["جنسیت", "جنس", "gender", "sex"],
            Field::BirthDate => &["تاریخ تولد", "تولد", "birth date", "date of birth", "dob", "birthday", "birthdate"],
            Field::NationalId => &[
                "کد ملی",
                "شماره ملی",
                "کد ملی عضو",
                "شناسه ملی",
                "national id",
                "national code",
                "national no",
                "nid",
                "code melli",
                "melli code",
            ],
            Field::AltIdKind => &[
                "نوع شناسه",
                "نوع شناسه جایگزین",
                "نوع مدرک",
                "نوع مدرک شناسایی",
                "id type",
                "alt id type",
                "document type",
            ],
            Field::AltId => &[
                "شناسه جایگزین",
                "شماره مدرک",
                "شماره مدرک شناسایی",
                "شماره گذرنامه",
                "گذرنامه",
                "شماره آمایش",
                "کارت آمایش",
                "شماره کارت آمایش",
                "شماره اقامت",
                "alt id",
                "alternative id",
                "passport",
                "passport no",
                "passport number",
                "document no",
            ],
            Field::SchoolGrade => &["پایه", "پایه تحصیلی", "کلاس", "پایه کلاس", "grade", "school grade", "class"],
            Field::GuardianPhone => &[
                "تلفن همراه ولی",
                "تلفن ولی",
                "موبایل ولی",
                "همراه ولی",
                "شماره همراه ولی",
                "تلفن همراه",
                "تلفن",
                "موبایل",
                "همراه",
                "شماره همراه",
                "شماره تماس",
                "شماره تلفن",
                "تلفن والدین",
                "شماره موبایل",
                "تلفن تماس",
                "guardian phone",
                "parent phone",
                "guardian mobile",
                "parent mobile",
                "phone",
                "mobile",
                "tel",
                "telephone",
                "cell",
                "phone number",
                "mobile number",
            ],
            Field::Address => &["نشانی", "آدرس", "نشانی منزل", "آدرس منزل", "address", "home address"],
            Field::Village => &["روستا", "نام روستا", "village"],
            Field::JoinedOn => &[
                "تاریخ عضویت",
                "تاریخ ثبت نام",
                "تاریخ ثبت عضویت",
                "شروع عضویت",
                "joined",
                "joined on",
                "join date",
                "registration date",
                "member since",
            ],
            Field::MembershipExpires => &[
                "تاریخ انقضا",
                "تاریخ انقضای عضویت",
                "انقضا",
                "انقضای عضویت",
                "اعتبار تا",
                "اعتبار عضویت تا",
                "تاریخ اعتبار",
                "پایان عضویت",
                "تاریخ پایان عضویت",
                "پایان اعتبار",
                "expires",
                "expiry",
                "expiry date",
                "expiration date",
                "valid until",
                "membership expires",
            ],
            Field::RegistrationNumber => &[
                "شماره ثبت",
                "ش ثبت",
                "ثبت",
                "شماره ثبت کتاب",
                "بارکد",
                "reg no",
                "registration number",
                "registration no",
                "accession number",
                "accession no",
                "barcode",
            ],
            Field::Title => &["عنوان", "عنوان کتاب", "نام کتاب", "کتاب", "title", "book title", "book"],
            Field::Author => &["نویسنده", "پدیدآور", "پدیدآورنده", "مولف", "مؤلف", "نام نویسنده", "author", "writer"],
            Field::Translator => &["مترجم", "ترجمه", "نام مترجم", "translator"],
            Field::Illustrator => &["تصویرگر", "تصویر گر", "نقاش", "illustrator"],
            Field::Publisher => &["ناشر", "انتشارات", "نام ناشر", "publisher"],
            Field::Year => &["سال نشر", "سال انتشار", "سال", "تاریخ نشر", "year", "publication year", "pub year"],
            Field::Isbn => &["شابک", "isbn"],
            Field::AgeGroup => &["گروه سنی", "رده سنی", "گروه", "age group"],
            Field::Subjects => &["موضوع", "موضوعات", "موضوع کتاب", "subject", "subjects", "topic"],
            Field::LoanMemberNumber => &[
                "شماره عضویت",
                "شماره عضو",
                "کد عضویت",
                "کد عضو",
                "شماره کارت",
                "عضو",
                "امانت گیرنده",
                "member no",
                "member number",
                "member id",
                "member",
                "card no",
                "borrower",
            ],
            Field::LoanRegistrationNumber => &[
                "شماره ثبت",
                "ش ثبت",
                "شماره ثبت کتاب",
                "ثبت",
                "بارکد",
                "reg no",
                "registration number",
                "registration no",
                "accession number",
                "accession no",
                "barcode",
            ],
            Field::LoanedOn => &[
                "تاریخ امانت",
                "امانت",
                "تاریخ امانت گیری",
                "تاریخ گرفتن",
                "loan date",
                "loaned on",
                "loaned",
                "borrowed",
                "borrowed on",
                "checkout date",
                "issue date",
                "date out",
            ],
            Field::DueOn => &[
                "تاریخ بازگشت",
                "سررسید",
                "تاریخ سررسید",
                "مهلت",
                "مهلت بازگشت",
                "تاریخ برگشت",
                "due",
                "due date",
                "due on",
                "return date",
                "return by",
            ],
        }
    }
}

/// Which column (0-based index into [`Table::headers`]) holds each field.
#[derive(Serialize, Deserialize, Default, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ColumnMapping {
    /// Field → column index.
    pub columns: BTreeMap<Field, usize>,
}

impl ColumnMapping {
    /// The column of `field`, if mapped.
    pub fn get(&self, field: Field) -> Option<usize> {
        self.columns.get(&field).copied()
    }

    /// The required fields of `kind` this mapping leaves unmapped (empty
    /// when the mapping is enough to import). For members, a mapped
    /// `FullName` satisfies `FirstName`/`LastName`, and `[NationalId,
    /// AltId]` is reported when neither of the two is mapped.
    pub fn missing(&self, kind: ImportKind) -> Vec<Field> {
        let mapped = |f: Field| self.columns.contains_key(&f);
        let mut missing: Vec<Field> = Field::required_for(kind).iter().copied().filter(|&f| !mapped(f)).collect();
        if kind == ImportKind::Members {
            if mapped(Field::FullName) {
                missing.retain(|&f| f != Field::FirstName && f != Field::LastName);
            }
            if !mapped(Field::NationalId) && !mapped(Field::AltId) {
                missing.push(Field::NationalId);
                missing.push(Field::AltId);
            }
        }
        missing
    }

    /// Checks that the mapping can be used on `table` for `kind`: required
    /// fields mapped and every column index of the kind's fields in range.
    pub fn validate(&self, kind: ImportKind, table: &Table) -> Result<(), ImportError> {
        let missing = self.missing(kind);
        if !missing.is_empty() {
            return Err(ImportError::MappingIncomplete { missing });
        }
        for &field in Field::fields_for(kind) {
            if let Some(column) = self.get(field)
                && column >= table.headers.len()
            {
                return Err(ImportError::ColumnOutOfRange { field, column, columns: table.headers.len() });
            }
        }
        Ok(())
    }
}

/// Suggests a mapping from header texts.
///
/// Headers and synonyms (Persian and English) are compared after folding
/// (search normalization, spaces/ZWNJ/punctuation removed, Arabic ي/ك as
/// Persian). An exact match wins over a header that merely contains a
/// synonym of five or more letters (e.g. «کد ملی دانش‌آموز»); longer
/// synonyms win over shorter ones; each column and each field is used at
/// most once, the leftmost column first on a tie. For members, a lone
/// «نام»/"name" column with no last-name column is taken as `FullName`.
pub fn suggest_mapping(kind: ImportKind, headers: &[String]) -> ColumnMapping {
    let keys: Vec<String> = headers.iter().map(|h| header_key(h)).collect();
    // (score, column, field): exact matches far above containment.
    let mut candidates: Vec<(usize, usize, Field)> = Vec::new();
    for &field in Field::fields_for(kind) {
        for syn in field.synonyms() {
            let syn_key = header_key(syn);
            let syn_len = syn_key.chars().count();
            if syn_len == 0 {
                continue;
            }
            for (col, key) in keys.iter().enumerate() {
                if key.is_empty() {
                    continue;
                }
                let score = if *key == syn_key {
                    10_000 + syn_len
                } else if syn_len >= 5 && key.contains(&syn_key) {
                    syn_len
                } else {
                    continue;
                };
                candidates.push((score, col, field));
            }
        }
    }
    // Highest score first; on a tie the leftmost column, then field order.
    candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut mapping = ColumnMapping::default();
    let mut used_cols = vec![false; headers.len()];
    for (_, col, field) in candidates {
        if mapping.columns.contains_key(&field) || used_cols.get(col).copied().unwrap_or(true) {
            continue;
        }
        mapping.columns.insert(field, col);
        if let Some(u) = used_cols.get_mut(col) {
            *u = true;
        }
    }
    if kind == ImportKind::Members
        && !mapping.columns.contains_key(&Field::LastName)
        && !mapping.columns.contains_key(&Field::FullName)
        && let Some(col) = mapping.columns.remove(&Field::FirstName)
    {
        mapping.columns.insert(Field::FullName, col);
    }
    mapping
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn h(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn every_field_belongs_to_exactly_one_kind_and_has_synonyms() {
        let kinds = [ImportKind::Members, ImportKind::TitlesCopies, ImportKind::OpenLoans];
        let all: Vec<Field> = kinds.iter().flat_map(|&k| Field::fields_for(k).to_vec()).collect();
        let mut sorted = all.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), all.len());
        assert_eq!(all.len(), 30);
        for f in all {
            assert!(!f.synonyms().is_empty(), "{f:?}");
            assert!(!f.persian_label().is_empty());
        }
        for k in kinds {
            for r in Field::required_for(k) {
                assert!(Field::fields_for(k).contains(r));
            }
        }
    }

    #[test]
    fn containment_prefers_the_longer_synonym() {
        let m =
            suggest_mapping(ImportKind::Members, &h(&["نام دانش آموز", "نام خانوادگی دانش آموز", "کد ملی دانش آموز"]));
        assert_eq!(m.get(Field::LastName), Some(1));
        assert_eq!(m.get(Field::NationalId), Some(2));
    }

    #[test]
    fn a_lone_name_column_is_a_full_name() {
        let m = suggest_mapping(ImportKind::Members, &h(&["name", "national id"]));
        assert_eq!(m.get(Field::FullName), Some(0));
        assert_eq!(m.get(Field::FirstName), None);
    }

    #[test]
    fn missing_follows_the_member_rules() {
        let mut m = ColumnMapping::default();
        assert_eq!(
            m.missing(ImportKind::Members),
            vec![Field::FirstName, Field::LastName, Field::NationalId, Field::AltId]
        );
        m.columns.insert(Field::FullName, 0);
        m.columns.insert(Field::AltId, 1);
        assert!(m.missing(ImportKind::Members).is_empty());
    }
}
