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
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::{Duration, Instant};

use kanoon_protocol::wire::ErrorCode;
use kanoon_store::Desk;
use kanoon_store::bootstrap::SnapshotItem;
use kanoon_store::sync::ApplyReport;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING};
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::page::{RawSnapshot, Snapshot, read_snapshot_streamed};
use crate::{Client, Result, SyncError, lock, unreachable};

/// How long a snapshot may take to arrive: a large center's is tens of MB
/// of JSON (a few MB gzip'd) and provincial links can be slow.
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(600);

/// A server answering `busy` (its cap on snapshots served at once) is
/// asked again after the `Retry-After` it sends, this many times.
const BUSY_RETRIES: u32 = 3;
const BUSY_WAIT: Duration = Duration::from_secs(30);

/// Batches of parsed ops (`HANDED` each) read ahead of the apply: enough to
/// ride out the network's pauses, few enough to hold little (an op is
/// ~700 bytes of JSON).
const READ_AHEAD: usize = 8;

impl Client {
    /// `GET /sync/v1/snapshot`, asked for gzip, read whole.
    pub async fn snapshot(&self, token: &str) -> Result<Snapshot> {
        let (response, gzipped) = self.snapshot_response(token).await?;
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

    /// The snapshot's response once its status says it comes (its body
    /// not read yet), and whether the body is gzip'd.
    async fn snapshot_response(&self, token: &str) -> Result<(reqwest::Response, bool)> {
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
            return Err(Self::read::<RawSnapshot>(response)
                .await
                .err()
                .unwrap_or_else(|| SyncError::Unreachable("snapshot answered without success".into())));
        }
        let gzipped =
            response.headers().get(CONTENT_ENCODING).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
        Ok((response, gzipped))
    }
}

/// What a bootstrap did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BootstrapReport {
    /// Ops in the snapshot.
    pub received: usize,
    pub applied: ApplyReport,
    /// From the request until the snapshot's last op was read (the apply
    /// runs meanwhile and ends after it).
    pub read_in: Duration,
    /// How long the apply waited for the read (idle: the read was behind).
    pub waited: Duration,
}

/// Fills a desk that has pulled nothing yet from the server's snapshot and
/// sets its cursor (refused by the desk otherwise, nothing changed). Its
/// member-number counter then continues after the highest number the
/// center has used for its desk number.
///
/// Streamed: the body is taken as it arrives (never waiting on the desk,
/// so the server's read ends as soon as it can), inflated and parsed op by
/// op on a blocking thread, and applied as the ops come, in one
/// transaction. The desk is locked from the snapshot's first item until the
/// commit (the transaction spans it); not while waiting for the answer.
pub async fn bootstrap(desk: &Mutex<Desk>, client: &Client) -> Result<BootstrapReport> {
    let token = lock(desk)?.sync_settings()?.ok_or(SyncError::NotEnrolled)?.token;
    let started = Instant::now();
    let mut tries = 0;
    let (response, gzipped) = loop {
        match client.snapshot_response(&token).await {
            // The server serves as many snapshots as it allows: wait as it
            // asks (30 s), a few times, before the round fails and backs off.
            Err(SyncError::Refused { code: ErrorCode::Busy, .. }) if tries < BUSY_RETRIES => {
                tries += 1;
                tokio::time::sleep(BUSY_WAIT).await;
            }
            other => break other?,
        }
    };
    // The body gzip'd is a few MB for the largest center: held as it comes
    // rather than making the server wait on the desk's apply.
    let (chunks_tx, chunks_rx) = unbounded_channel();
    let download = tokio::spawn(take_body(response, chunks_tx));
    let (items_tx, items_rx) = sync_channel(READ_AHEAD);
    let reading = tokio::task::spawn_blocking(move || read_items(Chunks::new(chunks_rx), gzipped, items_tx));
    let result = if Handle::current().runtime_flavor() == RuntimeFlavor::MultiThread {
        // The apply blocks this thread; the runtime's other tasks move on.
        tokio::task::block_in_place(|| apply_items(desk, &items_rx, started))
    } else {
        // A current-thread runtime cannot lend its thread: read it all,
        // then apply.
        let all = tokio::task::spawn_blocking(move || items_rx.into_iter().collect::<Vec<_>>())
            .await
            .map_err(|e| SyncError::Unreachable(e.to_string()))?;
        let (tx, rx) = sync_channel(all.len());
        for item in all {
            let _ = tx.send(item);
        }
        drop(tx);
        apply_items(desk, &rx, started)
    };
    // The apply failing leaves the read to stop by itself (its queue closed).
    download.abort();
    drop(reading);
    result
}

/// Items of the snapshot as read, a few hundred at a time (one wake-up of
/// the apply for each, not one per op); `Ok(None)` once all of it was.
type Items = Result<Option<Vec<SnapshotItem>>>;

/// Items handed over at once.
const HANDED: usize = 256;

/// Applies the items as they come. Nothing is committed unless the read
/// ended well (a read cut short is an error, not an end).
fn apply_items(desk: &Mutex<Desk>, items: &Receiver<Items>, started: Instant) -> Result<BootstrapReport> {
    let cut = || SyncError::Unreachable("snapshot cut short".into());
    let mut first = Some(items.recv().map_err(|_| cut())?);
    let mut current = Vec::new().into_iter();
    // From the request to the first items counts as waiting too.
    let (mut received, mut read_in, mut waited) = (0, Duration::ZERO, started.elapsed());
    let applied = lock(desk)?.apply_snapshot_streamed(|| -> Result<Option<SnapshotItem>> {
        loop {
            if let Some(item) = current.next() {
                if matches!(item, SnapshotItem::Op { .. } | SnapshotItem::Unreadable(_)) {
                    received += 1;
                }
                return Ok(Some(item));
            }
            let next = match first.take() {
                Some(next) => next,
                None => {
                    let asked = Instant::now();
                    let next = items.recv().map_err(|_| cut())?;
                    waited += asked.elapsed();
                    next
                }
            };
            match next? {
                Some(more) => current = more.into_iter(),
                None => {
                    read_in = started.elapsed();
                    return Ok(None);
                }
            }
        }
    })?;
    Ok(BootstrapReport { received, applied, read_in, waited })
}

/// Takes the response body chunk by chunk (ends with the body, an error,
/// or the reader gone).
async fn take_body(mut response: reqwest::Response, chunks: UnboundedSender<Result<Vec<u8>>>) {
    loop {
        let next = match response.chunk().await {
            Ok(Some(chunk)) => Ok(chunk.to_vec()),
            Ok(None) => return,
            Err(e) => Err(unreachable(e)),
        };
        let failed = next.is_err();
        if chunks.send(next).is_err() || failed {
            return;
        }
    }
}

/// Inflates and parses the body as its chunks come, its ops handed on as
/// they are read; the last message says how the read ended.
fn read_items(chunks: Chunks, gzipped: bool, items: SyncSender<Items>) {
    let mut gone = false;
    let mut batch = Vec::with_capacity(HANDED);
    let mut send = |item: SnapshotItem| {
        batch.push(item);
        if batch.len() == HANDED {
            gone = items.send(Ok(Some(std::mem::replace(&mut batch, Vec::with_capacity(HANDED))))).is_err();
        }
        !gone
    };
    let read = if gzipped {
        read_snapshot_streamed(flate2::read::GzDecoder::new(chunks), &mut send)
    } else {
        read_snapshot_streamed(chunks, &mut send)
    };
    if gone {
        return;
    }
    let end = match read {
        Ok(()) => items.send(Ok(Some(batch))).map(|_| Ok(None)),
        Err(e) => Ok(Err(SyncError::Unreachable(format!("snapshot unreadable: {e}")))),
    };
    if let Ok(end) = end {
        let _ = items.send(end);
    }
}

/// The response body as `Read`, from the chunks the download task passes.
struct Chunks {
    rx: UnboundedReceiver<Result<Vec<u8>>>,
    chunk: Option<Vec<u8>>,
    at: usize,
}

impl Chunks {
    fn new(rx: UnboundedReceiver<Result<Vec<u8>>>) -> Self {
        Chunks { rx, chunk: None, at: 0 }
    }
}

impl Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if let Some(rest) = self.chunk.as_ref().map(|c| &c[self.at..])
                && !rest.is_empty()
            {
                let n = rest.len().min(buf.len());
                buf[..n].copy_from_slice(&rest[..n]);
                self.at += n;
                return Ok(n);
            }
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => (self.chunk, self.at) = (Some(chunk), 0),
                Some(Err(e)) => return Err(std::io::Error::other(e.to_string())),
                // The download task ended: after the body, or an error it sent.
                None => return Ok(0),
            }
        }
    }
}
