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
}
