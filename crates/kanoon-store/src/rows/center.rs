//! Center rows: this desk's center and the province's others. No other
//! module writes `centers`.

use chrono::{DateTime, Utc};
use kanoon_domain::entities::{Center, CenterKind};
use kanoon_protocol::EntityKind;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{FieldClocks, Record, parse_clocks};
use crate::error::{Result, StoreError};
use crate::sql::{parse_uuid, run};

/// A center as its ops carry it (its id is the op's entity id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CenterRecord {
    pub code: String,
    pub name: String,
    pub kind: CenterKind,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phone: String,
}

impl CenterRecord {
    pub fn of(c: &Center) -> Self {
        CenterRecord {
            code: c.code.clone(),
            name: c.name.clone(),
            kind: c.kind,
            address: c.address.clone(),
            phone: c.phone.clone(),
        }
    }

    fn into_center(self, id: Uuid) -> Center {
        Center { id, code: self.code, name: self.name, kind: self.kind, address: self.address, phone: self.phone }
    }
}

impl Record for CenterRecord {
    const ENTITY: &'static str = EntityKind::CENTER;
    const FIELDS: &'static [&'static str] = &["code", "name", "kind", "address", "phone"];

    fn load(conn: &Connection, id: Uuid) -> Result<Option<(Self, FieldClocks)>> {
        let row = conn
            .prepare_cached("SELECT code, name, kind, address, phone, field_clocks FROM centers WHERE id = ?1")?
            .query_row([id.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get::<_, String>(2)?, r.get(3)?, r.get(4)?, r.get::<_, String>(5)?))
            })
            .optional()?;
        row.map(|(code, name, kind, address, phone, clocks)| {
            let kind = CenterKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("نوع مرکز «{kind}»")))?;
            Ok((CenterRecord { code, name, kind, address, phone }, parse_clocks(&clocks)?))
        })
        .transpose()
    }

    fn store(conn: &Connection, id: Uuid, c: &Self, clocks: &FieldClocks, _now: DateTime<Utc>) -> Result<()> {
        run(
            conn,
            "INSERT INTO centers (id, code, name, kind, address, phone, field_clocks) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name, kind = excluded.kind,
                 address = excluded.address, phone = excluded.phone, field_clocks = excluded.field_clocks",
            params![id.to_string(), c.code, c.name, c.kind.as_str(), c.address, c.phone, serde_json::to_string(clocks)?],
        )?;
        Ok(())
    }
}

/// A center this desk knows; None if it does not.
pub(crate) fn find(conn: &Connection, id: Uuid) -> Result<Option<Center>> {
    Ok(CenterRecord::load(conn, id)?.map(|(c, _)| c.into_center(id)))
}

/// Every center this desk knows, by code.
pub(crate) fn all(conn: &Connection) -> Result<Vec<Center>> {
    let mut stmt = conn.prepare_cached("SELECT id FROM centers ORDER BY code")?;
    let ids = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
    ids.iter()
        .map(|id| find(conn, parse_uuid(id)?)?.ok_or_else(|| StoreError::Corrupt(format!("مرکز «{id}»"))))
        .collect()
}
