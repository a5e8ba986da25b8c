//! The provincial server of Kanoon Desk: device enrolment and the sync API
//! (`/sync/v1`: push and pull of ops) over a `Storage` trait, with SQLite as
//! the zero-setup backend and PostgreSQL for a province that runs one.
//!
//! Desks push the ops of their outbox; the server stores each op once by
//! its id, exactly as received, in one log ordered by `seq`, and serves a
//! desk the ops of its center and the province-wide ones after its cursor
//! (`epoch:seq`). The center is always the device token's, never the body's.

pub mod clock;
mod error;
mod events;
mod exceptions;
mod http;
mod listen;
mod metrics;
mod openapi;
mod snapshot;
mod stick;
mod storage;
#[cfg(feature = "test-support")]
pub mod testing;
mod throttle;
mod tls;

pub use error::{AppError, ErrorBody, ErrorCode};
pub use exceptions::{ProvinceException, Resolution, province_exceptions};
pub use http::{
    BODY_LIMIT, Limits, MAX_SNAPSHOTS, OPENAPI_PATH, REQUEST_TIMEOUT, openapi_document, router, router_with_limits,
    routers, serve, serve_with_admin, serve_with_limits, serve_with_request_limits, serve_with_shutdown,
    serve_with_tls, shutdown_signal,
};
pub use listen::{ConnectionLimits, HEADER_READ_TIMEOUT, MAX_CONNECTIONS, SHUTDOWN_GRACE};
pub use stick::{OpsImport, export_ops, import_ops};
pub use storage::postgres::{POSTGRES_MAX_SNAPSHOTS, POSTGRES_MIGRATIONS, PostgresStorage, SCHEMA_TABLE};
pub use storage::rules::{
    CENTER_PHOTO_QUOTA, MAX_CLOCK_AHEAD_MS, ProvinceSetting, ProvinceSettings, check_cursor, check_device_name,
    check_push, same_op_json,
};
pub use storage::secrets::{ENROL_CODE_DIGITS, hash_secret, normalize_enrol_code};
pub use storage::sqlite::{APPLICATION_ID, MIGRATIONS, SqliteStorage};
pub use storage::{
    CenterInfo, CenterOp, DEFAULT_PULL_LIMIT, DeviceAuth, DeviceInfo, DeviceKey, IncomingOp, MAX_PULL_LIMIT,
    MIN_SCHEMA_VERSION, PROVINCE_SCOPE, PROVINCE_WIDE_ENTITIES, Snapshot, SnapshotSink, Storage, scope_of,
};
pub use tls::ServerTls;
