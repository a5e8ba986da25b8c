//! Suggested mappings from Persian and English headers.

use std::collections::BTreeMap;

use kanoon_import::{ColumnMapping, Field, ImportKind, suggest_mapping};

fn headers(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// Every field of the kind, in the order of the full export's columns.
const TITLE_COLUMNS: &[Field] = &[
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

/// Each field at the column of its position.
fn in_order(fields: &[Field]) -> Vec<(Field, usize)> {
    fields.iter().copied().enumerate().map(|(i, f)| (f, i)).collect()
}

fn expect(kind: ImportKind, hs: &[&str], expected: &[(Field, usize)]) {
    let m = suggest_mapping(kind, &headers(hs));
    let want: BTreeMap<Field, usize> = expected.iter().copied().collect();
    assert_eq!(m.columns, want, "headers {hs:?}");
    // Each column at most once.
    let mut cols: Vec<usize> = m.columns.values().copied().collect();
    cols.sort_unstable();
    cols.dedup();
    assert_eq!(cols.len(), m.columns.len());
}

#[test]
fn persian_member_headers() {
    expect(
        ImportKind::Members,
        &[
            "ردیف",
            "شماره عضویت",
            "نام",
            "نام‌خانوادگي",
            "نام پدر",
            "جنسیت",
            "تاریخ تولد",
            "كد ملي",
            "پایه",
            "تلفن همراه ولی",
            "آدرس",
            "روستا",
            "تاریخ عضویت",
            "اعتبار تا",
            "ملاحظات",
        ],
        &[
            (Field::MemberNumber, 1),
            (Field::FirstName, 2),
            (Field::LastName, 3),
            (Field::FatherName, 4),
            (Field::Gender, 5),
            (Field::BirthDate, 6),
            (Field::NationalId, 7),
            (Field::SchoolGrade, 8),
            (Field::GuardianPhone, 9),
            (Field::Address, 10),
            (Field::Village, 11),
            (Field::JoinedOn, 12),
            (Field::MembershipExpires, 13),
        ],
    );
}

#[test]
fn persian_member_headers_with_variants() {
    expect(
        ImportKind::Members,
        &["نام و نام خانوادگی", "کدملی", "نوع مدرک", "شماره مدرک", "تاریخ انقضا", "نشانی", "موبایل"],
        &in_order(&[
            Field::FullName,
            Field::NationalId,
            Field::AltIdKind,
            Field::AltId,
            Field::MembershipExpires,
            Field::Address,
            Field::GuardianPhone,
        ]),
    );
}

#[test]
fn persian_title_headers() {
    expect(
        ImportKind::TitlesCopies,
        &["شماره ثبت", "نام کتاب", "پدیدآور", "مترجم", "تصویرگر", "ناشر", "سال نشر", "شابک", "گروه سنی", "موضوع"],
        &in_order(TITLE_COLUMNS),
    );
    expect(
        ImportKind::TitlesCopies,
        &["عنوان", "نويسنده", "شماره‌ثبت"],
        &[(Field::Title, 0), (Field::Author, 1), (Field::RegistrationNumber, 2)],
    );
}

#[test]
fn persian_loan_headers() {
    expect(
        ImportKind::OpenLoans,
        &["شماره عضویت", "نام عضو", "شماره ثبت", "عنوان", "تاریخ امانت", "تاریخ بازگشت"],
        &[(Field::LoanMemberNumber, 0), (Field::LoanRegistrationNumber, 2), (Field::LoanedOn, 4), (Field::DueOn, 5)],
    );
    expect(
        ImportKind::OpenLoans,
        &["سررسید", "ش ثبت", "کد عضویت", "تاریخ امانت"],
        &[(Field::DueOn, 0), (Field::LoanRegistrationNumber, 1), (Field::LoanMemberNumber, 2), (Field::LoanedOn, 3)],
    );
}

#[test]
fn english_headers() {
    expect(
        ImportKind::Members,
        &[
            "Member No",
            "First Name",
            "Last_Name",
            "Father's Name",
            "Gender",
            "Date of Birth",
            "National ID",
            "Grade",
            "Phone",
            "Address",
            "Village",
            "Join Date",
            "Expiry Date",
            "Passport No",
        ],
        &in_order(&[
            Field::MemberNumber,
            Field::FirstName,
            Field::LastName,
            Field::FatherName,
            Field::Gender,
            Field::BirthDate,
            Field::NationalId,
            Field::SchoolGrade,
            Field::GuardianPhone,
            Field::Address,
            Field::Village,
            Field::JoinedOn,
            Field::MembershipExpires,
            Field::AltId,
        ]),
    );
    expect(
        ImportKind::TitlesCopies,
        &[
            "Accession Number",
            "Title",
            "Author",
            "Translator",
            "Illustrator",
            "Publisher",
            "Year",
            "ISBN",
            "Age Group",
            "Subjects",
        ],
        &in_order(TITLE_COLUMNS),
    );
    expect(
        ImportKind::OpenLoans,
        &["member no", "reg no", "loan date", "due date"],
        &[(Field::LoanMemberNumber, 0), (Field::LoanRegistrationNumber, 1), (Field::LoanedOn, 2), (Field::DueOn, 3)],
    );
}

#[test]
fn headers_containing_a_long_synonym_are_matched() {
    expect(
        ImportKind::Members,
        &["نام", "نام خانوادگی", "کد ملی دانش‌آموز", "تاریخ تولد (شمسی)"],
        &[(Field::FirstName, 0), (Field::LastName, 1), (Field::NationalId, 2), (Field::BirthDate, 3)],
    );
}

#[test]
fn only_fields_of_the_kind_are_suggested() {
    let m = suggest_mapping(ImportKind::TitlesCopies, &headers(&["نام", "کد ملی", "عنوان"]));
    assert_eq!(m.columns.len(), 1);
    assert_eq!(m.get(Field::Title), Some(2));
}

#[test]
fn a_header_used_twice_maps_once() {
    let m = suggest_mapping(ImportKind::Members, &headers(&["نام", "نام", "نام خانوادگی"]));
    assert_eq!(m.get(Field::FirstName), Some(0));
    assert_eq!(m.columns.len(), 2);
}

#[test]
fn mapping_round_trips_through_json() {
    let m = suggest_mapping(ImportKind::OpenLoans, &headers(&["شماره عضویت", "شماره ثبت", "تاریخ امانت"]));
    let json = serde_json::to_string(&m).unwrap();
    assert!(json.contains("loan_member_number"), "{json}");
    let back: ColumnMapping = serde_json::from_str(&json).unwrap();
    assert_eq!(back, m);
}

#[test]
fn labels_and_field_lists() {
    assert_eq!(Field::NationalId.persian_label(), "کد ملی");
    assert_eq!(Field::fields_for(ImportKind::OpenLoans).len(), 4);
    assert_eq!(Field::required_for(ImportKind::TitlesCopies), &[Field::RegistrationNumber, Field::Title]);
}
