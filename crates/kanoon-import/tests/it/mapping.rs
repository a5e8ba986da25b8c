//! Suggested mappings from Persian and English headers.

use std::collections::BTreeMap;

use kanoon_import::{ColumnMapping, Field, ImportKind, suggest_mapping};

fn headers(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
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
        &[
            (Field::FullName, 0),
            (Field::NationalId, 1),
            (Field::AltIdKind, 2),
            (Field::AltId, 3),
            (Field::MembershipExpires, 4),
            (Field::Address, 5),
            (Field::GuardianPhone, 6),
        ],
    );
}

#[test]
fn persian_title_headers() {
    expect(
        ImportKind::TitlesCopies,
        &["شماره ثبت", "نام کتاب", "پدیدآور", "مترجم", "تصویرگر", "ناشر", "سال نشر", "شابک", "گروه سنی", "موضوع"],
        &[
            (Field::RegistrationNumber, 0),
            (Field::Title, 1),
            (Field::Author, 2),
            (Field::Translator, 3),
            (Field::Illustrator, 4),
            (Field::Publisher, 5),
            (Field::Year, 6),
            (Field::Isbn, 7),
            (Field::AgeGroup, 8),
            (Field::Subjects, 9),
        ],
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
        &[
            (Field::MemberNumber, 0),
            (Field::FirstName, 1),
            (Field::LastName, 2),
            (Field::FatherName, 3),
            (Field::Gender, 4),
            (Field::BirthDate, 5),
            (Field::NationalId, 6),
            (Field::SchoolGrade, 7),
            (Field::GuardianPhone, 8),
            (Field::Address, 9),
            (Field::Village, 10),
            (Field::JoinedOn, 11),
            (Field::MembershipExpires, 12),
            (Field::AltId, 13),
        ],
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
        &[
            (Field::RegistrationNumber, 0),
            (Field::Title, 1),
            (Field::Author, 2),
            (Field::Translator, 3),
            (Field::Illustrator, 4),
            (Field::Publisher, 5),
            (Field::Year, 6),
            (Field::Isbn, 7),
            (Field::AgeGroup, 8),
            (Field::Subjects, 9),
        ],
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
