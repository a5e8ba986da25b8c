//! What the server keeps, behind one trait so that SQLite (the zero-setup
//! default) and PostgreSQL serve the same API and pass the same tests.
//!
//! This module holds the trait and the types it speaks; `rules` the checks
//! and outcomes every backend shares (who may push what, what a pull page
//! is), `secrets` how tokens and codes are made and hashed; `sqlite` and
//! `postgres` each hold one backend whole. The backends call into the
//! shared modules, never into each other.
//!
//! Methods are blocking; the HTTP layer runs them on tokio's blocking pool.

/// `impl Storage` for a backend from the functions of its modules
/// `enrolment`, `ops`, `snapshot`, `photos` and `exceptions` and its
/// `health`, expanded in the backend's `mod.rs`: one table for both, so a
/// backend cannot skip what every push is checked for.
macro_rules! storage_from_modules {
    ($backend:ty) => {
        impl $crate::storage::Storage for $backend {
            fn add_center(
                &self,
                code: &str,
                name: &str,
                kind: kanoon_domain::entities::CenterKind,
            ) -> Result<$crate::storage::CenterInfo, AppError> {
                enrolment::add_center(self, code, name, kind)
            }

            fn create_enrol_code(&self, center_code: &str) -> Result<String, AppError> {
                $crate::storage::rules::refuse_province_code(center_code)?;
                enrolment::create_enrol_code(self, center_code, None)
            }

            fn create_reenrol_code(&self, center_code: &str, device_id: uuid::Uuid) -> Result<String, AppError> {
                $crate::storage::rules::refuse_province_code(center_code)?;
                enrolment::create_enrol_code(self, center_code, Some(device_id))
            }

            fn revoke_device(&self, device_id: uuid::Uuid) -> Result<bool, AppError> {
                enrolment::revoke_device(self, device_id)
            }

            fn enrol(
                &self,
                request: &kanoon_protocol::wire::EnrolRequest,
            ) -> Result<kanoon_protocol::wire::EnrolResponse, AppError> {
                enrolment::enrol(self, request)
            }

            fn device_for_token(&self, token: &str) -> Result<Option<$crate::storage::DeviceAuth>, AppError> {
                enrolment::device_for_token(self, token)
            }

            fn push_at(
                &self,
                center_id: uuid::Uuid,
                device_id: uuid::Uuid,
                ops: &[$crate::storage::IncomingOp],
                now_ms: i64,
            ) -> Result<kanoon_protocol::wire::PushResponse, AppError> {
                $crate::storage::rules::check_push(center_id, device_id, ops)?;
                let creators = ops::record_creators(self, &$crate::storage::rules::record_refs(ops))?;
                let copies = ops::copy_facts(self, &$crate::storage::rules::copy_refs(ops))?;
                let province = if $crate::storage::rules::needs_province_settings(ops) {
                    self.province_settings()?
                } else {
                    Default::default()
                };
                let (ops, refused) =
                    $crate::storage::rules::screen_ops(center_id, ops, now_ms, &creators, &copies, &province);
                let mut response = if ops.is_empty() {
                    kanoon_protocol::wire::PushResponse::default()
                } else {
                    ops::push(self, center_id, device_id, &ops)?
                };
                response.rejected.extend(refused);
                response.server_time_ms = Some(now_ms);
                Ok(response)
            }

            fn pull(
                &self,
                center_id: uuid::Uuid,
                after: kanoon_protocol::wire::Cursor,
                limit: usize,
            ) -> Result<kanoon_protocol::wire::PullResponse, AppError> {
                ops::pull(self, center_id, after, limit)
            }

            fn snapshot_into(
                &self,
                center_id: uuid::Uuid,
                sink: &mut dyn $crate::storage::SnapshotSink,
            ) -> Result<(), AppError> {
                snapshot::snapshot_into(self, center_id, sink)
            }

            fn device_key(&self, device_id: uuid::Uuid) -> Result<Option<$crate::storage::DeviceKey>, AppError> {
                enrolment::device_key(self, device_id)
            }

            fn devices(&self) -> Result<Vec<$crate::storage::DeviceInfo>, AppError> {
                let mut devices = enrolment::devices(self)?;
                devices.retain(|d| d.device_id != kanoon_protocol::province::PROVINCE_DEVICE_ID);
                Ok(devices)
            }

            fn epoch(&self) -> u64 {
                self.epoch
            }

            fn health(&self) -> Result<(), AppError> {
                health(self)
            }

            fn log_length(&self) -> Result<u64, AppError> {
                ops::log_length(self)
            }

            fn put_photo(
                &self,
                center_id: uuid::Uuid,
                device_id: uuid::Uuid,
                photo: &kanoon_protocol::photos::PhotoBody,
            ) -> Result<kanoon_protocol::photos::PhotoOutcome, AppError> {
                let photo = $crate::storage::rules::photo_as_kept(device_id, photo, $crate::clock::now_ms());
                photos::put_photo(self, center_id, device_id, &photo)
            }

            fn photos_after(
                &self,
                center_id: uuid::Uuid,
                after: u64,
                limit: usize,
            ) -> Result<kanoon_protocol::photos::PhotoPage, AppError> {
                photos::photos_after(self, center_id, after, limit)
            }

            fn province_settings(&self) -> Result<$crate::storage::rules::ProvinceSettings, AppError> {
                $crate::storage::rules::province_settings_from(&ops::province_settings(self)?)
            }

            fn put_province_setting_at(
                &self,
                key: &str,
                value: serde_json::Value,
                center_may_override: bool,
                now_ms: i64,
            ) -> Result<kanoon_protocol::Op, AppError> {
                let current = self.province_settings()?;
                let incoming = $crate::storage::rules::province_setting_op(
                    key,
                    value,
                    center_may_override,
                    current.get(key),
                    now_ms,
                )?;
                // The one path that writes as the province: not a desk's
                // push, so none of a desk's checks apply.
                let screened = [$crate::storage::rules::Screened { incoming: &incoming, share: None }];
                ops::push(
                    self,
                    kanoon_protocol::province::PROVINCE_CENTER_ID,
                    kanoon_protocol::province::PROVINCE_DEVICE_ID,
                    &screened,
                )?;
                Ok(incoming.op)
            }

            fn center_ops(
                &self,
                center_id: Option<uuid::Uuid>,
                entities: &[&str],
            ) -> Result<Vec<$crate::storage::CenterOp>, AppError> {
                exceptions::center_ops(self, center_id, entities)
            }
        }
    };
}

pub mod postgres;
pub mod rules;
pub mod secrets;
pub mod sqlite;

use kanoon_domain::entities::CenterKind;
use kanoon_protocol::photos::{PhotoBody, PhotoOutcome, PhotoPage};
use kanoon_protocol::wire::{Cursor, EnrolRequest, EnrolResponse, PullResponse, PushResponse};
use kanoon_protocol::{EntityKind, Op};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::AppError;

/// Entities every desk of the province pulls, whichever center wrote them.
/// Everything else is pulled only by the desks of the op's center.
pub const PROVINCE_WIDE_ENTITIES: &[&str] = &[EntityKind::TITLE, EntityKind::CENTER, EntityKind::PROVINCE_SETTING];

/// The `scope` of a province-wide op (a center-scoped op's scope is its
/// center's id).
pub const PROVINCE_SCOPE: &str = "province";

/// Ops in a pull page when the desk does not ask for a number.
pub const DEFAULT_PULL_LIMIT: usize = 500;
/// Most ops in one pull page.
pub const MAX_PULL_LIMIT: usize = 2000;

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

/// What checks an ops file's signature (`crate::stick`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceKey {
    pub center_id: Uuid,
    /// SHA-256 of the device's current token, lowercase hex.
    pub key: String,
    pub revoked: bool,
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

/// One stored op with its center's code, in log order (the admin's
/// exception report reads these).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CenterOp {
    pub center_code: String,
    pub entity: String,
    pub json: String,
}

/// The snapshot a desk bootstraps from: ops as stored (JSON text, exactly
/// as pushed), records first then events, and the cursor after them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub cursor: Cursor,
    /// Each op's JSON as stored.
    pub ops: Vec<String>,
}

impl Snapshot {
    /// Bytes of the ops' JSON (for logs and the response's capacity).
    pub fn ops_bytes(&self) -> usize {
        self.ops.iter().map(String::len).sum()
    }
}

/// Where a snapshot goes as it is read (`Storage::snapshot_into`): the
/// cursor first, then each op's stored text, one at a time. An error from
/// the sink (the client went away) stops the read.
pub trait SnapshotSink {
    fn cursor(&mut self, cursor: Cursor) -> Result<(), AppError>;
    fn op(&mut self, json: &str) -> Result<(), AppError>;
}

impl SnapshotSink for Snapshot {
    fn cursor(&mut self, cursor: Cursor) -> Result<(), AppError> {
        self.cursor = cursor;
        Ok(())
    }

    fn op(&mut self, json: &str) -> Result<(), AppError> {
        self.ops.push(json.to_owned());
        Ok(())
    }
}

/// The lowest op schema version: the first any desk wrote. Versions above
/// this build's `SCHEMA_VERSION` are newer desks' and are kept as received.
pub const MIN_SCHEMA_VERSION: u32 = 1;

/// How long a device's `last_seen_at` may lag: its requests write it at
/// most this often, so pulls stay reads.
pub(crate) const LAST_SEEN_EVERY: chrono::Duration = chrono::Duration::seconds(60);

/// The server's storage. Object-safe (`Arc<dyn Storage>`), blocking.
pub trait Storage: Send + Sync {
    /// Registers a center by its official code (any digit script); its id
    /// is `Center::id_for_code`. A code already registered is a conflict.
    fn add_center(&self, code: &str, name: &str, kind: CenterKind) -> Result<CenterInfo, AppError>;

    /// A new one-time enrolment code for the center with this code, for a
    /// new device only, valid for `rules::ENROL_CODE_TTL`. The plain code
    /// is returned once; only its hash is kept.
    fn create_enrol_code(&self, center_code: &str) -> Result<String, AppError>;

    /// A one-time code that re-enrols the enrolled device `device_id` of the
    /// center (a lost token, a revoked desk let back in), and no other.
    fn create_reenrol_code(&self, center_code: &str, device_id: Uuid) -> Result<String, AppError>;

    /// Revokes a device: its token is refused (`device_revoked`) until it
    /// is re-enrolled with a code made for it. False if it was not enrolled
    /// or already revoked.
    fn revoke_device(&self, device_id: Uuid) -> Result<bool, AppError>;

    /// Trades an unused enrolment code for a device token (401 for an
    /// unknown, used or expired code, or one made for another device; 409
    /// `device_already_enrolled` for an enrolled device and a code not made
    /// for it; 409 when the desk number is taken by another
    /// device of the center — the code then stays unused). The same device
    /// enrolling again (a lost token) gets a new token; the old one stops working.
    fn enrol(&self, request: &EnrolRequest) -> Result<EnrolResponse, AppError>;

    /// The device a bearer token belongs to, if any.
    fn device_for_token(&self, token: &str) -> Result<Option<DeviceAuth>, AppError>;

    /// An enrolled device's center and the key its ops files are signed
    /// with (the stored hash of its token, `stick::device_key`).
    fn device_key(&self, device_id: Uuid) -> Result<Option<DeviceKey>, AppError>;

    /// Stores a batch pushed by `device_id` of `center_id`, all in one
    /// transaction: each op once by id (new → accepted; already stored with
    /// the same content → duplicate; its id stored with other content →
    /// rejected, never overwritten). A batch over `MAX_PUSH_OPS` (413) or
    /// with an op of another center (403) is refused whole, nothing stored.
    /// An op that changes another center's record (or, of a center-owned
    /// kind, names one), is out of bounds or is stamped ahead of the
    /// server's clock is rejected with its code (`rules::screen_ops`), the
    /// rest stored.
    fn push(&self, center_id: Uuid, device_id: Uuid, ops: &[IncomingOp]) -> Result<PushResponse, AppError> {
        self.push_at(center_id, device_id, ops, crate::clock::now_ms())
    }

    /// `push` judged against the server's clock reading `now_ms` (the
    /// simulation plays the server's clock as its true time).
    fn push_at(
        &self,
        center_id: Uuid,
        device_id: Uuid,
        ops: &[IncomingOp],
        now_ms: i64,
    ) -> Result<PushResponse, AppError>;

    /// The ops after `after` that a desk of `center_id` pulls (its center's,
    /// the province-wide ones and those shared with it: the record and
    /// transfers of a copy it has held, `rules::CopyShare`), in log order, at most `limit` (clamped
    /// to 1..=`MAX_PULL_LIMIT`). A cursor of another epoch (other than 0,
    /// "no cursor yet") is a conflict: the desk must bootstrap again.
    fn pull(&self, center_id: Uuid, after: Cursor, limit: usize) -> Result<PullResponse, AppError>;

    /// What a new or reinstalled desk of `center_id` starts from: the
    /// records of its center and the province and the events still needed
    /// (see `snapshot`), read in one consistent read of the log, and the
    /// cursor to pull after (the watermark of that read, as `pull` would
    /// serve it: no op below it can still commit), written to `sink` as it
    /// is read: the cursor, then the ops one by one. Memory stays bounded
    /// whatever the center's size (`crate::snapshot`).
    fn snapshot_into(&self, center_id: Uuid, sink: &mut dyn SnapshotSink) -> Result<(), AppError>;

    /// `snapshot_into` collected whole (tests, tools: the HTTP handler
    /// streams instead).
    fn snapshot(&self, center_id: Uuid) -> Result<Snapshot, AppError> {
        let mut snapshot = Snapshot { cursor: Cursor::default(), ops: Vec::new() };
        self.snapshot_into(center_id, &mut snapshot)?;
        Ok(snapshot)
    }

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

    /// The province's settings as they stand (the latest op of each key).
    fn province_settings(&self) -> Result<rules::ProvinceSettings, AppError>;

    /// Publishes the province's value of `key` to every desk (null clears
    /// it), and whether a center may change it: an op of the province's
    /// pseudo-center, scope `province`, based on the key's previous op. A
    /// key or value the province does not set is refused (400).
    fn put_province_setting(
        &self,
        key: &str,
        value: serde_json::Value,
        center_may_override: bool,
    ) -> Result<Op, AppError> {
        self.put_province_setting_at(key, value, center_may_override, crate::clock::now_ms())
    }

    /// `put_province_setting` stamped at `now_ms` (the simulation's clock).
    fn put_province_setting_at(
        &self,
        key: &str,
        value: serde_json::Value,
        center_may_override: bool,
        now_ms: i64,
    ) -> Result<Op, AppError>;

    /// Every stored op of these entities, of one center or of all, with its
    /// center's code, in log order (the admin's exception report).
    fn center_ops(&self, center_id: Option<Uuid>, entities: &[&str]) -> Result<Vec<CenterOp>, AppError>;
}
