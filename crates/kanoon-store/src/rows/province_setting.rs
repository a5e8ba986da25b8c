//! Province setting rows: the province's values as sync brings them
//! (`province_setting`, written only by the provincial server) and the
//! center's overrides of the keys the province lets it change
//! (`setting_override`). No other module writes `province_settings` or
//! `setting_overrides`; `settings` resolves which value applies.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use kanoon_protocol::{EntityKind, province};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{FieldClocks, Record, parse_clocks};
use crate::error::Result;
use crate::findings::{Finding, codes};
use crate::sql::run;

/// One key the province set: its value (null: none) and whether a center
/// may use its own value instead.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ProvinceSettingRecord {
    pub key: String,
    pub value: serde_json::Value,
    pub center_may_override: bool,
}

/// A center's own value of a key the province lets it change (null: back
/// to the province's value).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct SettingOverrideRecord {
    pub key: String,
    pub value: serde_json::Value,
}

fn json_or_null(raw: Option<String>) -> Result<serde_json::Value> {
    Ok(match raw {
        Some(s) => serde_json::from_str(&s)?,
        None => serde_json::Value::Null,
    })
}

fn stored(value: &serde_json::Value) -> Option<String> {
    (!value.is_null()).then(|| value.to_string())
}

/// A record whose id is not the one its key names is refused: a desk that
/// could store `policy` under another id would have two values for one key.
fn id_names_key(id: Uuid, expected: Uuid, key: &str, found: &mut Vec<Finding>) -> bool {
    if id == expected {
        return true;
    }
    found.push(Finding::new(codes::NOT_OWNER, &[id], serde_json::json!({"key": key, "entity_id": id})));
    false
}

impl Record for ProvinceSettingRecord {
    const ENTITY: &'static str = EntityKind::PROVINCE_SETTING;
    const FIELDS: &'static [&'static str] = &["key", "value", "center_may_override"];

    fn load(conn: &Connection, id: Uuid) -> Result<Option<(Self, FieldClocks)>> {
        let row = conn
            .prepare_cached(
                "SELECT key, value, center_may_override, field_clocks FROM province_settings WHERE id = ?1",
            )?
            .query_row([id.to_string()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, bool>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .optional()?;
        row.map(|(key, value, center_may_override, clocks)| {
            Ok((
                ProvinceSettingRecord { key, value: json_or_null(value)?, center_may_override },
                parse_clocks(&clocks)?,
            ))
        })
        .transpose()
    }

    fn store(conn: &Connection, id: Uuid, s: &Self, clocks: &FieldClocks, _now: DateTime<Utc>) -> Result<()> {
        run(
            conn,
            "INSERT INTO province_settings (id, key, value, center_may_override, field_clocks)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET key = excluded.key, value = excluded.value,
                 center_may_override = excluded.center_may_override, field_clocks = excluded.field_clocks",
            params![id.to_string(), s.key, stored(&s.value), s.center_may_override, serde_json::to_string(clocks)?],
        )?;
        Ok(())
    }

    fn admit_pulled(_conn: &Connection, id: Uuid, s: &Self, found: &mut Vec<Finding>) -> Result<bool> {
        Ok(id_names_key(id, province::province_setting_id(&s.key), &s.key, found))
    }
}

impl Record for SettingOverrideRecord {
    const ENTITY: &'static str = EntityKind::SETTING_OVERRIDE;
    const FIELDS: &'static [&'static str] = &["key", "value"];

    fn load(conn: &Connection, id: Uuid) -> Result<Option<(Self, FieldClocks)>> {
        let row = conn
            .prepare_cached("SELECT key, value, field_clocks FROM setting_overrides WHERE id = ?1")?
            .query_row([id.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, String>(2)?))
            })
            .optional()?;
        row.map(|(key, value, clocks)| {
            Ok((SettingOverrideRecord { key, value: json_or_null(value)? }, parse_clocks(&clocks)?))
        })
        .transpose()
    }

    fn store(conn: &Connection, id: Uuid, s: &Self, clocks: &FieldClocks, _now: DateTime<Utc>) -> Result<()> {
        run(
            conn,
            "INSERT INTO setting_overrides (id, key, value, field_clocks) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET key = excluded.key, value = excluded.value,
                 field_clocks = excluded.field_clocks",
            params![id.to_string(), s.key, stored(&s.value), serde_json::to_string(clocks)?],
        )?;
        Ok(())
    }

    fn admit_pulled(_conn: &Connection, id: Uuid, s: &Self, found: &mut Vec<Finding>) -> Result<bool> {
        Ok(id_names_key(id, province::override_id(&s.key), &s.key, found) && province::accepts_override(&s.key))
    }
}

/// Every key the province set with a value: key → (value, center may override).
/// Keys without a value but with a meaning of their own (`holidays`) are
/// included with a null value.
pub(crate) fn province_values(conn: &Connection) -> Result<BTreeMap<String, (serde_json::Value, bool)>> {
    let mut stmt = conn.prepare_cached("SELECT key, value, center_may_override FROM province_settings")?;
    let rows =
        stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, bool>(2)?)))?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (key, value, may) = row?;
        out.insert(key, (json_or_null(value)?, may));
    }
    Ok(out)
}

/// The center's overrides that hold a value: key → value.
pub(crate) fn override_values(conn: &Connection) -> Result<BTreeMap<String, serde_json::Value>> {
    let mut stmt = conn.prepare_cached("SELECT key, value FROM setting_overrides WHERE value IS NOT NULL")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (key, value) = row?;
        out.insert(key, serde_json::from_str(&value)?);
    }
    Ok(out)
}
