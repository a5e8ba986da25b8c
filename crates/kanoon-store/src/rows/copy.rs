//! Copy rows: a physical book with its registration number. No other
//! module writes `copies`.

use chrono::{DateTime, Utc};
use kanoon_domain::entities::WithdrawReason;
use kanoon_protocol::EntityKind;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{FieldClocks, Record, exists, parse_clocks};
use crate::error::{Result, StoreError};
use crate::findings::Finding;
use crate::sql::{parse_uuid, run, timestamp};

/// A copy as its ops carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CopyRecord {
    pub title_id: Uuid,
    /// The center that catalogued it; where it is now follows its transfer
    /// events (`set_center`), not this field.
    pub center_id: Uuid,
    pub registration_number: String,
    #[serde(default)]
    pub withdrawn: Option<WithdrawReason>,
}

impl Record for CopyRecord {
    const ENTITY: &'static str = EntityKind::COPY;
    const FIELDS: &'static [&'static str] = &["title_id", "center_id", "registration_number", "withdrawn"];

    fn load(conn: &Connection, id: Uuid) -> Result<Option<(Self, FieldClocks)>> {
        let row = conn
            .prepare_cached(
                "SELECT title_id, center_id, registration_number, withdrawn, field_clocks FROM copies WHERE id = ?1",
            )?
            .query_row([id.to_string()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })
            .optional()?;
        row.map(|(title_id, center_id, registration_number, withdrawn, clocks)| {
            let withdrawn = withdrawn
                .map(|w| WithdrawReason::parse(&w).ok_or_else(|| StoreError::Corrupt(format!("دلیل خروج «{w}»"))))
                .transpose()?;
            let record = CopyRecord {
                title_id: parse_uuid(&title_id)?,
                center_id: parse_uuid(&center_id)?,
                registration_number,
                withdrawn,
            };
            Ok((record, parse_clocks(&clocks)?))
        })
        .transpose()
    }

    fn store(conn: &Connection, id: Uuid, c: &Self, clocks: &FieldClocks, now: DateTime<Utc>) -> Result<()> {
        // On update the center stays: it follows the copy's transfers.
        run(
            conn,
            "INSERT INTO copies (id, title_id, center_id, registration_number, withdrawn, field_clocks, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (id) DO UPDATE SET title_id = excluded.title_id,
                 registration_number = excluded.registration_number, withdrawn = excluded.withdrawn,
                 field_clocks = excluded.field_clocks",
            params![
                id.to_string(),
                c.title_id.to_string(),
                c.center_id.to_string(),
                c.registration_number,
                c.withdrawn.map(WithdrawReason::as_str),
                serde_json::to_string(clocks)?,
                timestamp(now),
            ],
        )?;
        Ok(())
    }

    /// A copy waits for its title.
    fn admit_pulled(conn: &Connection, _id: Uuid, c: &Self, _found: &mut Vec<Finding>) -> Result<bool> {
        exists(conn, "titles", c.title_id)
    }
}

/// Where a copy is now: derived from its transfer events.
pub(crate) fn set_center(conn: &Connection, copy_id: Uuid, center: Uuid) -> Result<()> {
    run(conn, "UPDATE copies SET center_id = ?2 WHERE id = ?1", params![copy_id.to_string(), center.to_string()])?;
    Ok(())
}

/// The active copy holding this registration number at this center.
pub(crate) fn active_with_number(conn: &Connection, center: Uuid, number: &str) -> Result<Option<Uuid>> {
    conn.prepare_cached(
        "SELECT id FROM copies WHERE center_id = ?1 AND registration_number = ?2 AND withdrawn IS NULL",
    )?
    .query_row(params![center.to_string(), number], |r| r.get::<_, String>(0))
    .optional()?
    .map(|s| parse_uuid(&s))
    .transpose()
}
