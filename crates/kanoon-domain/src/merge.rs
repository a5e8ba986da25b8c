//! Merge rules for records (member, title, copy, center, policy): field by
//! field, the value with the greater (clock, device) wins, on every peer,
//! whatever order patches arrive in. A patch that replaced a value other than
//! the one a peer holds did not see that peer's edit: it still converges,
//! and the conflict is reported so nobody's edit is overwritten silently.

use std::collections::BTreeMap;

use kanoon_protocol::{FieldChange, FieldVersion, Hlc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A field's value with the clock and device of the write that set it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Stamped {
    pub value: serde_json::Value,
    pub hlc: Hlc,
    pub device_id: Uuid,
    /// The version of the value this one replaced (what its writer had seen).
    pub base: Option<FieldVersion>,
}

impl Stamped {
    pub fn version(&self) -> FieldVersion {
        FieldVersion { hlc: self.hlc, device_id: self.device_id }
    }
}

/// Two edits of the same field that did not see each other.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConcurrentEdit {
    pub field: String,
    pub kept: Stamped,
    pub lost: Stamped,
}

/// A record's fields with their stamps.
pub type RecordFields = BTreeMap<String, Stamped>;

/// Applies one incoming patch to a record's fields. Returns the conflicts it
/// revealed. Idempotent and commutative: any order of the same patches gives
/// the same fields.
pub fn apply_patch(
    fields: &mut RecordFields,
    patch: &BTreeMap<String, FieldChange>,
    hlc: Hlc,
    device_id: Uuid,
) -> Vec<ConcurrentEdit> {
    let mut conflicts = Vec::new();
    for (name, change) in patch {
        let incoming = Stamped { value: change.value.clone(), hlc, device_id, base: change.base };
        match fields.get(name) {
            None => {
                fields.insert(name.clone(), incoming);
            }
            Some(current) if current.version() == incoming.version() => {}
            Some(current) => {
                // With clocks only, "saw" means: the value a writer replaced
                // was at least as new as the other write.
                let incoming_saw_current = change.base.is_some_and(|b| b >= current.version());
                let current_saw_incoming = current.base.is_some_and(|b| b >= incoming.version());
                let (kept, lost) = if incoming.version() > current.version() {
                    (incoming, current.clone())
                } else {
                    (current.clone(), incoming)
                };
                if kept.value != lost.value && !incoming_saw_current && !current_saw_incoming {
                    conflicts.push(ConcurrentEdit { field: name.clone(), kept: kept.clone(), lost });
                }
                fields.insert(name.clone(), kept);
            }
        }
    }
    conflicts
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn patch(field: &str, value: serde_json::Value, base: Option<Hlc>) -> BTreeMap<String, FieldChange> {
        // Tests' bases were written by device 1.
        let base = base.map(|hlc| FieldVersion { hlc, device_id: Uuid::from_u128(1) });
        BTreeMap::from([(field.to_owned(), FieldChange { value, base })])
    }

    #[test]
    fn a_later_edit_that_saw_the_value_replaces_it_without_conflict() {
        let mut f = RecordFields::new();
        apply_patch(&mut f, &patch("phone", json!("0912"), None), Hlc::new(1, 0), Uuid::from_u128(1));
        let c = apply_patch(
            &mut f,
            &patch("phone", json!("0935"), Some(Hlc::new(1, 0))),
            Hlc::new(2, 0),
            Uuid::from_u128(2),
        );
        assert!(c.is_empty());
        assert_eq!(f["phone"].value, json!("0935"));
    }

    #[test]
    fn two_blind_edits_converge_and_report_a_conflict() {
        let base = patch("phone", json!("0912"), None);
        let a = patch("phone", json!("0935"), Some(Hlc::new(1, 0)));
        let b = patch("phone", json!("0990"), Some(Hlc::new(1, 0)));
        let mut one = RecordFields::new();
        apply_patch(&mut one, &base, Hlc::new(1, 0), Uuid::from_u128(1));
        let mut two = one.clone();
        let c1 = [
            apply_patch(&mut one, &a, Hlc::new(2, 0), Uuid::from_u128(2)),
            apply_patch(&mut one, &b, Hlc::new(3, 0), Uuid::from_u128(3)),
        ]
        .concat();
        let c2 = [
            apply_patch(&mut two, &b, Hlc::new(3, 0), Uuid::from_u128(3)),
            apply_patch(&mut two, &a, Hlc::new(2, 0), Uuid::from_u128(2)),
        ]
        .concat();
        assert_eq!(one, two);
        assert_eq!(one["phone"].value, json!("0990"));
        assert_eq!(c1.len(), 1);
        assert_eq!(c2.len(), 1);
        assert_eq!(c1[0].lost.value, json!("0935"));
        assert_eq!(c2[0].lost.value, json!("0935"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::proptest_cases()))]
        #[test]
        fn any_order_of_patches_converges(
            writes in proptest::collection::vec((0u8..3, 0i64..20, 0u128..3, 0u8..4, proptest::option::of(0i64..20)), 1..12),
            seed in any::<u64>(),
        ) {
            let patches: Vec<_> = writes
                .iter()
                .enumerate()
                .map(|(i, (f, wall, dev, val, base))| {
                    // A device never issues the same clock twice.
                    let clock = Hlc::new(*wall, i as u32);
                    (patch(&format!("f{f}"), json!(val), base.map(|b| Hlc::new(b, 0))), clock, Uuid::from_u128(*dev))
                })
                .collect();
            let mut a = RecordFields::new();
            for (p, h, d) in &patches {
                apply_patch(&mut a, p, *h, *d);
            }
            let mut order: Vec<usize> = (0..patches.len()).collect();
            let mut x = seed | 1;
            for i in (1..order.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                order.swap(i, (x % (i as u64 + 1)) as usize);
            }
            let mut b = RecordFields::new();
            for i in order.iter().chain(order.iter()) {
                let (p, h, d) = &patches[*i];
                apply_patch(&mut b, p, *h, *d);
            }
            prop_assert_eq!(a, b);
        }
    }
}
