//! Reading CSV: encodings, delimiters, quoting, line numbers.

use kanoon_import::{SourceFormat, read_table};

/// A members export as old Windows Persian software writes it (Arabic ي and
/// ك, which Windows-1256 can encode; Persian ی cannot be).
pub const MEMBERS_CSV: &str = "شماره عضويت,نام,نام خانوادگي,نام پدر,جنسيت,تاريخ تولد,کد ملي,تلفن همراه ولي,نشاني,تاريخ عضويت\r\n\
101,سارا,احمدي,علي,دختر,1395/02/10,0084575948,09121234567,\"تهران، خيابان آزادي, کوچه 3\",1403/01/15\r\n\
102,علي,كريمي,حسن,پسر,1396/05/01,12345679,9127654321,,1403-07-01\r\n";

#[test]
fn utf8_with_bom_and_persian_headers() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(MEMBERS_CSV.as_bytes());
    let t = read_table(&bytes).unwrap();
    assert_eq!(t.source.format, SourceFormat::Csv);
    assert_eq!(t.source.encoding.as_deref(), Some("UTF-8"));
    assert_eq!(t.source.delimiter, Some(','));
    assert_eq!(t.source.sheet, None);
    assert_eq!(t.headers.len(), 10);
    assert_eq!(t.headers[0], "شماره عضويت", "BOM stripped");
    assert_eq!(t.rows.len(), 2);
    assert_eq!(t.rows[0].line, 2);
    assert_eq!(t.rows[1].line, 3);
    assert_eq!(t.rows[0].cells[8], "تهران، خيابان آزادي, کوچه 3");
    assert_eq!(t.rows[1].cells[6], "12345679");
    assert_eq!(t.rows[1].cells[8], "");
}

#[test]
fn windows_1256_reads_identically() {
    let (encoded, _, unmappable) = encoding_rs::WINDOWS_1256.encode(MEMBERS_CSV);
    assert!(!unmappable, "test text must be encodable in Windows-1256");
    assert!(std::str::from_utf8(&encoded).is_err(), "really not UTF-8");
    let utf8 = read_table(MEMBERS_CSV.as_bytes()).unwrap();
    let t = read_table(&encoded).unwrap();
    assert_eq!(t.source.encoding.as_deref(), Some("windows-1256"));
    assert_eq!(utf8.source.encoding.as_deref(), Some("UTF-8"));
    assert_eq!(t.headers, utf8.headers);
    assert_eq!(t.rows, utf8.rows);
}

#[test]
fn utf16_with_bom_from_excel_unicode_text() {
    let text = MEMBERS_CSV.replace(',', "\t").replace("\"تهران، خيابان آزادي\t کوچه 3\"", "تهران");
    let mut bytes = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let t = read_table(&bytes).unwrap();
    assert_eq!(t.source.encoding.as_deref(), Some("UTF-16LE"));
    assert_eq!(t.source.delimiter, Some('\t'));
    assert_eq!(t.headers[1], "نام");
    assert_eq!(t.rows.len(), 2);
    assert_eq!(t.rows[0].cells[8], "تهران");
}

#[test]
fn semicolon_tab_and_pipe_delimiters() {
    for (d, text) in [
        (';', "نام;نام خانوادگی;کد ملی\nسارا;احمدی;0084575948\n\"رضا; جان\";کریمی;0012345679\n"),
        ('\t', "نام\tنام خانوادگی\tکد ملی\nسارا\tاحمدی\t0084575948\n\"رضا\t جان\"\tکریمی\t0012345679\n"),
        ('|', "نام|نام خانوادگی|کد ملی\nسارا|احمدی|0084575948\n\"رضا| جان\"|کریمی|0012345679\n"),
    ] {
        let t = read_table(text.as_bytes()).unwrap();
        assert_eq!(t.source.delimiter, Some(d));
        assert_eq!(t.headers, vec!["نام", "نام خانوادگی", "کد ملی"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].cells, vec!["سارا", "احمدی", "0084575948"]);
        assert_eq!(t.rows[1].cells[0], format!("رضا{d} جان"));
    }
}

#[test]
fn commas_inside_cells_do_not_win_over_semicolons_outside() {
    let t = read_table("\"a,b,c\";d\n1;2\n".as_bytes()).unwrap();
    assert_eq!(t.source.delimiter, Some(';'));
    assert_eq!(t.headers, vec!["a,b,c", "d"]);
}

#[test]
fn line_numbers_are_the_lines_people_see() {
    let text = "\n\nنام,کد\n\nالف,1\n\"ب\nچند خطی\",2\n   ,  \nج,3\n";
    let t = read_table(text.as_bytes()).unwrap();
    assert_eq!(t.headers, vec!["نام", "کد"]);
    let lines: Vec<usize> = t.rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![5, 6, 9], "blank and all-space rows skipped, multi-line cell counts from its start");
    assert_eq!(t.rows[1].cells[0], "ب\nچند خطی");
}

#[test]
fn cells_are_trimmed_and_ragged_rows_padded_or_kept() {
    let t = read_table(" a , b ,c\n 1 \n1,2,3,4\n1,2,3,,\n".as_bytes()).unwrap();
    assert_eq!(t.headers, vec!["a", "b", "c"]);
    assert_eq!(t.rows[0].cells, vec!["1", "", ""]);
    assert_eq!(t.rows[1].cells, vec!["1", "2", "3", "4"]);
    assert_eq!(t.rows[2].cells, vec!["1", "2", "3"]);
}

#[test]
fn only_headers_is_a_table_without_rows() {
    let t = read_table("نام,نام خانوادگی\n".as_bytes()).unwrap();
    assert_eq!(t.headers.len(), 2);
    assert!(t.rows.is_empty());
}

#[test]
fn column_labels_fall_back_to_numbers() {
    let t = read_table("a,,c\n1,2,3,4\n".as_bytes()).unwrap();
    assert_eq!(t.column_label(0), "a");
    assert_eq!(t.column_label(1), "ستون ۲");
    assert_eq!(t.column_label(3), "ستون ۴");
}
