//! Parsing member rows.

use chrono::NaiveDate;
use kanoon_domain::entities::Gender;
use kanoon_domain::jalali::JalaliDate;
use kanoon_import::{
    ColumnMapping, Field, ImportError, ImportKind, RowError, parse_members, read_table, suggest_mapping,
};

use crate::common::{NID_A, NID_B, NID_C, read_and_map, table};
use crate::csv_read::MEMBERS_CSV;

fn jalali(s: &str) -> NaiveDate {
    JalaliDate::parse(s).unwrap().to_gregorian()
}

#[test]
fn a_clean_export_parses_completely() {
    let (t, m) = read_and_map(MEMBERS_CSV, ImportKind::Members);
    let p = parse_members(&t, &m).unwrap();
    assert!(p.errors.is_empty(), "{:#?}", p.errors);
    assert_eq!(p.rows.len(), 2);

    let (line, sara) = &p.rows[0];
    assert_eq!(*line, 2);
    assert_eq!(sara.legacy_number.as_deref(), Some("101"));
    assert_eq!(sara.first_name, "سارا");
    assert_eq!(sara.last_name, "احمدی", "Arabic yeh becomes Persian");
    assert_eq!(sara.father_name, "علی");
    assert_eq!(sara.gender, Some(Gender::Female));
    assert_eq!(sara.birth_date, Some(jalali("1395/02/10")));
    assert_eq!(sara.national_id.as_ref().map(|n| n.as_str()), Some(NID_A));
    assert_eq!(sara.alt_id, None);
    assert_eq!(sara.guardian_phone.as_ref().map(|p| p.as_str()), Some("09121234567"));
    assert_eq!(sara.address, "تهران، خیابان آزادی, کوچه 3");
    assert_eq!(sara.village, None);
    assert_eq!(sara.joined_on, NaiveDate::from_ymd_opt(2024, 4, 3));

    let (line, ali) = &p.rows[1];
    assert_eq!(*line, 3);
    assert_eq!(ali.first_name, "علی");
    assert_eq!(ali.last_name, "کریمی");
    assert_eq!(ali.gender, Some(Gender::Male));
    assert_eq!(ali.national_id.as_ref().map(|n| n.as_str()), Some(NID_B), "8 digits get their leading zeros back");
    assert_eq!(ali.guardian_phone.as_ref().map(|p| p.as_str()), Some("09127654321"));
    assert_eq!(ali.address, "");
    assert_eq!(ali.joined_on, Some(jalali("1403/07/01")));
}

const HEADERS: &[&str] = &[
    "شماره عضویت",
    "نام",
    "نام خانوادگی",
    "جنسیت",
    "تاریخ تولد",
    "کد ملی",
    "نوع مدرک",
    "شماره مدرک",
    "پایه",
    "تلفن همراه ولی",
    "روستا",
];

fn errors_on(errors: &[RowError], line: usize) -> Vec<&RowError> {
    errors.iter().filter(|e| e.line == line).collect()
}

#[test]
fn every_bad_row_is_reported_and_good_rows_still_parse() {
    let t = table(
        HEADERS,
        &[
            /* 2 */ &["1", "سارا", "احمدی", "دختر", "1395/02/10", NID_A, "", "", "3", "09121234567", ""],
            /* 3 */ &["2", "", "رضایی", "", "", NID_C, "", "", "", "", ""],
            /* 4 */ &["3", "رضا", "رضایی", "", "", "1234567890", "", "", "", "", ""],
            /* 5 */ &["4", "مینا", "موسوی", "", "", "", "", "", "", "", ""],
            /* 6 */ &["5", "احمد", "نوری", "پسر", "", "", "", "A-123", "", "", "ده‌نو"],
            /* 7 */ &["6", "زهرا", "کاظمی", "", "", NID_A, "", "", "", "", ""],
            /* 8 */ &["1", "مریم", "صادقی", "", "", "", "کارت آمایش", "K-1", "", "", ""],
            /* 9 */ &["7", "نرگس", "اکبری", "x", "", "", "گذرنامه", "P1", "", "", ""],
            /* 10 */ &["8", "حسین", "یزدانی", "", "1404/13/01", "", "گذرنامه", "P2", "", "", ""],
            /* 11 */ &["9", "فاطمه", "امینی", "", "", "", "گذرنامه", "P3", "سیزدهم", "", ""],
            /* 12 */ &["10", "علی", "جعفری", "", "", "", "گذرنامه", "P4", "", "12345", ""],
            /* 13 */ &["11", "کیان", "حیدری", "", "", "", "گذرنامه", "P5", "", "", "", "اضافه"],
            /* 14 */
            &["12", "نیما", "رحیمی", "پسر", "۱۳۹۸/۰۱/۰۵", "12345679", "", "", "پیش‌دبستانی", "9121234567", ""],
            /* 15 */ &["13", "سینا", "موسوی", "", "", "", "گذرنامه", "P1", "", "", ""],
        ],
    );
    let m = suggest_mapping(ImportKind::Members, &t.headers);
    let p = parse_members(&t, &m).unwrap();

    let good: Vec<usize> = p.rows.iter().map(|(l, _)| *l).collect();
    assert_eq!(good, vec![2, 6, 14]);
    let mut bad: Vec<usize> = p.errors.iter().map(|e| e.line).collect();
    bad.dedup();
    assert_eq!(bad, vec![3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 15], "{:#?}", p.errors);
    for e in &p.errors {
        assert!(!e.message.is_empty());
        assert!(e.message.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)), "Persian: {}", e.message);
    }

    let e = errors_on(&p.errors, 3);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].column.as_deref(), Some("نام"));
    assert_eq!(e[0].field, Some(Field::FirstName));
    assert!(e[0].message.contains("نام خالی"));

    let e = errors_on(&p.errors, 4);
    assert_eq!(e[0].column.as_deref(), Some("کد ملی"));
    assert_eq!(e[0].value, "1234567890");
    assert!(e[0].message.contains("۱۲۳۴۵۶۷۸۹۰"), "names the value in Persian digits: {}", e[0].message);

    let e = errors_on(&p.errors, 5);
    assert!(e[0].message.contains("کد ملی یا شناسه جایگزین لازم است"));

    let e = errors_on(&p.errors, 7);
    assert_eq!(e[0].column.as_deref(), Some("کد ملی"));
    assert!(e[0].message.contains("سطر ۲"), "names the earlier line: {}", e[0].message);

    let e = errors_on(&p.errors, 8);
    assert_eq!(e[0].column.as_deref(), Some("شماره عضویت"));
    assert!(e[0].message.contains("سطر ۲"));

    let e = errors_on(&p.errors, 9);
    assert_eq!(e[0].column.as_deref(), Some("جنسیت"));
    assert_eq!(e[0].value, "x");

    let e = errors_on(&p.errors, 10);
    assert_eq!(e[0].column.as_deref(), Some("تاریخ تولد"));
    assert!(e[0].message.contains("۱۴۰۴/۱۳/۰۱"), "{}", e[0].message);

    let e = errors_on(&p.errors, 11);
    assert_eq!(e[0].column.as_deref(), Some("پایه"));

    let e = errors_on(&p.errors, 12);
    assert_eq!(e[0].column.as_deref(), Some("تلفن همراه ولی"));
    assert_eq!(e[0].value, "12345");

    let e = errors_on(&p.errors, 13);
    assert_eq!(e[0].column, None);
    assert_eq!(e[0].value, "اضافه");

    let e = errors_on(&p.errors, 15);
    assert_eq!(e[0].column.as_deref(), Some("شماره مدرک"));
    assert!(e[0].message.contains("سطر ۹"));

    let (_, ahmad) = &p.rows[1];
    assert_eq!(ahmad.alt_id, Some(("سایر".to_owned(), "A-123".to_owned())));
    assert_eq!(ahmad.village.as_deref(), Some("ده‌نو"));
    assert_eq!(ahmad.national_id, None);

    let (_, nima) = &p.rows[2];
    assert_eq!(nima.school_grade, Some(0));
    assert_eq!(nima.birth_date, Some(jalali("1398/01/05")));
    assert_eq!(nima.national_id.as_ref().map(|n| n.as_str()), Some(NID_B));
    assert_eq!(nima.guardian_phone.as_ref().map(|p| p.as_str()), Some("09121234567"));

    assert_eq!(p.rows[0].1.school_grade, Some(3));
}

#[test]
fn a_row_with_several_problems_lists_them_all() {
    let t = table(HEADERS, &[&["", "", "", "?", "دیروز", "0000000000", "", "", "", "", ""]]);
    let m = suggest_mapping(ImportKind::Members, &t.headers);
    let p = parse_members(&t, &m).unwrap();
    assert!(p.rows.is_empty());
    let fields: Vec<Option<Field>> = p.errors.iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        vec![
            Some(Field::FirstName),
            Some(Field::LastName),
            Some(Field::Gender),
            Some(Field::BirthDate),
            Some(Field::NationalId),
        ]
    );
}

#[test]
fn full_name_is_split_at_the_first_space() {
    let t = table(
        &["نام و نام خانوادگی", "کد ملی"],
        &[&["محمد  علی رضایی", NID_A], &["سارا", NID_B], &["زهرا احمدی", NID_C]],
    );
    let m = suggest_mapping(ImportKind::Members, &t.headers);
    assert_eq!(m.get(Field::FullName), Some(0));
    let p = parse_members(&t, &m).unwrap();
    assert_eq!(p.rows.len(), 2);
    assert_eq!(p.rows[0].1.first_name, "محمد");
    assert_eq!(p.rows[0].1.last_name, "علی رضایی");
    assert_eq!(p.rows[1].1.first_name, "زهرا");
    assert_eq!(p.errors.len(), 1);
    assert_eq!(p.errors[0].line, 3);
    assert_eq!(p.errors[0].field, Some(Field::FullName));
    assert_eq!(p.errors[0].value, "سارا");
}

#[test]
fn full_name_fills_in_only_when_a_name_cell_is_empty() {
    let t = table(
        &["نام", "نام خانوادگی", "نام کامل", "کد ملی"],
        &[&["سارا", "احمدی", "ignored name", NID_A], &["", "", "رضا کریمی", NID_B]],
    );
    let m = suggest_mapping(ImportKind::Members, &t.headers);
    let p = parse_members(&t, &m).unwrap();
    assert!(p.errors.is_empty(), "{:#?}", p.errors);
    assert_eq!(p.rows[0].1.first_name, "سارا");
    assert_eq!(p.rows[1].1.first_name, "رضا");
    assert_eq!(p.rows[1].1.last_name, "کریمی");
}

#[test]
fn unusable_mappings_are_errors_not_rows() {
    let t = table(&["نام", "نام خانوادگی", "کد ملی"], &[&["a", "b", NID_A]]);

    let mut m = ColumnMapping::default();
    m.columns.insert(Field::NationalId, 2);
    match parse_members(&t, &m) {
        Err(ImportError::MappingIncomplete { missing }) => {
            assert_eq!(missing, vec![Field::FirstName, Field::LastName]);
        }
        other => panic!("{other:?}"),
    }

    let mut m = ColumnMapping::default();
    m.columns.insert(Field::FirstName, 0);
    m.columns.insert(Field::LastName, 1);
    let err = parse_members(&t, &m).unwrap_err();
    assert_eq!(err, ImportError::MappingIncomplete { missing: vec![Field::NationalId, Field::AltId] });
    assert!(err.to_string().contains("«کد ملی» یا «شناسه جایگزین»"), "{err}");

    m.columns.insert(Field::NationalId, 7);
    assert_eq!(
        parse_members(&t, &m).unwrap_err(),
        ImportError::ColumnOutOfRange { field: Field::NationalId, column: 7, columns: 3 }
    );
}

#[test]
fn an_xlsx_like_member_row_with_numbers() {
    // As Excel hands them over: numbers without leading zeros.
    let t = read_table("نام,نام خانوادگی,کد ملی,تلفن\nسارا,احمدی,84575948,9121234567\n".as_bytes()).unwrap();
    let m = suggest_mapping(ImportKind::Members, &t.headers);
    let p = parse_members(&t, &m).unwrap();
    assert!(p.errors.is_empty(), "{:#?}", p.errors);
    assert_eq!(p.rows[0].1.national_id.as_ref().map(|n| n.as_str()), Some(NID_A));
}
