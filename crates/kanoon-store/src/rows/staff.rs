//! Staff rows: the center's instructors and managers. No other module
//! writes `staff` (their password hashes are desk-local, in `local`).

use chrono::{DateTime, Utc};
use kanoon_domain::entities::{Role, Staff};
use kanoon_protocol::EntityKind;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{FieldClocks, Record, parse_clocks};
use crate::error::{Result, StoreError};
use crate::sql::{parse_uuid, run};

/// A staff member as their ops carry them (the id is the op's entity id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StaffRecord {
    pub username: String,
    pub full_name: String,
    pub role: Role,
    pub active: bool,
    pub center_id: Uuid,
}

impl StaffRecord {
    pub fn of(s: &Staff) -> Self {
        StaffRecord {
            username: s.username.clone(),
            full_name: s.full_name.clone(),
            role: s.role,
            active: s.active,
            center_id: s.center_id,
        }
    }

    fn into_staff(self, id: Uuid) -> Staff {
        Staff {
            id,
            center_id: self.center_id,
            username: self.username,
            full_name: self.full_name,
            role: self.role,
            active: self.active,
        }
    }
}

impl Record for StaffRecord {
    const ENTITY: &'static str = EntityKind::STAFF;
    const FIELDS: &'static [&'static str] = &["username", "full_name", "role", "active", "center_id"];

    fn load(conn: &Connection, id: Uuid) -> Result<Option<(Self, FieldClocks)>> {
        let row = conn
            .prepare_cached(
                "SELECT username, full_name, role, active, center_id, field_clocks FROM staff WHERE id = ?1",
            )?
            .query_row([id.to_string()], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get::<_, String>(2)?,
                    r.get(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .optional()?;
        row.map(|(username, full_name, role, active, center_id, clocks)| {
            let role = Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("نقش «{role}»")))?;
            let record = StaffRecord { username, full_name, role, active, center_id: parse_uuid(&center_id)? };
            Ok((record, parse_clocks(&clocks)?))
        })
        .transpose()
    }

    fn store(conn: &Connection, id: Uuid, s: &Self, clocks: &FieldClocks, _now: DateTime<Utc>) -> Result<()> {
        run(
            conn,
            "INSERT INTO staff (id, center_id, username, full_name, role, active, field_clocks)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (id) DO UPDATE SET center_id = excluded.center_id, username = excluded.username,
                 full_name = excluded.full_name, role = excluded.role, active = excluded.active,
                 field_clocks = excluded.field_clocks",
            params![
                id.to_string(),
                s.center_id.to_string(),
                s.username,
                s.full_name,
                s.role.as_str(),
                s.active,
                serde_json::to_string(clocks)?
            ],
        )?;
        Ok(())
    }
}

/// The staff member with this username, active or not.
pub(crate) fn by_username(conn: &Connection, username: &str) -> Result<Option<Staff>> {
    let id: Option<String> = conn
        .prepare_cached("SELECT id FROM staff WHERE username = ?1")?
        .query_row([username], |r| r.get(0))
        .optional()?;
    let Some(id) = id else { return Ok(None) };
    let id = parse_uuid(&id)?;
    Ok(StaffRecord::load(conn, id)?.map(|(s, _)| s.into_staff(id)))
}

/// Whether a username is taken (usernames are unique across the center).
pub(crate) fn username_taken(conn: &Connection, username: &str) -> Result<bool> {
    Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM staff WHERE username = ?1)", [username], |r| r.get(0))?)
}

/// Every staff member of `center`, active first, then by name.
pub(crate) fn of_center(conn: &Connection, center: Uuid) -> Result<Vec<Staff>> {
    let ids: Vec<String> = conn
        .prepare_cached("SELECT id FROM staff WHERE center_id = ?1 ORDER BY active DESC, full_name")?
        .query_map([center.to_string()], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let id = parse_uuid(&id)?;
        if let Some((s, _)) = StaffRecord::load(conn, id)? {
            out.push(s.into_staff(id));
        }
    }
    Ok(out)
}
