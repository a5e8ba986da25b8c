//! The HTTP face of the server (axum): the sync API under `API_PREFIX` and
//! `/health`. Every error is an `AppError` (JSON `{code, message}`); every
//! request is logged with its status and duration and cut off after the
//! time limit of its `Limits` (default `REQUEST_TIMEOUT`); bodies are
//! limited to `Limits::body_bytes` (default `BODY_LIMIT`).

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kanoon_protocol::wire::{
    API_PREFIX, Cursor, EnrolRequest, EnrolResponse, MAX_PUSH_OPS, PullResponse, PushResponse,
};
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::net::TcpListener;

use crate::error::AppError;
use crate::storage::{DEFAULT_PULL_LIMIT, DeviceAuth, IncomingOp, MAX_PULL_LIMIT, Storage};

/// Largest request body by default (a full push batch is far smaller).
pub const BODY_LIMIT: usize = 8 * 1024 * 1024;

/// Longest a request may take by default, body upload included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What the server allows a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body, in bytes (413 beyond).
    pub body_bytes: usize,
    /// Longest a request may take, body upload included (503 `timeout` beyond).
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self { body_bytes: BODY_LIMIT, request_timeout: REQUEST_TIMEOUT }
    }
}

#[derive(Clone)]
struct AppState {
    storage: Arc<dyn Storage>,
}

/// The server's routes over `storage`, with the default `Limits`.
pub fn router(storage: Arc<dyn Storage>) -> Router {
    router_with_limits(storage, Limits::default())
}

/// The server's routes over `storage`, with these limits.
pub fn router_with_limits(storage: Arc<dyn Storage>, limits: Limits) -> Router {
    let sync = Router::new().route("/enrol", post(enrol)).route("/push", post(push)).route("/pull", get(pull));
    Router::new()
        .nest(API_PREFIX, sync)
        .route("/health", get(health))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limits.body_bytes))
        .layer(middleware::from_fn_with_state(limits, observe))
        .with_state(AppState { storage })
}

/// Serves `router(storage)` on `listener` until Ctrl-C or SIGTERM, then
/// finishes the requests in flight.
pub async fn serve(listener: TcpListener, storage: Arc<dyn Storage>) -> io::Result<()> {
    serve_with_shutdown(listener, storage, shutdown_signal()).await
}

/// Serves until `shutdown` completes (tests pass their own signal).
pub async fn serve_with_shutdown(
    listener: TcpListener,
    storage: Arc<dyn Storage>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!(%addr, epoch = storage.epoch(), "serving the sync API");
    axum::serve(listener, router(storage)).with_graceful_shutdown(shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
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

/// Logs every request (never its headers: they carry the token) and cuts
/// off one that runs past the time limit. (A storage call already running
/// on the blocking pool still finishes; every write is idempotent.)
async fn observe(State(limits): State<Limits>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = match tokio::time::timeout(limits.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => AppError::timeout().into_response(),
    };
    let status = response.status().as_u16();
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
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
async fn enrol(
    State(state): State<AppState>,
    body: Result<Json<EnrolRequest>, JsonRejection>,
) -> Result<Json<EnrolResponse>, AppError> {
    let Json(request) = body.map_err(json_rejection)?;
    let response = blocking(&state.storage, move |s| s.enrol(&request)).await?;
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
async fn push(
    State(state): State<AppState>,
    Device(device): Device,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<PushResponse>, AppError> {
    let body = body.map_err(bytes_rejection)?;
    let raw: RawPushRequest<'_> =
        serde_json::from_slice(&body).map_err(|e| AppError::bad_request(format!("not a push request: {e}")))?;
    if raw.ops.len() > MAX_PUSH_OPS {
        return Err(AppError::too_large(format!("{} ops in one push; at most {MAX_PUSH_OPS}", raw.ops.len())));
    }
    let ops = raw
        .ops
        .iter()
        .enumerate()
        .map(|(i, op)| IncomingOp::parse(op.get()).map_err(|e| AppError::bad_request(format!("op {i}: {}", e.message))))
        .collect::<Result<Vec<_>, _>>()?;
    let count = ops.len();
    let response = blocking(&state.storage, move |s| s.push(device.center_id, device.device_id, &ops)).await?;
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

#[derive(Deserialize)]
struct PullParams {
    cursor: Option<String>,
    limit: Option<usize>,
}

/// `GET /sync/v1/pull?cursor=E:S&limit=N`: a `PullResponse`. No cursor =
/// from the start; `limit` defaults to `DEFAULT_PULL_LIMIT`, at most
/// `MAX_PULL_LIMIT`.
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
    tracing::debug!(device = %device.device_id, ops = response.ops.len(), more = response.more, "pull");
    Ok(Json(response))
}

/// `GET /health`: `{"status":"ok"}` when the storage answers.
async fn health(State(state): State<AppState>) -> Result<Json<serde_json::Value>, AppError> {
    blocking(&state.storage, |s| s.health()).await?;
    Ok(Json(serde_json::json!({ "status": "ok" })))
}

/// Any other path, an unknown API version among them.
async fn not_found() -> AppError {
    AppError::not_found(format!("no such path (this server speaks the sync API at {API_PREFIX})"))
}
