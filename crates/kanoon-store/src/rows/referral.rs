//! Referral rows: referrals to the Iran Language Institute and their
//! voids. No other module writes `referrals` or `referral_voids`.

use chrono::NaiveDate;
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::EventStamp;
use crate::error::Result;
use crate::sql::{run, timestamp};

pub(crate) const REFERRED: &str = "referred";
pub(crate) const VOID: &str = "void";

/// A referral as its event carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Referred {
    pub day: NaiveDate,
    #[serde(default)]
    pub member_id: Option<Uuid>,
    pub name: String,
    #[serde(default)]
    pub age_group: Option<String>,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub staff_name: Option<String>,
}

/// A referral taken back, as its event carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ReferralVoid {
    pub target: Uuid,
    pub reason: String,
}

/// Keeps a referral once (voided at once when its void came first).
pub(crate) fn insert_referral(conn: &Connection, id: Uuid, r: &Referred, stamp: &EventStamp) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO referrals (id, day, member_id, name, age_group, note, staff_id, staff_name, hlc, device_id, at,
             void_id, void_reason)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, v.void_id, v.reason
         FROM (SELECT 1) LEFT JOIN referral_voids v ON v.target = ?1
         WHERE true ON CONFLICT (id) DO NOTHING",
    )?
    .execute(params![
        id.to_string(),
        r.day.to_string(),
        r.member_id.map(|m| m.to_string()),
        r.name,
        r.age_group,
        r.note,
        stamp.staff_id.map(|s| s.to_string()),
        r.staff_name,
        stamp.hlc.to_sortable(),
        stamp.device_id.to_string(),
        timestamp(stamp.at),
    ])?;
    Ok(())
}

/// Keeps a void: marks its referral, or waits for it.
pub(crate) fn insert_void(conn: &Connection, void_id: Uuid, v: &ReferralVoid) -> Result<()> {
    run(
        conn,
        "INSERT INTO referral_voids (target, void_id, reason) VALUES (?1, ?2, ?3) ON CONFLICT (target) DO NOTHING",
        params![v.target.to_string(), void_id.to_string(), v.reason],
    )?;
    run(
        conn,
        "UPDATE referrals SET void_id = ?2, void_reason = ?3 WHERE id = ?1 AND void_id IS NULL",
        params![v.target.to_string(), void_id.to_string(), v.reason],
    )?;
    Ok(())
}
