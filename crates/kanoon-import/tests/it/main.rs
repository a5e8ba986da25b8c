//! Integration tests of the import: reading files, mapping columns, parsing
//! rows and never panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bad_files;
mod common;
mod csv_read;
mod loans;
mod mapping;
mod members;
mod props;
mod titles;
mod xlsx_read;
