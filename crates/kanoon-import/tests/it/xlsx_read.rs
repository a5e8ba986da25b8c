//! Reading XLSX workbooks generated with rust_xlsxwriter.

use chrono::NaiveDate;
use kanoon_import::{
    Field, ImportError, ImportKind, SourceFormat, parse_members, read_table, read_xlsx_sheet, suggest_mapping,
    xlsx_sheet_names,
};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

use crate::common::{NID_A, NID_B};

/// A members workbook: an empty first sheet, then «اعضا» with numbers where
/// Excel users put them, a real date cell, an empty row and a formula.
pub fn members_xlsx() -> Vec<u8> {
    let mut wb = Workbook::new();
    wb.add_worksheet().set_name("خالی").unwrap();
    let ws = wb.add_worksheet();
    ws.set_name("اعضا").unwrap();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let headers = ["شماره عضویت", "نام", "نام خانوادگی", "تاریخ تولد", "کد ملی", "تلفن همراه ولی", "پایه"];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_number(1, 0, 101).unwrap();
    ws.write_string(1, 1, "سارا").unwrap();
    ws.write_string(1, 2, "احمدی").unwrap();
    ws.write_datetime_with_format(1, 3, ExcelDateTime::from_ymd(2015, 3, 21).unwrap(), &date).unwrap();
    ws.write_number(1, 4, 84_575_948).unwrap();
    ws.write_number(1, 5, 9_121_234_567.0).unwrap();
    ws.write_number(1, 6, 3).unwrap();
    // Row 3 (index 2) left empty.
    ws.write_number(3, 0, 102.0).unwrap();
    ws.write_string(3, 1, "علي").unwrap();
    ws.write_string(3, 2, "كريمي").unwrap();
    ws.write_string(3, 3, "1396/05/01").unwrap();
    ws.write_string(3, 4, "0012345679").unwrap();
    ws.write_number(3, 6, 2.5).unwrap();
    wb.save_to_buffer().unwrap()
}

#[test]
fn a_workbook_reads_like_a_person_sees_it() {
    let bytes = members_xlsx();
    let t = read_table(&bytes).unwrap();
    assert_eq!(t.source.format, SourceFormat::Xlsx);
    assert_eq!(t.source.encoding, None);
    assert_eq!(t.source.sheet.as_deref(), Some("اعضا"), "the empty first sheet is skipped");
    assert_eq!(t.headers[0], "شماره عضویت");
    assert_eq!(t.headers.len(), 7);
    assert_eq!(t.rows.len(), 2);
    assert_eq!(t.rows[0].line, 2);
    assert_eq!(t.rows[1].line, 4, "sheet row numbers, the empty row skipped");
    assert_eq!(t.rows[0].cells, vec!["101", "سارا", "احمدی", "2015-03-21", "84575948", "9121234567", "3"]);
    assert_eq!(t.rows[1].cells, vec!["102", "علي", "كريمي", "1396/05/01", "0012345679", "", "2.5"]);
}

#[test]
fn a_workbook_parses_into_members() {
    let t = read_table(&members_xlsx()).unwrap();
    let m = suggest_mapping(ImportKind::Members, &t.headers);
    let p = parse_members(&t, &m).unwrap();
    assert_eq!(p.rows.len(), 1);
    let sara = &p.rows[0].1;
    assert_eq!(sara.legacy_number.as_deref(), Some("101"));
    assert_eq!(sara.national_id.as_ref().map(|n| n.as_str()), Some(NID_A));
    assert_eq!(sara.birth_date, NaiveDate::from_ymd_opt(2015, 3, 21));
    assert_eq!(sara.guardian_phone.as_ref().map(|p| p.as_str()), Some("09121234567"));
    assert_eq!(sara.school_grade, Some(3));
    // Row 4: grade 2.5 is not a grade.
    assert_eq!(p.errors.len(), 1);
    assert_eq!(p.errors[0].line, 4);
    assert_eq!(p.errors[0].field, Some(Field::SchoolGrade));
    assert_eq!(p.errors[0].value, "2.5");
    let _ = NID_B;
}

#[test]
fn sheets_can_be_listed_and_chosen() {
    let bytes = members_xlsx();
    assert_eq!(xlsx_sheet_names(&bytes).unwrap(), vec!["خالی", "اعضا"]);
    let t = read_xlsx_sheet(&bytes, "اعضا").unwrap();
    assert_eq!(t.rows.len(), 2);
    assert_eq!(read_xlsx_sheet(&bytes, "خالی").unwrap_err(), ImportError::NoHeaders);
    assert_eq!(read_xlsx_sheet(&bytes, "کتاب‌ها").unwrap_err(), ImportError::SheetNotFound("کتاب‌ها".to_owned()));
}

#[test]
fn a_table_away_from_the_corner_hidden_sheets_and_odd_cells() {
    let mut wb = Workbook::new();
    let hidden = wb.add_worksheet();
    hidden.set_name("lookup").unwrap();
    hidden.write_string(0, 0, "secret").unwrap();
    hidden.set_hidden(true);
    let ws = wb.add_worksheet();
    ws.set_active(true);
    ws.write_string(2, 2, "شماره ثبت").unwrap();
    ws.write_string(2, 3, "عنوان").unwrap();
    ws.write_string(2, 4, "  ").unwrap();
    ws.write_number(3, 2, 1001).unwrap();
    ws.write_string(3, 3, "  کلاغ‌ها  ").unwrap();
    ws.write_boolean(4, 2, true).unwrap();
    ws.write_formula(4, 3, "=1/0").unwrap();
    ws.write_number(4, 5, 7).unwrap();
    ws.write_number(5, 2, 1e20).unwrap();
    let bytes = wb.save_to_buffer().unwrap();

    let t = read_table(&bytes).unwrap();
    assert_eq!(t.source.sheet.as_deref(), Some("Sheet2"), "hidden sheet skipped");
    assert_eq!(t.headers, vec!["شماره ثبت", "عنوان"]);
    assert_eq!(t.rows[0].line, 4);
    assert_eq!(t.rows[0].cells, vec!["1001", "کلاغ‌ها"]);
    assert_eq!(t.rows[1].cells[0], "TRUE");
    assert_eq!(t.rows[1].cells.len(), 4, "a value past the headers is kept");
    assert_eq!(t.rows[1].cells[3], "7");
    assert!(!t.rows[2].cells[0].is_empty());
}
