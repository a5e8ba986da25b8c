//! What belongs to one center: the records and events of the services
//! that never leave their center (activities, workshops, the cash book,
//! referrals, villages, the van's visits, the post's parcels and wish lists). The
//! center that wrote an id's first op owns it; an op of another center on
//! it, or an event naming another center's record, is refused by the
//! server (`not_owner`) and never applied by a desk. The server and the
//! desk read the same table, so they judge alike.

use uuid::Uuid;

use crate::{EntityKind, Op, OpBody};

/// Entity kinds owned by the center that created each id.
pub const CENTER_OWNED: &[&str] = &[
    EntityKind::ACTIVITY_KIND,
    EntityKind::ACTIVITY_SESSION,
    EntityKind::ATTENDANCE,
    EntityKind::WORKSHOP,
    EntityKind::PARTICIPANT,
    EntityKind::ENROLMENT,
    EntityKind::CASH,
    EntityKind::CASH_CLOSING,
    EntityKind::REFERRAL,
    EntityKind::VILLAGE,
    EntityKind::VAN_VISIT,
    EntityKind::PARCEL,
    EntityKind::WISH,
];

/// The fields of an event's data that name another owned id, by the
/// event's entity: (field, the entity it names).
const EVENT_REFS: &[(&str, &[(&str, &str)])] = &[
    (
        EntityKind::ATTENDANCE,
        &[
            ("session_id", EntityKind::ACTIVITY_SESSION),
            ("workshop_id", EntityKind::WORKSHOP),
            ("target", EntityKind::ATTENDANCE),
        ],
    ),
    (
        EntityKind::ENROLMENT,
        &[
            ("workshop_id", EntityKind::WORKSHOP),
            ("participant", EntityKind::PARTICIPANT),
            ("target", EntityKind::ENROLMENT),
        ],
    ),
    (
        EntityKind::CASH,
        &[
            ("refund_of", EntityKind::CASH),
            ("target", EntityKind::CASH),
            ("workshop_id", EntityKind::WORKSHOP),
            ("participant_id", EntityKind::PARTICIPANT),
        ],
    ),
    (EntityKind::REFERRAL, &[("target", EntityKind::REFERRAL)]),
    (EntityKind::VAN_VISIT, &[("village_id", EntityKind::VILLAGE), ("visit_id", EntityKind::VAN_VISIT)]),
    (EntityKind::PARCEL, &[("parcel_id", EntityKind::PARCEL)]),
];

/// Whether ids of this entity kind belong to the center that created them.
pub fn is_center_owned(entity: &str) -> bool {
    CENTER_OWNED.contains(&entity)
}

/// Every owned id an op touches, as (entity, id): its own entity id when
/// its kind is center-owned, and for an event the owned ids its data names
/// (a field that is absent or not a UUID names nothing). Empty for every
/// other op.
pub fn owned_ids(op: &Op) -> Vec<(&'static str, Uuid)> {
    let mut ids = Vec::new();
    let Some(&own) = CENTER_OWNED.iter().find(|k| **k == op.entity.as_str()) else { return ids };
    ids.push((own, op.entity_id));
    if let (OpBody::Event { data, .. }, Some((_, refs))) =
        (&op.body, EVENT_REFS.iter().find(|(entity, _)| *entity == own))
    {
        for (field, entity) in *refs {
            if let Some(id) = data.get(*field).and_then(serde_json::Value::as_str).and_then(|s| Uuid::parse_str(s).ok())
            {
                ids.push((entity, id));
            }
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{Hlc, SCHEMA_VERSION};

    fn op(entity: &str, body: OpBody) -> Op {
        Op {
            op_id: Uuid::now_v7(),
            schema_version: SCHEMA_VERSION,
            hlc: Hlc { wall_ms: 1, counter: 0 },
            device_id: Uuid::now_v7(),
            center_id: Uuid::now_v7(),
            entity: EntityKind::new(entity),
            entity_id: Uuid::now_v7(),
            staff_id: None,
            body,
            extra: Default::default(),
        }
    }

    #[test]
    fn an_attendance_names_its_session_and_a_void_its_target() {
        let session = Uuid::now_v7();
        let attended = op(
            EntityKind::ATTENDANCE,
            OpBody::Event {
                kind: "attended".into(),
                data: serde_json::json!({"session_id": session, "card": "12", "member_id": Uuid::now_v7()}),
            },
        );
        assert_eq!(
            owned_ids(&attended),
            vec![(EntityKind::ATTENDANCE, attended.entity_id), (EntityKind::ACTIVITY_SESSION, session)]
        );
        let void = op(
            EntityKind::ATTENDANCE,
            OpBody::Event { kind: "void".into(), data: serde_json::json!({"target": attended.entity_id}) },
        );
        assert_eq!(owned_ids(&void)[1], (EntityKind::ATTENDANCE, attended.entity_id));
    }

    #[test]
    fn records_of_shared_kinds_and_bad_references_name_nothing_owned() {
        let member = op(EntityKind::MEMBER, OpBody::Patch { fields: Default::default() });
        assert!(owned_ids(&member).is_empty());
        let odd = op(
            EntityKind::ATTENDANCE,
            OpBody::Event { kind: "attended".into(), data: serde_json::json!({"session_id": "not a uuid"}) },
        );
        assert_eq!(owned_ids(&odd).len(), 1);
    }
}
