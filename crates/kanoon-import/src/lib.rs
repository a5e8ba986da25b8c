//! Importing a center's existing records — members, titles with their copies,
//! and open loans — from the files the software it used before exports.
//!
//! This is the pure part of the import; the caller reads the file and the
//! store checks against existing data and commits all or nothing.
//!
//! 1. [`read_table`] turns the bytes of a CSV (UTF-8, Windows-1256 as old
//!    Windows Persian software writes it, or UTF-16 with a BOM) or XLSX file
//!    into a [`Table`]: headers and trimmed text cells, each row with the row
//!    number the user sees in the file.
//! 2. [`suggest_mapping`] proposes which column holds which [`Field`] from
//!    Persian or English headers; the user confirms or changes the
//!    [`ColumnMapping`].
//! 3. [`parse_members`], [`parse_titles_copies`] and [`parse_open_loans`]
//!    turn rows into typed rows and report every bad row as a [`RowError`]
//!    with a Persian message: the row number, the column header, the value,
//!    and what to do.
//!
//! Nothing here panics on any input, and nothing does I/O.

mod cells;
mod error;
mod mapping;
mod parse;
mod table;
mod text;

pub use cells::parse_date_cell;
pub use error::ImportError;
pub use mapping::{ColumnMapping, Field, ImportKind, suggest_mapping};
pub use parse::{
    DEFAULT_ALT_ID_KIND, MemberRow, OpenLoanRow, Parsed, RowError, TitleCopyRow, parse_members, parse_open_loans,
    parse_titles_copies,
};
pub use table::{SourceFormat, SourceInfo, SourceRow, Table, read_table, read_xlsx_sheet, xlsx_sheet_names};
