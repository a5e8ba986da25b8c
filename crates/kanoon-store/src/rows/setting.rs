//! Setting rows: the center's policy and other settings (one JSON value
//! per key), the holiday table and the age groups, as the desk reads them.
//! Settings are changed by `settings`' use cases.

use kanoon_domain::age_group::{AgeGroup, AgeScheme};
use rusqlite::{Connection, OptionalExtension};
use serde::Deserialize;

use crate::error::Result;

/// A stored setting, or `missing()` when none was stored (a database from
/// before the setting existed).
pub(crate) fn load_setting<T: for<'de> Deserialize<'de>>(
    conn: &Connection,
    key: &str,
    missing: impl FnOnce() -> T,
) -> Result<T> {
    let raw: Option<String> =
        conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()?;
    match raw {
        Some(s) => Ok(serde_json::from_str(&s)?),
        None => Ok(missing()),
    }
}

/// The center's own holidays (the holiday table, active rows).
pub(crate) fn load_center_holidays(conn: &Connection) -> Result<Vec<(chrono::NaiveDate, String)>> {
    let mut stmt = conn.prepare_cached("SELECT date, name FROM holidays WHERE active = 1 ORDER BY date")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    rows.map(|r| {
        let (d, name) = r?;
        Ok((crate::sql::parse_date(&d)?, name))
    })
    .collect()
}

/// The desk's own stored value of a key, unless it is the shipped one
/// (every desk stores the shipped policy and terms at setup).
pub(crate) fn load_desk_value<T: for<'de> Deserialize<'de> + PartialEq>(
    conn: &Connection,
    key: &str,
    shipped: &T,
) -> Result<Option<T>> {
    let value: Option<T> = load_setting(conn, key, || None)?;
    Ok(value.filter(|v| v != shipped))
}

pub(crate) fn load_age_groups(conn: &Connection) -> Result<Vec<AgeGroup>> {
    let mut stmt =
        conn.prepare_cached("SELECT code, scheme, label, min_age, sort FROM age_groups ORDER BY scheme, sort")?;
    let rows = stmt.query_map([], |r| {
        Ok(AgeGroup {
            code: r.get(0)?,
            scheme: if r.get::<_, String>(1)? == "letters" { AgeScheme::Letters } else { AgeScheme::MinimumAge },
            label: r.get(2)?,
            min_age: r.get(3)?,
            sort: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
