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
//! Memory: bounded whatever the center's size. The ops are read in this
//! order, each written to the `SnapshotSink` as it comes and dropped: the
//! records by entity (`rank`: a copy after its title), then the ops shared
//! with the center, then the events no group holds (`fold_key` NULL: kinds
//! this server does not know, a renewal or void whose event is not stored),
//! all kept as they are; then the center's understood events ordered by
//! their group (`ops.fold_key`, migration 0005: the copy or member whose
//! derived state they make), one group held at a time (`Streamer`).
//! A renewal or void pushed before the event it names stays out of every
//! group and is kept, as a return of a loan not in the log always was.

use std::collections::HashSet;

use chrono::NaiveDate;
use kanoon_domain::circulation::{Event, EventRecord, fold};
use kanoon_protocol::EntityKind;
use kanoon_protocol::wire::Cursor;
use uuid::Uuid;

use crate::error::AppError;
use crate::events::parse_event;
use crate::storage::SnapshotSink;

/// Where an op goes in the snapshot: records by kind (a copy after its
/// title, events after the records they name), then in log order. Only an
/// optimization: the desk applies ops in any order.
pub fn rank(entity: &str) -> u8 {
    match entity {
        EntityKind::CIRCULATION | EntityKind::MEMBERSHIP => 9,
        EntityKind::CENTER => 0,
        EntityKind::POLICY | EntityKind::PROVINCE_SETTING => 1,
        EntityKind::STAFF => 2,
        EntityKind::TITLE => 3,
        EntityKind::MEMBER => 4,
        EntityKind::COPY => 5,
        _ => 6,
    }
}

/// The entities of the two scopes in the order the snapshot writes them:
/// records by `rank`, then the events of the entities that have them.
pub fn ordered_entities(mut entities: Vec<(String, String)>) -> Vec<(String, String)> {
    entities.sort_by(|(sa, ea), (sb, eb)| (rank(ea), ea, sa).cmp(&(rank(eb), eb, sb)));
    entities
}

/// Writes the snapshot to its sink as the backend reads it, deciding one
/// group of events at a time what the new desk still needs.
pub struct Streamer<'s> {
    sink: &'s mut dyn SnapshotSink,
    /// Membership periods ending before this are history.
    since: NaiveDate,
    /// The group read so far: its key, and its events (text, parsed) in log order.
    key: Option<String>,
    group: Vec<(String, Option<EventRecord>)>,
    /// Ops written.
    pub written: usize,
    /// Bytes of JSON written.
    pub bytes: usize,
}

impl<'s> Streamer<'s> {
    /// `today`: the server's date (membership periods that ended before
    /// the day before are history). Writes the cursor.
    pub fn start(
        sink: &'s mut dyn SnapshotSink,
        today: NaiveDate,
        epoch: u64,
        watermark: i64,
    ) -> Result<Self, AppError> {
        sink.cursor(Cursor { epoch, seq: u64::try_from(watermark).unwrap_or(0) })?;
        Ok(Streamer {
            sink,
            since: today.pred_opt().unwrap_or(today),
            key: None,
            group: Vec::new(),
            written: 0,
            bytes: 0,
        })
    }

    /// An op kept as it is (a record, an ungrouped or shared event).
    pub fn keep(&mut self, json: &str) -> Result<(), AppError> {
        self.written += 1;
        self.bytes += json.len();
        self.sink.op(json)
    }

    /// The next event of the grouped read (ordered by group, then log order).
    pub fn grouped(&mut self, key: &str, entity: &str, json: String) -> Result<(), AppError> {
        let record = parse_event(entity, &json);
        self.grouped_parsed(key, json, record)
    }

    /// `grouped`, the event already parsed (`events::parse_event`) by
    /// whoever read it.
    pub fn grouped_parsed(&mut self, key: &str, json: String, record: Option<EventRecord>) -> Result<(), AppError> {
        if self.key.as_deref() != Some(key) {
            self.flush()?;
            self.key = Some(key.to_owned());
        }
        self.group.push((json, record));
        Ok(())
    }

    /// Writes the last group.
    pub fn finish(mut self) -> Result<(usize, usize), AppError> {
        self.flush()?;
        Ok((self.written, self.bytes))
    }

    fn flush(&mut self) -> Result<(), AppError> {
        let group = std::mem::take(&mut self.group);
        let records: Vec<&EventRecord> = group.iter().filter_map(|(_, r)| r.as_ref()).collect();
        let kept = keep_of_group(&records, self.since);
        for (json, record) in &group {
            // An event this server cannot read is kept as it is.
            if record.as_ref().is_none_or(|r| kept.contains(&r.id)) {
                self.keep(json)?;
            }
        }
        Ok(())
    }
}

/// The ids of a group's events a new desk still needs (see the module):
/// of a copy's, the open loans with their returns and renewals and every
/// transfer; of a member's, the live periods that end on or after `since`
/// and the latest, and recent reminder calls; a return, renewal or void
/// whose event is not in the group (not in the log, or another center's);
/// and voids of what is kept.
pub fn keep_of_group(records: &[&EventRecord], since: NaiveDate) -> HashSet<Uuid> {
    let ids: HashSet<Uuid> = records.iter().map(|r| r.id).collect();
    let loans: HashSet<Uuid> = records.iter().filter(|r| matches!(r.event, Event::Loan { .. })).map(|r| r.id).collect();
    let mut kept: HashSet<Uuid> = HashSet::new();
    let copy_events: Vec<EventRecord> = records
        .iter()
        .filter(|r| {
            matches!(
                r.event,
                Event::Loan { .. }
                    | Event::Return { .. }
                    | Event::Renewal { .. }
                    | Event::Transfer { .. }
                    | Event::Void { .. }
            )
        })
        .map(|r| (*r).clone())
        .collect();
    if copy_events.iter().any(|r| !matches!(r.event, Event::Void { .. })) {
        let state = fold(&copy_events);
        for r in records {
            let needed = match &r.event {
                Event::Loan { .. } => state.open_loans.contains_key(&r.id),
                Event::Return { loan_id, .. } | Event::Renewal { loan_id, .. } => {
                    state.open_loans.contains_key(loan_id) || !loans.contains(loan_id)
                }
                Event::Transfer { .. } => true,
                _ => false,
            };
            if needed {
                kept.insert(r.id);
            }
        }
    }
    let voided: HashSet<Uuid> = records
        .iter()
        .filter_map(|r| match &r.event {
            Event::Void { target, .. } => Some(*target),
            _ => None,
        })
        .collect();
    let mut latest: Option<(NaiveDate, Uuid)> = None;
    for r in records {
        match &r.event {
            Event::Membership { ends_on, .. } if !voided.contains(&r.id) => {
                if *ends_on >= since {
                    kept.insert(r.id);
                }
                if latest.is_none_or(|(end, _)| *ends_on > end) {
                    latest = Some((*ends_on, r.id));
                }
            }
            // Calls about overdue books in the period the snapshot covers.
            Event::ReminderCall { called_on, .. } if *called_on >= since => {
                kept.insert(r.id);
            }
            // A void of an event not in the group: whoever pushes it later needs it.
            Event::Void { target, .. } if !ids.contains(target) => {
                kept.insert(r.id);
            }
            _ => {}
        }
    }
    if let Some((_, id)) = latest {
        kept.insert(id);
    }
    // Voids of kept events (and voids of those), so the desk folds the same state.
    loop {
        let before = kept.len();
        for r in records {
            if let Event::Void { target, .. } = &r.event
                && kept.contains(target)
            {
                kept.insert(r.id);
            }
        }
        if kept.len() == before {
            return kept;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::storage::Snapshot;
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
        let ret = Uuid::now_v7();
        let copy_key = copy.to_string();
        let member_key = member.to_string();
        let c = EntityKind::CIRCULATION;
        let m = EntityKind::MEMBERSHIP;
        let copy_group = vec![
            op(c, closed, 1, loan(copy)),
            op(
                c,
                ret,
                2,
                serde_json::json!({"kind": "return", "loan_id": closed, "copy_id": copy, "returned_on": "2025-01-02"}),
            ),
            op(c, open, 3, loan(copy)),
            op(
                c,
                orphan_return,
                4,
                serde_json::json!({"kind": "return", "loan_id": Uuid::now_v7(), "copy_id": copy, "returned_on": "2025-01-02"}),
            ),
        ];
        let member_group = vec![
            op(m, old, 5, period("2024-12-31")),
            op(m, current, 6, period("2025-12-31")),
            op(m, voided, 7, period("2026-12-31")),
            op(m, void, 8, serde_json::json!({"kind": "void", "target": voided, "reason": "x"})),
        ];
        let unknown = op(c, Uuid::now_v7(), 9, serde_json::json!({"kind": "teleport"}));
        let mut snapshot = Snapshot { cursor: Cursor::default(), ops: Vec::new() };
        let mut s = Streamer::start(&mut snapshot, date("2025-06-01"), 7, 9).unwrap();
        s.keep(&unknown).unwrap();
        for json in &copy_group {
            s.grouped(&copy_key, c, json.clone()).unwrap();
        }
        for json in &member_group {
            s.grouped(&member_key, m, json.clone()).unwrap();
        }
        assert_eq!(s.finish().unwrap().0, 4);
        assert_eq!(snapshot.cursor, Cursor { epoch: 7, seq: 9 });
        let expected = vec![unknown, copy_group[2].clone(), copy_group[3].clone(), member_group[1].clone()];
        assert_eq!(snapshot.ops, expected, "the unknown kind is kept as it is");
    }
}
