//! Bootstrap: a desk that has pulled nothing yet (new, or reinstalled at a
//! center that already has data) starts from the server's snapshot —
//! records and still-open events read in one consistent read, with the
//! cursor after them — instead of replaying the center's whole history,
//! then pulls normally after that cursor. `sync_once` does this by itself
//! for every never-pulled desk (an empty center's snapshot is just the
//! province's records, so there is no second path to keep right). Closed
//! history (returned loans, expired membership periods) stays on the
//! server.

use std::io::Read;
use std::sync::Mutex;
use std::time::Duration;

use kanoon_protocol::wire::ErrorCode;
use kanoon_store::Desk;
use kanoon_store::sync::ApplyReport;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING};

use crate::page::{RawSnapshot, Snapshot};
use crate::{Client, Result, SyncError, lock, unreachable};

/// How long a snapshot may take to arrive: a large center's is tens of MB
/// of JSON (a few MB gzip'd) and provincial links can be slow.
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(600);

/// A server answering `busy` (its cap on snapshots served at once) is
/// asked again after the `Retry-After` it sends, this many times.
const BUSY_RETRIES: u32 = 3;
const BUSY_WAIT: Duration = Duration::from_secs(30);

impl Client {
    /// `GET /sync/v1/snapshot`, asked for gzip.
    pub async fn snapshot(&self, token: &str) -> Result<Snapshot> {
        let response = self
            .http
            .get(self.url("/snapshot"))
            .bearer_auth(token)
            .header(ACCEPT_ENCODING, "gzip")
            .timeout(SNAPSHOT_TIMEOUT)
            .send()
            .await
            .map_err(unreachable)?;
        if !response.status().is_success() {
            return Self::read::<RawSnapshot>(response).await.map(Snapshot::from);
        }
        let gzipped =
            response.headers().get(CONTENT_ENCODING).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
        let body = response.bytes().await.map_err(unreachable)?;
        // Inflating and parsing tens of MB is CPU work: off the async threads.
        tokio::task::spawn_blocking(move || {
            let bad = |e: String| SyncError::Unreachable(format!("snapshot unreadable: {e}"));
            // Op by op: one that does not parse is set aside, not the snapshot.
            let raw: RawSnapshot = if gzipped {
                let mut json = Vec::with_capacity(body.len().saturating_mul(6));
                flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut json).map_err(|e| bad(e.to_string()))?;
                serde_json::from_slice(&json).map_err(|e| bad(e.to_string()))?
            } else {
                serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))?
            };
            Ok(Snapshot::from(raw))
        })
        .await
        .map_err(|e| SyncError::Unreachable(e.to_string()))?
    }
}

/// What a bootstrap did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BootstrapReport {
    /// Ops in the snapshot.
    pub received: usize,
    pub applied: ApplyReport,
}

/// Fills a desk that has pulled nothing yet from the server's snapshot and
/// sets its cursor (refused by the desk otherwise, nothing changed). Its
/// member-number counter then continues after the highest number the
/// center has used for its desk number.
pub async fn bootstrap(desk: &Mutex<Desk>, client: &Client) -> Result<BootstrapReport> {
    let token = lock(desk)?.sync_settings()?.ok_or(SyncError::NotEnrolled)?.token;
    let mut tries = 0;
    let snapshot = loop {
        match client.snapshot(&token).await {
            // The server serves as many snapshots as it allows: wait as it
            // asks (30 s), a few times, before the round fails and backs off.
            Err(SyncError::Refused { code: ErrorCode::Busy, .. }) if tries < BUSY_RETRIES => {
                tries += 1;
                tokio::time::sleep(BUSY_WAIT).await;
            }
            other => break other?,
        }
    };
    let applied = lock(desk)?.apply_snapshot_with_unreadable(&snapshot.ops, &snapshot.unreadable, snapshot.cursor)?;
    Ok(BootstrapReport { received: snapshot.ops.len() + snapshot.unreadable.len(), applied })
}
