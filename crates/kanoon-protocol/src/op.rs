use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
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
    /// A center's own activity kind beside the province's list (record).
    pub const ACTIVITY_KIND: &'static str = "activity_kind";
    /// One session of the weekly activity program (record).
    pub const ACTIVITY_SESSION: &'static str = "activity_session";
    /// Attendance at an activity session or a workshop session (events:
    /// `attended`, `void`).
    pub const ATTENDANCE: &'static str = "attendance";
    /// A workshop of a term (record).
    pub const WORKSHOP: &'static str = "workshop";
    /// A workshop participant, member or not (record).
    pub const PARTICIPANT: &'static str = "participant";
    /// A workshop's enrolment events (join, offer, accept, leave).
    pub const ENROLMENT: &'static str = "enrolment";
    /// The cash book: payments, refunds and voids (events).
    pub const CASH: &'static str = "cash";
    /// A staff member's day of cash closed and confirmed (events).
    pub const CASH_CLOSING: &'static str = "cash_closing";
    /// A referral to the Iran Language Institute (events).
    pub const REFERRAL: &'static str = "referral";
    /// A village a mobile or postal center covers, with its slot on the
    /// van's route (record).
    pub const VILLAGE: &'static str = "village";
    /// The van's visits to villages: `opened`, `closed` (with its report),
    /// `changed` (a visit cancelled or moved, and where its loans' due
    /// date goes) (events).
    pub const VAN_VISIT: &'static str = "van_visit";
    /// A postal center's parcels: `sent`, `received` (one book back),
    /// `lost` (one book lost in the post) (events).
    pub const PARCEL: &'static str = "parcel";
    /// A member's wish for a title, the next parcel is filled from
    /// (record; its id derived from the member and the title, so a wish
    /// made at two desks is one).
    pub const WISH: &'static str = "wish";
    /// A province-wide setting (record), written only by the provincial
    /// server as the province's pseudo-center (`province`).
    pub const PROVINCE_SETTING: &'static str = "province_setting";
    /// A center's own value of a setting the province lets it change
    /// (record, center-scoped; id `province::override_id(key)`).
    pub const SETTING_OVERRIDE: &'static str = "setting_override";

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

/// What an op says. On the wire an object tagged by `type`. A body this
/// version does not know — another `type`, or a known one with fields it
/// does not know (at the body's level or in a field change) — is kept whole
/// as `Unknown` and written back exactly, never dropped: receivers keep it
/// for the version that understands it.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(tag = "type", rename_all = "snake_case"))]
pub enum OpBody {
    /// An immutable event; `kind` names it (loan, return, ...), `data` is its
    /// payload as written by the originating version.
    Event { kind: String, data: serde_json::Value },
    /// Field-by-field change of a record.
    Patch { fields: BTreeMap<String, FieldChange> },
    /// A body of a newer version, as received (an object with a string `type`).
    #[cfg_attr(feature = "ts", ts(skip))]
    Unknown(serde_json::Value),
}

/// The known bodies' wire shape (serde's internally tagged enum).
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum KnownBody<K, D, P> {
    Event { kind: K, data: D },
    Patch { fields: P },
}

impl Serialize for OpBody {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            OpBody::Event { kind, data } => KnownBody::<_, _, ()>::Event { kind, data }.serialize(s),
            OpBody::Patch { fields } => KnownBody::<(), (), _>::Patch { fields }.serialize(s),
            OpBody::Unknown(value) => value.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for OpBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = Value::deserialize(d)?;
        let Some(object) = value.as_object() else { return Err(D::Error::custom("an op body must be an object")) };
        let known = match object.get("type").and_then(Value::as_str) {
            Some("event") => only_keys(object, &["type", "kind", "data"]),
            Some("patch") => {
                only_keys(object, &["type", "fields"])
                    && object.get("fields").and_then(Value::as_object).is_none_or(|fields| {
                        fields.values().all(|c| c.as_object().is_none_or(|c| only_keys(c, &["value", "base"])))
                    })
            }
            Some(_) => false,
            None => return Err(D::Error::custom("an op body needs a string `type`")),
        };
        if !known {
            return Ok(OpBody::Unknown(value));
        }
        match KnownBody::<String, Value, BTreeMap<String, FieldChange>>::deserialize(value).map_err(D::Error::custom)? {
            KnownBody::Event { kind, data } => Ok(OpBody::Event { kind, data }),
            KnownBody::Patch { fields } => Ok(OpBody::Patch { fields }),
        }
    }
}

fn only_keys(object: &Map<String, Value>, known: &[&str]) -> bool {
    object.keys().all(|k| known.contains(&k.as_str()))
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
    /// Top-level fields of a newer version, kept as received and written
    /// back out: the server stores and serves them, a desk keeps them in
    /// its inbox. Empty for the ops this version writes.
    #[serde(flatten)]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub extra: Map<String, Value>,
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

    fn op_json(extra: Value, body: Value) -> Value {
        let mut op = serde_json::json!({
            "op_id": "01934f3c-0000-7000-8000-000000000001",
            "schema_version": 9,
            "hlc": {"wall_ms": 5, "counter": 1},
            "device_id": "01934f3c-0000-7000-8000-000000000002",
            "center_id": "01934f3c-0000-7000-8000-000000000003",
            "entity": "member",
            "entity_id": "01934f3c-0000-7000-8000-000000000004",
            "staff_id": null,
            "body": body,
        });
        if let (Some(op), Some(extra)) = (op.as_object_mut(), extra.as_object()) {
            op.extend(extra.clone());
        }
        op
    }

    fn round_trip(json: &Value) -> Op {
        let op: Op = serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&serde_json::to_value(&op).unwrap_or_default(), json);
        let text = serde_json::to_string(&op).unwrap_or_default();
        let again: Op = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again, op);
        op
    }

    #[test]
    fn unknown_top_level_fields_are_kept_and_written_back() {
        let extra = serde_json::json!({"origin": {"app": "kanoon-desk", "version": "2.0"}, "signature": "abc"});
        let body = serde_json::json!({"type": "patch", "fields": {"first_name": {"value": "سارا", "base": null}}});
        let op = round_trip(&op_json(extra, body));
        assert_eq!(op.extra.len(), 2);
        assert_eq!(op.extra["signature"], "abc");
        assert!(matches!(op.body, OpBody::Patch { .. }));
    }

    #[test]
    fn a_body_of_an_unknown_type_or_with_unknown_fields_is_kept_whole() {
        let bodies = [
            serde_json::json!({"type": "merge", "into": "01934f3c-0000-7000-8000-000000000009", "why": [1]}),
            serde_json::json!({"type": "event", "kind": "loan", "data": {}, "signed_by": "x"}),
            serde_json::json!({"type": "patch", "fields": {"email": {"value": "a@b.ir", "base": null, "source": "sms"}}}),
        ];
        for body in bodies {
            let op = round_trip(&op_json(serde_json::json!({}), body.clone()));
            assert_eq!(op.body, OpBody::Unknown(body));
            assert!(op.extra.is_empty());
        }
        // A field this version does not know inside a known patch is a value
        // like any other (the receiver decides what it applies).
        let body = serde_json::json!({"type": "patch", "fields": {"email": {"value": "a@b.ir", "base": null}}});
        assert!(matches!(round_trip(&op_json(serde_json::json!({}), body)).body, OpBody::Patch { .. }));
    }

    #[test]
    fn a_body_without_a_type_or_a_malformed_known_one_is_refused() {
        for body in [
            serde_json::json!({"kind": "loan", "data": {}}),
            serde_json::json!("event"),
            serde_json::json!({"type": "event", "data": {}}),
            serde_json::json!({"type": "patch", "fields": {"x": 1}}),
        ] {
            let json = op_json(serde_json::json!({}), body.clone());
            assert!(serde_json::from_value::<Op>(json).is_err(), "{body}");
        }
    }
}
