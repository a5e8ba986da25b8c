//! What a new or reinstalled desk starts from (`GET /sync/v1/snapshot`):
//! the ops of its center and the province up to one position of the log,
//! read in one consistent read, without the closed history.
//!
//! Kept: every op that is not a circulation or membership event this server
//! understands — record patches (members, titles, copies, centers, staff,
//! settings, …) and every event of a kind, entity or shape it does not know
//! (never dropped: a newer desk needs them). Of the events it understands,
//! kept are only those the derived state still needs, decided by the
//! domain's own `circulation::fold` per copy and per member:
//!
//! - per copy: the open loans (their loan event, renewals, returns that
//!   were voided, and those voids), every transfer (the copy's location is
//!   the chain of all of them) and voids of those;
//! - per member: the membership periods not voided that end on or after
//!   yesterday, and the latest one in any case (what "membership ended on"
//!   shows);
//! - returns and renewals of loans not in the log (yet: an offline desk may
//!   push the loan later) and voids whose target is not in the log.
//!
//! Returned and voided loans, their renewals and returns, and expired or
//! voided membership periods stay on the server: a bootstrapped desk has no
//! local loan history before its snapshot.
//!
//! The cursor is the highest `seq` the read saw (the watermark: no op below
//! it can still commit), so the next pull starts right after the snapshot
//! and nothing is served twice or lost. Closed history below it is never
//! pulled again.
//!
//! Memory: record ops are kept as their stored text; events are parsed into
//! compact records and their text fetched again (by `seq`, in the same read)
//! only for the ones kept.

use std::collections::HashSet;

use chrono::NaiveDate;
use kanoon_domain::circulation::{Event, EventRecord, fold};
use kanoon_protocol::EntityKind;
use kanoon_protocol::wire::Cursor;
use uuid::Uuid;

use crate::events::{Group, group_events, parse_event};
use crate::storage::Snapshot;

/// Where an op goes in the snapshot: records by kind (a copy after its
/// title, events after the records they name), then in log order. Only an
/// optimization: the desk applies ops in any order.
fn rank(entity: &str) -> u8 {
    match entity {
        EntityKind::CIRCULATION | EntityKind::MEMBERSHIP => 9,
        EntityKind::CENTER => 0,
        EntityKind::POLICY => 1,
        EntityKind::STAFF => 2,
        EntityKind::TITLE => 3,
        EntityKind::MEMBER => 4,
        EntityKind::COPY => 5,
        _ => 6,
    }
}

/// Reads the log once, deciding as it goes what the snapshot keeps.
pub struct Selector {
    /// Membership periods ending before this are history.
    since: NaiveDate,
    /// Ops kept as they are: (rank, seq, text).
    kept: Vec<(u8, i64, String)>,
    /// Events understood: (seq, record).
    events: Vec<(i64, EventRecord)>,
    /// The highest `seq` read.
    last_seq: i64,
}

impl Selector {
    /// `today`: the server's date (membership periods that ended before
    /// the day before are history).
    pub fn new(today: NaiveDate) -> Self {
        Selector { since: today.pred_opt().unwrap_or(today), kept: Vec::new(), events: Vec::new(), last_seq: 0 }
    }

    /// One op of the center's or the province's scope, as stored.
    pub fn add(&mut self, seq: i64, entity: &str, json: String) {
        self.last_seq = self.last_seq.max(seq);
        match parse_event(entity, &json) {
            Some(record) => self.events.push((seq, record)),
            None => self.kept.push((rank(entity), seq, json)),
        }
    }

    /// The `seq`s of the understood events the snapshot keeps, in log order.
    pub fn events_to_keep(&self) -> Vec<i64> {
        let events = &self.events;
        let (groups, alone) = group_events(events.iter().map(|(_, e)| e));
        // A return or renewal of a loan not in the log, a void of an event
        // not in the log: whoever pushes the rest later needs them.
        let mut keep: Vec<i64> = alone.iter().map(|&i| events[i].0).collect();

        let mut kept_ids: HashSet<Uuid> = HashSet::new();
        for (group, members) in &groups {
            let records: Vec<EventRecord> = members.iter().map(|&i| events[i].1.clone()).collect();
            kept_ids.clear();
            match group {
                Group::Copy(_) => {
                    let state = fold(&records);
                    for r in &records {
                        let needed = match &r.event {
                            Event::Loan { .. } => state.open_loans.contains_key(&r.id),
                            Event::Return { loan_id, .. } | Event::Renewal { loan_id, .. } => {
                                state.open_loans.contains_key(loan_id)
                            }
                            Event::Transfer { .. } => true,
                            _ => false,
                        };
                        if needed {
                            kept_ids.insert(r.id);
                        }
                    }
                }
                Group::Member(_) => {
                    let voided: HashSet<Uuid> = records
                        .iter()
                        .filter_map(|r| match &r.event {
                            Event::Void { target, .. } => Some(*target),
                            _ => None,
                        })
                        .collect();
                    let live = records.iter().filter_map(|r| match &r.event {
                        Event::Membership { ends_on, .. } if !voided.contains(&r.id) => Some((r.id, *ends_on)),
                        _ => None,
                    });
                    // Calls about overdue books in the period the snapshot covers.
                    for r in &records {
                        if let Event::ReminderCall { called_on, .. } = &r.event
                            && *called_on >= self.since
                        {
                            kept_ids.insert(r.id);
                        }
                    }
                    let mut latest: Option<(NaiveDate, Uuid)> = None;
                    for (id, ends_on) in live {
                        if ends_on >= self.since {
                            kept_ids.insert(id);
                        }
                        if latest.is_none_or(|(end, _)| ends_on > end) {
                            latest = Some((ends_on, id));
                        }
                    }
                    if let Some((_, id)) = latest {
                        kept_ids.insert(id);
                    }
                }
            }
            // Voids of kept events (and voids of those), so the desk folds
            // the same state.
            loop {
                let before = kept_ids.len();
                for r in &records {
                    if let Event::Void { target, .. } = &r.event
                        && kept_ids.contains(target)
                    {
                        kept_ids.insert(r.id);
                    }
                }
                if kept_ids.len() == before {
                    break;
                }
            }
            for &i in members {
                if kept_ids.contains(&events[i].1.id) {
                    keep.push(events[i].0);
                }
            }
        }
        keep.sort_unstable();
        keep
    }

    /// The snapshot: the kept ops by rank then log order, then the kept
    /// events (`events`: their `seq` and stored text) in log order.
    pub fn finish(self, epoch: u64, watermark: i64, events: Vec<(i64, String)>) -> Snapshot {
        let mut kept = self.kept;
        kept.extend(events.into_iter().map(|(seq, json)| (9, seq, json)));
        kept.sort_unstable_by_key(|(rank, seq, _)| (*rank, *seq));
        let seq = u64::try_from(watermark.max(self.last_seq)).unwrap_or(0);
        Snapshot { cursor: Cursor { epoch, seq }, ops: kept.into_iter().map(|(_, _, json)| json).collect() }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use kanoon_protocol::{Hlc, SCHEMA_VERSION};

    fn op(entity: &str, id: Uuid, wall: i64, event: serde_json::Value) -> String {
        serde_json::json!({
            "op_id": Uuid::now_v7(),
            "schema_version": SCHEMA_VERSION,
            "hlc": Hlc::new(wall, 0),
            "device_id": Uuid::nil(),
            "center_id": Uuid::nil(),
            "entity": entity,
            "entity_id": id,
            "staff_id": null,
            "body": {"type": "event", "kind": event["kind"].as_str().unwrap_or("x"), "data": event},
        })
        .to_string()
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn closed_loans_and_old_periods_are_left_out_open_ones_and_unknown_kinds_kept() {
        let (copy, member) = (Uuid::now_v7(), Uuid::now_v7());
        let (closed, open, orphan_return, old, current, voided, void) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        let loan = |copy: Uuid| {
            serde_json::json!({"kind": "loan", "copy_id": copy, "member_id": member, "lent_on": "2025-01-01",
                "due_on": "2025-01-15", "overridden": null})
        };
        let period = |ends: &str| {
            serde_json::json!({"kind": "membership", "member_id": member, "starts_on": "2024-01-01", "ends_on": ends,
                "fee": {"type": "paid", "amount_rials": 1, "receipt_number": "1"}})
        };
        let mut s = Selector::new(date("2025-06-01"));
        s.add(1, EntityKind::CIRCULATION, op(EntityKind::CIRCULATION, closed, 1, loan(copy)));
        let ret = Uuid::now_v7();
        s.add(
            2,
            EntityKind::CIRCULATION,
            op(
                EntityKind::CIRCULATION,
                ret,
                2,
                serde_json::json!({"kind": "return", "loan_id": closed, "copy_id": copy, "returned_on": "2025-01-02"}),
            ),
        );
        s.add(3, EntityKind::CIRCULATION, op(EntityKind::CIRCULATION, open, 3, loan(copy)));
        s.add(
            4,
            EntityKind::CIRCULATION,
            op(
                EntityKind::CIRCULATION,
                orphan_return,
                4,
                serde_json::json!({"kind": "return", "loan_id": Uuid::now_v7(), "copy_id": copy, "returned_on": "2025-01-02"}),
            ),
        );
        s.add(5, EntityKind::MEMBERSHIP, op(EntityKind::MEMBERSHIP, old, 5, period("2024-12-31")));
        s.add(6, EntityKind::MEMBERSHIP, op(EntityKind::MEMBERSHIP, current, 6, period("2025-12-31")));
        s.add(7, EntityKind::MEMBERSHIP, op(EntityKind::MEMBERSHIP, voided, 7, period("2026-12-31")));
        s.add(
            8,
            EntityKind::MEMBERSHIP,
            op(EntityKind::MEMBERSHIP, void, 8, serde_json::json!({"kind": "void", "target": voided, "reason": "x"})),
        );
        s.add(
            9,
            EntityKind::CIRCULATION,
            op(EntityKind::CIRCULATION, Uuid::now_v7(), 9, serde_json::json!({"kind": "teleport"})),
        );
        assert_eq!(s.events_to_keep(), vec![3, 4, 6]);
        let snapshot = s.finish(7, 9, vec![]);
        assert_eq!(snapshot.cursor, Cursor { epoch: 7, seq: 9 });
        assert_eq!(snapshot.ops.len(), 1, "the unknown kind is kept as it is");
    }
}
