//! Small conversions between SQLite columns and Rust values, shared by
//! every module that reads rows. Nothing here knows a table.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::error::{Result, StoreError};

/// A stored id; a malformed one is corruption, never a silent nil id.
pub(crate) fn parse_uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|_| StoreError::Corrupt(format!("شناسه نامعتبر «{s}»")))
}

/// A UUID column inside a row mapper: a malformed value is a conversion
/// error of that column, never a silent nil id.
pub(crate) fn uuid_column(r: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<Uuid> {
    let s: String = r.get(idx)?;
    Uuid::parse_str(&s)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e)))
}

/// A civil date stored as `YYYY-MM-DD`.
pub(crate) fn parse_date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| StoreError::Corrupt(format!("تاریخ نامعتبر «{s}»")))
}

/// A timestamp stored as RFC 3339.
pub(crate) fn parse_time(at: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(at)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| StoreError::Corrupt(format!("زمان «{at}»")))
}

/// How timestamps are stored: UTC, millisecond precision.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `execute` with the statement kept in the connection's cache: the apply
/// path and bulk writes run the same few statements many times.
pub(crate) fn run<P: rusqlite::Params>(conn: &rusqlite::Connection, sql: &str, params: P) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

/// Sets one key of the desk's `meta` table.
pub(crate) fn set_meta(conn: &rusqlite::Connection, key: &str, value: &str) -> rusqlite::Result<usize> {
    run(
        conn,
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )
}

/// A civil-date column inside a row mapper (`YYYY-MM-DD`); a malformed
/// value is a conversion error of that column.
pub(crate) fn date_column(r: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<NaiveDate> {
    let s: String = r.get(idx)?;
    NaiveDate::parse_from_str(&s, "%Y-%m-%d")
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e)))
}

/// An optional civil-date column inside a row mapper.
pub(crate) fn optional_date_column(r: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<Option<NaiveDate>> {
    match r.get_ref(idx)? {
        rusqlite::types::ValueRef::Null => Ok(None),
        _ => date_column(r, idx).map(Some),
    }
}

/// An optional UUID column inside a row mapper.
pub(crate) fn optional_uuid_column(r: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<Option<Uuid>> {
    match r.get_ref(idx)? {
        rusqlite::types::ValueRef::Null => Ok(None),
        _ => uuid_column(r, idx).map(Some),
    }
}
