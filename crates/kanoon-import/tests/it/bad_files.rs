//! Files that are not tables, or tables without data.

use kanoon_import::{ImportError, read_table, read_xlsx_sheet, xlsx_sheet_names};

use crate::common::stored_zip;
use crate::xlsx_read::members_xlsx;

fn not_a_table(bytes: &[u8]) -> String {
    match read_table(bytes) {
        Err(ImportError::NotATable(why)) => why,
        other => panic!("expected NotATable, got {other:?}"),
    }
}

#[test]
fn empty_files() {
    assert_eq!(read_table(b"").unwrap_err(), ImportError::Empty);
    assert_eq!(read_table(b" \r\n\t\n").unwrap_err(), ImportError::Empty);
    assert_eq!(read_table(b"\xEF\xBB\xBF").unwrap_err(), ImportError::Empty);
    assert_eq!(read_table(b"\xEF\xBB\xBF\r\n").unwrap_err(), ImportError::Empty);
    assert_eq!(read_table(b"\xFF\xFE").unwrap_err(), ImportError::Empty);
}

#[test]
fn files_without_any_value() {
    assert_eq!(read_table(b",,,\n , ,\n").unwrap_err(), ImportError::NoHeaders);
}

#[test]
fn random_bytes_are_not_a_table() {
    // A fixed xorshift sequence: the same "random" file every run.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    not_a_table(&bytes);
    not_a_table(b"\x01\x02\x03hello");
}

#[test]
fn a_zip_that_is_not_a_workbook() {
    let zip = stored_zip(&[("photo.txt", b"not a picture"), ("notes/readme.md", b"# hi")]);
    let why = not_a_table(&zip);
    assert!(why.contains("zip"), "{why}");
    assert!(matches!(xlsx_sheet_names(&zip), Err(ImportError::NotATable(_))));
    assert!(matches!(read_xlsx_sheet(&zip, "Sheet1"), Err(ImportError::NotATable(_))));
}

#[test]
fn a_damaged_workbook() {
    let bytes = members_xlsx();
    let half = &bytes[..bytes.len() / 2];
    assert!(matches!(read_table(half), Err(ImportError::Xlsx(_))), "{:?}", read_table(half));
    // xl/ files present but no workbook inside.
    let zip = stored_zip(&[("xl/other.xml", b"<x/>")]);
    assert!(matches!(read_table(&zip), Err(ImportError::Xlsx(_) | ImportError::NotATable(_))));
}

#[test]
fn old_excel_and_pdf_say_what_to_do() {
    let mut xls = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
    xls.extend_from_slice(&[0u8; 512]);
    let why = not_a_table(&xls);
    assert!(why.contains("xlsx"), "{why}");
    assert!(matches!(xlsx_sheet_names(&xls), Err(ImportError::NotATable(_))));
    let why = not_a_table(b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n");
    assert!(why.contains("PDF"));
}

#[test]
fn xlsx_functions_reject_csv_and_empty_input() {
    assert!(matches!(xlsx_sheet_names(b"a,b\n1,2"), Err(ImportError::NotATable(_))));
    assert_eq!(xlsx_sheet_names(b"").unwrap_err(), ImportError::Empty);
}

#[test]
fn every_error_has_a_persian_message() {
    let errors = [
        ImportError::Empty,
        ImportError::NotATable("x".to_owned()),
        ImportError::Xlsx("x".to_owned()),
        ImportError::Csv("x".to_owned()),
        ImportError::NoHeaders,
        ImportError::MappingIncomplete { missing: vec![kanoon_import::Field::Title] },
        ImportError::ColumnOutOfRange { field: kanoon_import::Field::Title, column: 4, columns: 2 },
        ImportError::SheetNotFound("x".to_owned()),
        ImportError::TooLarge,
    ];
    for e in errors {
        let msg = e.to_string();
        assert!(msg.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)), "{msg}");
    }
}
