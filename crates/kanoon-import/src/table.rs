//! Reading a file's bytes into a [`Table`]: CSV (UTF-8, Windows-1256 or
//! UTF-16 with a BOM) or an Excel `.xlsx` workbook.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{DataRef, Reader, SheetVisible, Xlsx, XlsxError};
use serde::{Deserialize, Serialize};

use crate::error::ImportError;
use crate::text::persian_number;

/// A file read as a grid of text: the header row and the data rows below it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Table {
    /// Header texts, trimmed, in column order. Trailing empty headers are
    /// dropped; an empty header between others stays as `""`.
    pub headers: Vec<String>,
    /// Data rows in file order; fully empty rows are left out.
    pub rows: Vec<SourceRow>,
    /// Where the table came from.
    pub source: SourceInfo,
}

/// One data row of a [`Table`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SourceRow {
    /// 1-based row number as the user sees it: the CSV line the row starts
    /// on (the header being line 1 when the file starts with it), or the
    /// sheet's row number in Excel.
    pub line: usize,
    /// Trimmed cell texts. At least as many as there are headers (short rows
    /// are padded with `""`); more when the row has non-empty cells past the
    /// last header, which the row parsers report as an error.
    pub cells: Vec<String>,
}

/// The kind of file a [`Table`] was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SourceFormat {
    /// Delimited text.
    Csv,
    /// An Excel 2007+ workbook.
    Xlsx,
}

/// How a [`Table`] was read, to show the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SourceInfo {
    /// CSV or XLSX.
    pub format: SourceFormat,
    /// For CSV, the text encoding: `"UTF-8"`, `"windows-1256"`, `"UTF-16LE"`
    /// or `"UTF-16BE"`. `None` for XLSX.
    pub encoding: Option<String>,
    /// For CSV, the delimiter found in the header line.
    pub delimiter: Option<char>,
    /// For XLSX, the name of the sheet read.
    pub sheet: Option<String>,
}

impl Table {
    /// The header of column `index` for messages, or «ستون n» when that
    /// header is empty or missing.
    pub fn column_label(&self, index: usize) -> String {
        match self.headers.get(index) {
            Some(h) if !h.is_empty() => h.clone(),
            _ => format!("ستون {}", persian_number(index + 1)),
        }
    }
}

/// Reads a CSV or XLSX file from its bytes.
///
/// An XLSX workbook is recognised by its zip signature; anything else is
/// read as CSV. CSV text is UTF-8 (a BOM is stripped) when it is valid UTF-8,
/// UTF-16 when it starts with a UTF-16 BOM (Excel's «Unicode Text»), and
/// otherwise Windows-1256, as old Windows Persian software writes it. The
/// delimiter is the most frequent of `,` `;` tab `|` outside quotes on the
/// header line (`,` when none occurs). Cells are trimmed, fully empty rows
/// skipped, short rows padded; non-empty cells past the last header are kept
/// for the row parsers to report. From a workbook the first visible sheet
/// with a non-empty cell is read (see [`read_xlsx_sheet`] for the cell
/// rules). The first non-empty row is the header row.
pub fn read_table(bytes: &[u8]) -> Result<Table, ImportError> {
    if is_zip(bytes) {
        return read_xlsx(bytes, None);
    }
    sniff_binary(bytes)?;
    read_csv(bytes)
}

/// Reads one named sheet of an XLSX workbook. Its first non-empty row is the
/// header row; columns left of the leftmost used column are dropped. Whole
/// numbers are written without a decimal part (national ids and
/// registration numbers are often stored as numbers), date cells as ISO
/// `YYYY-MM-DD`, error cells (`#N/A`…) as empty, booleans as `TRUE`/`FALSE`.
pub fn read_xlsx_sheet(bytes: &[u8], sheet: &str) -> Result<Table, ImportError> {
    if !is_zip(bytes) {
        return Err(not_xlsx(bytes));
    }
    read_xlsx(bytes, Some(sheet))
}

/// The names of the sheets of an XLSX workbook, in workbook order (hidden
/// sheets included), so the user can choose one.
pub fn xlsx_sheet_names(bytes: &[u8]) -> Result<Vec<String>, ImportError> {
    if !is_zip(bytes) {
        return Err(not_xlsx(bytes));
    }
    guarded(|| {
        let wb = open_xlsx(bytes)?;
        Ok(wb.sheet_names())
    })
}

// ---------------------------------------------------------------------------
// Common

fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

const OLE_SIGNATURE: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

fn not_xlsx(bytes: &[u8]) -> ImportError {
    if bytes.is_empty() {
        ImportError::Empty
    } else if bytes.starts_with(OLE_SIGNATURE) {
        legacy_office()
    } else {
        ImportError::NotATable("فایل Excel با قالب xlsx نیست.".to_owned())
    }
}

fn legacy_office() -> ImportError {
    ImportError::NotATable(
        "فایل Excel قدیمی (xls) یا فایل رمزدار است؛ آن را در Excel باز کنید و با «ذخیره به نام» به قالب xlsx یا CSV ذخیره کنید."
            .to_owned(),
    )
}

/// Rejects files that are clearly not text: known binary signatures, NUL
/// bytes, or more than 1% control characters.
fn sniff_binary(bytes: &[u8]) -> Result<(), ImportError> {
    if bytes.starts_with(OLE_SIGNATURE) {
        return Err(legacy_office());
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        // UTF-16 text: NULs are expected; decoding decides.
        return Ok(());
    }
    if bytes.starts_with(b"%PDF") {
        return Err(ImportError::NotATable("فایل PDF است؛ از نرم‌افزار قبلی خروجی Excel یا CSV بگیرید.".to_owned()));
    }
    let controls =
        bytes.iter().filter(|&&b| matches!(b, 0x00..=0x08 | 0x0B | 0x0E..=0x19 | 0x1B..=0x1F | 0x7F)).count();
    if bytes.contains(&0) || controls * 100 > bytes.len() {
        return Err(ImportError::NotATable(
            "محتوای آن متن یا جدول نیست (شاید عکس یا فایل فشرده باشد)؛ از نرم‌افزار قبلی خروجی Excel (xlsx) یا CSV بگیرید."
                .to_owned(),
        ));
    }
    Ok(())
}

/// Runs a parser of untrusted input, turning a panic inside a dependency
/// into an error: this crate promises not to panic on any file.
fn guarded<T>(f: impl FnOnce() -> Result<T, ImportError>) -> Result<T, ImportError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => Err(ImportError::Xlsx("ساختار داخلی فایل خراب است".to_owned())),
    }
}

/// Builds a table from rows of raw cells (already trimmed), each with its
/// 1-based line: the first row with a non-empty cell gives the headers.
fn build_table(rows: impl IntoIterator<Item = (usize, Vec<String>)>, source: SourceInfo) -> Result<Table, ImportError> {
    let mut headers: Option<Vec<String>> = None;
    let mut out = Vec::new();
    for (line, mut cells) in rows {
        if cells.iter().all(String::is_empty) {
            continue;
        }
        match &headers {
            None => {
                while cells.last().is_some_and(String::is_empty) {
                    cells.pop();
                }
                headers = Some(cells);
            }
            Some(h) => {
                while cells.len() > h.len() && cells.last().is_some_and(String::is_empty) {
                    cells.pop();
                }
                if cells.len() < h.len() {
                    cells.resize(h.len(), String::new());
                }
                out.push(SourceRow { line, cells });
            }
        }
    }
    let headers = headers.ok_or(ImportError::NoHeaders)?;
    Ok(Table { headers, rows: out, source })
}

// ---------------------------------------------------------------------------
// CSV

fn decode(bytes: &[u8]) -> (String, &'static encoding_rs::Encoding) {
    use encoding_rs::{UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1256};
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let rest = bytes.get(bom_len..).unwrap_or_default();
        if enc == UTF_8 {
            if let Ok(s) = std::str::from_utf8(rest) {
                return (s.to_owned(), UTF_8);
            }
            let (s, _) = WINDOWS_1256.decode_without_bom_handling(rest);
            return (s.into_owned(), WINDOWS_1256);
        }
        let (s, _) = enc.decode_without_bom_handling(rest);
        let enc = if enc == UTF_16BE { UTF_16BE } else { UTF_16LE };
        return (s.into_owned(), enc);
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_owned(), UTF_8),
        Err(_) => {
            let (s, _) = WINDOWS_1256.decode_without_bom_handling(bytes);
            (s.into_owned(), WINDOWS_1256)
        }
    }
}

/// The delimiter of the header line: the most frequent of `,` `;` tab `|`
/// outside double quotes, `,` on a tie or when none occurs.
fn detect_delimiter(text: &str) -> u8 {
    let start = text.trim_start();
    let mut counts = [0usize; 4];
    let mut in_quotes = false;
    for c in start.chars() {
        match c {
            '"' => in_quotes = !in_quotes,
            '\n' | '\r' if !in_quotes => break,
            ',' if !in_quotes => counts[0] += 1,
            ';' if !in_quotes => counts[1] += 1,
            '\t' if !in_quotes => counts[2] += 1,
            '|' if !in_quotes => counts[3] += 1,
            _ => {}
        }
    }
    let delimiters = [b',', b';', b'\t', b'|'];
    let mut best = 0;
    for i in 1..4 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    delimiters[best]
}

fn read_csv(bytes: &[u8]) -> Result<Table, ImportError> {
    // Old DOS/Windows programs end text files with Ctrl-Z.
    let mut end = bytes.len();
    while end > 0 && bytes[end - 1] == 0x1A {
        end -= 1;
    }
    let (text, encoding) = decode(bytes.get(..end).unwrap_or_default());
    if text.trim().is_empty() {
        return Err(ImportError::Empty);
    }
    if encoding.name().starts_with("UTF-16") && text.contains('\0') {
        return Err(ImportError::NotATable(
            "محتوای آن متن یا جدول نیست؛ از نرم‌افزار قبلی خروجی Excel (xlsx) یا CSV بگیرید.".to_owned(),
        ));
    }
    let delimiter = detect_delimiter(&text);
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut lines = LineCounter::new(text.as_bytes());
    for record in reader.records() {
        let record = record.map_err(|e| ImportError::Csv(e.to_string()))?;
        let byte = record.position().and_then(|p| usize::try_from(p.byte()).ok()).unwrap_or(0);
        let line = lines.line_of_record_at(byte);
        let cells = record.iter().map(|c| c.trim().to_owned()).collect();
        rows.push((line, cells));
    }
    build_table(
        rows,
        SourceInfo {
            format: SourceFormat::Csv,
            encoding: Some(encoding.name().to_owned()),
            delimiter: Some(char::from(delimiter)),
            sheet: None,
        },
    )
}

/// Line numbers of records from their byte offsets. The csv crate's own
/// line count is off after blank lines and with CRLF, and people need the
/// line their editor shows.
struct LineCounter<'a> {
    text: &'a [u8],
    at: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a [u8]) -> Self {
        Self { text, at: 0, line: 1 }
    }

    /// The 1-based line of the record whose parse started at `byte` (which
    /// may be on blank lines before it). Offsets must not decrease.
    fn line_of_record_at(&mut self, byte: usize) -> usize {
        let mut start = byte.max(self.at).min(self.text.len());
        while let Some(b'\r' | b'\n') = self.text.get(start) {
            start += 1;
        }
        let skipped = self.text.get(self.at..start).unwrap_or_default();
        let mut prev_cr = false;
        for &b in skipped {
            // CRLF, LF, and a lone CR (old Mac files) each end one line.
            if b == b'\n' {
                if !prev_cr {
                    self.line += 1;
                }
            } else if b == b'\r' {
                self.line += 1;
            }
            prev_cr = b == b'\r';
        }
        self.at = start;
        self.line
    }
}

// ---------------------------------------------------------------------------
// XLSX

type Workbook<'a> = Xlsx<Cursor<&'a [u8]>>;

fn open_xlsx(bytes: &[u8]) -> Result<Workbook<'_>, ImportError> {
    Xlsx::new(Cursor::new(bytes)).map_err(|e| xlsx_error(bytes, &e))
}

fn xlsx_error(bytes: &[u8], e: &XlsxError) -> ImportError {
    // A zip without an `xl/` folder is some other zipped thing (a .docx, an
    // .ods, a zip of photos…); one with it is a damaged workbook.
    let has_xl = bytes.windows(3).any(|w| w == b"xl/");
    if has_xl {
        ImportError::Xlsx(e.to_string())
    } else {
        ImportError::NotATable(
            "فایل فشرده (zip) است ولی فایل Excel (xlsx) نیست؛ از نرم‌افزار قبلی خروجی Excel (xlsx) یا CSV بگیرید."
                .to_owned(),
        )
    }
}

fn read_xlsx(bytes: &[u8], sheet: Option<&str>) -> Result<Table, ImportError> {
    guarded(|| {
        let mut wb = open_xlsx(bytes)?;
        let candidates: Vec<String> = match sheet {
            Some(name) => {
                if !wb.sheet_names().iter().any(|n| n == name) {
                    return Err(ImportError::SheetNotFound(name.to_owned()));
                }
                vec![name.to_owned()]
            }
            None => {
                let meta = wb.sheets_metadata();
                let visible: Vec<String> =
                    meta.iter().filter(|s| s.visible == SheetVisible::Visible).map(|s| s.name.clone()).collect();
                if visible.is_empty() { meta.iter().map(|s| s.name.clone()).collect() } else { visible }
            }
        };
        let mut first_error = None;
        for name in candidates {
            match sheet_cells(&mut wb, &name) {
                Ok(cells) if cells.is_empty() => {}
                Ok(cells) => {
                    return build_table(
                        grid(cells)?,
                        SourceInfo { format: SourceFormat::Xlsx, encoding: None, delimiter: None, sheet: Some(name) },
                    );
                }
                Err(ImportError::TooLarge) => return Err(ImportError::TooLarge),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or(ImportError::NoHeaders))
    })
}

/// The non-empty cells of a sheet as text, by (row, column), 0-based.
/// Streams the sheet so memory follows the cells present, not the declared
/// dimensions, and stops at [`MAX_CELLS`].
fn sheet_cells(wb: &mut Workbook<'_>, name: &str) -> Result<BTreeMap<u32, BTreeMap<u32, String>>, ImportError> {
    let xlsx = |e: XlsxError| ImportError::Xlsx(e.to_string());
    let mut reader = wb.worksheet_cells_reader(name).map_err(xlsx)?;
    let mut cells: BTreeMap<u32, BTreeMap<u32, String>> = BTreeMap::new();
    let mut count = 0usize;
    while let Some(cell) = reader.next_cell().map_err(xlsx)? {
        let text = cell_text(cell.get_value());
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        count += 1;
        if count > MAX_CELLS {
            return Err(ImportError::TooLarge);
        }
        let (row, col) = cell.get_position();
        cells.entry(row).or_default().insert(col, text.to_owned());
    }
    Ok(cells)
}

/// Non-empty cells read from one sheet at most: far above any center's
/// records, far below what would exhaust memory.
const MAX_CELLS: usize = 5_000_000;

/// Cells of the laid-out grid (empty ones included) at most.
const MAX_GRID_CELLS: usize = 20_000_000;

/// Lays sparse cells out as rows starting at the leftmost used column.
fn grid(cells: BTreeMap<u32, BTreeMap<u32, String>>) -> Result<Vec<(usize, Vec<String>)>, ImportError> {
    let min_col = cells.values().filter_map(|r| r.keys().next().copied()).min().unwrap_or(0);
    let width_of = |cols: &BTreeMap<u32, String>| cols.keys().next_back().map_or(0, |&c| (c - min_col) as usize + 1);
    let total = cells.values().map(width_of).fold(0usize, usize::saturating_add);
    if total > MAX_GRID_CELLS {
        return Err(ImportError::TooLarge);
    }
    Ok(cells
        .into_iter()
        .map(|(row, cols)| {
            let width = width_of(&cols);
            let mut out = vec![String::new(); width];
            for (c, text) in cols {
                if let Some(slot) = out.get_mut((c - min_col) as usize) {
                    *slot = text;
                }
            }
            (row as usize + 1, out)
        })
        .collect())
}

fn cell_text(value: &DataRef<'_>) -> String {
    match value {
        DataRef::Empty | DataRef::Error(_) => String::new(),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
            iso_date_part(s).unwrap_or(s).to_owned()
        }
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => float_text(*f),
        DataRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        DataRef::DateTime(dt) => {
            let serial = dt.as_f64();
            if dt.is_datetime() && serial.is_finite() && serial >= 1.0 {
                let (y, m, d, ..) = dt.to_ymd_hms_milli();
                format!("{y:04}-{m:02}-{d:02}")
            } else {
                float_text(serial)
            }
        }
    }
}

/// The `YYYY-MM-DD` part of an ISO date-time like `2024-03-05T00:00:00`.
fn iso_date_part(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let looks_iso = b.len() > 10
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b' ')
        && b[..10].iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if looks_iso { s.get(..10) } else { None }
}

/// Whole numbers without `.0` (and without exponent), others as Rust prints
/// them.
fn float_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 { format!("{f:.0}") } else { f.to_string() }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn delimiter_is_taken_from_the_header_line() {
        assert_eq!(detect_delimiter("a;b;c\n1,2,3,4,5"), b';');
        assert_eq!(detect_delimiter("\n\n a\tb\tc"), b'\t');
        assert_eq!(detect_delimiter("\"x,y\";b"), b';');
        assert_eq!(detect_delimiter("a|b"), b'|');
        assert_eq!(detect_delimiter("single"), b',');
    }

    #[test]
    fn floats_print_like_people_wrote_them() {
        assert_eq!(float_text(84575948.0), "84575948");
        assert_eq!(float_text(-3.0), "-3");
        assert_eq!(float_text(2.5), "2.5");
        assert_eq!(float_text(9789643912345.0), "9789643912345");
    }

    #[test]
    fn iso_dates_lose_their_time() {
        assert_eq!(iso_date_part("2024-03-05T00:00:00"), Some("2024-03-05"));
        assert_eq!(iso_date_part("2024-03-05"), None);
        assert_eq!(iso_date_part("۲۰۲۴-03-05T"), None);
    }

    #[test]
    fn ctrl_z_at_the_end_is_ignored() {
        let t = read_table(b"a,b\n1,2\n\x1A").unwrap();
        assert_eq!(t.rows.len(), 1);
    }

    #[test]
    fn a_grid_too_wide_to_hold_is_refused() {
        let mut cells: BTreeMap<u32, BTreeMap<u32, String>> = BTreeMap::new();
        cells.entry(0).or_default().insert(0, "a".to_owned());
        for row in 1..2000 {
            cells.entry(row).or_default().insert(16_383, "x".to_owned());
        }
        assert_eq!(grid(cells).unwrap_err(), ImportError::TooLarge);
    }

    #[test]
    fn line_counter_handles_lf_crlf_and_lone_cr() {
        let text = b"a\r\n\r\nb\rc\n\nd";
        let mut lines = LineCounter::new(text);
        assert_eq!(lines.line_of_record_at(0), 1);
        assert_eq!(lines.line_of_record_at(3), 3);
        assert_eq!(lines.line_of_record_at(7), 4);
        assert_eq!(lines.line_of_record_at(9), 6);
    }

    #[test]
    fn trailing_empty_cells_are_not_extra_cells() {
        let t = read_table(b"a,b,\n1,2,,\n3,4,5\n").unwrap();
        assert_eq!(t.headers, vec!["a", "b"]);
        assert_eq!(t.rows[0].cells, vec!["1", "2"]);
        assert_eq!(t.rows[1].cells, vec!["3", "4", "5"]);
    }
}
