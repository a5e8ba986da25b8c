//! The OpenAPI 3.1 document of the server (`GET /sync/v1/openapi.json`).
//!
//! Paths come from the `#[utoipa::path]` of each handler, registered with
//! the router itself (`utoipa_axum::routes!`), so the document lists
//! exactly the routes the router has. The bodies of `kanoon-protocol` are
//! described here by schema-only mirrors (same names, same fields), so the
//! desks' crate carries no OpenAPI code; a test checks every mirror's
//! properties against the real types' JSON.

#![allow(dead_code)] // The mirrors are read by the derive only.

use std::borrow::Cow;
use std::collections::BTreeMap;

use kanoon_protocol::wire;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};
use uuid::Uuid;

/// Name of the bearer token security scheme (the handlers name it as a literal).
pub const BEARER: &str = "device_token";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kanoon Desk sync API",
        description = "The provincial server of Kanoon Desk: desks enrol with a one-time code, push the ops of \
                       their outbox and pull the ops of their center and the province-wide ones after a cursor; a new \
                       desk starts from a snapshot. \
                       Every error is a JSON `ErrorBody`; the center of a request is always the device token's.",
        license(name = "Proprietary"),
    ),
    tags(
        (name = "sync", description = "Enrolment, push and pull (`/sync/v1`)."),
        (name = "operations", description = "Health, metrics and this document."),
    ),
    modifiers(&BearerToken),
)]
pub struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.description = Some("The device token from `POST /sync/v1/enrol` (64 hex digits).".to_owned());
        components.add_security_scheme(BEARER, SecurityScheme::Http(http));
    }
}

/// Where a desk is in the server's log: `epoch:seq`. Epoch 0 = no cursor
/// yet; another epoch than the server's means the desk must bootstrap again.
#[derive(ToSchema, serde::Serialize)]
#[schema(value_type = String, pattern = r"^[0-9]+:[0-9]+$", example = "4451093:1200")]
pub struct Cursor(String);

/// A hybrid logical clock value.
#[derive(ToSchema, serde::Serialize)]
pub struct Hlc {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    pub wall_ms: i64,
    /// Logical counter within `wall_ms`.
    #[schema(minimum = 0, maximum = 4294967295_u64)]
    pub counter: u32,
}

/// Which write set a field's value.
#[derive(ToSchema, serde::Serialize)]
pub struct FieldVersion {
    pub hlc: Hlc,
    pub device_id: Uuid,
}

/// One change of one field; `base` is the version of the value it replaced.
#[derive(ToSchema, serde::Serialize)]
pub struct FieldChange {
    pub value: serde_json::Value,
    pub base: Option<FieldVersion>,
}

/// An immutable event (`kind`: loan, return, renewal, …) or a field-by-field
/// patch of a record.
#[derive(ToSchema, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OpBody {
    Event { kind: String, data: serde_json::Value },
    Patch { fields: BTreeMap<String, FieldChange> },
}

/// The envelope of every change a desk records. Fields and kinds this
/// server does not know are stored and served exactly as received.
#[derive(ToSchema, serde::Serialize)]
pub struct Op {
    /// UUIDv7, unique: an op is stored once by id.
    pub op_id: Uuid,
    /// 1 or more; newer versions than the server's are kept as received.
    #[schema(minimum = 1, maximum = 4294967295_u64)]
    pub schema_version: u32,
    pub hlc: Hlc,
    /// The desk that wrote it: must be the pushing device.
    pub device_id: Uuid,
    /// Must be the pushing device's center.
    pub center_id: Uuid,
    /// center, staff, member, title, copy, circulation, membership, policy, …
    #[schema(min_length = 1)]
    pub entity: String,
    pub entity_id: Uuid,
    pub staff_id: Option<Uuid>,
    pub body: OpBody,
}

/// A desk trades a one-time code from the provincial admin for a token.
#[derive(ToSchema, serde::Serialize)]
pub struct EnrolRequest {
    /// The one-time code (any digit script; spaces and dashes ignored).
    pub code: String,
    /// The center the desk was set up for: a code of another center is refused (409).
    pub center_id: Option<Uuid>,
    pub device_id: Uuid,
    #[schema(minimum = 1, maximum = 99)]
    pub desk_number: u8,
    /// Shown to the provincial admin, e.g. the PC's name.
    #[schema(min_length = 1, max_length = 200)]
    pub device_name: String,
}

#[derive(ToSchema, serde::Serialize)]
pub struct EnrolResponse {
    /// Bearer token for every later request; the server keeps only its hash.
    pub token: String,
    pub center_id: Uuid,
    pub center_code: String,
}

/// At most 500 ops (`MAX_PUSH_OPS`), all of the token's center and device.
#[derive(ToSchema, serde::Serialize)]
pub struct PushRequest {
    #[schema(max_items = 500)]
    pub ops: Vec<Op>,
}

/// Why the server set an op aside: its id stored with other content (no
/// code), or one of the op's own refusals (`code`: `not_owner`,
/// `clock_ahead` — keep it and push it again later —, `op_too_large`,
/// `op_out_of_bounds`).
#[derive(ToSchema, serde::Serialize)]
pub struct RejectedOp {
    pub op_id: Uuid,
    pub reason: String,
    #[schema(value_type = Option<ErrorCode>, nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<wire::ErrorCode>,
}

#[derive(ToSchema, serde::Serialize)]
pub struct PushResponse {
    /// Stored now.
    pub accepted: Vec<Uuid>,
    /// Already stored by an earlier push (resending is always safe).
    pub duplicates: Vec<Uuid>,
    /// Refused for their content; never retried as is.
    pub rejected: Vec<RejectedOp>,
    /// The server's clock when it answered, in ms since the epoch: a desk
    /// whose clock is more than 5 minutes past it stops recording
    /// circulation and warns until its clock is fixed. Absent from older servers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_time_ms: Option<i64>,
}

#[derive(ToSchema, serde::Serialize)]
pub struct PullResponse {
    pub ops: Vec<Op>,
    /// Pass back as `cursor` to continue.
    pub cursor: Cursor,
    /// More ops wait beyond this page.
    pub more: bool,
}

/// What a new or reinstalled desk starts from (`GET /sync/v1/snapshot`).
#[derive(ToSchema, serde::Serialize)]
pub struct SnapshotResponse {
    /// The log position the snapshot covers: pull after it.
    pub cursor: Cursor,
    /// Records first, then the events still needed, each in log order.
    pub ops: Vec<Op>,
}

/// One member's photo (`kanoon_protocol::photos::PhotoBody`).
#[derive(ToSchema, serde::Serialize)]
pub struct PhotoBody {
    pub member_id: Uuid,
    /// `image/jpeg`, `image/png` or `image/webp`.
    #[schema(example = "image/jpeg")]
    pub mime: String,
    /// When the desk changed it: RFC 3339 UTC with milliseconds.
    #[schema(
        pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$",
        example = "2026-11-25T09:30:00.000Z"
    )]
    pub updated_at: String,
    /// The desk that changed it (breaks a tie of `updated_at`).
    pub device_id: Uuid,
    /// The image, base64 (standard alphabet, padded), at most 2 MiB decoded.
    pub data: String,
}

/// What the server did with an uploaded photo.
#[derive(ToSchema, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoOutcome {
    Stored,
    NewerKept,
}

#[derive(ToSchema, serde::Serialize)]
pub struct PhotoPushResponse {
    pub outcome: PhotoOutcome,
}

/// A page of photos of the device's center changed after `after`.
#[derive(ToSchema, serde::Serialize)]
pub struct PhotoPage {
    pub photos: Vec<PhotoBody>,
    /// Pass back as `after` to continue.
    #[schema(minimum = 0)]
    pub after: u64,
    /// More photos wait beyond this page.
    pub more: bool,
}

/// `{"status": "ok"}`.
#[derive(ToSchema, serde::Serialize)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
}

/// The JSON body of every error response (`kanoon_protocol::wire::ErrorBody`).
#[derive(ToSchema)]
pub struct ErrorBody {
    pub code: ErrorCode,
    /// For people and logs; clients act on `code` only.
    pub message: String,
}

/// `kanoon_protocol::wire::ErrorCode`, its schema built from the real
/// type's table (`ErrorCode::ALL`), so the document lists exactly the codes
/// the server can send, each with its status and meaning.
pub struct ErrorCode;

impl PartialSchema for ErrorCode {
    fn schema() -> RefOr<Schema> {
        let mut description = "What went wrong, as a client acts on it (a closed set; match on it, never on \
                               the message):"
            .to_owned();
        for code in wire::ErrorCode::ALL {
            description.push_str(&format!("\n- `{code}` ({}): {}", code.http_status(), code.meaning()));
        }
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(description))
            .enum_values(Some(wire::ErrorCode::ALL.iter().map(|c| c.as_str())))
            .into()
    }
}

impl ToSchema for ErrorCode {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ErrorCode")
    }
}
