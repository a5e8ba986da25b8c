//! Migration import against the database: dry run reports every bad row,
//! commit is all or nothing, old card numbers keep working.

use kanoon_domain::circulation::IssueCode;
use kanoon_store::ErrorCode;
use kanoon_store::circulation::{BookStatus, CheckOutRequest};
use kanoon_store::import::{ImportKind, suggest_mapping};

use crate::support::*;

fn members_csv() -> String {
    format!(
        "شماره عضویت,نام,نام خانوادگی,نام پدر,جنسیت,تاریخ تولد,کد ملی,تلفن همراه ولی,تاریخ انقضا\n\
         5001,سارا,کریمی,علی,دختر,1392/04/12,{},09121111111,1404/06/30\n\
         5002,رضا,احمدی,حسن,پسر,1393/01/01,{},۰۹۱۲۲۲۲۲۲۲۲,1404/12/29\n",
        national_id(11),
        national_id(12)
    )
}

fn preview_mapping(f: &Fixture, bytes: &[u8], kind: ImportKind) -> kanoon_store::import::ColumnMapping {
    let preview = f.desk.import_preview(bytes).unwrap();
    suggest_mapping(kind, &preview.headers)
}

#[test]
fn members_books_and_open_loans_move_in_and_old_cards_still_work() {
    let mut f = desk();
    let csv = members_csv();
    let m = preview_mapping(&f, csv.as_bytes(), ImportKind::Members);
    let dry = f.desk.import_dry_run(ImportKind::Members, csv.as_bytes(), &m).unwrap();
    assert!(dry.is_clean(), "{:?}", dry.errors);
    assert_eq!(dry.counts.members, 2);
    assert_eq!(f.desk.list_members(0, 10).unwrap().len(), 0, "a dry run writes nothing");
    let done = f.desk.import_commit(ImportKind::Members, csv.as_bytes(), &m).unwrap();
    assert!(done.committed);

    let sara = f.desk.member_by_number("۵۰۰۱").unwrap();
    assert_eq!(sara.full_name, "سارا کریمی");
    assert_eq!(sara.membership.ends_on_jalali.as_deref(), Some("۱۴۰۴/۰۶/۳۰"));

    let books = "شماره ثبت,عنوان,نویسنده,ناشر,گروه سنی\n\
                 101,قصه‌های مجید,هوشنگ مرادی کرمانی,کانون,ج\n\
                 102,قصه‌های مجید,هوشنگ مرادی کرمانی,کانون,ج\n\
                 103,ماهی سیاه کوچولو,صمد بهرنگی,کانون,ب\n";
    let m = preview_mapping(&f, books.as_bytes(), ImportKind::TitlesCopies);
    let done = f.desk.import_commit(ImportKind::TitlesCopies, books.as_bytes(), &m).unwrap();
    assert_eq!((done.counts.titles, done.counts.copies), (2, 3));

    let loans = "شماره عضویت,شماره ثبت,تاریخ امانت,تاریخ بازگشت\n5001,101,1404/01/10,1404/01/17\n";
    let m = preview_mapping(&f, loans.as_bytes(), ImportKind::OpenLoans);
    let done = f.desk.import_commit(ImportKind::OpenLoans, loans.as_bytes(), &m).unwrap();
    assert!(done.committed, "{:?}", done.errors);
    let open = f.desk.open_loans_of(sara.id).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].due_on_jalali, "۱۴۰۴/۰۱/۱۷");
    // The imported loan is a real loan: the copy cannot be lent again.
    let reza = f.desk.member_by_number("5002").unwrap();
    let out = f.desk.check_out(CheckOutRequest::new(reza.id, ["101"]).confirmed()).unwrap();
    assert_eq!(out.books[0].status, BookStatus::Refused);
    assert_eq!(out.books[0].issues[0].code, IssueCode::AlreadyOnLoan);
    assert_eq!(f.desk.check_in("101").unwrap().days_late, 0);
}

#[test]
fn a_file_with_a_bad_row_writes_nothing_and_every_bad_row_is_reported() {
    let mut f = desk();
    register(&mut f.desk, "موجود", "پیشین", 12);
    let csv = format!(
        "شماره عضویت,نام,نام خانوادگی,جنسیت,کد ملی\n\
         1,خوب,یکم,دختر,{}\n\
         2,بد,دوم,پسر,1234567890\n\
         3,تکراری,سوم,دختر,{}\n\
         4,,چهارم,دختر,{}\n",
        national_id(21),
        national_id(12),
        national_id(23),
    );
    let m = preview_mapping(&f, csv.as_bytes(), ImportKind::Members);
    let before = f.desk.outbox_len().unwrap();
    let report = f.desk.import_commit(ImportKind::Members, csv.as_bytes(), &m).unwrap();
    assert!(!report.committed);
    let lines: Vec<usize> = report.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![3, 4, 5], "{:?}", report.errors);
    assert!(report.errors.iter().all(|e| !e.message.is_empty()));
    assert_eq!(f.desk.outbox_len().unwrap(), before);
    assert_eq!(f.desk.list_members(0, 10).unwrap().len(), 1);
}

#[test]
fn a_windows_1256_file_and_an_xlsx_file_import_like_utf8() {
    let mut f = desk();
    let csv = members_csv();
    // Old Windows software writes Arabic yeh (Windows-1256 has no Persian ی).
    let legacy = kanoon_domain::text::to_ascii_digits(&csv.replace('ی', "ي"));
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1256.encode(&legacy);
    assert!(!unmappable);
    let m = preview_mapping(&f, &bytes, ImportKind::Members);
    let preview = f.desk.import_preview(&bytes).unwrap();
    assert_eq!(preview.source.encoding.as_deref(), Some("windows-1256"));
    let done = f.desk.import_commit(ImportKind::Members, &bytes, &m).unwrap();
    assert!(done.committed, "{:?}", done.errors);
    let sara = f.desk.member_by_number("5001").unwrap();
    assert_eq!(sara.full_name, "سارا کریمی", "Arabic yeh is stored as Persian ی");

    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["شماره ثبت", "عنوان", "نویسنده"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_number(1, 0, 9001.0).unwrap();
    sheet.write_string(1, 1, "شازده کوچولو").unwrap();
    sheet.write_string(1, 2, "اگزوپری").unwrap();
    let xlsx = book.save_to_buffer().unwrap();
    let m = preview_mapping(&f, &xlsx, ImportKind::TitlesCopies);
    let done = f.desk.import_commit(ImportKind::TitlesCopies, &xlsx, &m).unwrap();
    assert!(done.committed, "{:?}", done.errors);
    assert_eq!(f.desk.copy_by_registration_number("9001").unwrap().title, "شازده کوچولو");
}

#[test]
fn broken_files_are_refused_with_a_clear_error() {
    let mut f = desk();
    for bytes in [&b""[..], b"PK\x03\x04not really a zip", &[0u8, 159, 146, 150, 0, 1, 2][..]] {
        let err = f.desk.import_preview(bytes).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ImportRejected, "{err}");
        let m = kanoon_store::import::ColumnMapping::default();
        assert!(f.desk.import_commit(ImportKind::Members, bytes, &m).is_err());
    }
    // An incomplete mapping is refused before any row is read.
    let csv = members_csv();
    let err = f
        .desk
        .import_dry_run(ImportKind::Members, csv.as_bytes(), &kanoon_store::import::ColumnMapping::default())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ImportRejected);
}

#[test]
fn importing_the_same_books_twice_is_caught_by_the_dry_run() {
    let mut f = desk();
    let books = "شماره ثبت,عنوان\n1,الف\n2,ب\n";
    let m = preview_mapping(&f, books.as_bytes(), ImportKind::TitlesCopies);
    assert!(f.desk.import_commit(ImportKind::TitlesCopies, books.as_bytes(), &m).unwrap().committed);
    let again = f.desk.import_dry_run(ImportKind::TitlesCopies, books.as_bytes(), &m).unwrap();
    assert_eq!(again.errors.len(), 2);
}
