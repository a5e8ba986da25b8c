//! Parsing open-loan rows.

use chrono::NaiveDate;
use kanoon_import::{ColumnMapping, Field, ImportError, ImportKind, parse_open_loans, suggest_mapping};

use crate::common::{read_and_map, table};

#[test]
fn a_clean_export_parses_completely() {
    let (t, m) = read_and_map(
        "شماره عضویت;شماره ثبت;تاریخ امانت;تاریخ بازگشت\n101;1001;1403/01/15;1403/01/29\n۱۰۲;۱۰۰۲;2024-04-03;\n",
        ImportKind::OpenLoans,
    );
    let p = parse_open_loans(&t, &m).unwrap();
    assert!(p.errors.is_empty(), "{:#?}", p.errors);
    assert_eq!(p.rows.len(), 2);
    let r = &p.rows[0].1;
    assert_eq!(r.member_number, "101");
    assert_eq!(r.registration_number, "1001");
    assert_eq!(r.loaned_on, NaiveDate::from_ymd_opt(2024, 4, 3).unwrap());
    assert_eq!(r.due_on, NaiveDate::from_ymd_opt(2024, 4, 17));
    let r = &p.rows[1].1;
    assert_eq!(r.member_number, "102");
    assert_eq!(r.registration_number, "1002");
    assert_eq!(r.loaned_on, NaiveDate::from_ymd_opt(2024, 4, 3).unwrap());
    assert_eq!(r.due_on, None);
}

#[test]
fn every_bad_row_is_reported_and_good_rows_still_parse() {
    let t = table(
        &["شماره عضویت", "شماره ثبت", "تاریخ امانت", "سررسید"],
        &[
            /* 2 */ &["101", "1001", "1403/01/15", ""],
            /* 3 */ &["", "1002", "1403/01/15", ""],
            /* 4 */ &["102", "", "1403/01/15", ""],
            /* 5 */ &["103", "1003", "", ""],
            /* 6 */ &["104", "1004", "15/01/1403", ""],
            /* 7 */ &["101", "1001", "1403/01/15", ""],
            /* 8 */ &["105", "1001", "1403/01/16", ""],
            /* 9 */ &["106", "1006", "1403/02/01", "1403/01/01"],
            /* 10 */ &["107", "1007", "1403/02/01", "not a date"],
            /* 11 */ &["108", "1008", "1403/02/01", "1403/02/15"],
        ],
    );
    let m = suggest_mapping(ImportKind::OpenLoans, &t.headers);
    assert_eq!(m.columns.len(), 4);
    let p = parse_open_loans(&t, &m).unwrap();
    let good: Vec<usize> = p.rows.iter().map(|(l, _)| *l).collect();
    assert_eq!(good, vec![2, 11]);
    let lines: Vec<usize> = p.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![3, 4, 5, 6, 7, 8, 9, 10], "{:#?}", p.errors);
    let by_line = |l: usize| p.errors.iter().find(|e| e.line == l).unwrap();
    assert_eq!(by_line(3).field, Some(Field::LoanMemberNumber));
    assert_eq!(by_line(4).field, Some(Field::LoanRegistrationNumber));
    assert_eq!(by_line(5).field, Some(Field::LoanedOn));
    assert_eq!(by_line(6).value, "15/01/1403");
    assert!(by_line(7).message.contains("تکراری") && by_line(7).message.contains("سطر ۲"));
    assert!(by_line(8).message.contains("سطر ۲") && by_line(8).message.contains("101"));
    assert_eq!(by_line(9).column.as_deref(), Some("سررسید"));
    assert_eq!(by_line(10).column.as_deref(), Some("سررسید"));
}

#[test]
fn due_date_is_optional_but_the_rest_is_required() {
    let t = table(&["شماره عضویت", "شماره ثبت"], &[&["1", "2"]]);
    let mut m = ColumnMapping::default();
    m.columns.insert(Field::LoanMemberNumber, 0);
    m.columns.insert(Field::LoanRegistrationNumber, 1);
    assert_eq!(
        parse_open_loans(&t, &m).unwrap_err(),
        ImportError::MappingIncomplete { missing: vec![Field::LoanedOn] }
    );
}
