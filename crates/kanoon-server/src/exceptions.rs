//! The province's sync exceptions, for the admin command
//! `kanoon-server exceptions`: what the circulation log of each center
//! shows — a copy lent twice, a return or renewal of a loan that is not
//! open, a void of an event not in the log — found with the domain's own
//! `fold` per copy, under the same derived ids the desks record them by,
//! and whether staff at a desk resolved them (the `exception_resolved`
//! events desks push). Exceptions that only a desk can see (a concurrent
//! edit of a record, a duplicate national id, a far-off clock) are listed
//! when a desk resolved them.

use std::collections::{BTreeMap, HashMap};

use kanoon_domain::circulation::{Anomaly, EventRecord, fold};
use kanoon_domain::entities::{Center, normalize_center_code};
use kanoon_protocol::EntityKind;
use serde::Serialize;
use uuid::Uuid;

use crate::error::AppError;
use crate::events::{Group, group_events, parse_event};
use crate::storage::Storage;

/// The event kind of a resolution (entity `sync_exception`), as desks write it.
const EXCEPTION_RESOLVED: &str = "exception_resolved";

/// An exception as the province sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProvinceException {
    pub center_code: String,
    pub id: Uuid,
    /// `copy_lent_twice`, `loan_not_open`, `void_target_missing`; a code
    /// only desks find is `resolved_at_desk` until a desk's resolution names it.
    pub code: String,
    pub detail: serde_json::Value,
    pub resolution: Option<Resolution>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Resolution {
    pub op_id: Uuid,
    pub note: String,
    pub staff_name: String,
    pub resolved_at: String,
}

/// The exceptions of one center (by code) or of every center, unresolved
/// first, then by center and code.
pub fn province_exceptions(
    storage: &dyn Storage,
    center_code: Option<&str>,
) -> Result<Vec<ProvinceException>, AppError> {
    let center = center_code.map(|c| Center::id_for_code(&normalize_center_code(c)));
    let ops = storage.center_ops(center, &[EntityKind::CIRCULATION, EntityKind::SYNC_EXCEPTION])?;
    let mut events: BTreeMap<String, Vec<EventRecord>> = BTreeMap::new();
    let mut resolutions: HashMap<Uuid, (Resolution, String)> = HashMap::new();
    for op in ops {
        if op.entity == EntityKind::SYNC_EXCEPTION {
            if let Some((exception, resolution)) = parse_resolution(&op.json) {
                // Two desks resolving one exception at once: the first
                // pushed is shown here (desks show the lowest clock).
                resolutions.entry(exception).or_insert((resolution, op.center_code));
            }
        } else if let Some(record) = parse_event(&op.entity, &op.json) {
            events.entry(op.center_code).or_default().push(record);
        }
    }
    let mut found: Vec<ProvinceException> = Vec::new();
    for (code, records) in &events {
        let (groups, _) = group_events(records.iter());
        for (group, members) in groups {
            if !matches!(group, Group::Copy(_)) {
                continue;
            }
            let copy: Vec<EventRecord> = members.iter().map(|&i| records[i].clone()).collect();
            for anomaly in fold(&copy).anomalies {
                found.push(exception(code, &anomaly, &mut resolutions));
            }
        }
    }
    // Resolutions of exceptions the log alone does not show.
    for (id, (resolution, center_code)) in resolutions {
        found.push(ProvinceException {
            center_code,
            id,
            code: "resolved_at_desk".into(),
            detail: serde_json::Value::Null,
            resolution: Some(resolution),
        });
    }
    found.sort_by(|a, b| {
        (a.resolution.is_some(), &a.center_code, &a.code, a.id).cmp(&(
            b.resolution.is_some(),
            &b.center_code,
            &b.code,
            b.id,
        ))
    });
    found.dedup_by_key(|e| e.id);
    Ok(found)
}

fn exception(
    center_code: &str,
    anomaly: &Anomaly,
    resolutions: &mut HashMap<Uuid, (Resolution, String)>,
) -> ProvinceException {
    let id = anomaly.exception_id();
    ProvinceException {
        center_code: center_code.to_owned(),
        id,
        code: anomaly.code().to_owned(),
        detail: serde_json::to_value(anomaly).unwrap_or_default(),
        resolution: resolutions.remove(&id).map(|(r, _)| r),
    }
}

/// (exception id, resolution) of an `exception_resolved` op.
fn parse_resolution(json: &str) -> Option<(Uuid, Resolution)> {
    let op: serde_json::Value = serde_json::from_str(json).ok()?;
    let body = op.get("body")?;
    if body.get("kind")?.as_str()? != EXCEPTION_RESOLVED {
        return None;
    }
    let data = body.get("data")?;
    let text = |key: &str| data.get(key).and_then(serde_json::Value::as_str).unwrap_or("").to_owned();
    let exception: Uuid = serde_json::from_value(data.get("exception_id")?.clone()).ok()?;
    let op_id: Uuid = serde_json::from_value(op.get("op_id")?.clone()).ok()?;
    Some((
        exception,
        Resolution { op_id, note: text("note"), staff_name: text("staff_name"), resolved_at: text("resolved_at") },
    ))
}
