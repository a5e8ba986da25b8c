//! The desk's sync client: enrolment with a one-time code, then rounds of
//! push (the outbox, in batches) and pull (pages after the desk's cursor,
//! each applied by `kanoon-store` in short transactions, the last saving
//! the page's cursor, the desk unlocked between them), and
//! a background loop that retries with exponential backoff and jitter when
//! the provincial server cannot be reached. Resuming after a drop or a
//! crash needs nothing special: unpushed ops stay in the outbox and the
//! cursor moves only with the page it belongs to. A desk that has pulled
//! nothing yet starts from the server's snapshot (`bootstrap`).

mod bootstrap;
mod page;
mod photos;

pub use bootstrap::{BootstrapReport, bootstrap};
pub use page::{Page, Snapshot, read_page, read_snapshot};
pub use photos::{PHOTOS_PER_ROUND, PhotoReport, sync_photos};

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use kanoon_protocol::wire::{
    API_PREFIX, Cursor, EnrolRequest, EnrolResponse, ErrorBody, ErrorCode, MAX_PUSH_OPS, PushRequest, PushResponse,
    RejectedOp,
};
use kanoon_store::sync::{ApplyReport, SyncSettings, apply_pulled_shared};
use kanoon_store::{Desk, StoreError};
use rand::RngExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use tokio::sync::watch;

/// Ops per page asked of the server.
const PULL_PAGE: usize = 500;

#[derive(Debug, Error)]
pub enum SyncError {
    #[error("سرور استان در دسترس نیست ({0})؛ همگام‌سازی خودکار دوباره تلاش می‌کند و کار میز ادامه دارد.")]
    Unreachable(String),
    #[error("سرور استان این میز را نمی‌شناسد؛ از کارشناس استان کد ثبت تازه بگیرید و میز را دوباره ثبت کنید.")]
    Unauthorized,
    /// The server refused the request: `code` is what the client acts on
    /// (read from the body, or from the status when an older server or a
    /// proxy sent none this version reads); `message` is shown, never matched.
    #[error("سرور استان درخواست را نپذیرفت ({status}): {message}")]
    Refused { status: u16, code: ErrorCode, message: String },
    #[error("این میز هنوز به سرور استان وصل نشده است؛ نشانی سرور و کد ثبت را در تنظیمات وارد کنید.")]
    NotEnrolled,
    #[error("این کد ثبت برای مرکز دیگری صادر شده است؛ کد ثبت همین مرکز را از کارشناس استان بگیرید.")]
    WrongCenter,
    #[error(
        "کارشناس استان دسترسی این میز به سرور استان را لغو کرده است؛ برای اتصال دوباره، کد ثبت ویژه همین میز را از کارشناس استان بگیرید."
    )]
    Revoked,
    #[error(
        "این رایانه پیش‌تر در سرور استان ثبت شده است؛ برای ثبت دوباره، کد ثبت ویژه همین میز را از کارشناس استان بگیرید."
    )]
    AlreadyEnrolled,
    #[error("گواهی ریشه انتخاب‌شده خوانا نیست: {0}")]
    Certificate(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("پایگاه داده میز در دسترس نیست؛ برنامه را دوباره باز کنید.")]
    DeskUnavailable,
}

pub type Result<T, E = SyncError> = std::result::Result<T, E>;

/// HTTP access to one provincial server.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    base: String,
}

/// The environment variable naming a PEM file of root certificates the
/// desk trusts besides the system's and the public ones: a province whose
/// server's certificate comes from its own CA.
pub const EXTRA_CA_VAR: &str = "KANOON_SERVER_CA_FILE";

impl Client {
    /// `extra_root_pem`: root certificates (PEM, one or more) to trust
    /// besides the system's and the public ones (servers inside Iran may
    /// use a domestic CA). `https://` servers; `http://` is for loopback.
    pub fn new(server: &str, extra_root_pem: Option<&[u8]>) -> Result<Self> {
        let mut builder =
            reqwest::Client::builder().connect_timeout(Duration::from_secs(10)).timeout(Duration::from_secs(60));
        if let Some(pem) = extra_root_pem {
            let certs =
                reqwest::Certificate::from_pem_bundle(pem).map_err(|e| SyncError::Certificate(e.to_string()))?;
            if certs.is_empty() {
                return Err(SyncError::Certificate("هیچ گواهی PEM در آن نیست".to_owned()));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder.build().map_err(|e| match extra_root_pem {
            Some(_) => SyncError::Certificate(e.to_string()),
            None => SyncError::Unreachable(e.to_string()),
        })?;
        Ok(Client { http, base: server.trim_end_matches('/').to_owned() })
    }

    /// `new`, trusting also the certificates of the file `KANOON_SERVER_CA_FILE`
    /// names, when it is set (what the desktop app uses).
    pub fn from_env(server: &str) -> Result<Self> {
        let path = std::env::var_os(EXTRA_CA_VAR).filter(|p| !p.is_empty()).map(std::path::PathBuf::from);
        Self::with_ca_file(server, path.as_deref())
    }

    /// `new`, trusting also the certificates of the PEM file `ca_file`.
    pub fn with_ca_file(server: &str, ca_file: Option<&std::path::Path>) -> Result<Self> {
        let Some(path) = ca_file else {
            return Self::new(server, None);
        };
        let pem = std::fs::read(path).map_err(|e| SyncError::Certificate(format!("{}: {e}", path.display())))?;
        Self::new(server, Some(&pem))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{API_PREFIX}{path}", self.base)
    }

    async fn read<T: DeserializeOwned>(response: reqwest::Response) -> Result<T> {
        let status = response.status();
        if status.is_success() {
            return response.json().await.map_err(|e| SyncError::Unreachable(e.to_string()));
        }
        let body = response.bytes().await.unwrap_or_default();
        Err(refusal(status, &body))
    }

    /// `POST` of `body` as JSON to a path of the API (with the device's
    /// token, once it has one), the answer read as `T`.
    async fn post<T: DeserializeOwned>(&self, path: &str, token: Option<&str>, body: &impl Serialize) -> Result<T> {
        let mut request = self.http.post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        Self::read(request.send().await.map_err(unreachable)?).await
    }

    /// `GET` of a path of the API with the device's token and `query`, the
    /// answer read as `T`.
    async fn get<T: DeserializeOwned>(&self, path: &str, token: &str, query: &[(&str, String)]) -> Result<T> {
        let request = self.http.get(self.url(path)).bearer_auth(token).query(query);
        Self::read(request.send().await.map_err(unreachable)?).await
    }

    pub async fn enrol(&self, req: &EnrolRequest) -> Result<EnrolResponse> {
        self.post("/enrol", None, req).await
    }

    pub async fn push(&self, token: &str, ops: Vec<kanoon_protocol::Op>) -> Result<PushResponse> {
        self.post("/push", Some(token), &PushRequest { ops }).await
    }

    /// A page after `cursor`, read op by op (`Page`).
    pub async fn pull(&self, token: &str, cursor: Cursor, limit: usize) -> Result<Page> {
        let raw: page::RawPage =
            self.get("/pull", token, &[("cursor", cursor.to_string()), ("limit", limit.to_string())]).await?;
        Ok(raw.into())
    }
}

/// What a refused request means for the desk, by the server's error code.
fn refusal(status: reqwest::StatusCode, body: &[u8]) -> SyncError {
    let ErrorBody { code, message } = serde_json::from_slice(body).unwrap_or_else(|_| ErrorBody {
        // An older server or a proxy, or a code newer than this desk: the
        // status says what the desk can act on.
        code: ErrorCode::for_status(status.as_u16()),
        message: status.canonical_reason().unwrap_or("").to_owned(),
    });
    match code {
        // A used enrolment code reads to staff as a token refused: both
        // need a new code from the province.
        ErrorCode::Unauthorized | ErrorCode::EnrolCodeUnknown => SyncError::Unauthorized,
        ErrorCode::EnrolCodeOfOtherCenter => SyncError::WrongCenter,
        ErrorCode::DeviceRevoked => SyncError::Revoked,
        ErrorCode::DeviceAlreadyEnrolled => SyncError::AlreadyEnrolled,
        code => SyncError::Refused { status: status.as_u16(), code, message },
    }
}

fn unreachable(e: reqwest::Error) -> SyncError {
    SyncError::Unreachable(e.to_string())
}

fn lock(desk: &Mutex<Desk>) -> Result<MutexGuard<'_, Desk>> {
    desk.lock().map_err(|_| SyncError::DeskUnavailable)
}

/// Trades a one-time code for a device token and keeps it in the desk.
pub async fn enrol(desk: &Mutex<Desk>, client: &Client, server: &str, code: &str, device_name: &str) -> Result<()> {
    let (req, center_id) = {
        let d = lock(desk)?;
        let id = d.identity().ok_or(SyncError::Store(StoreError::NotSetUp))?;
        let req = EnrolRequest {
            code: code.trim().to_owned(),
            center_id: Some(id.center.id),
            device_id: id.device_id,
            desk_number: id.desk_number,
            device_name: device_name.to_owned(),
        };
        (req, id.center.id)
    };
    let done = client.enrol(&req).await?;
    if done.center_id != center_id {
        return Err(SyncError::WrongCenter);
    }
    lock(desk)?.set_sync_settings(&SyncSettings { server: server.to_owned(), token: done.token })?;
    Ok(())
}

/// What one round did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundReport {
    pub pushed: usize,
    pub rejected: usize,
    /// Ops the server did not take yet because their clock is ahead of its
    /// own (`clock_ahead`): still in the outbox, pushed again later.
    pub held: usize,
    pub pulled: usize,
    pub applied: ApplyReport,
    /// The member photo stream, after the ops.
    pub photos: PhotoReport,
}

/// Pushes the whole outbox in batches, then pulls every page after the
/// desk's cursor — a desk that has pulled nothing yet bootstraps from the
/// server's snapshot first; then the member photo stream (`sync_photos`).
/// The desk is locked only between network calls.
pub async fn sync_once(desk: &Mutex<Desk>, client: &Client) -> Result<RoundReport> {
    let token = lock(desk)?.sync_settings()?.ok_or(SyncError::NotEnrolled)?.token;
    let mut report = RoundReport::default();
    let mut pushed_any = false;
    loop {
        let ops = lock(desk)?.ops_to_push(MAX_PUSH_OPS)?;
        if ops.is_empty() {
            break;
        }
        pushed_any = true;
        let answer = client.push(&token, ops).await?;
        let mut d = lock(desk)?;
        let stored: Vec<_> = answer.accepted.iter().chain(&answer.duplicates).copied().collect();
        d.mark_pushed(&stored)?;
        // An op stamped ahead of the server's clock stays in the outbox
        // and goes again in a later round; the others refused are set aside.
        let (held, refused): (Vec<_>, Vec<_>) = answer.rejected.into_iter().partition(RejectedOp::is_held);
        d.set_aside(&refused)?;
        // Whether this desk's clock is ahead of the server's: while it is,
        // the desk warns and records no circulation.
        d.note_server_clock(answer.server_time_ms, !held.is_empty())?;
        report.pushed += stored.len();
        report.rejected += refused.len();
        report.held = held.len();
        if stored.is_empty() && refused.is_empty() {
            // Only held ops wait at the head of the outbox: on with the pull.
            break;
        }
    }
    if !pushed_any && lock(desk)?.clock_warning().is_some() {
        // A desk whose clock was ahead records nothing to push: an empty
        // push asks the server's time, so a fixed clock is seen.
        let answer = client.push(&token, Vec::new()).await?;
        lock(desk)?.note_server_clock(answer.server_time_ms, false)?;
    }
    if lock(desk)?.never_pulled()? {
        match bootstrap(desk, client).await {
            Ok(done) => {
                report.pulled += done.received;
                add(&mut report.applied, &done.applied);
            }
            // An older server without snapshots: the desk pulls from the start.
            Err(SyncError::Refused { code: ErrorCode::NotFound, .. }) => {}
            Err(e) => return Err(e),
        }
    }
    loop {
        let cursor = lock(desk)?.sync_cursor()?.unwrap_or_default();
        let page = client.pull(&token, cursor, PULL_PAGE).await?;
        report.pulled += page.ops.len();
        report.pulled += page.unreadable.len();
        // Chunk by chunk, the desk locked for one at a time: a staff call
        // waiting for the desk takes it between two chunks.
        let applied = apply_pulled_shared(|| lock(desk), &page.ops, &page.unreadable, page.cursor)?;
        // A desk started from a snapshot pulls the whole log once more
        // when a void names history it lacks: on until caught up.
        let rewound = lock(desk)?.sync_cursor()? != Some(page.cursor);
        add(&mut report.applied, &applied);
        if !page.more && !rewound {
            break;
        }
    }
    report.photos = sync_photos(desk, client, &token).await?;
    Ok(report)
}

fn add(total: &mut ApplyReport, page: &ApplyReport) {
    total.applied += page.applied;
    total.own += page.own;
    total.duplicates += page.duplicates;
    total.kept += page.kept;
    total.exceptions += page.exceptions;
}

/// Delays between failed rounds: exponential from `base` up to `max`, with
/// full jitter so 49 centers coming back online do not retry in step.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { base: Duration::from_secs(2), max: Duration::from_secs(300) }
    }
}

impl Backoff {
    /// The longest wait after `failures` failed rounds in a row.
    pub fn ceiling(&self, failures: u32) -> Duration {
        let factor = 1u32.checked_shl(failures.min(16)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// A random wait in 0..=ceiling.
    pub fn delay(&self, failures: u32) -> Duration {
        let ceiling = self.ceiling(failures).as_millis().min(u128::from(u64::MAX)) as u64;
        Duration::from_millis(rand::rng().random_range(0..=ceiling))
    }
}

/// Syncs every `every` while the server answers, backing off while it does
/// not, until `stop` turns true. Each round's outcome goes to `status`.
pub async fn run(
    desk: Arc<Mutex<Desk>>,
    client: Client,
    every: Duration,
    backoff: Backoff,
    status: watch::Sender<Option<Result<RoundReport, String>>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut failures = 0u32;
    loop {
        let outcome = sync_once(&desk, &client).await;
        let wait = match &outcome {
            Ok(_) => {
                failures = 0;
                every
            }
            Err(_) => {
                failures = failures.saturating_add(1);
                backoff.delay(failures)
            }
        };
        let _ = status.send(Some(outcome.map_err(|e| e.to_string())));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_to_its_ceiling_and_jitters_below_it() {
        let b = Backoff { base: Duration::from_secs(2), max: Duration::from_secs(300) };
        assert_eq!(b.ceiling(0), Duration::from_secs(2));
        assert_eq!(b.ceiling(3), Duration::from_secs(16));
        assert_eq!(b.ceiling(40), Duration::from_secs(300));
        for f in 0..20 {
            assert!(b.delay(f) <= b.ceiling(f));
        }
    }

    #[test]
    fn an_extra_ca_that_is_not_a_certificate_is_refused_in_persian() {
        for pem in [&b"not a certificate"[..], b""] {
            let refused = Client::new("https://sync.example.ir", Some(pem)).err();
            assert!(matches!(&refused, Some(SyncError::Certificate(_))), "{refused:?}");
            assert!(refused.is_some_and(|e| e.to_string().contains("گواهی ریشه")));
        }
        let missing =
            Client::with_ca_file("https://sync.example.ir", Some(std::path::Path::new("/nonexistent/ca.pem")));
        assert!(matches!(missing, Err(SyncError::Certificate(detail)) if detail.contains("/nonexistent/ca.pem")));
        assert!(Client::with_ca_file("https://sync.example.ir", None).is_ok());
    }

    #[test]
    fn a_refusal_is_read_by_its_code_never_its_message() {
        use reqwest::StatusCode;
        let body = |code: &str, message: &str| format!(r#"{{"code":"{code}","message":"{message}"}}"#).into_bytes();
        let wrong = body("enrol_code_of_other_center", "anything at all");
        assert!(matches!(refusal(StatusCode::CONFLICT, &wrong), SyncError::WrongCenter));
        assert!(matches!(refusal(StatusCode::UNAUTHORIZED, &body("enrol_code_unknown", "")), SyncError::Unauthorized));
        assert!(matches!(refusal(StatusCode::UNAUTHORIZED, &body("device_revoked", "")), SyncError::Revoked));
        let enrolled = refusal(StatusCode::CONFLICT, &body("device_already_enrolled", ""));
        assert!(matches!(enrolled, SyncError::AlreadyEnrolled));
        let other = refusal(StatusCode::FORBIDDEN, &body("op_of_other_center", "m"));
        assert!(matches!(other, SyncError::Refused { status: 403, code: ErrorCode::OpOfOtherCenter, .. }));
        // An older server's coarse code: its message is not read.
        let old = refusal(StatusCode::CONFLICT, &body("conflict", "not the desk's center"));
        assert!(matches!(old, SyncError::Refused { code: ErrorCode::Conflict, .. }));
    }

    #[test]
    fn a_refusal_without_a_code_this_desk_reads_goes_by_its_status() {
        use reqwest::StatusCode;
        assert!(matches!(refusal(StatusCode::UNAUTHORIZED, b""), SyncError::Unauthorized));
        let missing = refusal(StatusCode::NOT_FOUND, b"<html>not found</html>");
        assert!(matches!(missing, SyncError::Refused { status: 404, code: ErrorCode::NotFound, .. }));
        let newer = refusal(StatusCode::PAYLOAD_TOO_LARGE, br#"{"code":"a_code_of_later","message":"m"}"#);
        assert!(matches!(newer, SyncError::Refused { code: ErrorCode::TooLarge, .. }));
        let proxy = refusal(StatusCode::BAD_GATEWAY, b"");
        assert!(matches!(proxy, SyncError::Refused { status: 502, code: ErrorCode::Internal, .. }));
    }
}
