//! Parsing title-and-copy rows.

use kanoon_import::{ColumnMapping, Field, ImportError, ImportKind, parse_titles_copies, suggest_mapping};

use crate::common::{read_and_map, table};

const CSV: &str = "شماره ثبت,عنوان,نویسنده,مترجم,تصویرگر,ناشر,سال نشر,شابک,گروه سنی,موضوع
۱۰۰۱,کلاغ‌ها,صمد بهرنگي,,فرشید مثقالی,کانون پرورش فکری,۱۳۹۸,978-964-391-234-5,ب,داستان
1002,کلاغ‌ها,صمد بهرنگی,,,کانون,1398,9789643912345,گروه ج,داستان
1003,The Little Prince,Saint-Exupéry,احمد شاملو,,,2019,0-306-40615-2,۷+,
";

#[test]
fn a_clean_export_parses_completely() {
    let (t, m) = read_and_map(CSV, ImportKind::TitlesCopies);
    let p = parse_titles_copies(&t, &m).unwrap();
    assert!(p.errors.is_empty(), "{:#?}", p.errors);
    assert_eq!(p.rows.len(), 3);
    let (line, r) = &p.rows[0];
    assert_eq!(*line, 2);
    assert_eq!(r.registration_number, "1001");
    assert_eq!(r.details.title, "کلاغ‌ها");
    assert_eq!(r.details.author, "صمد بهرنگی");
    assert_eq!(r.details.translator, "");
    assert_eq!(r.details.illustrator, "فرشید مثقالی");
    assert_eq!(r.details.publisher, "کانون پرورش فکری");
    assert_eq!(r.details.year, Some(1398));
    assert_eq!(r.details.isbn, "9789643912345");
    assert_eq!(r.details.age_group.as_deref(), Some("ب"));
    assert_eq!(r.details.subjects, "داستان");
    assert_eq!(p.rows[1].1.details.age_group.as_deref(), Some("ج"));
    let r = &p.rows[2].1;
    assert_eq!(r.details.year, Some(2019));
    assert_eq!(r.details.isbn, "0306406152");
    assert_eq!(r.details.age_group.as_deref(), Some("+7"));
    assert_eq!(r.details.translator, "احمد شاملو");
}

#[test]
fn every_bad_row_is_reported_and_good_rows_still_parse() {
    let headers = ["شماره ثبت", "عنوان", "سال نشر", "شابک", "گروه سنی"];
    let t = table(
        &headers,
        &[
            /* 2 */ &["1", "الف", "1398", "", "الف"],
            /* 3 */ &["", "ب", "", "", ""],
            /* 4 */ &["2", "", "", "", ""],
            /* 5 */ &[" ۱ ", "ج", "", "", ""],
            /* 6 */ &["3", "د", "98", "", ""],
            /* 7 */ &["4", "ه", "", "978-964-391-234-6", ""],
            /* 8 */ &["5", "و", "", "", "ب و ج"],
            /* 9 */ &["6", "ز", "", "", "", "x"],
            /* 10 */ &["7", "ح", "۲۰۱۹", "978 964 391 234 5", "هـ"],
        ],
    );
    let m = suggest_mapping(ImportKind::TitlesCopies, &t.headers);
    let p = parse_titles_copies(&t, &m).unwrap();
    let good: Vec<usize> = p.rows.iter().map(|(l, _)| *l).collect();
    assert_eq!(good, vec![2, 10]);
    let lines: Vec<usize> = p.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![3, 4, 5, 6, 7, 8, 9], "{:#?}", p.errors);
    let by_line = |l: usize| p.errors.iter().find(|e| e.line == l).unwrap();
    assert_eq!(by_line(3).field, Some(Field::RegistrationNumber));
    assert_eq!(by_line(4).field, Some(Field::Title));
    assert_eq!(by_line(5).column.as_deref(), Some("شماره ثبت"));
    assert!(by_line(5).message.contains("سطر ۲"), "{}", by_line(5).message);
    assert_eq!(by_line(6).column.as_deref(), Some("سال نشر"));
    assert_eq!(by_line(6).value, "98");
    assert_eq!(by_line(7).column.as_deref(), Some("شابک"));
    assert_eq!(by_line(8).column.as_deref(), Some("گروه سنی"));
    assert_eq!(by_line(9).column, None);
    let r = &p.rows[1].1;
    assert_eq!(r.details.year, Some(2019));
    assert_eq!(r.details.isbn, "9789643912345");
    assert_eq!(r.details.age_group.as_deref(), Some("ه"));
}

#[test]
fn registration_and_title_must_be_mapped() {
    let t = table(&["عنوان"], &[&["x"]]);
    let mut m = ColumnMapping::default();
    m.columns.insert(Field::Title, 0);
    assert_eq!(
        parse_titles_copies(&t, &m).unwrap_err(),
        ImportError::MappingIncomplete { missing: vec![Field::RegistrationNumber] }
    );
}
