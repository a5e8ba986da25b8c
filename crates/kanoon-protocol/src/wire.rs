//! The sync API's request and response bodies (`/sync/v1/...`). Changing a
//! field's meaning needs a new version; adding an optional field does not.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Op;

/// The path prefix of this version of the sync API.
pub const API_PREFIX: &str = "/sync/v1";

/// Most ops in one push (DESIGN §5).
pub const MAX_PUSH_OPS: usize = 500;

/// Where a desk is in the server's log: the log's epoch (changes when the
/// server's log is rebuilt, so the desk must bootstrap again) and the last
/// sequence number it has applied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
// On the wire it is the string "epoch:seq".
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
pub struct Cursor {
    pub epoch: u64,
    pub seq: u64,
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.epoch, self.seq)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cursor «{0}» is not epoch:seq")]
pub struct BadCursor(pub String);

impl FromStr for Cursor {
    type Err = BadCursor;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadCursor(s.to_owned());
        let (epoch, seq) = s.split_once(':').ok_or_else(bad)?;
        Ok(Cursor { epoch: epoch.parse().map_err(|_| bad())?, seq: seq.parse().map_err(|_| bad())? })
    }
}

impl Serialize for Cursor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cursor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A desk trades a one-time code from the provincial admin for a token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EnrolRequest {
    pub code: String,
    /// The center the desk was set up for: a code of another center is
    /// refused (409) and stays unused.
    #[serde(default)]
    pub center_id: Option<Uuid>,
    pub device_id: Uuid,
    pub desk_number: u8,
    /// Shown to the provincial admin, e.g. the PC's name.
    pub device_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EnrolResponse {
    /// Bearer token for every later request; the server keeps only its hash.
    pub token: String,
    pub center_id: Uuid,
    pub center_code: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PushRequest {
    pub ops: Vec<Op>,
}

/// Why the server set an op aside; the rest of the batch is unaffected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RejectedOp {
    pub op_id: Uuid,
    pub reason: String,
    /// Why, as a client acts on it (`not_owner`, `clock_ahead`, …). None
    /// from an older server, and for a code newer than this version (read
    /// as a plain refusal). A `clock_ahead` op is not refused for good:
    /// the desk keeps it and pushes it again later.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_code")]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub code: Option<ErrorCode>,
}

impl RejectedOp {
    pub fn new(op_id: Uuid, code: ErrorCode, reason: impl Into<String>) -> Self {
        RejectedOp { op_id, reason: reason.into(), code: Some(code) }
    }

    /// Whether the desk keeps the op and pushes it again later rather than
    /// setting it aside (its clock is ahead of the server's).
    pub fn is_held(&self) -> bool {
        self.code == Some(ErrorCode::ClockAhead)
    }
}

/// An error code, or None for one this version does not know.
fn lenient_code<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<ErrorCode>, D::Error> {
    let name = Option::<String>::deserialize(d)?;
    Ok(name.and_then(|n| ErrorCode::ALL.iter().copied().find(|c| c.as_str() == n)))
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PushResponse {
    /// Stored now.
    pub accepted: Vec<Uuid>,
    /// Already stored by an earlier push (resending is always safe).
    pub duplicates: Vec<Uuid>,
    /// Refused for their content; shown to staff, never retried as is.
    pub rejected: Vec<RejectedOp>,
    /// The server's clock when it answered (ms since the epoch): how a desk
    /// learns its own clock is ahead. Absent from older servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_time_ms: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PullResponse {
    pub ops: Vec<Op>,
    /// Pass back as `cursor` to continue.
    pub cursor: Cursor,
    /// More ops wait beyond this page.
    pub more: bool,
}

/// `GET /sync/v1/snapshot`: what a new or reinstalled desk starts from
/// instead of replaying the whole log: every record op of its center and
/// the province, the events still needed for derived state (open loans with
/// their renewals, current membership periods, transfers, voids of those,
/// and every event the server does not understand), read in one consistent
/// snapshot of the log. The desk then pulls after `cursor`. Closed history
/// (returned loans, expired memberships) stays on the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SnapshotResponse {
    /// The log position the snapshot covers: pull after it.
    pub cursor: Cursor,
    /// Records first (centers, titles, members, copies, others), then events, each in log order.
    pub ops: Vec<Op>,
}

/// Defines `ErrorCode` from one table, so that the wire name, the HTTP
/// status and the meaning of a code are written once.
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])+ $variant:ident = ($name:literal, $status:literal),)+) => {
        /// What went wrong, as a client acts on it. Closed: a client matches
        /// on these and never on the message, which is for people. Each code
        /// has one HTTP status; a generic code (`forbidden`, `conflict`,
        /// `too_large`, …) is what an older server sent for the finer ones
        /// of its status, and what a client reads from a bare status.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum ErrorCode {
            $($(#[doc = $doc])+ #[serde(rename = $name)] $variant,)+
        }

        impl ErrorCode {
            /// Every code, in the order of the table.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            /// The code as it travels (`"op_of_other_center"`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $name,)+
                }
            }

            /// The HTTP status a response with this code has.
            pub fn http_status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)+
                }
            }

            /// What the code means and what a client does about it.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => concat!($($doc),+).trim_ascii(),)+
                }
            }
        }
    };
}

error_codes! {
    /// Malformed request: not JSON, a bad cursor, an invalid field.
    BadRequest = ("bad_request", 400),
    /// Missing or unknown device token: the desk must enrol again.
    Unauthorized = ("unauthorized", 401),
    /// An enrolment code that is unknown, already used, expired or made
    /// for another device: ask the province for a new one.
    EnrolCodeUnknown = ("enrol_code_unknown", 401),
    /// The device was revoked by the province: it needs a re-enrolment
    /// code made for it.
    DeviceRevoked = ("device_revoked", 401),
    /// Authenticated, but not allowed (an older server's code for the
    /// `op_of_other_*` refusals).
    Forbidden = ("forbidden", 403),
    /// A pushed op belongs to another center than the device's: the batch
    /// is refused whole, nothing stored.
    OpOfOtherCenter = ("op_of_other_center", 403),
    /// A pushed op was written by another device: the batch is refused
    /// whole, nothing stored.
    OpOfOtherDevice = ("op_of_other_device", 403),
    /// A pushed op changes a record of another center (a `center` patch of
    /// another center, an edit or merge of a title another center created):
    /// that op is refused, the rest of the batch is not affected.
    NotOwner = ("not_owner", 403),
    /// No such path (an unknown API version: an older server) or no such thing.
    NotFound = ("not_found", 404),
    /// The path exists, but not with this HTTP method.
    MethodNotAllowed = ("method_not_allowed", 405),
    /// The request clashes with the state (an older server's code for the
    /// finer conflicts below).
    Conflict = ("conflict", 409),
    /// The enrolment code is for another center than the desk's: the code
    /// stays unused; the desk needs a code of its own center.
    EnrolCodeOfOtherCenter = ("enrol_code_of_other_center", 409),
    /// The device is enrolled at another center: the code stays unused.
    DeviceOfOtherCenter = ("device_of_other_center", 409),
    /// The device is enrolled already and the code was not made for it: a
    /// spare code enrols only a new device (the code stays unused).
    DeviceAlreadyEnrolled = ("device_already_enrolled", 409),
    /// Another device of the center has this desk number: the code stays unused.
    DeskNumberTaken = ("desk_number_taken", 409),
    /// An op stamped more than 5 minutes ahead of the server's clock: not
    /// stored now; the desk keeps it in its outbox and pushes it again later.
    ClockAhead = ("clock_ahead", 409),
    /// The cursor is of another epoch of the log, or past its end: the desk
    /// must bootstrap again.
    StaleCursor = ("stale_cursor", 409),
    /// The request body is over the size limit.
    TooLarge = ("too_large", 413),
    /// More ops in one push than `MAX_PUSH_OPS`: nothing stored.
    BatchTooLarge = ("batch_too_large", 413),
    /// An op larger than `bounds::MAX_OP_BYTES`: that op is refused for good.
    OpTooLarge = ("op_too_large", 413),
    /// A photo larger than `MAX_PHOTO_BYTES`: refused for good.
    PhotoTooLarge = ("photo_too_large", 413),
    /// The center's photos would pass its quota on the server: the photo
    /// stays on the desk and is uploaded again in a later round.
    PhotoQuotaExceeded = ("photo_quota_exceeded", 413),
    /// A photo of a type not accepted, bytes that are not the image its
    /// type says (JPEG, PNG, WebP by their magic bytes), a malformed
    /// `updated_at`, or data not base64 or empty: refused for good.
    BadPhoto = ("bad_photo", 400),
    /// An op of a schema version no desk writes (0): the batch is refused
    /// whole, nothing stored. (Newer versions are kept as received.)
    UnsupportedSchema = ("unsupported_schema", 422),
    /// An op outside the bounds every desk reads (nesting deeper than
    /// `bounds::MAX_OP_DEPTH`, an entity name off the pattern, a string
    /// too long): that op is refused for good.
    OpOutOfBounds = ("op_out_of_bounds", 422),
    /// Too many wrong enrolment codes from one address: wait a minute.
    RateLimited = ("rate_limited", 429),
    /// The request took longer than the server allows: try again.
    Timeout = ("timeout", 503),
    /// The server is serving as many snapshots as it allows at once: try
    /// again after the `Retry-After` seconds.
    Busy = ("busy", 503),
    /// A fault of the server; details are in its log only.
    Internal = ("internal", 500),
}

impl ErrorCode {
    /// The code a bare HTTP status stands for: an older server's or a
    /// proxy's answer without a body this version reads.
    pub fn for_status(status: u16) -> ErrorCode {
        match status {
            401 => ErrorCode::Unauthorized,
            403 => ErrorCode::Forbidden,
            404 => ErrorCode::NotFound,
            405 => ErrorCode::MethodNotAllowed,
            409 => ErrorCode::Conflict,
            413 => ErrorCode::TooLarge,
            422 => ErrorCode::UnsupportedSchema,
            429 => ErrorCode::RateLimited,
            408 | 503 | 504 => ErrorCode::Timeout,
            500..=599 => ErrorCode::Internal,
            _ => ErrorCode::BadRequest,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The JSON body of every error response: `{"code": "...", "message": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    /// For people (and logs); never matched on.
    pub message: String,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_cursor_travels_as_epoch_colon_seq() {
        let c = Cursor { epoch: 3, seq: 1_234 };
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"3:1234\"");
        assert_eq!("3:1234".parse::<Cursor>(), Ok(c));
        assert!("3".parse::<Cursor>().is_err());
        assert!("a:b".parse::<Cursor>().is_err());
        assert!(serde_json::from_str::<Cursor>("\"-1:2\"").is_err());
    }

    #[test]
    fn every_error_code_travels_as_its_name_with_its_status() {
        for &code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), code);
            assert!((400..600).contains(&code.http_status()), "{code}");
            assert!(!code.meaning().is_empty(), "{code}");
            // A bare status reads as a code of that status.
            assert_eq!(ErrorCode::for_status(code.http_status()).http_status(), code.http_status(), "{code}");
        }
        let names: std::collections::BTreeSet<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), ErrorCode::ALL.len());
    }

    #[test]
    fn a_rejected_op_reads_with_any_code_or_none() {
        let id = "01934f3c-0000-7000-8000-000000000001";
        let read = |json: String| serde_json::from_str::<RejectedOp>(&json).unwrap();
        assert_eq!(read(format!(r#"{{"op_id":"{id}","reason":"r"}}"#)).code, None);
        let held = read(format!(r#"{{"op_id":"{id}","reason":"r","code":"clock_ahead"}}"#));
        assert!(held.is_held());
        assert_eq!(read(format!(r#"{{"op_id":"{id}","reason":"r","code":"code_of_later"}}"#)).code, None);
        assert_eq!(
            read(format!(r#"{{"op_id":"{id}","reason":"r","code":"not_owner"}}"#)).code,
            Some(ErrorCode::NotOwner)
        );
    }

    #[test]
    fn an_error_body_is_code_and_message() {
        let body: ErrorBody = serde_json::from_str(r#"{"code":"op_of_other_center","message":"m"}"#).unwrap();
        assert_eq!(body, ErrorBody { code: ErrorCode::OpOfOtherCenter, message: "m".into() });
        // A code this version does not know does not read as a known one.
        assert!(serde_json::from_str::<ErrorBody>(r#"{"code":"new_code","message":"m"}"#).is_err());
    }
}
