//! Centers, enrolment codes, devices and their tokens, on SQLite. Every
//! write is one IMMEDIATE transaction: with one writer, checking a code
//! and a desk number and then taking them is one step.

use kanoon_domain::entities::{CenterKind, normalize_center_code};
use kanoon_protocol::wire::{EnrolRequest, EnrolResponse};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::{SqliteStorage, iso, now_iso, parse_uuid, uuid_at};
use crate::error::AppError;
use crate::storage::rules::{
    ENROL_CODE_TTL, EnrolTarget, center_exists, check_enrol, check_enrol_target, device_revoked, enrol_code_unknown,
    new_center,
};
use crate::storage::secrets::{draw_enrol_code, hash_secret, new_token, plausible_token};
use crate::storage::{CenterInfo, DeviceAuth, DeviceInfo, DeviceKey, LAST_SEEN_EVERY};

pub(super) fn add_center(
    storage: &SqliteStorage,
    code: &str,
    name: &str,
    kind: CenterKind,
) -> Result<CenterInfo, AppError> {
    let center = new_center(code, name, kind)?;
    let mut conn = storage.conn();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let exists: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM centers WHERE code = ?1 OR id = ?2)",
        params![center.code, center.id.to_string()],
        |r| r.get(0),
    )?;
    if exists {
        return Err(center_exists(&center));
    }
    tx.execute(
        "INSERT INTO centers (id, code, name, kind, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![center.id.to_string(), center.code, center.name, kind.as_str(), now_iso()],
    )?;
    tx.commit()?;
    Ok(center)
}

pub(super) fn create_enrol_code(
    storage: &SqliteStorage,
    center_code: &str,
    for_device: Option<Uuid>,
) -> Result<String, AppError> {
    let center_code = normalize_center_code(center_code);
    let conn = storage.conn();
    let center_id: Option<String> =
        conn.query_row("SELECT id FROM centers WHERE code = ?1", [&center_code], |r| r.get(0)).optional()?;
    let center_id = center_id.ok_or_else(|| AppError::not_found(format!("no center with code {center_code}")))?;
    if let Some(device) = for_device {
        let of_center: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM devices WHERE id = ?1 AND center_id = ?2)",
            params![device.to_string(), center_id],
            |r| r.get(0),
        )?;
        if !of_center {
            return Err(AppError::not_found(format!("no device {device} at center {center_code}")));
        }
    }
    let now = chrono::Utc::now();
    draw_enrol_code(&storage.code_key, |code_hash| {
        let inserted = conn.execute(
            "INSERT INTO enrol_codes (code_hash, center_id, created_at, expires_at, for_device)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (code_hash) DO NOTHING",
            params![code_hash, center_id, iso(now), iso(now + ENROL_CODE_TTL), for_device.map(|d| d.to_string())],
        )?;
        Ok(inserted == 1)
    })
}

pub(super) fn revoke_device(storage: &SqliteStorage, device_id: Uuid) -> Result<bool, AppError> {
    let changed = storage.conn().execute(
        "UPDATE devices SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
        params![now_iso(), device_id.to_string()],
    )?;
    Ok(changed == 1)
}

pub(super) fn enrol(storage: &SqliteStorage, request: &EnrolRequest) -> Result<EnrolResponse, AppError> {
    let checked = check_enrol(request, &storage.code_key)?;
    let device_id = request.device_id.to_string();
    let now = now_iso();

    let mut conn = storage.conn();
    // Looked up before the write lock: a wrong code (the common attack)
    // never takes it.
    let usable: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM enrol_codes WHERE code_hash = ?1 AND used_at IS NULL AND expires_at > ?2)",
        params![checked.code_hash, now],
        |r| r.get(0),
    )?;
    if !usable {
        return Err(enrol_code_unknown());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let center: Option<(String, String, Option<String>)> = tx
        .query_row(
            "SELECT c.id, c.code, e.for_device FROM enrol_codes e JOIN centers c ON c.id = e.center_id
             WHERE e.code_hash = ?1 AND e.used_at IS NULL AND e.expires_at > ?2",
            params![checked.code_hash, now],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((center_id, center_code, for_device)) = center else {
        return Err(enrol_code_unknown());
    };
    let enrolled_center: Option<String> =
        tx.query_row("SELECT center_id FROM devices WHERE id = ?1", [&device_id], |r| r.get(0)).optional()?;
    let desk_taken: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM devices WHERE center_id = ?1 AND desk_number = ?2 AND id <> ?3)",
        params![center_id, request.desk_number, device_id],
        |r| r.get(0),
    )?;
    let target = EnrolTarget {
        center_id: parse_uuid(&center_id, "center id")?,
        center_code: &center_code,
        enrolled_center: enrolled_center.map(|c| parse_uuid(&c, "center id")).transpose()?,
        desk_taken,
        code_for_device: for_device.map(|d| parse_uuid(&d, "device id")).transpose()?,
    };
    check_enrol_target(request, &target)?;
    let token = new_token();
    tx.execute(
        "INSERT INTO devices (id, center_id, desk_number, name, token_hash, enrolled_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET desk_number = excluded.desk_number, name = excluded.name,
             token_hash = excluded.token_hash, enrolled_at = excluded.enrolled_at, revoked_at = NULL",
        params![device_id, center_id, request.desk_number, checked.device_name, hash_secret(&token), now],
    )?;
    tx.execute(
        "UPDATE enrol_codes SET used_at = ?1, used_by = ?2 WHERE code_hash = ?3",
        params![now, device_id, checked.code_hash],
    )?;
    tx.commit()?;
    Ok(EnrolResponse { token, center_id: target.center_id, center_code })
}

pub(super) fn device_for_token(storage: &SqliteStorage, token: &str) -> Result<Option<DeviceAuth>, AppError> {
    if !plausible_token(token) {
        return Ok(None);
    }
    let conn = storage.conn();
    let row: Option<(String, String, Option<String>, bool)> = conn
        .prepare_cached(
            "SELECT id, center_id, last_seen_at, revoked_at IS NOT NULL FROM devices WHERE token_hash = ?1",
        )?
        .query_row([hash_secret(token)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    let Some((device_id, center_id, last_seen, revoked)) = row else {
        return Ok(None);
    };
    if revoked {
        return Err(device_revoked());
    }
    let now = chrono::Utc::now();
    // Stored times are ISO text of one width: text order is time order.
    if last_seen.is_none_or(|seen| seen < iso(now - LAST_SEEN_EVERY)) {
        conn.prepare_cached("UPDATE devices SET last_seen_at = ?1 WHERE id = ?2")?
            .execute(params![iso(now), device_id])?;
    }
    Ok(Some(DeviceAuth {
        device_id: parse_uuid(&device_id, "device id")?,
        center_id: parse_uuid(&center_id, "center id")?,
    }))
}

pub(super) fn device_key(storage: &SqliteStorage, device_id: Uuid) -> Result<Option<DeviceKey>, AppError> {
    let row: Option<(String, String, bool)> = storage
        .conn()
        .query_row(
            "SELECT center_id, token_hash, revoked_at IS NOT NULL FROM devices WHERE id = ?1",
            [device_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    row.map(|(center, key, revoked)| Ok(DeviceKey { center_id: parse_uuid(&center, "center id")?, key, revoked }))
        .transpose()
}

pub(super) fn devices(storage: &SqliteStorage) -> Result<Vec<DeviceInfo>, AppError> {
    let conn = storage.conn();
    let mut stmt = conn.prepare(
        "SELECT d.id, d.center_id, c.code, d.desk_number, d.name, d.enrolled_at, d.last_seen_at
         FROM devices d JOIN centers c ON c.id = d.center_id
         ORDER BY c.code, d.desk_number",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(DeviceInfo {
            device_id: uuid_at(r, 0)?,
            center_id: uuid_at(r, 1)?,
            center_code: r.get(2)?,
            desk_number: r.get(3)?,
            name: r.get(4)?,
            enrolled_at: r.get(5)?,
            last_seen_at: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
