use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Hlc;

/// Version of the op schema this build writes. Bumped when a kind or field
/// is added; readers keep what they do not know.
pub const SCHEMA_VERSION: u32 = 1;

/// What an op is about. A string on the wire so that kinds added by a newer
/// version pass through older peers untouched.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(transparent)]
pub struct EntityKind(pub String);

impl EntityKind {
    pub const CENTER: &'static str = "center";
    pub const STAFF: &'static str = "staff";
    pub const MEMBER: &'static str = "member";
    pub const TITLE: &'static str = "title";
    pub const COPY: &'static str = "copy";
    /// Append-only circulation events (loan, return, renewal, transfer, void).
    pub const CIRCULATION: &'static str = "circulation";
    /// Append-only membership events (membership period, payment, void).
    pub const MEMBERSHIP: &'static str = "membership";
    pub const POLICY: &'static str = "policy";
    /// A sync exception settled by staff (event `exception_resolved`);
    /// its entity id is the exception's id. Center-scoped.
    pub const SYNC_EXCEPTION: &'static str = "sync_exception";

    pub fn new(s: &str) -> Self {
        Self(s.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which write set a field's value: its clock and the device that issued it
/// (two devices can issue the same clock; the pair is unique and ordered).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FieldVersion {
    pub hlc: Hlc,
    pub device_id: Uuid,
}

/// One change of one field of a record. `base` is the version of the value
/// it replaced (None when the field had no value yet): a receiver that holds
/// a different version of the field knows the writer did not see its value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FieldChange {
    pub value: serde_json::Value,
    pub base: Option<FieldVersion>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OpBody {
    /// An immutable event; `kind` names it (loan, return, ...), `data` is its
    /// payload as written by the originating version.
    Event { kind: String, data: serde_json::Value },
    /// Field-by-field change of a record.
    Patch { fields: BTreeMap<String, FieldChange> },
}

/// The envelope of every change a desk records. One local write of one
/// entity = one op, appended to the outbox in the same transaction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Op {
    /// UUIDv7: unique, roughly time-ordered, generated offline.
    pub op_id: Uuid,
    pub schema_version: u32,
    pub hlc: Hlc,
    pub device_id: Uuid,
    pub center_id: Uuid,
    pub entity: EntityKind,
    pub entity_id: Uuid,
    /// Staff member who made the change.
    pub staff_id: Option<Uuid>,
    pub body: OpBody,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_op_keeps_unknown_event_fields_through_a_round_trip() {
        let json = serde_json::json!({
            "op_id": "01934f3c-0000-7000-8000-000000000001",
            "schema_version": 7,
            "hlc": {"wall_ms": 5, "counter": 1},
            "device_id": "01934f3c-0000-7000-8000-000000000002",
            "center_id": "01934f3c-0000-7000-8000-000000000003",
            "entity": "future_thing",
            "entity_id": "01934f3c-0000-7000-8000-000000000004",
            "staff_id": null,
            "body": {"type": "event", "kind": "teleport", "data": {"new_field": [1, 2]}}
        });
        let op: Op = serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(op.entity.as_str(), "future_thing");
        assert_eq!(serde_json::to_value(&op).unwrap_or_default(), json);
    }
}
