//! The member photo stream, after the ops of a round and at low priority:
//! this desk's changed photos are uploaded one a request (a drop loses at
//! most the one in flight; each is marked as the server answers), then the
//! center's photos changed since the desk's position are pulled a page at a
//! time, each page applied with its position. At most `PHOTOS_PER_ROUND`
//! each way per round, so a backlog of photos never delays the ops.

use std::sync::Mutex;

use kanoon_protocol::photos::{DEFAULT_PHOTO_PAGE, PhotoBody, PhotoPage, PhotoPushResponse};
use kanoon_protocol::wire::ErrorCode;
use kanoon_store::Desk;
use serde::{Deserialize, Serialize};

use crate::{Client, Result, SyncError, lock};

/// Photos uploaded, and photos pulled, in one round at most.
pub const PHOTOS_PER_ROUND: usize = 200;

/// What the photo stream did in a round.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoReport {
    pub uploaded: usize,
    /// Refused by the server for their content (not retried).
    pub refused: usize,
    pub received: usize,
    /// The server has no photo stream (an older server): nothing done.
    pub unsupported: bool,
}

impl Client {
    pub async fn put_photo(&self, token: &str, photo: &PhotoBody) -> Result<PhotoPushResponse> {
        self.post("/photos", Some(token), photo).await
    }

    pub async fn photos_after(&self, token: &str, after: u64, limit: usize) -> Result<PhotoPage> {
        self.get("/photos", token, &[("after", after.to_string()), ("limit", limit.to_string())]).await
    }
}

/// Uploads this desk's changed photos, then pulls the center's.
pub async fn sync_photos(desk: &Mutex<Desk>, client: &Client, token: &str) -> Result<PhotoReport> {
    let mut report = PhotoReport::default();
    'upload: while report.uploaded + report.refused < PHOTOS_PER_ROUND {
        let batch = lock(desk)?.photos_to_push(10)?;
        if batch.is_empty() {
            break;
        }
        for photo in &batch {
            match client.put_photo(token, photo).await {
                Ok(_) => report.uploaded += 1,
                Err(SyncError::Refused { code: ErrorCode::NotFound, .. }) => {
                    report.unsupported = true;
                    return Ok(report);
                }
                // The desk checks type and size as the server does; a photo
                // refused all the same would be refused forever. (An older
                // server says `bad_request` or `too_large` for these.)
                Err(SyncError::Refused {
                    code: ErrorCode::BadPhoto | ErrorCode::PhotoTooLarge | ErrorCode::BadRequest | ErrorCode::TooLarge,
                    ..
                }) => report.refused += 1,
                // The center's quota is full: kept, tried again next round.
                Err(SyncError::Refused { code: ErrorCode::PhotoQuotaExceeded, .. }) => break 'upload,
                Err(e) => return Err(e),
            }
            lock(desk)?.mark_photo_pushed(photo)?;
        }
    }
    while report.received < PHOTOS_PER_ROUND {
        let after = lock(desk)?.photo_cursor()?;
        let page = match client.photos_after(token, after, DEFAULT_PHOTO_PAGE).await {
            Err(SyncError::Refused { code: ErrorCode::NotFound, .. }) => {
                report.unsupported = true;
                return Ok(report);
            }
            other => other?,
        };
        report.received += page.photos.len();
        lock(desk)?.apply_pulled_photos(&page)?;
        if !page.more {
            break;
        }
    }
    Ok(report)
}
