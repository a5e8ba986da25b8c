//! Member photos travel apart from the ops: a separate, low-priority,
//! resumable stream (`/sync/v1/photos`), scoped to the member's center.
//! Each photo is one request (resuming after a drop loses at most that
//! one); the latest version of a member's photo wins — versions compare by
//! (`updated_at`, `device_id`), so every peer keeps the same one.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Largest photo, in bytes before base64 (the desk refuses larger ones).
pub const MAX_PHOTO_BYTES: usize = 2 * 1024 * 1024;

/// Photos in one page of `GET /sync/v1/photos` by default (≈ 1 MiB).
pub const DEFAULT_PHOTO_PAGE: usize = 20;

/// Most photos in one page.
pub const MAX_PHOTO_PAGE: usize = 50;

/// Image types a photo may have.
pub const PHOTO_MIME_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp"];

/// One member's photo, as uploaded and as served.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoBody {
    pub member_id: Uuid,
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub mime: String,
    /// When the desk took or changed the photo: RFC 3339 UTC with
    /// milliseconds (`2026-11-25T09:30:00.000Z`), so text order is time order.
    pub updated_at: String,
    /// The desk that changed it (breaks a tie of `updated_at`).
    pub device_id: Uuid,
    /// The image, base64 (standard alphabet, padded).
    pub data: String,
}

impl PhotoBody {
    /// The version that decides which photo of a member wins.
    pub fn version(&self) -> (&str, Uuid) {
        (&self.updated_at, self.device_id)
    }
}

/// What the server did with an uploaded photo.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoOutcome {
    /// Stored: the newest version of this member's photo.
    Stored,
    /// The server already has this version or a newer one (kept; pull it).
    NewerKept,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoPushResponse {
    pub outcome: PhotoOutcome,
}

/// A page of `GET /sync/v1/photos?after=N`: the photos of the device's
/// center changed after position `after`, oldest change first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoPage {
    pub photos: Vec<PhotoBody>,
    /// Pass back as `after` to continue.
    pub after: u64,
    /// More photos wait beyond this page.
    pub more: bool,
}

/// Whether `updated_at` has the one form versions compare in.
pub fn is_photo_timestamp(updated_at: &str) -> bool {
    let b = updated_at.as_bytes();
    b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photo_timestamps_have_one_form() {
        assert!(is_photo_timestamp("2026-11-25T09:30:00.000Z"));
        assert!(!is_photo_timestamp("2026-11-25T09:30:00Z"));
        assert!(!is_photo_timestamp("2026-11-25 09:30:00.000Z"));
        assert!(!is_photo_timestamp("۲۰۲۶-11-25T09:30:00.000Z"));
    }

    #[test]
    fn the_later_version_wins_and_the_device_breaks_a_tie() {
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        let p = |t: &str, d| PhotoBody {
            member_id: a,
            mime: "image/jpeg".into(),
            updated_at: t.into(),
            device_id: d,
            data: String::new(),
        };
        assert!(p("2026-11-25T09:30:00.001Z", a).version() > p("2026-11-25T09:30:00.000Z", b).version());
        assert!(p("2026-11-25T09:30:00.000Z", b).version() > p("2026-11-25T09:30:00.000Z", a).version());
    }
}
