//! What the server keeps, behind one trait so that SQLite (the zero-setup
//! default) and PostgreSQL serve the same API and pass the same tests. The rules every backend shares — who may push what, who pulls
//! what, how secrets are made and hashed — live here, once.
//!
//! Methods are blocking; the HTTP layer runs them on tokio's blocking pool.

use kanoon_domain::entities::CenterKind;
use kanoon_protocol::photos::{PhotoBody, PhotoOutcome, PhotoPage};
use kanoon_protocol::wire::{Cursor, EnrolRequest, EnrolResponse, MAX_PUSH_OPS, PullResponse, PushResponse};
use kanoon_protocol::{EntityKind, Op};
use rand::RngExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::AppError;
use crate::exceptions::CenterOp;
pub use crate::snapshot::Snapshot;

/// Entities every desk of the province pulls, whichever center wrote them.
/// Everything else is pulled only by the desks of the op's center.
pub const PROVINCE_WIDE_ENTITIES: &[&str] = &[EntityKind::TITLE, EntityKind::CENTER];

/// The `scope` of a province-wide op (a center-scoped op's scope is its
/// center's id).
pub const PROVINCE_SCOPE: &str = "province";

/// Ops in a pull page when the desk does not ask for a number.
pub const DEFAULT_PULL_LIMIT: usize = 500;
/// Most ops in one pull page.
pub const MAX_PULL_LIMIT: usize = 2000;

/// Digits in a one-time enrolment code.
pub const ENROL_CODE_DIGITS: usize = 10;

/// An op as pushed: parsed, and its JSON exactly as received (what is
/// stored and compared, so fields this server does not know are kept).
#[derive(Clone, Debug, PartialEq)]
pub struct IncomingOp {
    pub op: Op,
    pub json: String,
}

impl IncomingOp {
    /// Parses one op's JSON, keeping the text as it is.
    pub fn parse(json: &str) -> Result<Self, AppError> {
        let op: Op = serde_json::from_str(json).map_err(|e| AppError::bad_request(format!("not an op: {e}")))?;
        // Stored in its own column; PostgreSQL's text refuses NUL.
        if op.entity.as_str().is_empty() || op.entity.as_str().contains('\0') {
            return Err(AppError::bad_request("not an op: its entity is empty or has a NUL character"));
        }
        Ok(Self { op, json: json.to_owned() })
    }

    /// An op built in this process (tests, tools): its JSON is its serialization.
    pub fn from_op(op: Op) -> Result<Self, AppError> {
        let json = serde_json::to_string(&op).map_err(|e| AppError::internal(format!("op to JSON: {e}")))?;
        Ok(Self { op, json })
    }

    /// Who pulls this op: `PROVINCE_SCOPE` or its center's id.
    pub fn scope(&self) -> String {
        scope_of(&self.op.entity, self.op.center_id)
    }
}

pub fn scope_of(entity: &EntityKind, center_id: Uuid) -> String {
    if PROVINCE_WIDE_ENTITIES.contains(&entity.as_str()) { PROVINCE_SCOPE.to_owned() } else { center_id.to_string() }
}

/// The device a token belongs to. The center comes from here, never from
/// a request body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DeviceAuth {
    pub device_id: Uuid,
    pub center_id: Uuid,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CenterInfo {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: CenterKind,
}

/// An enrolled device, for the provincial admin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub device_id: Uuid,
    pub center_id: Uuid,
    pub center_code: String,
    pub desk_number: u8,
    pub name: String,
    pub enrolled_at: String,
    pub last_seen_at: Option<String>,
}

/// The server's storage. Object-safe (`Arc<dyn Storage>`), blocking.
pub trait Storage: Send + Sync {
    /// Registers a center by its official code (any digit script); its id
    /// is `Center::id_for_code`. A code already registered is a conflict.
    fn add_center(&self, code: &str, name: &str, kind: CenterKind) -> Result<CenterInfo, AppError>;

    /// A new one-time enrolment code for the center with this code. The
    /// plain code is returned once; only its hash is kept.
    fn create_enrol_code(&self, center_code: &str) -> Result<String, AppError>;

    /// Trades an unused enrolment code for a device token (401 for an
    /// unknown or used code; 409 when the desk number is taken by another
    /// device of the center — the code then stays unused). The same device
    /// enrolling again (a lost token) gets a new token; the old one stops working.
    fn enrol(&self, request: &EnrolRequest) -> Result<EnrolResponse, AppError>;

    /// The device a bearer token belongs to, if any.
    fn device_for_token(&self, token: &str) -> Result<Option<DeviceAuth>, AppError>;

    /// Stores a batch pushed by `device_id` of `center_id`, all in one
    /// transaction: each op once by id (new → accepted; already stored with
    /// the same content → duplicate; its id stored with other content →
    /// rejected, never overwritten). A batch over `MAX_PUSH_OPS` (413) or
    /// with an op of another center (403) is refused whole, nothing stored.
    fn push(&self, center_id: Uuid, device_id: Uuid, ops: &[IncomingOp]) -> Result<PushResponse, AppError>;

    /// The ops after `after` that a desk of `center_id` pulls (its center's
    /// and the province-wide ones), in log order, at most `limit` (clamped
    /// to 1..=`MAX_PULL_LIMIT`). A cursor of another epoch (other than 0,
    /// "no cursor yet") is a conflict: the desk must bootstrap again.
    fn pull(&self, center_id: Uuid, after: Cursor, limit: usize) -> Result<PullResponse, AppError>;

    /// What a new or reinstalled desk of `center_id` starts from: the
    /// records of its center and the province and the events still needed
    /// (see `snapshot`), read in one consistent read of the log, and the
    /// cursor to pull after (the watermark of that read, as `pull` would
    /// serve it: no op below it can still commit).
    fn snapshot(&self, center_id: Uuid) -> Result<Snapshot, AppError>;

    /// Every enrolled device, by center code and desk number.
    fn devices(&self) -> Result<Vec<DeviceInfo>, AppError>;

    /// The epoch of the op log.
    fn epoch(&self) -> u64;

    /// Whether the storage answers.
    fn health(&self) -> Result<(), AppError>;

    /// Ops in the log (for `/metrics`).
    fn log_length(&self) -> Result<u64, AppError>;

    /// Keeps `photo` as the member's photo in the device's center if it is
    /// a later version than the one kept (`photos`).
    fn put_photo(&self, center_id: Uuid, device_id: Uuid, photo: &PhotoBody) -> Result<PhotoOutcome, AppError>;

    /// The center's photos changed after position `after`, oldest change
    /// first, at most `limit`.
    fn photos_after(&self, center_id: Uuid, after: u64, limit: usize) -> Result<PhotoPage, AppError>;

    /// Every stored op of these entities, of one center or of all, with its
    /// center's code, in log order (the admin's exception report).
    fn center_ops(&self, center_id: Option<Uuid>, entities: &[&str]) -> Result<Vec<CenterOp>, AppError>;
}

/// The lowest op schema version: the first any desk wrote. Versions above
/// this build's `SCHEMA_VERSION` are newer desks' and are kept as received.
pub const MIN_SCHEMA_VERSION: u32 = 1;

/// The checks every backend makes before storing a batch: its size, and
/// that every op belongs to the pushing device's center.
pub fn check_push(center_id: Uuid, device_id: Uuid, ops: &[IncomingOp]) -> Result<(), AppError> {
    if ops.len() > MAX_PUSH_OPS {
        return Err(AppError::too_large(format!("{} ops in one push; at most {MAX_PUSH_OPS}", ops.len())));
    }
    if let Some(other) = ops.iter().find(|o| o.op.center_id != center_id) {
        return Err(AppError::forbidden(format!(
            "op {} belongs to center {}, not this device's center; nothing of the batch was stored",
            other.op.op_id, other.op.center_id
        )));
    }
    // A desk pushes only what it wrote itself.
    if let Some(other) = ops.iter().find(|o| o.op.device_id != device_id) {
        return Err(AppError::forbidden(format!(
            "op {} was written by device {}, not by this device; nothing of the batch was stored",
            other.op.op_id, other.op.device_id
        )));
    }
    if let Some(old) = ops.iter().find(|o| o.op.schema_version < MIN_SCHEMA_VERSION) {
        return Err(AppError::unsupported_schema(format!(
            "op {} has schema version {}, which no desk writes (versions start at {MIN_SCHEMA_VERSION}); \
             nothing of the batch was stored",
            old.op.op_id, old.op.schema_version
        )));
    }
    Ok(())
}

/// The device name of an enrolment, trimmed: 1–200 characters, no control
/// characters (400 otherwise).
pub fn check_device_name(name: &str) -> Result<&str, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(AppError::bad_request("device name must be 1–200 characters, none of them control characters"));
    }
    Ok(name)
}

/// The checks on a cursor every backend makes.
pub fn check_cursor(after: Cursor, epoch: u64) -> Result<(), AppError> {
    if after.epoch != 0 && after.epoch != epoch {
        return Err(AppError::conflict(format!("epoch changed: bootstrap again (server epoch {epoch})")));
    }
    Ok(())
}

/// Whether a stored op and a pushed one are the same op: the same text, or
/// the same JSON value (key order and spacing aside).
pub fn same_op_json(stored: &str, pushed: &str) -> bool {
    if stored == pushed {
        return true;
    }
    match (serde_json::from_str::<serde_json::Value>(stored), serde_json::from_str::<serde_json::Value>(pushed)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// SHA-256 of a secret (token or enrolment code), lowercase hex.
pub fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// A new device token: 256 random bits, hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    hex(&bytes)
}

/// A new enrolment code: `ENROL_CODE_DIGITS` random digits.
pub fn new_enrol_code() -> String {
    let mut rng = rand::rng();
    (0..ENROL_CODE_DIGITS).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect()
}

/// An enrolment code as typed: any digit script, spaces and dashes ignored.
pub fn normalize_enrol_code(input: &str) -> String {
    kanoon_domain::text::to_ascii_digits(input).chars().filter(|c| !c.is_whitespace() && *c != '-').collect()
}

/// Now as stored: ISO 8601 UTC with milliseconds.
pub fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn enrol_codes_are_ten_digits_and_typed_codes_normalize() {
        let code = new_enrol_code();
        assert_eq!(code.len(), ENROL_CODE_DIGITS);
        assert!(code.chars().all(|c| c.is_ascii_digit()));
        assert_eq!(normalize_enrol_code(" ۱۲۳-۴۵۶ 7890 "), "1234567890");
    }

    #[test]
    fn tokens_are_random_and_hashes_are_hex_sha256() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(hash_secret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn same_op_json_ignores_key_order_and_spacing_only() {
        assert!(same_op_json(r#"{"a":1,"b":[2]}"#, r#"{ "b": [2], "a": 1 }"#));
        assert!(!same_op_json(r#"{"a":1}"#, r#"{"a":2}"#));
    }
}
