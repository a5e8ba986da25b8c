//! The HTTP face of the server (axum): the sync API under `API_PREFIX`
//! (with its OpenAPI document), `/health` and `/metrics`. Every error is an
//! `AppError` (JSON `{code, message}`); every request is logged with its
//! status and duration, counted in the metrics, and cut off after the time
//! limit of its `Limits` (default `REQUEST_TIMEOUT`); bodies are limited to
//! `Limits::body_bytes` (default `BODY_LIMIT`, counted after gzip request
//! bodies are inflated); responses are gzip'd for clients that accept it.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, ExtensionRejection, JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, MatchedPath, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use kanoon_protocol::photos::{DEFAULT_PHOTO_PAGE, MAX_PHOTO_PAGE, PhotoBody, PhotoPage, PhotoPushResponse};
use kanoon_protocol::wire::{
    API_PREFIX, Cursor, EnrolRequest, EnrolResponse, MAX_PUSH_OPS, PullResponse, PushResponse,
};
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{AppError, ErrorCode};
use crate::listen::{ConnectionLimits, serve_connections};
use crate::metrics::Metrics;
use crate::openapi::{self, ApiDoc, ErrorBody};
use crate::storage::rules::batch_too_large;
use crate::storage::{DEFAULT_PULL_LIMIT, DeviceAuth, IncomingOp, MAX_PULL_LIMIT, SnapshotSink, Storage};
use crate::throttle::EnrolThrottle;
use crate::tls::ServerTls;

/// Largest request body by default (a full push batch of 500 ops is ~0.5 MiB).
pub const BODY_LIMIT: usize = 8 * 1024 * 1024;

/// Longest a request may take by default, body upload included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Snapshots served at once by default (`--max-snapshots`); beyond, 503 `busy`.
pub const MAX_SNAPSHOTS: usize = 4;

/// Bytes of a snapshot's body sent at a time, and chunks queued between
/// the storage read and the connection: what one snapshot holds of its
/// body, whatever the center's size.
const SNAPSHOT_CHUNK: usize = 64 * 1024;
const SNAPSHOT_CHUNKS_QUEUED: usize = 4;

/// A client that takes no chunk of its snapshot for this long is dropped
/// (its read transaction and its slot are freed).
const SNAPSHOT_STALL: Duration = Duration::from_secs(60);

/// Seconds a client refused `busy` is told to wait (`Retry-After`).
const BUSY_RETRY_AFTER: &str = "30";

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/sync/v1/openapi.json";

/// What the server allows a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body, in bytes (413 beyond).
    pub body_bytes: usize,
    /// Longest a request may take, body upload included (503 `timeout` beyond).
    pub request_timeout: Duration,
    /// Snapshots served at once (503 `busy` beyond).
    pub max_snapshots: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { body_bytes: BODY_LIMIT, request_timeout: REQUEST_TIMEOUT, max_snapshots: MAX_SNAPSHOTS }
    }
}

#[derive(Clone)]
struct AppState {
    storage: Arc<dyn Storage>,
    throttle: Arc<EnrolThrottle>,
    metrics: Metrics,
    openapi: Arc<str>,
    /// One permit per snapshot being served.
    snapshots: Arc<tokio::sync::Semaphore>,
}

#[derive(Clone)]
struct Observe {
    limits: Limits,
    metrics: Metrics,
}

/// The server's routes with their OpenAPI description (no state yet): the
/// API's, and the admin address's (`/metrics`), one document for both.
fn routes() -> (Router<AppState>, Router<AppState>, utoipa::openapi::OpenApi) {
    let sync = OpenApiRouter::new()
        .routes(routes!(enrol))
        .routes(routes!(push))
        .routes(routes!(pull))
        .routes(routes!(snapshot))
        .routes(routes!(put_photo, photos_after))
        .routes(routes!(openapi_json));
    let (api_routes, mut api) =
        OpenApiRouter::with_openapi(ApiDoc::openapi()).nest(API_PREFIX, sync).routes(routes!(health)).split_for_parts();
    let (admin_routes, admin) = OpenApiRouter::new().routes(routes!(metrics)).routes(routes!(health)).split_for_parts();
    api.merge(admin);
    (api_routes, admin_routes, api)
}

/// The OpenAPI document of the routes `router` and `admin_router` serve.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    routes().2
}

/// The server's routes over `storage`, with the default `Limits`.
pub fn router(storage: Arc<dyn Storage>) -> Result<Router, AppError> {
    router_with_limits(storage, Limits::default())
}

/// The server's routes over `storage`, with these limits.
pub fn router_with_limits(storage: Arc<dyn Storage>, limits: Limits) -> Result<Router, AppError> {
    Ok(routers(storage, limits)?.0)
}

/// The API's router and the admin address's (`/metrics`, `/health`), over
/// one storage and one set of metrics. The admin router is served on an
/// address of its own (loopback by default), never on the API's port.
pub fn routers(storage: Arc<dyn Storage>, limits: Limits) -> Result<(Router, Router), AppError> {
    let (routes, admin_routes, api) = routes();
    let openapi = api.to_json().map_err(|e| AppError::internal(format!("OpenAPI document to JSON: {e}")))?.into();
    let metrics = Metrics::new()?;
    let snapshots = Arc::new(tokio::sync::Semaphore::new(limits.max_snapshots.max(1)));
    let state = AppState { storage, throttle: Arc::default(), metrics: metrics.clone(), openapi, snapshots };
    let admin =
        admin_routes.fallback(not_found).method_not_allowed_fallback(method_not_allowed).with_state(state.clone());
    let api = routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limits.body_bytes))
        .layer(middleware::from_fn_with_state(Observe { limits, metrics: metrics.clone() }, observe))
        // Outermost: a gzip'd request body is inflated before any limit
        // counts it; an unknown encoding passes through (then 400 as JSON).
        .layer(RequestDecompressionLayer::new().pass_through_unaccepted(true))
        .layer(CompressionLayer::new())
        .with_state(state);
    Ok((api, admin))
}

/// Serves `router(storage)` on `listener` until Ctrl-C or SIGTERM, then
/// closes idle connections and finishes the requests in flight (`listen`).
pub async fn serve(listener: TcpListener, storage: Arc<dyn Storage>) -> io::Result<()> {
    serve_with_shutdown(listener, storage, shutdown_signal()).await
}

/// Serves until `shutdown` completes (tests pass their own signal).
pub async fn serve_with_shutdown(
    listener: TcpListener,
    storage: Arc<dyn Storage>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_with_limits(listener, storage, ConnectionLimits::default(), shutdown).await
}

/// Serves with these connection limits until `shutdown` completes.
pub async fn serve_with_limits(
    listener: TcpListener,
    storage: Arc<dyn Storage>,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_with_admin(listener, None, storage, limits, shutdown).await
}

/// Serves the API on `listener` and, when given, the admin routes
/// (`/metrics`) on `admin`, until `shutdown` completes.
pub async fn serve_with_admin(
    listener: TcpListener,
    admin: Option<TcpListener>,
    storage: Arc<dyn Storage>,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_with_tls(listener, admin, storage, limits, None, shutdown).await
}

/// As `serve_with_admin`, the API over TLS when `tls` is given (the admin
/// address stays plain HTTP: loopback by default).
pub async fn serve_with_tls(
    listener: TcpListener,
    admin: Option<TcpListener>,
    storage: Arc<dyn Storage>,
    limits: ConnectionLimits,
    tls: Option<ServerTls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_with_request_limits(listener, admin, storage, limits, Limits::default(), tls, shutdown).await
}

/// As `serve_with_tls`, with these request limits (`--max-snapshots`).
pub async fn serve_with_request_limits(
    listener: TcpListener,
    admin: Option<TcpListener>,
    storage: Arc<dyn Storage>,
    limits: ConnectionLimits,
    request_limits: Limits,
    tls: Option<ServerTls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let addr = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(%addr, scheme, epoch = storage.epoch(), "serving the sync API");
    let (app, admin_app) = routers(storage, request_limits).map_err(io::Error::other)?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let admin_task = match admin {
        Some(admin) => {
            tracing::info!(addr = %admin.local_addr()?, "serving /metrics");
            let mut stopped = stopped.clone();
            let admin_limits = ConnectionLimits { max_connections: 16, ..limits };
            Some(tokio::spawn(serve_connections(admin, admin_app, admin_limits, None, async move {
                let _ = stopped.changed().await;
            })))
        }
        None => None,
    };
    let served = serve_connections(listener, app, limits, tls, shutdown).await;
    let _ = stop.send(true);
    drop(stopped);
    if let Some(task) = admin_task {
        task.await.map_err(io::Error::other)??;
    }
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// Logs every request (never its headers: they carry the token), records
/// its duration by route and status, and cuts off one that runs past the
/// time limit. (A storage call already running on the blocking pool still
/// finishes; every write is idempotent.)
async fn observe(State(observe): State<Observe>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    // The route, not the path: unknown paths must not grow the metrics.
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |m| m.as_str()).to_owned();
    let started = Instant::now();
    let response = match tokio::time::timeout(observe.limits.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => AppError::timeout().into_response(),
    };
    let status = response.status().as_u16();
    let took = started.elapsed();
    observe.metrics.request(method.as_str(), &route, status, took);
    let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
    if response.status().is_server_error() {
        tracing::warn!(%method, path, status, micros, "request");
    } else {
        tracing::info!(%method, path, status, micros, "request");
    }
    response
}

/// Runs a storage call on the blocking pool.
async fn blocking<T: Send + 'static>(
    storage: &Arc<dyn Storage>,
    f: impl FnOnce(&dyn Storage) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let storage = Arc::clone(storage);
    tokio::task::spawn_blocking(move || f(storage.as_ref()))
        .await
        .map_err(|e| AppError::internal(format!("storage task: {e}")))?
}

/// The device whose bearer token came with the request (401 otherwise).
struct Device(DeviceAuth);

impl FromRequestParts<AppState> for Device {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim().to_owned())
            .filter(|token| !token.is_empty())
            .ok_or_else(|| AppError::unauthorized("missing bearer token"))?;
        blocking(&state.storage, move |s| s.device_for_token(&token))
            .await?
            .map(Device)
            .ok_or_else(|| AppError::unauthorized("unknown device token: enrol again"))
    }
}

fn body_error(status: StatusCode, text: String) -> AppError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::too_large("request body over the size limit")
    } else {
        AppError::bad_request(text)
    }
}

fn json_rejection(r: JsonRejection) -> AppError {
    body_error(r.status(), r.body_text())
}

fn bytes_rejection(r: BytesRejection) -> AppError {
    body_error(r.status(), r.body_text())
}

/// `POST /sync/v1/enrol`: an `EnrolRequest` for an `EnrolResponse`.
#[utoipa::path(
    post,
    path = "/enrol",
    tag = "sync",
    summary = "Trade a one-time enrolment code for a device token",
    request_body(content = openapi::EnrolRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Enrolled: the token is shown only now.", body = openapi::EnrolResponse),
        (status = 400, description = "`bad_request`: not JSON, a missing or invalid field (desk number 1–99, device name 1–200 characters).", body = ErrorBody),
        (status = 401, description = "`enrol_code_unknown`: unknown, used or expired enrolment code, or one made for another device.", body = ErrorBody),
        (status = 409, description = "`enrol_code_of_other_center`: the code is for another center than the desk's; `device_of_other_center`: the device is enrolled at another center; `device_already_enrolled`: the device is enrolled and the code was not made for it (`enrol-code --device`); `desk_number_taken`: another device of the center has the desk number. The code stays unused.", body = ErrorBody),
        (status = 413, description = "`too_large`: body over the size limit.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: more than 10 wrong codes in a minute from this address; wait a minute.", body = ErrorBody),
        (status = 500, description = "`internal`: a fault of the server (details in its log).", body = ErrorBody),
        (status = 503, description = "`timeout`: the request took too long.", body = ErrorBody),
    ),
)]
async fn enrol(
    State(state): State<AppState>,
    peer: Result<ConnectInfo<SocketAddr>, ExtensionRejection>,
    body: Result<Json<EnrolRequest>, JsonRejection>,
) -> Result<Json<EnrolResponse>, AppError> {
    // Served without the accept loop (a router in a test): no address, no count.
    let ip = peer.ok().map(|ConnectInfo(addr)| addr.ip());
    if let Some(ip) = ip {
        state.throttle.check(ip)?;
    }
    let Json(request) = body.map_err(json_rejection)?;
    let response = match blocking(&state.storage, move |s| s.enrol(&request)).await {
        Err(e) if e.code == ErrorCode::EnrolCodeUnknown => {
            if let Some(ip) = ip {
                state.throttle.wrong_code(ip);
            }
            return Err(e);
        }
        other => other?,
    };
    state.metrics.enrolled();
    tracing::info!(center = %response.center_code, "device enrolled");
    Ok(Json(response))
}

/// The body of a push as read: a `PushRequest` whose ops are kept as the
/// exact text received.
#[derive(Deserialize)]
struct RawPushRequest<'a> {
    #[serde(borrow)]
    ops: Vec<&'a RawValue>,
}

/// `POST /sync/v1/push`: a `PushRequest` for a `PushResponse`.
#[utoipa::path(
    post,
    path = "/push",
    tag = "sync",
    summary = "Store a batch of ops, each once by id",
    description = "All in one transaction. New ops are `accepted`, ops already stored with the same content are \
                   `duplicates` (resending is always safe), an op id stored with other content is `rejected` and \
                   the stored op kept. An op that changes another center's record (`not_owner`: a `center` patch \
                   of another center, an edit or merge of a title another center created), is outside the op \
                   bounds (`op_too_large`: over 64 KiB; `op_out_of_bounds`: nested deeper than 32, an entity name \
                   not `[a-z][a-z0-9_]*`, a string over 8,192 characters) or is stamped more than 5 minutes ahead \
                   of the server's clock (`clock_ahead`: keep it and push it again later) is `rejected` with that \
                   `code`, the rest stored. A batch with an op of another center or device (403), of schema \
                   version 0 (422) or over the limits (413) is refused whole: nothing is stored.",
    request_body(content = openapi::PushRequest, content_type = "application/json"),
    security(("device_token" = [])),
    responses(
        (status = 200, description = "Every op of the batch, accepted, duplicate or rejected.", body = openapi::PushResponse),
        (status = 400, description = "`bad_request`: not JSON, not a push request, or an op that does not parse; nothing stored.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: missing or unknown bearer token; `device_revoked`: the province revoked this device.", body = ErrorBody),
        (status = 403, description = "`op_of_other_center`: an op of another center; `op_of_other_device`: an op written by another device. Nothing stored.", body = ErrorBody),
        (status = 413, description = "`too_large`: body over the size limit (8 MiB); `batch_too_large`: more than 500 ops. Nothing stored.", body = ErrorBody),
        (status = 422, description = "`unsupported_schema`: an op of schema version 0; nothing stored.", body = ErrorBody),
        (status = 500, description = "`internal`: a fault of the server (details in its log).", body = ErrorBody),
        (status = 503, description = "`timeout`: the request took too long (resend: pushes are idempotent).", body = ErrorBody),
    ),
)]
async fn push(
    State(state): State<AppState>,
    Device(device): Device,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<PushResponse>, AppError> {
    let body = body.map_err(bytes_rejection)?;
    let raw: RawPushRequest<'_> =
        serde_json::from_slice(&body).map_err(|e| AppError::bad_request(format!("not a push request: {e}")))?;
    if raw.ops.len() > MAX_PUSH_OPS {
        return Err(batch_too_large(raw.ops.len()));
    }
    let ops = raw
        .ops
        .iter()
        .enumerate()
        .map(|(i, op)| IncomingOp::parse(op.get()).map_err(|e| AppError::new(e.code, format!("op {i}: {}", e.message))))
        .collect::<Result<Vec<_>, _>>()?;
    let count = ops.len();
    let response = blocking(&state.storage, move |s| s.push(device.center_id, device.device_id, &ops)).await?;
    state.metrics.pushed(&response);
    tracing::info!(
        device = %device.device_id,
        ops = count,
        accepted = response.accepted.len(),
        duplicates = response.duplicates.len(),
        rejected = response.rejected.len(),
        "push"
    );
    Ok(Json(response))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PullParams {
    /// The `cursor` of the last page (`epoch:seq`); none or empty = from the start.
    #[param(pattern = r"^([0-9]+:[0-9]+)?$", example = "4451093:1200")]
    cursor: Option<String>,
    /// Ops per page, default 500; values outside 1–2000 are clamped.
    #[param(minimum = 0)]
    limit: Option<usize>,
}

/// `GET /sync/v1/pull?cursor=E:S&limit=N`: a `PullResponse`. No cursor =
/// from the start; `limit` defaults to `DEFAULT_PULL_LIMIT`, at most
/// `MAX_PULL_LIMIT`.
#[utoipa::path(
    get,
    path = "/pull",
    tag = "sync",
    summary = "The ops of the device's center and the province-wide ones after a cursor",
    description = "Also the ops that travel with a copy the device's center holds or has held — the copy's record \
                   and its transfers (and voids of those), whichever center wrote them; a center a copy is \
                   transferred to gets the copy's earlier ones after its cursor. Loans, returns and renewals stay \
                   with the center they happen at.",
    params(PullParams),
    security(("device_token" = [])),
    responses(
        (status = 200, description = "A page of ops in log order, the cursor after it, and whether more wait.", body = openapi::PullResponse),
        (status = 400, description = "`bad_request`: a cursor that is not `epoch:seq`, or a limit that is not a number.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: missing or unknown bearer token; `device_revoked`: the province revoked this device.", body = ErrorBody),
        (status = 409, description = "`stale_cursor`: the cursor is of another epoch or past the end of the log: bootstrap again.", body = ErrorBody),
        (status = 500, description = "`internal`: a fault of the server (details in its log).", body = ErrorBody),
        (status = 503, description = "`timeout`: the request took too long.", body = ErrorBody),
    ),
)]
async fn pull(
    State(state): State<AppState>,
    Device(device): Device,
    params: Result<Query<PullParams>, QueryRejection>,
) -> Result<Json<PullResponse>, AppError> {
    let Query(params) = params.map_err(|e| AppError::bad_request(e.body_text()))?;
    let cursor = match params.cursor.as_deref() {
        None | Some("") => Cursor::default(),
        Some(c) => c.parse().map_err(|e: kanoon_protocol::wire::BadCursor| AppError::bad_request(e.to_string()))?,
    };
    let limit = params.limit.unwrap_or(DEFAULT_PULL_LIMIT).clamp(1, MAX_PULL_LIMIT);
    let response = blocking(&state.storage, move |s| s.pull(device.center_id, cursor, limit)).await?;
    state.metrics.pulled(response.ops.len());
    tracing::debug!(device = %device.device_id, ops = response.ops.len(), more = response.more, "pull");
    Ok(Json(response))
}

/// `GET /sync/v1/snapshot`: a `SnapshotResponse` — what a new or
/// reinstalled desk starts from instead of pulling the whole log.
#[utoipa::path(
    get,
    path = "/snapshot",
    tag = "sync",
    summary = "What a new or reinstalled desk starts from: records and still-open events, with the cursor after them",
    description = "Read in one consistent snapshot of the log: every record op (members, titles, copies, centers, \
                   staff, settings, …) of the device's center and the province-wide ones, the record and transfers \
                   of every copy the center holds or has held, and of the events only \
                   those derived state still needs — open loans with their renewals, current membership periods, \
                   transfers, voids of those, returns and renewals of loans not in the log, and every event this \
                   server does not understand. Returned loans and expired periods stay on the server. The desk \
                   applies it once, then pulls after `cursor`. Records come first, then events, each in log order. \
                   Large (a 60,000-copy center: tens of MB of JSON; gzip'd when asked), so it is streamed as it \
                   is read: a body cut short is a failed snapshot, to be asked for again.",
    security(("device_token" = [])),
    responses(
        (status = 200, description = "The snapshot and the cursor to pull after.", body = openapi::SnapshotResponse),
        (status = 400, description = "`bad_request`: a malformed request.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: missing or unknown bearer token; `device_revoked`: the province revoked this device.", body = ErrorBody),
        (status = 500, description = "`internal`: a fault of the server (details in its log).", body = ErrorBody),
        (status = 503, description = "`busy`: the server is serving as many snapshots as it allows at once (`--max-snapshots`); try again after `Retry-After` seconds. `timeout`: the request took too long.", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before asking again (with `busy`)."))),
    ),
)]
async fn snapshot(
    State(state): State<AppState>,
    Device(device): Device,
    headers: header::HeaderMap,
) -> Result<Response, AppError> {
    // A slot, or 503 at once: each snapshot holds a read transaction and
    // a few chunks of its body while its client reads.
    let Ok(permit) = Arc::clone(&state.snapshots).try_acquire_owned() else {
        let mut response = AppError::busy().into_response();
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(BUSY_RETRY_AFTER));
        return Ok(response);
    };
    let gzip = accepts_gzip(&headers);
    let (chunks, body) = tokio::sync::mpsc::channel(SNAPSHOT_CHUNKS_QUEUED);
    let (started, start) = tokio::sync::oneshot::channel();
    let (storage, metrics, runtime) =
        (Arc::clone(&state.storage), state.metrics.clone(), tokio::runtime::Handle::current());
    // The read runs on the blocking pool and hands the body over in
    // chunks through a bounded queue: it waits while the client is slow,
    // and stops when the client goes away (the queue closes).
    tokio::task::spawn_blocking(move || {
        let _slot = permit;
        let mut sink = BodySink::new(chunks, runtime, gzip, started);
        let read = storage.snapshot_into(device.center_id, &mut sink);
        match read.and_then(|()| sink.finish()) {
            Ok(bytes) => {
                metrics.pulled(sink.ops);
                tracing::info!(device = %device.device_id, ops = sink.ops, bytes, gzip, "snapshot");
            }
            Err(e) => sink.fail(e),
        }
    });
    // Failures before the cursor is known are answered as errors; later
    // ones cut the body short, which the desk reads as unreadable and
    // asks for again (nothing is applied from an incomplete snapshot).
    match start.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e),
        Err(_) => return Err(AppError::internal("the snapshot task ended before its first byte")),
    }
    let mut response = Response::new(axum::body::Body::new(ChunkBody(body)));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gzip {
        // Set here, so the compression layer leaves the body as it is.
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(response)
}

/// Whether the request's `Accept-Encoding` names gzip (with a non-zero q).
fn accepts_gzip(headers: &header::HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |part| {
            let mut it = part.split(';');
            let name = it.next().unwrap_or("").trim();
            let zero = it.any(|p| matches!(p.trim().replace(' ', "").as_str(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            name.eq_ignore_ascii_case("gzip") && !zero
        },
    )
}

/// The body of a streamed snapshot: the chunks the read sends.
struct ChunkBody(tokio::sync::mpsc::Receiver<Result<Bytes, io::Error>>);

impl hyper::body::Body for ChunkBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, io::Error>>> {
        self.0.poll_recv(cx).map(|chunk| chunk.map(|c| c.map(hyper::body::Frame::data)))
    }
}

/// Writes a snapshot as `{"cursor":"…","ops":[…]}` (the format every desk
/// reads), gzip'd when asked, in chunks of `SNAPSHOT_CHUNK` bytes.
struct BodySink {
    chunks: tokio::sync::mpsc::Sender<Result<Bytes, io::Error>>,
    runtime: tokio::runtime::Handle,
    /// The body not sent yet: plain, or inside the gzip encoder.
    out: Out,
    started: Option<tokio::sync::oneshot::Sender<Result<(), AppError>>>,
    ops: usize,
    sent: usize,
}

enum Out {
    Plain(Vec<u8>),
    /// Fast level: on this 2-core class of server, level 6 costs more CPU
    /// than the bytes it saves are worth (the snapshot is mostly UUIDs).
    Gzip(Box<flate2::write::GzEncoder<Vec<u8>>>),
}

impl BodySink {
    fn new(
        chunks: tokio::sync::mpsc::Sender<Result<Bytes, io::Error>>,
        runtime: tokio::runtime::Handle,
        gzip: bool,
        started: tokio::sync::oneshot::Sender<Result<(), AppError>>,
    ) -> Self {
        let buffer = Vec::with_capacity(SNAPSHOT_CHUNK + 8 * 1024);
        let out = if gzip {
            Out::Gzip(Box::new(flate2::write::GzEncoder::new(buffer, flate2::Compression::fast())))
        } else {
            Out::Plain(buffer)
        };
        BodySink { chunks, runtime, out, started: Some(started), ops: 0, sent: 0 }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), AppError> {
        use std::io::Write as _;
        let buffered = match &mut self.out {
            Out::Plain(buffer) => {
                buffer.extend_from_slice(bytes);
                buffer.len()
            }
            Out::Gzip(encoder) => {
                encoder.write_all(bytes).map_err(|e| AppError::internal(format!("gzip: {e}")))?;
                encoder.get_ref().len()
            }
        };
        if buffered >= SNAPSHOT_CHUNK { self.send() } else { Ok(()) }
    }

    /// Sends what is buffered, waiting while the queue is full; a client
    /// gone, or one that takes nothing for `SNAPSHOT_STALL`, ends the read.
    fn send(&mut self) -> Result<(), AppError> {
        let buffer = match &mut self.out {
            Out::Plain(buffer) => buffer,
            Out::Gzip(encoder) => encoder.get_mut(),
        };
        if buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::copy_from_slice(buffer);
        buffer.clear();
        self.sent += chunk.len();
        let chunks = self.chunks.clone();
        let sent = self.runtime.block_on(tokio::time::timeout(SNAPSHOT_STALL, chunks.send(Ok(chunk))));
        match sent {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(AppError::new(ErrorCode::BadRequest, "the client closed the snapshot")),
            Err(_) => Err(AppError::timeout()),
        }
    }

    /// Ends the body; the bytes sent.
    fn finish(&mut self) -> Result<usize, AppError> {
        self.write(b"]}")?;
        if let Out::Gzip(encoder) = &mut self.out {
            // What deflate still holds, and the gzip trailer, into the buffer.
            encoder.try_finish().map_err(|e| AppError::internal(format!("gzip: {e}")))?;
        }
        self.send()?;
        Ok(self.sent)
    }

    /// A read that failed: an error response if nothing was sent yet, else
    /// the body cut short (the client sees an incomplete body).
    fn fail(&mut self, e: AppError) {
        tracing::warn!(code = e.code.as_str(), message = %e.message, "snapshot not served whole");
        match self.started.take() {
            Some(started) => {
                let _ = started.send(Err(e));
            }
            None => {
                let _ = self.chunks.try_send(Err(io::Error::other(e.message)));
            }
        }
    }
}

impl SnapshotSink for BodySink {
    fn cursor(&mut self, cursor: Cursor) -> Result<(), AppError> {
        if let Some(started) = self.started.take() {
            let _ = started.send(Ok(()));
        }
        self.write(format!("{{\"cursor\":\"{cursor}\",\"ops\":[").as_bytes())
    }

    fn op(&mut self, json: &str) -> Result<(), AppError> {
        if self.ops > 0 {
            self.write(b",")?;
        }
        self.ops += 1;
        self.write(json.as_bytes())
    }
}

/// `POST /sync/v1/photos`: one member photo (`PhotoBody`) for a
/// `PhotoPushResponse`.
#[utoipa::path(
    post,
    path = "/photos",
    tag = "sync",
    summary = "Keep a member's photo for the device's center",
    description = "Photos travel apart from the ops, one per request, after them and at low priority. The \
                   latest version of a member's photo — (`updated_at`, `device_id`) — is kept: an older or equal \
                   version is answered `newer_kept` (nothing stored; pull the newer one). Served only to the \
                   desks of the uploading device's center. The device and center kept are the token's, never \
                   the body's; an `updated_at` more than 5 minutes ahead of the server's clock is kept as the \
                   server's time.",
    request_body(content = openapi::PhotoBody, content_type = "application/json"),
    security(("device_token" = [])),
    responses(
        (status = 200, description = "Stored, or a newer version kept.", body = openapi::PhotoPushResponse),
        (status = 400, description = "`bad_request`: not JSON or not a photo; `bad_photo`: an image type other than JPEG/PNG/WebP or bytes that are not that type's (magic bytes), `updated_at` not RFC 3339 UTC with milliseconds, `data` not base64 or empty.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: missing or unknown bearer token; `device_revoked`: the province revoked this device.", body = ErrorBody),
        (status = 413, description = "`photo_too_large`: a photo over 2 MiB; `photo_quota_exceeded`: the center's photos would pass its quota (try again later); `too_large`: a body over the size limit.", body = ErrorBody),
        (status = 500, description = "`internal`: a fault of the server (details in its log).", body = ErrorBody),
        (status = 503, description = "`timeout`: the request took too long (resend: uploads are idempotent).", body = ErrorBody),
    ),
)]
async fn put_photo(
    State(state): State<AppState>,
    Device(device): Device,
    body: Result<Json<PhotoBody>, JsonRejection>,
) -> Result<Json<PhotoPushResponse>, AppError> {
    let Json(photo) = body.map_err(json_rejection)?;
    let member = photo.member_id;
    let outcome = blocking(&state.storage, move |s| s.put_photo(device.center_id, device.device_id, &photo)).await?;
    tracing::info!(device = %device.device_id, %member, ?outcome, "photo");
    Ok(Json(PhotoPushResponse { outcome }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PhotoParams {
    /// The `after` of the last page; none = from the start.
    #[param(minimum = 0)]
    after: Option<u64>,
    /// Photos per page, default 20; values outside 1–50 are clamped.
    #[param(minimum = 0)]
    limit: Option<usize>,
}

/// `GET /sync/v1/photos?after=N&limit=M`: a `PhotoPage`.
#[utoipa::path(
    get,
    path = "/photos",
    tag = "sync",
    summary = "The photos of the device's center changed after a position",
    params(PhotoParams),
    security(("device_token" = [])),
    responses(
        (status = 200, description = "A page of photos, oldest change first, the position after it, and whether more wait.", body = openapi::PhotoPage),
        (status = 400, description = "`bad_request`: `after` or `limit` not a number.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: missing or unknown bearer token; `device_revoked`: the province revoked this device.", body = ErrorBody),
        (status = 500, description = "`internal`: a fault of the server (details in its log).", body = ErrorBody),
        (status = 503, description = "`timeout`: the request took too long.", body = ErrorBody),
    ),
)]
async fn photos_after(
    State(state): State<AppState>,
    Device(device): Device,
    params: Result<Query<PhotoParams>, QueryRejection>,
) -> Result<Json<PhotoPage>, AppError> {
    let Query(params) = params.map_err(|e| AppError::bad_request(e.body_text()))?;
    let after = params.after.unwrap_or(0);
    let limit = params.limit.unwrap_or(DEFAULT_PHOTO_PAGE).clamp(1, MAX_PHOTO_PAGE);
    let page = blocking(&state.storage, move |s| s.photos_after(device.center_id, after, limit)).await?;
    tracing::debug!(device = %device.device_id, photos = page.photos.len(), more = page.more, "photos");
    Ok(Json(page))
}

/// `GET /sync/v1/openapi.json`: this document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    summary = "This OpenAPI document",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of this server.", content_type = "application/json"),
        (status = 503, description = "`timeout`: the request took too long.", body = ErrorBody),
    ),
)]
async fn openapi_json(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], state.openapi.to_string()).into_response()
}

/// `GET /health`: `{"status":"ok"}` when the storage answers.
#[utoipa::path(
    get,
    path = "/health",
    tag = "operations",
    summary = "Whether the server and its storage answer",
    responses(
        (status = 200, description = "The storage answers.", body = openapi::Health),
        (status = 500, description = "`internal`: the storage does not answer.", body = ErrorBody),
        (status = 503, description = "`timeout`: the storage took too long.", body = ErrorBody),
    ),
)]
async fn health(State(state): State<AppState>) -> Result<Json<serde_json::Value>, AppError> {
    blocking(&state.storage, |s| s.health()).await?;
    Ok(Json(serde_json::json!({ "status": "ok" })))
}

/// `GET /metrics`: Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    summary = "Prometheus metrics",
    description = "Served on the admin address (`--admin-listen`, loopback by default), never on the API's port. \
                   Counters of ops (accepted, duplicate, rejected), pushes, pulls and enrolments, request \
                   durations by route and status, and the length of the op log.",
    responses(
        (status = 200, description = "Prometheus text exposition format 0.0.4.", body = String, content_type = "text/plain; version=0.0.4"),
        (status = 500, description = "`internal`: the storage does not answer.", body = ErrorBody),
        (status = 503, description = "`timeout`: the request took too long.", body = ErrorBody),
    ),
)]
async fn metrics(State(state): State<AppState>) -> Result<Response, AppError> {
    let log_length = blocking(&state.storage, |s| s.log_length()).await?;
    let text = state.metrics.render(log_length)?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"))], text)
        .into_response())
}

/// A known path with another method: a JSON error like every other.
async fn method_not_allowed() -> AppError {
    AppError::new(ErrorCode::MethodNotAllowed, "this path does not take this HTTP method")
}

/// Any other path, an unknown API version among them.
async fn not_found() -> AppError {
    AppError::not_found(format!("no such path (this server speaks the sync API at {API_PREFIX})"))
}
