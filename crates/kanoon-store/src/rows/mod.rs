//! One room per record kind. Each module holds its record's row type (the
//! fields as its ops name them) and the only code that reads and writes its
//! table, with everything derived from the row (sort key, search index).
//! Use cases change a record with `Write::save`; the sync apply path merges a
//! pulled patch into it (`sync::apply`); both end in the record's `store`.
//!
//! A new record kind follows the same pattern: a `XRecord` struct that
//! serializes to exactly its op fields, an `impl Record` with `load` and
//! `store`, and a line in `sync::apply::apply_op` if desks apply it.

pub(crate) mod activity;
pub(crate) mod cash;
pub(crate) mod center;
pub(crate) mod copy;
pub(crate) mod event;
pub(crate) mod member;
pub(crate) mod outreach;
pub(crate) mod province_setting;
pub(crate) mod referral;
pub(crate) mod setting;
pub(crate) mod staff;
pub(crate) mod title;
pub(crate) mod wish;
pub(crate) mod workshop;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use kanoon_protocol::{FieldVersion, Hlc};
use rusqlite::Connection;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::findings::Finding;

/// The version of a record's field value, and the version it replaced:
/// what the domain's field merge needs (stored as JSON in `field_clocks`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FieldStamp {
    pub hlc: Hlc,
    pub device_id: Uuid,
    pub base: Option<FieldVersion>,
}

impl FieldStamp {
    pub fn version(&self) -> FieldVersion {
        FieldVersion { hlc: self.hlc, device_id: self.device_id }
    }
}

/// Where, when and by whom an event of a service's own log (attendance,
/// the cash book, referrals) was written: from the use case's `Write`, or
/// from a pulled op.
pub(crate) struct EventStamp {
    pub hlc: Hlc,
    pub device_id: Uuid,
    pub at: DateTime<Utc>,
    pub staff_id: Option<Uuid>,
}

/// Every field's stamp, by field name.
pub(crate) type FieldClocks = BTreeMap<String, FieldStamp>;

/// Reads a field-clock map stored as JSON.
pub(crate) fn parse_clocks(s: &str) -> Result<FieldClocks> {
    Ok(serde_json::from_str(s)?)
}

/// A record as this database keeps it.
pub(crate) trait Record: Serialize + DeserializeOwned {
    /// The entity kind of its ops.
    const ENTITY: &'static str;
    /// The fields this version stores: exactly the keys it serializes to.
    /// A pulled field outside them (a newer version's) is neither merged
    /// nor stamped; it stays in the op the inbox keeps.
    const FIELDS: &'static [&'static str];

    /// The record and its field versions, if this database has it.
    fn load(conn: &Connection, id: Uuid) -> Result<Option<(Self, FieldClocks)>>;

    /// Writes the row (new or changed) and what is derived from it.
    fn store(conn: &Connection, id: Uuid, record: &Self, clocks: &FieldClocks, now: DateTime<Utc>) -> Result<()>;

    /// Whether a pulled version may be stored now (its references are here
    /// and it clashes with nothing); conflicts found go to `found`.
    fn admit_pulled(_conn: &Connection, _id: Uuid, _record: &Self, _found: &mut Vec<Finding>) -> Result<bool> {
        Ok(true)
    }

    /// Conflicts a stored pulled version shows (e.g. a national id
    /// registered at another desk too).
    fn after_pulled(_conn: &Connection, _id: Uuid, _record: &Self, _found: &mut Vec<Finding>) -> Result<()> {
        Ok(())
    }

    /// The record as field → value, as its ops carry it.
    fn fields(&self) -> Result<serde_json::Map<String, serde_json::Value>> {
        match serde_json::to_value(self)? {
            serde_json::Value::Object(map) => Ok(map),
            _ => Err(StoreError::Corrupt(format!("رکورد {} شیء نیست", Self::ENTITY))),
        }
    }
}

/// Loads a record a use case is about to change; missing is `NotFound`
/// with `missing` as its message.
pub(crate) fn load_existing<R: Record>(conn: &Connection, id: Uuid, missing: &str) -> Result<(R, FieldClocks)> {
    R::load(conn, id)?.ok_or_else(|| StoreError::NotFound(missing.to_owned()))
}

/// Whether a row with this id exists in `table`.
pub(crate) fn exists(conn: &Connection, table: &str, id: Uuid) -> Result<bool> {
    Ok(conn
        .prepare_cached(&format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE id = ?1)"))?
        .query_row([id.to_string()], |r| r.get(0))?)
}
