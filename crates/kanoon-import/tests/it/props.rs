//! Nothing panics, whatever the file or the cells hold.

use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use kanoon_domain::jalali::JalaliDate;
use kanoon_import::{
    ColumnMapping, Field, ImportKind, SourceFormat, SourceInfo, SourceRow, Table, parse_date_cell, parse_members,
    parse_open_loans, parse_titles_copies, read_table, read_xlsx_sheet, xlsx_sheet_names,
};
use proptest::prelude::*;

use crate::xlsx_read::members_xlsx;

/// Cases per property test: 1,000 in CI, more with `PROPTEST_CASES=N`.
fn proptest_cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000).max(1000)
}

fn xlsx() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(members_xlsx)
}

/// Cell text: arbitrary Unicode mixed with values near the parsers' edges.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,12}",
        ".{0,6}",
        "[0-9۰-۹/\\- ]{0,12}",
        Just(String::new()),
        Just("1403/12/30".to_owned()),
        Just("1404/12/30".to_owned()),
        Just("0084575948".to_owned()),
        Just("84575948".to_owned()),
        Just("9121234567".to_owned()),
        Just("978-0-306-40615-7".to_owned()),
        Just("هـ".to_owned()),
        Just("محمد علی".to_owned()),
        Just("ISBN".to_owned()),
        Just("پایه".to_owned()),
        Just("99999999999999999999/1/1".to_owned()),
    ]
}

fn table_of(rows: Vec<Vec<String>>, width: usize) -> Table {
    Table {
        headers: (0..width).map(|i| format!("h{i}")).collect(),
        rows: rows.into_iter().enumerate().map(|(i, cells)| SourceRow { line: i + 2, cells }).collect(),
        source: SourceInfo { format: SourceFormat::Csv, encoding: None, delimiter: None, sheet: None },
    }
}

/// Every field of `kind` on its own column.
fn full_mapping(kind: ImportKind) -> ColumnMapping {
    let mut m = ColumnMapping::default();
    for (i, f) in Field::fields_for(kind).iter().enumerate() {
        m.columns.insert(*f, i);
    }
    m
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(proptest_cases()))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = read_table(&bytes);
        let _ = xlsx_sheet_names(&bytes);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}|[,;\t|\"\r\n a-z0-9]{0,200}") {
        if let Ok(t) = read_table(text.as_bytes()) {
            for r in &t.rows {
                prop_assert!(r.cells.len() >= t.headers.len());
                prop_assert!(r.line >= 1);
            }
        }
    }

    #[test]
    fn arbitrary_cells_never_panic_the_row_parsers(
        rows in proptest::collection::vec(proptest::collection::vec(cell(), 0..20), 0..8),
    ) {
        let width = 16;
        let t = table_of(rows, width);
        let members = parse_members(&t, &full_mapping(ImportKind::Members)).unwrap();
        let titles = parse_titles_copies(&t, &full_mapping(ImportKind::TitlesCopies)).unwrap();
        let loans = parse_open_loans(&t, &full_mapping(ImportKind::OpenLoans)).unwrap();
        // Every row ends up either parsed or with at least one error.
        for (rows, errors) in [
            (members.rows.iter().map(|r| r.0).collect::<Vec<_>>(), &members.errors),
            (titles.rows.iter().map(|r| r.0).collect::<Vec<_>>(), &titles.errors),
            (loans.rows.iter().map(|r| r.0).collect::<Vec<_>>(), &loans.errors),
        ] {
            for src in &t.rows {
                let ok = rows.contains(&src.line);
                let bad = errors.iter().any(|e| e.line == src.line);
                prop_assert!(ok != bad, "line {} ok={} bad={}", src.line, ok, bad);
            }
        }
    }

    #[test]
    fn arbitrary_date_cells_never_panic(s in "\\PC{0,30}") {
        let _ = parse_date_cell(&s);
    }

    #[test]
    fn jalali_and_iso_dates_round_trip(days in 0i64..70_000) {
        let d = NaiveDate::from_ymd_opt(1925, 1, 1).unwrap() + chrono::Duration::days(days);
        let j = JalaliDate::from_gregorian(d);
        prop_assert_eq!(parse_date_cell(&j.to_string_latin()), Ok(d));
        prop_assert_eq!(parse_date_cell(&j.to_persian_string()), Ok(d));
        let iso = format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day());
        prop_assert_eq!(parse_date_cell(&iso), Ok(d));
    }

    #[test]
    fn written_csv_reads_back(
        rows in proptest::collection::vec(
            proptest::collection::vec("[a-zA-Z0-9آ-ی][a-zA-Z0-9آ-ی ,\"\n]{0,8}[a-zA-Z0-9آ-ی]", 3),
            1..10,
        ),
    ) {
        let mut w = csv::Writer::from_writer(Vec::new());
        for r in &rows {
            w.write_record(r).unwrap();
        }
        let bytes = w.into_inner().unwrap();
        let t = read_table(&bytes).unwrap();
        prop_assert_eq!(&t.headers, &rows[0]);
        let cells: Vec<Vec<String>> = t.rows.iter().map(|r| r.cells.clone()).collect();
        prop_assert_eq!(&cells[..], &rows[1..]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn damaged_workbooks_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = xlsx().to_vec();
        for (i, b) in flips {
            let at = i.index(bytes.len());
            bytes[at] = b;
        }
        let _ = read_table(&bytes);
        let _ = xlsx_sheet_names(&bytes);
        let _ = read_xlsx_sheet(&bytes, "اعضا");
        let end = cut.index(bytes.len()).max(4);
        let _ = read_table(&bytes[..end]);
    }

    #[test]
    fn zip_headed_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let mut bytes = b"PK\x03\x04".to_vec();
        bytes.extend_from_slice(&tail);
        prop_assert!(read_table(&bytes).is_err());
    }
}
