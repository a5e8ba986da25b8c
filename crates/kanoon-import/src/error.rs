//! Errors that stop an import as a whole. A bad row is not one of these: it
//! is a [`crate::RowError`] and the other rows go on.

use crate::mapping::Field;
use crate::text::persian_number;

/// Why a file cannot be read as a table, or a column mapping cannot be used.
/// Messages are Persian and say what to do.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum ImportError {
    /// The file has no bytes, or only spaces and a byte-order mark.
    #[error("فایل خالی است؛ خروجی نرم‌افزار قبلی را دوباره بگیرید و همان فایل را انتخاب کنید.")]
    Empty,
    /// The file is neither CSV text nor an Excel workbook (an image, a Word
    /// file, an old `.xls`, a zip of something else…). The string says what
    /// it looks like and what to do.
    #[error("این فایل جدول نیست: {0}")]
    NotATable(String),
    /// An `.xlsx` workbook that could not be read (damaged, encrypted…).
    #[error("فایل Excel خوانده نشد ({0})؛ آن را در Excel باز کنید و با «ذخیره به نام» دوباره به قالب xlsx ذخیره کنید.")]
    Xlsx(String),
    /// CSV text that could not be split into rows.
    #[error("فایل CSV خوانده نشد ({0})؛ آن را در Excel باز کنید و دوباره به قالب CSV یا xlsx ذخیره کنید.")]
    Csv(String),
    /// The file (or sheet) has no non-empty row to take the column headers from.
    #[error("در فایل هیچ سطری با داده پیدا نشد؛ سطر اول جدول باید عنوان ستون‌ها باشد.")]
    NoHeaders,
    /// Fields the import cannot do without have no column chosen for them.
    #[error("{}", missing_message(.missing))]
    MappingIncomplete {
        /// The unmapped fields. For members, `FirstName`/`LastName` stand
        /// for «نام و نام خانوادگی» in one column too, and `NationalId` with
        /// `AltId` means one of the two.
        missing: Vec<Field>,
    },
    /// The mapping names a column the table does not have.
    #[error(
        "برای «{}» ستون شماره {} انتخاب شده است ولی جدول فقط {} ستون دارد؛ ستون‌ها را دوباره انتخاب کنید.",
        .field.persian_label(),
        persian_number(.column + 1),
        persian_number(*.columns)
    )]
    ColumnOutOfRange {
        /// The field mapped to the column.
        field: Field,
        /// The 0-based column index given.
        column: usize,
        /// How many columns the table has.
        columns: usize,
    },
    /// The sheet has more cells than an import can hold in memory.
    #[error("این جدول بیش از حد بزرگ است؛ آن را در Excel به چند فایل کوچک‌تر تقسیم کنید و هر کدام را جدا وارد کنید.")]
    TooLarge,
    /// `read_xlsx_sheet` was asked for a sheet the workbook does not have.
    #[error("برگه «{0}» در این فایل Excel نیست؛ یکی از برگه‌های فهرست را انتخاب کنید.")]
    SheetNotFound(String),
}

fn missing_message(missing: &[Field]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let either_id = missing.contains(&Field::NationalId) && missing.contains(&Field::AltId);
    for f in missing {
        match f {
            Field::AltId if either_id => {}
            Field::NationalId if either_id => {
                parts.push(format!("«{}» یا «{}»", Field::NationalId.persian_label(), Field::AltId.persian_label()));
            }
            other => parts.push(format!("«{}»", other.persian_label())),
        }
    }
    let mut msg = format!("ستون این موارد را انتخاب کنید: {}.", parts.join("، "));
    if missing.contains(&Field::FirstName) || missing.contains(&Field::LastName) {
        msg.push_str(" اگر نام و نام خانوادگی در یک ستون‌اند، آن ستون را برای «نام و نام خانوادگی» انتخاب کنید.");
    }
    msg
}
