//! Centers, enrolment codes, devices and their tokens, on PostgreSQL. An
//! enrolment holds `ENROL_LOCK`, so that checking a code and a desk number
//! and then taking them is one step, as with SQLite's single writer.

use chrono::{DateTime, Utc};
use kanoon_domain::entities::{CenterKind, normalize_center_code};
use kanoon_protocol::wire::{EnrolRequest, EnrolResponse};
use uuid::Uuid;

use super::{ENROL_LOCK, PostgresStorage, iso, lock};
use crate::error::AppError;
use crate::storage::rules::{
    ENROL_CODE_TTL, EnrolTarget, center_exists, check_enrol, check_enrol_target, device_revoked, enrol_code_unknown,
    new_center,
};
use crate::storage::secrets::{draw_enrol_code, hash_secret, new_token, plausible_token};
use crate::storage::{CenterInfo, DeviceAuth, DeviceInfo, DeviceKey, LAST_SEEN_EVERY};

pub(super) fn add_center(
    storage: &PostgresStorage,
    code: &str,
    name: &str,
    kind: CenterKind,
) -> Result<CenterInfo, AppError> {
    let center = new_center(code, name, kind)?;
    // Either unique column (id, code) taken: nothing inserted.
    let inserted = storage.client()?.execute(
        "INSERT INTO centers (id, code, name, kind, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING",
        &[&center.id, &center.code, &center.name, &kind.as_str(), &Utc::now()],
    )?;
    if inserted == 0 {
        return Err(center_exists(&center));
    }
    Ok(center)
}

pub(super) fn create_enrol_code(
    storage: &PostgresStorage,
    center_code: &str,
    for_device: Option<Uuid>,
) -> Result<String, AppError> {
    let center_code = normalize_center_code(center_code);
    let mut client = storage.client()?;
    let center_id: Uuid = client
        .query_opt("SELECT id FROM centers WHERE code = $1", &[&center_code])?
        .ok_or_else(|| AppError::not_found(format!("no center with code {center_code}")))?
        .try_get(0)?;
    if let Some(device) = for_device {
        let of_center: bool = client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM devices WHERE id = $1 AND center_id = $2)",
                &[&device, &center_id],
            )?
            .try_get(0)?;
        if !of_center {
            return Err(AppError::not_found(format!("no device {device} at center {center_code}")));
        }
    }
    let now = Utc::now();
    draw_enrol_code(&storage.code_key, |code_hash| {
        let inserted = client.execute(
            "INSERT INTO enrol_codes (code_hash, center_id, created_at, expires_at, for_device)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (code_hash) DO NOTHING",
            &[&code_hash, &center_id, &now, &(now + ENROL_CODE_TTL), &for_device],
        )?;
        Ok(inserted == 1)
    })
}

pub(super) fn revoke_device(storage: &PostgresStorage, device_id: Uuid) -> Result<bool, AppError> {
    let changed = storage
        .client()?
        .execute("UPDATE devices SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", &[&device_id])?;
    Ok(changed == 1)
}

pub(super) fn enrol(storage: &PostgresStorage, request: &EnrolRequest) -> Result<EnrolResponse, AppError> {
    let checked = check_enrol(request, &storage.code_key)?;
    let device_id = request.device_id;
    let desk_number = i16::from(request.desk_number);
    let now = Utc::now();

    let mut client = storage.client()?;
    // Looked up before the lock: a wrong code (the common attack) never takes it.
    let usable: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM enrol_codes WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2)",
            &[&checked.code_hash, &now],
        )?
        .try_get(0)?;
    if !usable {
        return Err(enrol_code_unknown());
    }
    let mut tx = client.transaction()?;
    lock(&mut tx, ENROL_LOCK)?;
    let Some(center) = tx.query_opt(
        "SELECT c.id, c.code, e.for_device FROM enrol_codes e JOIN centers c ON c.id = e.center_id
         WHERE e.code_hash = $1 AND e.used_at IS NULL AND e.expires_at > $2",
        &[&checked.code_hash, &now],
    )?
    else {
        return Err(enrol_code_unknown());
    };
    let (center_id, center_code): (Uuid, String) = (center.try_get(0)?, center.try_get(1)?);
    let code_for_device: Option<Uuid> = center.try_get(2)?;
    let enrolled_center: Option<Uuid> = tx
        .query_opt("SELECT center_id FROM devices WHERE id = $1", &[&device_id])?
        .map(|r| r.try_get(0))
        .transpose()?;
    let desk_taken: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM devices WHERE center_id = $1 AND desk_number = $2 AND id <> $3)",
            &[&center_id, &desk_number, &device_id],
        )?
        .try_get(0)?;
    let target = EnrolTarget { center_id, center_code: &center_code, enrolled_center, desk_taken, code_for_device };
    check_enrol_target(request, &target)?;
    let token = new_token();
    tx.execute(
        "INSERT INTO devices (id, center_id, desk_number, name, token_hash, enrolled_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET desk_number = excluded.desk_number, name = excluded.name,
             token_hash = excluded.token_hash, enrolled_at = excluded.enrolled_at, revoked_at = NULL",
        &[&device_id, &center_id, &desk_number, &checked.device_name, &hash_secret(&token), &now],
    )?;
    tx.execute(
        "UPDATE enrol_codes SET used_at = $1, used_by = $2 WHERE code_hash = $3",
        &[&now, &device_id, &checked.code_hash],
    )?;
    tx.commit()?;
    Ok(EnrolResponse { token, center_id, center_code })
}

pub(super) fn device_for_token(storage: &PostgresStorage, token: &str) -> Result<Option<DeviceAuth>, AppError> {
    if !plausible_token(token) {
        return Ok(None);
    }
    let mut client = storage.client()?;
    let Some(row) = client.query_opt(
        "SELECT id, center_id, last_seen_at, revoked_at IS NOT NULL FROM devices WHERE token_hash = $1",
        &[&hash_secret(token)],
    )?
    else {
        return Ok(None);
    };
    if row.try_get::<_, bool>(3)? {
        return Err(device_revoked());
    }
    let (device_id, center_id, last_seen): (Uuid, Uuid, Option<DateTime<Utc>>) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    let now = Utc::now();
    if last_seen.is_none_or(|seen| seen < now - LAST_SEEN_EVERY) {
        client.execute("UPDATE devices SET last_seen_at = $1 WHERE id = $2", &[&now, &device_id])?;
    }
    Ok(Some(DeviceAuth { device_id, center_id }))
}

pub(super) fn device_key(storage: &PostgresStorage, device_id: Uuid) -> Result<Option<DeviceKey>, AppError> {
    let row = storage
        .client()?
        .query_opt("SELECT center_id, token_hash, revoked_at IS NOT NULL FROM devices WHERE id = $1", &[&device_id])?;
    row.map(|r| Ok(DeviceKey { center_id: r.try_get(0)?, key: r.try_get(1)?, revoked: r.try_get(2)? })).transpose()
}

pub(super) fn devices(storage: &PostgresStorage) -> Result<Vec<DeviceInfo>, AppError> {
    let rows = storage.client()?.query(
        "SELECT d.id, d.center_id, c.code, d.desk_number, d.name, d.enrolled_at, d.last_seen_at
         FROM devices d JOIN centers c ON c.id = d.center_id
         ORDER BY c.code COLLATE \"C\", d.desk_number",
        &[],
    )?;
    let mut devices = Vec::with_capacity(rows.len());
    for row in rows {
        let desk_number: i16 = row.try_get(3)?;
        devices.push(DeviceInfo {
            device_id: row.try_get(0)?,
            center_id: row.try_get(1)?,
            center_code: row.try_get(2)?,
            desk_number: u8::try_from(desk_number)
                .map_err(|_| AppError::internal(format!("stored desk number {desk_number} is out of range")))?,
            name: row.try_get(4)?,
            enrolled_at: iso(row.try_get(5)?),
            last_seen_at: row.try_get::<_, Option<DateTime<Utc>>>(6)?.map(iso),
        });
    }
    Ok(devices)
}
