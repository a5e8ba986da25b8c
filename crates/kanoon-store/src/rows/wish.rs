//! Wish rows: a member's wish for a title (issue 14, the post's wish
//! list). No other module writes `wishes`.

use chrono::{DateTime, Utc};
use kanoon_protocol::EntityKind;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{FieldClocks, Record, parse_clocks};
use crate::error::Result;
use crate::findings::Finding;
use crate::sql::{parse_time, parse_uuid, run, timestamp};

/// A wish as its ops carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WishRecord {
    pub center_id: Uuid,
    pub member_id: Uuid,
    pub title_id: Uuid,
    /// When it was (last) wished. A loan of the title whose clock is later
    /// than this field's fulfils it (`wishes.wished_hlc`): clocks order
    /// a wish and a loan the same at every desk, whatever their wall times.
    pub wished_at: DateTime<Utc>,
    #[serde(default)]
    pub withdrawn: bool,
}

/// One id per center, member and title, the same at every desk of the
/// center (the center is in it: wishes are center-owned, and another
/// center writing an id first would own it).
pub(crate) fn wish_id(center: Uuid, member: Uuid, title: Uuid) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("kanoon/wish/{center}/{member}/{title}").as_bytes())
}

impl Record for WishRecord {
    const ENTITY: &'static str = EntityKind::WISH;
    const FIELDS: &'static [&'static str] = &["center_id", "member_id", "title_id", "wished_at", "withdrawn"];

    fn load(conn: &Connection, id: Uuid) -> Result<Option<(Self, FieldClocks)>> {
        let row: Option<(String, String, String, String, bool, String)> = conn
            .prepare_cached(
                "SELECT center_id, member_id, title_id, wished_at, withdrawn, field_clocks FROM wishes WHERE id = ?1",
            )?
            .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
            .optional()?;
        row.map(|(center, member, title, on, withdrawn, clocks)| {
            Ok((
                WishRecord {
                    center_id: parse_uuid(&center)?,
                    member_id: parse_uuid(&member)?,
                    title_id: parse_uuid(&title)?,
                    wished_at: parse_time(&on)?,
                    withdrawn,
                },
                parse_clocks(&clocks)?,
            ))
        })
        .transpose()
    }

    /// A wish whose id is not its center's, member's and title's (a patch
    /// that moved it to another member or title) is not applied.
    fn admit_pulled(_conn: &Connection, id: Uuid, w: &Self, _found: &mut Vec<Finding>) -> Result<bool> {
        Ok(id == wish_id(w.center_id, w.member_id, w.title_id))
    }

    fn store(conn: &Connection, id: Uuid, w: &Self, clocks: &FieldClocks, now: DateTime<Utc>) -> Result<()> {
        run(
            conn,
            "INSERT INTO wishes (id, center_id, member_id, title_id, wished_at, withdrawn, field_clocks, created_at,
                 wished_hlc)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (id) DO UPDATE SET center_id = excluded.center_id, member_id = excluded.member_id,
                 title_id = excluded.title_id, wished_at = excluded.wished_at, withdrawn = excluded.withdrawn,
                 field_clocks = excluded.field_clocks, wished_hlc = excluded.wished_hlc",
            params![
                id.to_string(),
                w.center_id.to_string(),
                w.member_id.to_string(),
                w.title_id.to_string(),
                timestamp(w.wished_at),
                w.withdrawn,
                serde_json::to_string(clocks)?,
                timestamp(now),
                clocks.get("wished_at").map(|c| c.hlc.to_sortable()).unwrap_or_default()
            ],
        )?;
        Ok(())
    }
}
