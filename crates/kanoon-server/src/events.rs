//! The stored circulation and membership events as the domain's `fold`
//! takes them, and grouped as their derived state is folded. The snapshot
//! (what a new desk still needs) and the province's exceptions report
//! (what each copy's log shows) both read the log through here.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use kanoon_domain::circulation::{Event, EventRecord};
use kanoon_protocol::{EntityKind, Hlc};
use serde::Deserialize;
use uuid::Uuid;

/// The parts of a stored op an event needs (the rest is skipped). The
/// body is read as a plain struct and only its `data` parsed as an
/// `Event`: serde buffers an internally tagged enum whole before reading
/// it, and the 600,000 events of a large center are most of a snapshot's
/// work.
#[derive(Deserialize)]
struct EventEnvelope<'a> {
    hlc: Hlc,
    device_id: Uuid,
    #[serde(borrow)]
    entity: &'a str,
    entity_id: Uuid,
    #[serde(borrow)]
    body: EnvelopeBody<'a>,
}

#[derive(Deserialize)]
struct EnvelopeBody<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    #[serde(borrow)]
    data: Option<&'a serde_json::value::RawValue>,
}

/// A stored circulation or membership event as the fold takes it; None
/// for any other op, or an event of a kind or shape this server does not
/// understand.
pub fn parse_event(entity: &str, json: &str) -> Option<EventRecord> {
    if !matches!(entity, EntityKind::CIRCULATION | EntityKind::MEMBERSHIP) {
        return None;
    }
    let envelope = serde_json::from_str::<EventEnvelope<'_>>(json).ok().filter(|e| e.entity == entity)?;
    if envelope.body.kind != "event" {
        return None;
    }
    let event = serde_json::from_str(envelope.body.data?.get()).ok()?;
    Some(EventRecord {
        id: envelope.entity_id,
        hlc: envelope.hlc,
        device_id: envelope.device_id,
        at: DateTime::<Utc>::default(),
        event,
    })
}

/// Events grouped as their derived state is folded: loans, returns,
/// renewals and transfers by copy (a return or renewal by its loan's
/// copy), periods and reminder calls by member, voids by their target's group. The second
/// list holds the indexes in no group: a return or renewal of a loan not
/// in the log, a void of an event not in the log.
pub fn group_events<'a>(
    events: impl Iterator<Item = &'a EventRecord> + Clone,
) -> (HashMap<Group, Vec<usize>>, Vec<usize>) {
    let mut group_of: HashMap<Uuid, Group> = HashMap::new();
    for e in events.clone() {
        match &e.event {
            Event::Loan { copy_id, .. } | Event::Transfer { copy_id, .. } => {
                group_of.insert(e.id, Group::Copy(*copy_id));
            }
            Event::Membership { member_id, .. } | Event::ReminderCall { member_id, .. } => {
                group_of.insert(e.id, Group::Member(*member_id));
            }
            _ => {}
        }
    }
    for e in events.clone() {
        if let Event::Return { loan_id, .. } | Event::Renewal { loan_id, .. } = &e.event
            && let Some(g) = group_of.get(loan_id).copied()
        {
            group_of.insert(e.id, g);
        }
    }
    // Voids of voids: resolve until nothing changes (chains are short).
    loop {
        let mut changed = false;
        for e in events.clone() {
            if let Event::Void { target, .. } = &e.event
                && !group_of.contains_key(&e.id)
                && let Some(g) = group_of.get(target).copied()
            {
                group_of.insert(e.id, g);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut groups: HashMap<Group, Vec<usize>> = HashMap::new();
    let mut alone = Vec::new();
    for (i, e) in events.enumerate() {
        match group_of.get(&e.id) {
            Some(g) => groups.entry(*g).or_default().push(i),
            None => alone.push(i),
        }
    }
    (groups, alone)
}

/// A group of events whose derived state is folded together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Group {
    Copy(Uuid),
    Member(Uuid),
}
