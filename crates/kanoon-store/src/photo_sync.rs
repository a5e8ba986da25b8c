//! The desk's side of the member photo stream (`kanoon_protocol::photos`):
//! photos changed here wait (`pushed = 0`) until the server has them; pulled
//! photos replace the local one only when their version is later, so every
//! desk of the center ends with the same photo. The stream's position in the
//! server's photo log is kept in `meta` (`photo_cursor`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use kanoon_protocol::photos::{MAX_PHOTO_BYTES, PHOTO_MIME_TYPES, PhotoBody, PhotoPage, is_photo_timestamp};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use crate::desk::Desk;
use crate::error::{Result, StoreError};

/// What applying a page of pulled photos did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PhotoApplyReport {
    /// Stored: newer than this desk's photo of the member (or it had none).
    pub stored: usize,
    /// This desk's photo was as new or newer: kept.
    pub kept_local: usize,
    /// Not an image this desk accepts (type, size, encoding): skipped.
    pub skipped: usize,
}

impl Desk {
    /// Photos changed on this desk that the server does not have yet,
    /// oldest change first.
    pub fn photos_to_push(&self, limit: usize) -> Result<Vec<PhotoBody>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT member_id, mime, bytes, updated_at, device_id FROM member_photos
             WHERE pushed = 0 ORDER BY updated_at, member_id LIMIT ?1",
        )?;
        let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut photos = Vec::new();
        for row in rows {
            let (member_id, mime, bytes, updated_at, device_id) = row?;
            photos.push(PhotoBody {
                member_id: parse_id(&member_id)?,
                mime,
                updated_at,
                device_id: parse_id(&device_id)?,
                data: BASE64.encode(bytes),
            });
        }
        Ok(photos)
    }

    /// Photos waiting to be uploaded (for the status bar).
    pub fn photos_waiting(&self) -> Result<u64> {
        let n: i64 = self.conn.query_row("SELECT count(*) FROM member_photos WHERE pushed = 0", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The server has this version of the member's photo (stored it now or
    /// has a newer one). A photo changed again since stays waiting.
    pub fn mark_photo_pushed(&mut self, photo: &PhotoBody) -> Result<()> {
        self.conn.execute(
            "UPDATE member_photos SET pushed = 1 WHERE member_id = ?1 AND updated_at = ?2 AND device_id = ?3",
            params![photo.member_id.to_string(), photo.updated_at, photo.device_id.to_string()],
        )?;
        Ok(())
    }

    /// Where this desk is in the server's photo log (0: from the start).
    pub fn photo_cursor(&self) -> Result<u64> {
        let raw: Option<String> =
            self.conn.query_row("SELECT value FROM meta WHERE key = 'photo_cursor'", [], |r| r.get(0)).optional()?;
        match raw {
            None => Ok(0),
            Some(v) => v.parse().map_err(|_| StoreError::Corrupt(format!("مکان همگام‌سازی عکس‌ها «{v}»"))),
        }
    }

    /// Applies a page of pulled photos and saves the position after it, in
    /// one transaction. Safe to call again with the same page.
    pub fn apply_pulled_photos(&mut self, page: &PhotoPage) -> Result<PhotoApplyReport> {
        let mut report = PhotoApplyReport::default();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for photo in &page.photos {
            let bytes = match acceptable(photo) {
                Some(bytes) => bytes,
                None => {
                    report.skipped += 1;
                    continue;
                }
            };
            let local: Option<(String, String)> = tx
                .query_row(
                    "SELECT updated_at, device_id FROM member_photos WHERE member_id = ?1",
                    [photo.member_id.to_string()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let newer = match &local {
                None => true,
                Some((at, device)) => {
                    (photo.updated_at.as_str(), photo.device_id.to_string()) > (at.as_str(), device.clone())
                }
            };
            if !newer {
                report.kept_local += 1;
                continue;
            }
            tx.execute(
                "INSERT INTO member_photos (member_id, mime, bytes, updated_at, device_id, pushed) VALUES (?1, ?2, ?3, ?4, ?5, 1)
                 ON CONFLICT (member_id) DO UPDATE SET mime = excluded.mime, bytes = excluded.bytes,
                     updated_at = excluded.updated_at, device_id = excluded.device_id, pushed = 1",
                params![photo.member_id.to_string(), photo.mime, bytes, photo.updated_at, photo.device_id.to_string()],
            )?;
            report.stored += 1;
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('photo_cursor', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [page.after.to_string()],
        )?;
        tx.commit()?;
        Ok(report)
    }
}

/// The image of a pulled photo, if it is one this desk would have taken.
fn acceptable(photo: &PhotoBody) -> Option<Vec<u8>> {
    if !PHOTO_MIME_TYPES.contains(&photo.mime.as_str()) || !is_photo_timestamp(&photo.updated_at) {
        return None;
    }
    let bytes = BASE64.decode(photo.data.as_bytes()).ok()?;
    (!bytes.is_empty() && bytes.len() <= MAX_PHOTO_BYTES).then_some(bytes)
}

fn parse_id(text: &str) -> Result<Uuid> {
    Uuid::parse_str(text).map_err(|_| StoreError::Corrupt(format!("شناسه «{text}» در جدول عکس‌ها")))
}
