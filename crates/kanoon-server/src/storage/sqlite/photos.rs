//! Member photos on SQLite: per (center, member) the latest version, each
//! new version under a new (higher) `seq`. With one writer, photo `seq`s
//! commit in order, so a page never passes one that commits later.

use kanoon_protocol::photos::{PhotoBody, PhotoOutcome, PhotoPage};
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use super::{SqliteStorage, now_iso, uuid_at};
use crate::error::AppError;
use std::sync::atomic::Ordering::Relaxed;

use crate::storage::rules::{
    StoredPhoto, check_photo, check_photo_quota, fetch_limit, is_newer_photo, photo_page, sql_int,
};

pub(super) fn put_photo(
    storage: &SqliteStorage,
    center_id: Uuid,
    pushed_by: Uuid,
    photo: &PhotoBody,
) -> Result<PhotoOutcome, AppError> {
    let bytes = check_photo(photo)?;
    let (center, member) = (center_id.to_string(), photo.member_id.to_string());
    let mut conn = storage.conn();
    let tx = conn.transaction()?;
    let stored: Option<(String, String)> = tx
        .query_row(
            "SELECT updated_at, device_id FROM member_photos WHERE center_id = ?1 AND member_id = ?2",
            params![center, member],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let stored = stored.map(|(at, device)| (at, Uuid::parse_str(&device).unwrap_or(Uuid::nil())));
    if !is_newer_photo(photo, stored) {
        return Ok(PhotoOutcome::NewerKept);
    }
    let others: i64 = tx.query_row(
        "SELECT coalesce(sum(length(bytes)), 0) FROM member_photos WHERE center_id = ?1 AND member_id <> ?2",
        params![center, member],
        |r| r.get(0),
    )?;
    check_photo_quota(u64::try_from(others).unwrap_or(0), bytes.len(), storage.photo_quota.load(Relaxed))?;
    // Delete + insert: the new version takes a new (higher) seq.
    tx.execute("DELETE FROM member_photos WHERE center_id = ?1 AND member_id = ?2", params![center, member])?;
    tx.execute(
        "INSERT INTO member_photos (center_id, member_id, mime, bytes, updated_at, device_id, pushed_by, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            center,
            member,
            photo.mime,
            bytes,
            photo.updated_at,
            photo.device_id.to_string(),
            pushed_by.to_string(),
            now_iso()
        ],
    )?;
    tx.commit()?;
    Ok(PhotoOutcome::Stored)
}

pub(super) fn photos_after(
    storage: &SqliteStorage,
    center_id: Uuid,
    after: u64,
    limit: usize,
) -> Result<PhotoPage, AppError> {
    let conn = storage.conn();
    let mut stmt = conn.prepare_cached(
        "SELECT seq, member_id, mime, bytes, updated_at, device_id FROM member_photos
         WHERE center_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![center_id.to_string(), sql_int(after), fetch_limit(limit)], |r| {
        Ok(StoredPhoto {
            seq: r.get(0)?,
            member_id: uuid_at(r, 1)?,
            mime: r.get(2)?,
            bytes: r.get(3)?,
            updated_at: r.get(4)?,
            device_id: uuid_at(r, 5)?,
        })
    })?;
    Ok(photo_page(after, limit, rows.collect::<Result<_, _>>()?))
}
