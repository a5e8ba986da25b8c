//! Member photos on PostgreSQL: per (center, member) the latest version,
//! each new version under a new (higher) `seq`, uploads one at a time
//! under `PHOTO_LOG_LOCK` so photo `seq`s commit in order.

use kanoon_protocol::photos::{PhotoBody, PhotoOutcome, PhotoPage};
use uuid::Uuid;

use super::{PHOTO_LOG_LOCK, PostgresStorage, lock};
use crate::error::AppError;
use std::sync::atomic::Ordering::Relaxed;

use crate::storage::rules::{
    StoredPhoto, check_photo, check_photo_quota, fetch_limit, is_newer_photo, photo_page, sql_int,
};

pub(super) fn put_photo(
    storage: &PostgresStorage,
    center_id: Uuid,
    pushed_by: Uuid,
    photo: &PhotoBody,
) -> Result<PhotoOutcome, AppError> {
    let bytes = check_photo(photo)?;
    let mut client = storage.client()?;
    let mut tx = client.transaction()?;
    lock(&mut tx, PHOTO_LOG_LOCK)?;
    let stored = tx
        .query_opt(
            "SELECT updated_at, device_id FROM member_photos WHERE center_id = $1 AND member_id = $2",
            &[&center_id, &photo.member_id],
        )?
        .map(|row| Ok::<_, AppError>((row.try_get::<_, String>(0)?, row.try_get::<_, Uuid>(1)?)))
        .transpose()?;
    if !is_newer_photo(photo, stored) {
        return Ok(PhotoOutcome::NewerKept);
    }
    let others: i64 = tx
        .query_one(
            "SELECT coalesce(sum(octet_length(bytes)), 0)::bigint FROM member_photos
             WHERE center_id = $1 AND member_id <> $2",
            &[&center_id, &photo.member_id],
        )?
        .try_get(0)?;
    check_photo_quota(u64::try_from(others).unwrap_or(0), bytes.len(), storage.photo_quota.load(Relaxed))?;
    tx.execute("DELETE FROM member_photos WHERE center_id = $1 AND member_id = $2", &[&center_id, &photo.member_id])?;
    tx.execute(
        "INSERT INTO member_photos (center_id, member_id, mime, bytes, updated_at, device_id, pushed_by, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, now())",
        &[&center_id, &photo.member_id, &photo.mime, &bytes, &photo.updated_at, &photo.device_id, &pushed_by],
    )?;
    tx.commit()?;
    Ok(PhotoOutcome::Stored)
}

pub(super) fn photos_after(
    storage: &PostgresStorage,
    center_id: Uuid,
    after: u64,
    limit: usize,
) -> Result<PhotoPage, AppError> {
    let rows = storage.client()?.query(
        "SELECT seq, member_id, mime, bytes, updated_at, device_id FROM member_photos
         WHERE center_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        &[&center_id, &sql_int(after), &fetch_limit(limit)],
    )?;
    let photos = rows
        .iter()
        .map(|row| {
            Ok(StoredPhoto {
                seq: row.try_get(0)?,
                member_id: row.try_get(1)?,
                mime: row.try_get(2)?,
                bytes: row.try_get(3)?,
                updated_at: row.try_get(4)?,
                device_id: row.try_get(5)?,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(photo_page(after, limit, photos))
}
