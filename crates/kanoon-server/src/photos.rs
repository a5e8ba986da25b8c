//! Member photos: a stream of their own beside the op log
//! (`kanoon_protocol::photos`). A desk uploads one photo a request and pulls
//! its center's changed photos after a position; per (center, member) the
//! latest version — (`updated_at`, `device_id`) — is kept, so every desk of
//! the center ends with the same photo. A photo is stored under the
//! uploading device's center and served only to that center's desks.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use kanoon_protocol::photos::{
    MAX_PHOTO_BYTES, PHOTO_MIME_TYPES, PhotoBody, PhotoOutcome, PhotoPage, is_photo_timestamp,
};
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use crate::error::AppError;
use crate::postgres::PostgresStorage;
use crate::sqlite::SqliteStorage;
use crate::storage::now_iso;

/// Held by a PostgreSQL photo upload until it commits: photo `seq`s commit
/// in order, so a pull never passes one that commits later.
pub const PHOTO_LOG_LOCK: i64 = 0x4B4E_5356_0000_0002;

/// The image of an uploaded photo, or why it is refused (400/413).
pub fn check_photo(photo: &PhotoBody) -> Result<Vec<u8>, AppError> {
    if !PHOTO_MIME_TYPES.contains(&photo.mime.as_str()) {
        return Err(AppError::bad_request(format!(
            "photo type «{}» is not one of {}",
            photo.mime.escape_debug(),
            PHOTO_MIME_TYPES.join(", ")
        )));
    }
    if !is_photo_timestamp(&photo.updated_at) {
        return Err(AppError::bad_request(
            "updated_at must be RFC 3339 UTC with milliseconds (2026-11-25T09:30:00.000Z)",
        ));
    }
    let bytes =
        BASE64.decode(photo.data.as_bytes()).map_err(|e| AppError::bad_request(format!("data is not base64: {e}")))?;
    if bytes.is_empty() {
        return Err(AppError::bad_request("the photo is empty"));
    }
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(AppError::too_large(format!("photo of {} bytes; at most {MAX_PHOTO_BYTES}", bytes.len())));
    }
    Ok(bytes)
}

/// Whether `incoming` is later than the stored version `(updated_at, device_id)`.
fn is_newer(incoming: &PhotoBody, stored: Option<(String, Uuid)>) -> bool {
    stored.is_none_or(|(at, device)| (incoming.updated_at.as_str(), incoming.device_id) > (at.as_str(), device))
}

impl SqliteStorage {
    pub(crate) fn put_photo_sqlite(
        &self,
        center_id: Uuid,
        pushed_by: Uuid,
        photo: &PhotoBody,
    ) -> Result<PhotoOutcome, AppError> {
        let bytes = check_photo(photo)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let stored: Option<(String, String)> = tx
            .query_row(
                "SELECT updated_at, device_id FROM member_photos WHERE center_id = ?1 AND member_id = ?2",
                params![center_id.to_string(), photo.member_id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let stored = stored.map(|(at, device)| (at, Uuid::parse_str(&device).unwrap_or(Uuid::nil())));
        if !is_newer(photo, stored) {
            return Ok(PhotoOutcome::NewerKept);
        }
        // Delete + insert: the new version takes a new (higher) seq.
        tx.execute(
            "DELETE FROM member_photos WHERE center_id = ?1 AND member_id = ?2",
            params![center_id.to_string(), photo.member_id.to_string()],
        )?;
        tx.execute(
            "INSERT INTO member_photos (center_id, member_id, mime, bytes, updated_at, device_id, pushed_by, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                center_id.to_string(),
                photo.member_id.to_string(),
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

    pub(crate) fn photos_after_sqlite(&self, center_id: Uuid, after: u64, limit: usize) -> Result<PhotoPage, AppError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, member_id, mime, bytes, updated_at, device_id FROM member_photos
             WHERE center_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )?;
        let fetch = i64::try_from(limit + 1).unwrap_or(i64::MAX);
        let rows =
            stmt.query_map(params![center_id.to_string(), i64::try_from(after).unwrap_or(i64::MAX), fetch], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })?;
        let mut rows = rows.collect::<Result<Vec<_>, _>>()?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let mut page = PhotoPage { photos: Vec::with_capacity(rows.len()), after, more };
        for (seq, member_id, mime, bytes, updated_at, device_id) in rows {
            page.after = u64::try_from(seq).unwrap_or(after);
            page.photos.push(PhotoBody {
                member_id: parse_uuid(&member_id)?,
                mime,
                updated_at,
                device_id: parse_uuid(&device_id)?,
                data: BASE64.encode(bytes),
            });
        }
        Ok(page)
    }
}

impl PostgresStorage {
    pub(crate) fn put_photo_postgres(
        &self,
        center_id: Uuid,
        pushed_by: Uuid,
        photo: &PhotoBody,
    ) -> Result<PhotoOutcome, AppError> {
        let bytes = check_photo(photo)?;
        let mut client = self.client()?;
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&PHOTO_LOG_LOCK])?;
        let stored = tx
            .query_opt(
                "SELECT updated_at, device_id FROM member_photos WHERE center_id = $1 AND member_id = $2",
                &[&center_id, &photo.member_id],
            )?
            .map(|row| Ok::<_, AppError>((row.try_get::<_, String>(0)?, row.try_get::<_, Uuid>(1)?)))
            .transpose()?;
        if !is_newer(photo, stored) {
            return Ok(PhotoOutcome::NewerKept);
        }
        tx.execute(
            "DELETE FROM member_photos WHERE center_id = $1 AND member_id = $2",
            &[&center_id, &photo.member_id],
        )?;
        tx.execute(
            "INSERT INTO member_photos (center_id, member_id, mime, bytes, updated_at, device_id, pushed_by, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, now())",
            &[&center_id, &photo.member_id, &photo.mime, &bytes, &photo.updated_at, &photo.device_id, &pushed_by],
        )?;
        tx.commit()?;
        Ok(PhotoOutcome::Stored)
    }

    pub(crate) fn photos_after_postgres(
        &self,
        center_id: Uuid,
        after: u64,
        limit: usize,
    ) -> Result<PhotoPage, AppError> {
        let mut client = self.client()?;
        let fetch = i64::try_from(limit + 1).unwrap_or(i64::MAX);
        let rows = client.query(
            "SELECT seq, member_id, mime, bytes, updated_at, device_id FROM member_photos
             WHERE center_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            &[&center_id, &i64::try_from(after).unwrap_or(i64::MAX), &fetch],
        )?;
        let more = rows.len() > limit;
        let mut page = PhotoPage { photos: Vec::with_capacity(rows.len().min(limit)), after, more };
        for row in rows.iter().take(limit) {
            let seq: i64 = row.try_get(0)?;
            let bytes: Vec<u8> = row.try_get(3)?;
            page.after = u64::try_from(seq).unwrap_or(after);
            page.photos.push(PhotoBody {
                member_id: row.try_get(1)?,
                mime: row.try_get(2)?,
                updated_at: row.try_get(4)?,
                device_id: row.try_get(5)?,
                data: BASE64.encode(bytes),
            });
        }
        Ok(page)
    }
}

fn parse_uuid(text: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(text).map_err(|e| AppError::internal(format!("stored id «{text}»: {e}")))
}
