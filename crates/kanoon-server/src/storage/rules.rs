//! The rules every backend applies the same way, so that SQLite and
//! PostgreSQL refuse the same requests with the same errors and answer the
//! same pages: checks of a request before anything is written, and the
//! shapes of push outcomes, pull pages and photo pages built from rows.

use std::collections::{BTreeMap, HashMap, HashSet};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use kanoon_domain::circulation::Event;
use kanoon_domain::entities::{Center, CenterKind, is_valid_center_code, normalize_center_code};
use kanoon_protocol::photos::{MAX_PHOTO_BYTES, PHOTO_MIME_TYPES, PhotoBody, PhotoPage, is_photo_timestamp};
use kanoon_protocol::wire::{Cursor, EnrolRequest, MAX_PUSH_OPS, PullResponse, PushResponse, RejectedOp};
use kanoon_protocol::{EntityKind, FieldChange, FieldVersion, HlcClock, Op, OpBody, bounds, owned, province};
use serde::{Deserialize as _, Serialize};
use uuid::Uuid;

use super::secrets::{hash_code, normalize_enrol_code};
use super::{CenterInfo, IncomingOp, MAX_PULL_LIMIT, MIN_SCHEMA_VERSION};
use crate::error::{AppError, ErrorCode};

/// The checks every backend makes before storing a batch: its size, and
/// that every op belongs to the pushing device's center.
pub fn check_push(center_id: Uuid, device_id: Uuid, ops: &[IncomingOp]) -> Result<(), AppError> {
    if ops.len() > MAX_PUSH_OPS {
        return Err(batch_too_large(ops.len()));
    }
    refuse_first(ops, ErrorCode::OpOfOtherCenter, |op| {
        (op.center_id != center_id).then(|| format!("belongs to center {}, not this device's center", op.center_id))
    })?;
    // A desk pushes only what it wrote itself.
    refuse_first(ops, ErrorCode::OpOfOtherDevice, |op| {
        (op.device_id != device_id).then(|| format!("was written by device {}, not by this device", op.device_id))
    })?;
    refuse_first(ops, ErrorCode::UnsupportedSchema, |op| {
        (op.schema_version < MIN_SCHEMA_VERSION).then(|| {
            format!(
                "has schema version {}, which no desk writes (versions start at {MIN_SCHEMA_VERSION})",
                op.schema_version
            )
        })
    })
}

/// How far ahead of the server's clock an op may be stamped: beyond, it is
/// refused `clock_ahead` (and pushed again by its desk later).
pub const MAX_CLOCK_AHEAD_MS: i64 = 5 * 60 * 1000;

/// Who created each record a batch touches, as read from the log: the
/// center of the first stored op of each (entity, entity id) that
/// `record_refs` names. A record the log does not have is absent.
pub type RecordCreators = HashMap<(String, Uuid), Uuid>;

/// The records an op touches whose creator alone may write them: a
/// title's own id, and every center-owned id (`owned::owned_ids`: its own
/// entity id when its kind is owned, and the owned ids its event names).
fn creator_bound(op: &Op) -> Vec<(&'static str, Uuid)> {
    if op.entity.as_str() == EntityKind::TITLE {
        return vec![(EntityKind::TITLE, op.entity_id)];
    }
    owned::owned_ids(op)
}

/// The (entity, id) of every record of a batch whose creator `screen_ops`
/// needs (`creator_bound`), sorted, once each.
pub fn record_refs(ops: &[IncomingOp]) -> Vec<(&'static str, Uuid)> {
    let mut refs: Vec<(&'static str, Uuid)> = ops.iter().flat_map(|o| creator_bound(&o.op)).collect();
    refs.sort_unstable();
    refs.dedup();
    refs
}

/// Splits a checked batch (every op of the pusher's center) into the ops
/// to store and those refused each on its own, the rest of the batch not
/// affected: outside the bounds every desk reads (`op_too_large`,
/// `op_out_of_bounds`); changing another center's record (`not_owner`: a
/// `center` patch of another center, or an op on a record whose first op —
/// its creation — is another center's: a title, or an id of a center-owned
/// kind the op writes or names, `owned::owned_ids`; `creators` from
/// `record_refs`); stamped more than `MAX_CLOCK_AHEAD_MS` ahead of `now_ms`
/// (`clock_ahead`). Titles are province-wide: any center adds one, only its
/// creator edits or merges it (`merged_into` is a field like any other).
/// Provincial staff may edit any title; they write through no desk token,
/// so no push path exists for them yet. The records and events of the
/// center-owned kinds (activities, workshops, the cash book, referrals)
/// are their creating center's alone: no other center's op writes them or
/// names them. A record the log does not have yet is the pusher's (created
/// by it, maybe earlier in the same batch: every op of a batch is the
/// pusher's center's). Ops of every other entity, known or not, are scoped
/// to the pusher's center (`scope_of`) and reach no other center's desks.
///
/// Province settings are written only by the server (`province_setting_op`):
/// a desk's `province_setting` op is refused `not_owner` (stored, it would
/// reach every desk of the province). A center's `setting_override` is kept
/// only for a key that accepts one and that the province has not locked
/// (`province`, read for batches that hold one).
pub fn screen_ops<'a>(
    center_id: Uuid,
    ops: &'a [IncomingOp],
    now_ms: i64,
    creators: &RecordCreators,
    copies: &CopyFacts,
    province: &ProvinceSettings,
) -> (Vec<Screened<'a>>, Vec<RejectedOp>) {
    let mut keep = Vec::with_capacity(ops.len());
    let mut refused = Vec::new();
    // What the batch itself says about copies, op by op: a copy created
    // or transferred earlier in the batch counts for the ops after it.
    let mut copies = copies.clone();
    for incoming in ops {
        let checked = screen_op(center_id, incoming, now_ms, creators)
            .and_then(|()| screen_setting_op(&incoming.op, province))
            .and_then(|()| screen_copy_op(center_id, &incoming.op, &mut copies));
        match checked {
            Ok(share) => keep.push(Screened { incoming, share }),
            Err(e) => {
                tracing::warn!(op_id = %incoming.op.op_id, code = %e.code, "op refused: {}", e.message);
                refused.push(RejectedOp::new(incoming.op.op_id, e.code, e.message));
            }
        }
    }
    (keep, refused)
}

fn screen_op(center_id: Uuid, incoming: &IncomingOp, now_ms: i64, creators: &RecordCreators) -> Result<(), AppError> {
    let op = &incoming.op;
    if let Err(e) = bounds::check_op(op, &incoming.json) {
        let code = if e.is_size() { ErrorCode::OpTooLarge } else { ErrorCode::OpOutOfBounds };
        return Err(AppError::new(code, e.to_string()));
    }
    if op.entity.as_str() == EntityKind::CENTER && op.entity_id != center_id {
        return Err(AppError::new(ErrorCode::NotOwner, "a desk changes only its own center's record"));
    }
    for (entity, id) in creator_bound(op) {
        let Some(&creator) = creators.get(&(entity.to_owned(), id)).filter(|&&c| c != center_id) else { continue };
        let message = if entity == EntityKind::TITLE {
            format!("title {id} was created by center {creator}; only that center edits or merges it")
        } else if (entity, id) == (op.entity.as_str(), op.entity_id) {
            format!("{entity} {id} was created by center {creator}; only that center writes it")
        } else {
            format!("names {entity} {id}, which center {creator} created; only that center's ops name it")
        };
        return Err(AppError::new(ErrorCode::NotOwner, message));
    }
    if op.hlc.wall_ms > now_ms.saturating_add(MAX_CLOCK_AHEAD_MS) {
        return Err(AppError::new(
            ErrorCode::ClockAhead,
            format!("stamped {} ms ahead of the server's clock; push it again later", op.hlc.wall_ms - now_ms),
        ));
    }
    Ok(())
}

/// Refuses a desk's op on the province's settings: any `province_setting`,
/// and a `setting_override` of a key that takes none or that the province
/// locked (`center_may_override` false), or whose `key` field is not the
/// key its id stands for.
fn screen_setting_op(op: &Op, province: &ProvinceSettings) -> Result<(), AppError> {
    match op.entity.as_str() {
        EntityKind::PROVINCE_SETTING => {
            Err(AppError::new(ErrorCode::NotOwner, "only the province writes province settings"))
        }
        EntityKind::SETTING_OVERRIDE => {
            let Some(key) = overridden_key(op.entity_id) else {
                return Err(AppError::new(ErrorCode::NotOwner, "not an override of a setting a center may change"));
            };
            if let OpBody::Patch { fields } = &op.body
                && let Some(named) = fields.get("key")
                && named.value.as_str() != Some(key)
            {
                return Err(AppError::new(ErrorCode::NotOwner, format!("an override of {key} names another key")));
            }
            if province.get(key).is_some_and(|s| !s.center_may_override) {
                return Err(AppError::new(
                    ErrorCode::NotOwner,
                    format!("the province has locked {key}; a center does not change it"),
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The key an override id stands for, among the keys that accept one.
fn overridden_key(id: Uuid) -> Option<&'static str> {
    [province::MEMBERSHIP_TERMS, province::POLICY].into_iter().find(|k| province::override_id(k) == id)
}

/// No desk enrols at the province's pseudo-center.
pub fn refuse_province_code(center_code: &str) -> Result<(), AppError> {
    if normalize_center_code(center_code) == province::PROVINCE_CENTER_CODE {
        return Err(AppError::not_found("the province is not a center; no desk enrols there"));
    }
    Ok(())
}

/// Whether a batch holds an op that needs the province's settings read.
pub fn needs_province_settings(ops: &[IncomingOp]) -> bool {
    ops.iter().any(|o| o.op.entity.as_str() == EntityKind::SETTING_OVERRIDE)
}

/// The province's settings: the last op of each, from the `ops_entity` index.
pub const PROVINCE_SETTINGS_SQL: &str = "
    SELECT op FROM ops WHERE seq IN (
        SELECT max(seq) FROM ops WHERE entity = 'province_setting' GROUP BY entity_id)
    ORDER BY seq";

/// One province setting as the log holds it (its latest op).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProvinceSetting {
    pub key: String,
    /// Null when the province cleared it.
    pub value: serde_json::Value,
    pub center_may_override: bool,
    /// The version of the latest op: the next op's `base` and lower bound.
    #[serde(skip)]
    pub version: FieldVersion,
}

/// The province's current settings by key.
pub type ProvinceSettings = BTreeMap<String, ProvinceSetting>;

/// Reads the stored latest ops (`PROVINCE_SETTINGS_SQL`) into settings. An
/// op that is not the shape this server writes is an internal error: only
/// this server writes them.
pub fn province_settings_from(stored: &[String]) -> Result<ProvinceSettings, AppError> {
    let mut settings = ProvinceSettings::new();
    for json in stored {
        let op: Op = serde_json::from_str(json).map_err(|e| AppError::internal(format!("province setting: {e}")))?;
        let OpBody::Patch { fields } = &op.body else {
            return Err(AppError::internal("province setting: not a patch"));
        };
        let field = |name: &str| fields.get(name).map(|f| f.value.clone()).unwrap_or_default();
        let Some(key) = field("key").as_str().map(str::to_owned) else {
            return Err(AppError::internal("province setting: no key"));
        };
        let version = FieldVersion { hlc: op.hlc, device_id: op.device_id };
        let center_may_override = field("center_may_override").as_bool().unwrap_or(false);
        settings.insert(key.clone(), ProvinceSetting { key, value: field("value"), center_may_override, version });
    }
    Ok(settings)
}

/// The op that sets the province's `key` (value null clears it): its three
/// fields every time, based on the previous op of the key and stamped after
/// it, as the province's pseudo-device. A value without its key's shape is
/// refused (`kanoon_domain::settings::check_province_value`).
pub fn province_setting_op(
    key: &str,
    value: serde_json::Value,
    center_may_override: bool,
    previous: Option<&ProvinceSetting>,
    now_ms: i64,
) -> Result<IncomingOp, AppError> {
    kanoon_domain::settings::check_province_value(key, &value).map_err(AppError::bad_request)?;
    let base = previous.map(|p| p.version);
    let mut clock = HlcClock::new(base.map(|b| b.hlc).unwrap_or_default());
    let change = |value: serde_json::Value| FieldChange { value, base };
    let fields = BTreeMap::from([
        ("key".to_owned(), change(serde_json::Value::from(key))),
        ("value".to_owned(), change(value)),
        ("center_may_override".to_owned(), change(serde_json::Value::from(center_may_override))),
    ]);
    let op = Op {
        op_id: Uuid::now_v7(),
        schema_version: kanoon_protocol::SCHEMA_VERSION,
        hlc: clock.tick(now_ms),
        device_id: province::PROVINCE_DEVICE_ID,
        center_id: province::PROVINCE_CENTER_ID,
        entity: EntityKind::new(EntityKind::PROVINCE_SETTING),
        entity_id: province::province_setting_id(key),
        staff_id: None,
        body: OpBody::Patch { fields },
        extra: serde_json::Map::new(),
    };
    let incoming = IncomingOp::from_op(op)?;
    bounds::check_op(&incoming.op, &incoming.json).map_err(|e| AppError::bad_request(e.to_string()))?;
    Ok(incoming)
}

/// An op kept by `screen_ops`, with what it shares with other centers.
#[derive(Clone, Debug)]
pub struct Screened<'a> {
    pub incoming: &'a IncomingOp,
    /// For an op of a copy's record or of its travels (a `copy` patch, a
    /// transfer, a void of a transfer): the copy, served to every center
    /// that has held it.
    pub share: Option<CopyShare>,
}

/// An op that travels with its copy (`Screened::share`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CopyShare {
    pub copy_id: Uuid,
    /// A transfer's destination: it holds the copy from now on and gets the
    /// copy's earlier record and transfer ops.
    pub to_center: Option<Uuid>,
}

/// What the log says about the copies a batch names, read before it is
/// screened (`copy_refs` says what to read).
#[derive(Clone, Debug, Default)]
pub struct CopyFacts {
    /// The centers that have held each copy stored (`copy_holders`).
    pub holders: HashMap<Uuid, HashSet<Uuid>>,
    /// Stored circulation events the batch's renewals and voids name.
    pub events: HashMap<Uuid, StoredEvent>,
}

/// What a stored circulation event is to its copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    pub copy_id: Option<Uuid>,
    /// A transfer, or a void of one: it travels with its copy.
    pub travels: bool,
}

/// What a batch names that `CopyFacts` is read for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CopyRefs {
    /// Copies named directly (a copy patch, a loan, a return, a transfer).
    pub copies: Vec<Uuid>,
    /// Events named by a renewal (its loan) or a void (its target).
    pub events: Vec<Uuid>,
}

/// A circulation op's event, if it is one this server understands.
fn event_of(op: &Op) -> Option<Event> {
    match (&op.entity, &op.body) {
        (entity, OpBody::Event { data, .. }) if entity.as_str() == EntityKind::CIRCULATION => {
            // Read in place (`&Value` is a deserializer): no copy of the data.
            Event::deserialize(data).ok()
        }
        _ => None,
    }
}

/// The copies and events a batch names (`CopyFacts`).
pub fn copy_refs(ops: &[IncomingOp]) -> CopyRefs {
    let mut refs = CopyRefs::default();
    for incoming in ops {
        let op = &incoming.op;
        if op.entity.as_str() == EntityKind::COPY {
            refs.copies.push(op.entity_id);
            continue;
        }
        match event_of(op) {
            Some(Event::Loan { copy_id, .. } | Event::Return { copy_id, .. } | Event::Transfer { copy_id, .. }) => {
                refs.copies.push(copy_id)
            }
            Some(Event::Renewal { loan_id: id, .. } | Event::Void { target: id, .. }) => refs.events.push(id),
            _ => {}
        }
    }
    for list in [&mut refs.copies, &mut refs.events] {
        list.sort_unstable();
        list.dedup();
    }
    refs
}

/// A stored circulation op as `StoredEvent` (None: not an event this
/// server understands). `copy_column` is its stored `copy_id` (set for
/// the ops that travel with a copy).
pub fn stored_event(json: &str, copy_column: Option<Uuid>) -> Option<StoredEvent> {
    let op: Op = serde_json::from_str(json).ok()?;
    let event = event_of(&op)?;
    let copy_id = match event {
        Event::Loan { copy_id, .. } | Event::Return { copy_id, .. } | Event::Transfer { copy_id, .. } => Some(copy_id),
        _ => copy_column,
    };
    let travels = matches!(event, Event::Transfer { .. }) || copy_column.is_some();
    Some(StoredEvent { copy_id, travels })
}

/// The copy rules of one op (after `screen_op`), with what the batch
/// learnt so far in `facts`: a `copy` patch, a loan, a return, a renewal,
/// a transfer or a void of one of these, of a copy the log has, is the
/// business only of the centers that have held the copy (`not_owner`
/// otherwise); a transfer leaves only from the pusher's center. A copy the
/// log does not have yet is the pusher's (its first record or transfer
/// makes the pusher a holder). What travels with the copy — its record,
/// its transfers and their voids — is returned as the op's `CopyShare`;
/// loans, returns and renewals stay with the center they happen at.
fn screen_copy_op(center_id: Uuid, op: &Op, facts: &mut CopyFacts) -> Result<Option<CopyShare>, AppError> {
    let event = event_of(op);
    let (copy_id, travels, to_center) = if op.entity.as_str() == EntityKind::COPY {
        (Some(op.entity_id), true, None)
    } else {
        match &event {
            Some(Event::Transfer { copy_id, from_center, to_center }) => {
                if *from_center != center_id {
                    return Err(AppError::new(
                        ErrorCode::NotOwner,
                        format!("a transfer leaves only from the pushing desk's center, not from {from_center}"),
                    ));
                }
                (Some(*copy_id), true, Some(*to_center))
            }
            Some(Event::Loan { copy_id, .. } | Event::Return { copy_id, .. }) => (Some(*copy_id), false, None),
            Some(Event::Renewal { loan_id: id, .. } | Event::Void { target: id, .. }) => {
                match facts.events.get(id).copied() {
                    Some(named) => (named.copy_id, named.travels && matches!(event, Some(Event::Void { .. })), None),
                    None => (None, false, None),
                }
            }
            _ => (None, false, None),
        }
    };
    let Some(copy_id) = copy_id else {
        if let Some(e) = &event {
            facts
                .events
                .insert(op.entity_id, StoredEvent { copy_id: None, travels: matches!(e, Event::Transfer { .. }) });
        }
        return Ok(None);
    };
    let holders = facts.holders.entry(copy_id).or_default();
    if !holders.is_empty() && !holders.contains(&center_id) {
        return Err(AppError::new(
            ErrorCode::NotOwner,
            format!("copy {copy_id} is held by other centers; only a center that has held it changes it"),
        ));
    }
    if travels {
        if holders.is_empty() {
            holders.insert(center_id);
        }
        holders.extend(to_center);
    }
    if event.is_some() {
        facts.events.insert(op.entity_id, StoredEvent { copy_id: Some(copy_id), travels });
    }
    Ok(travels.then_some(CopyShare { copy_id, to_center }))
}

/// Refuses the whole batch with `code` for its first op that `wrong`
/// says (how) is not the pusher's to push.
fn refuse_first(ops: &[IncomingOp], code: ErrorCode, wrong: impl Fn(&Op) -> Option<String>) -> Result<(), AppError> {
    match ops.iter().find_map(|o| wrong(&o.op).map(|why| (o.op.op_id, why))) {
        Some((op_id, why)) => Err(AppError::new(code, format!("op {op_id} {why}; nothing of the batch was stored"))),
        None => Ok(()),
    }
}

/// The device name of an enrolment, trimmed: 1–200 characters, no control
/// characters (400 otherwise).
pub fn check_device_name(name: &str) -> Result<&str, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(AppError::bad_request("device name must be 1–200 characters, none of them control characters"));
    }
    Ok(name)
}

/// The checks on a cursor every backend makes.
pub fn check_cursor(after: Cursor, epoch: u64) -> Result<(), AppError> {
    if after.epoch != 0 && after.epoch != epoch {
        return Err(AppError::new(
            ErrorCode::StaleCursor,
            format!("epoch changed: bootstrap again (server epoch {epoch})"),
        ));
    }
    Ok(())
}

/// Whether a stored op and a pushed one are the same op: the same text, or
/// the same JSON value (key order and spacing aside).
pub fn same_op_json(stored: &str, pushed: &str) -> bool {
    if stored == pushed {
        return true;
    }
    match (serde_json::from_str::<serde_json::Value>(stored), serde_json::from_str::<serde_json::Value>(pushed)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// A center to register, checked: its code normalized and 1–8 digits, a
/// name, its id derived from the code.
pub fn new_center(code: &str, name: &str, kind: CenterKind) -> Result<CenterInfo, AppError> {
    let code = normalize_center_code(code);
    if !is_valid_center_code(&code) {
        return Err(AppError::bad_request(format!("center code «{code}» is not 1–8 digits")));
    }
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::bad_request("a center needs a name"));
    }
    Ok(CenterInfo { id: Center::id_for_code(&code), code, name: name.to_owned(), kind })
}

/// A center code already registered.
pub fn center_exists(center: &CenterInfo) -> AppError {
    AppError::conflict(format!("center {} already exists", center.code))
}

/// An enrolment request that passed the checks made before the database
/// is asked: the hash of its code and the device name as stored.
pub struct CheckedEnrol<'a> {
    pub code_hash: String,
    pub device_name: &'a str,
}

/// The checks of an enrolment request made before the database is asked.
pub fn check_enrol<'a>(request: &'a EnrolRequest, code_key: &str) -> Result<CheckedEnrol<'a>, AppError> {
    let code = normalize_enrol_code(&request.code);
    if code.is_empty() {
        return Err(enrol_code_unknown());
    }
    if !(1..=99).contains(&request.desk_number) {
        return Err(AppError::bad_request("desk number must be 1–99"));
    }
    let device_name = check_device_name(&request.device_name)?;
    Ok(CheckedEnrol { code_hash: hash_code(code_key, &code), device_name })
}

/// An enrolment code that is not stored, was used, expired or is another device's.
pub fn enrol_code_unknown() -> AppError {
    AppError::new(ErrorCode::EnrolCodeUnknown, "unknown, used or expired enrolment code")
}

/// A token of a revoked device.
pub fn device_revoked() -> AppError {
    AppError::new(ErrorCode::DeviceRevoked, "this device was revoked by the province: ask for a re-enrolment code")
}

/// What the database says about an enrolment whose code was found unused.
pub struct EnrolTarget<'a> {
    /// The center the code is for.
    pub center_id: Uuid,
    pub center_code: &'a str,
    /// The center the device is enrolled at already, if any.
    pub enrolled_center: Option<Uuid>,
    /// Whether another device of the center has the desk number.
    pub desk_taken: bool,
    /// The device the code was made for (a re-enrolment), if any.
    pub code_for_device: Option<Uuid>,
}

/// How long an enrolment code can be used after it is made.
pub const ENROL_CODE_TTL: chrono::Duration = chrono::Duration::days(7);

/// The checks of an enrolment against the database, in the order a desk
/// should hear them; the code stays unused when one fails.
pub fn check_enrol_target(request: &EnrolRequest, target: &EnrolTarget<'_>) -> Result<(), AppError> {
    if request.center_id.is_some_and(|c| c != target.center_id) {
        // Desks before error codes match this message's "not the desk's center": kept word for word.
        return Err(AppError::new(
            ErrorCode::EnrolCodeOfOtherCenter,
            format!(
                "this enrolment code is for center {}, not the desk's center; the code stays unused",
                target.center_code
            ),
        ));
    }
    if target.code_for_device.is_some_and(|d| d != request.device_id) {
        // A re-enrolment code of one desk enrols no other.
        return Err(enrol_code_unknown());
    }
    if target.enrolled_center.is_some_and(|c| c != target.center_id) {
        return Err(AppError::new(ErrorCode::DeviceOfOtherCenter, "this device is enrolled at another center"));
    }
    if target.enrolled_center.is_some() && target.code_for_device.is_none() {
        // A spare code must not take an enrolled desk's id and lock the real desk out.
        return Err(AppError::new(
            ErrorCode::DeviceAlreadyEnrolled,
            "this device is enrolled already: re-enrol it with a code made for it \
             (kanoon-server enrol-code --device); the code stays unused",
        ));
    }
    if target.desk_taken {
        return Err(AppError::new(
            ErrorCode::DeskNumberTaken,
            format!("desk number {} in use by another device of center {}", request.desk_number, target.center_code),
        ));
    }
    Ok(())
}

/// Adds one pushed op's outcome to `response`: `stored` is `None` when it
/// was inserted now, else the JSON already stored under its id (or that of
/// an earlier op of the batch with its id).
pub fn record_push_outcome(response: &mut PushResponse, device_id: Uuid, incoming: &IncomingOp, stored: Option<&str>) {
    let op_id = incoming.op.op_id;
    match stored {
        None => response.accepted.push(op_id),
        Some(stored) if same_op_json(stored, &incoming.json) => response.duplicates.push(op_id),
        Some(_) => {
            tracing::warn!(op_id = %op_id, device = %device_id, "op id reused with different content");
            response.rejected.push(RejectedOp {
                op_id,
                reason: "op id already stored with different content; the stored op is kept".to_owned(),
                code: None,
            });
        }
    }
}

/// What a pull reads: after which `seq`, how many ops it serves and how
/// many it fetches (one more, to know whether more remain).
#[derive(Clone, Copy, Debug)]
pub struct PullWindow {
    after: Cursor,
    epoch: u64,
    limit: usize,
}

impl PullWindow {
    /// Checks the cursor against the log's epoch and its end (`last_seq`,
    /// the highest `seq` stored): a cursor past the end means the log lost
    /// ops (a server restored from an older backup), so the desk must
    /// bootstrap again. `limit` is clamped to 1..=`MAX_PULL_LIMIT`.
    pub fn new(after: Cursor, epoch: u64, last_seq: i64, limit: usize) -> Result<Self, AppError> {
        check_cursor(after, epoch)?;
        if after.seq > u64::try_from(last_seq).unwrap_or(0) {
            return Err(AppError::new(
                ErrorCode::StaleCursor,
                format!("cursor {after} is past the end of the log (seq {last_seq}): bootstrap again"),
            ));
        }
        Ok(Self { after, epoch, limit: limit.clamp(1, MAX_PULL_LIMIT) })
    }

    /// The `seq` the page starts after.
    pub fn after_seq(&self) -> i64 {
        sql_int(self.after.seq)
    }

    /// Rows to fetch: one more than the page holds.
    pub fn fetch(&self) -> i64 {
        fetch_limit(self.limit)
    }

    /// The page from the rows fetched, (seq, stored op) in `seq` order.
    pub fn page<S: AsRef<str>>(
        &self,
        rows: impl ExactSizeIterator<Item = Result<(i64, S), AppError>>,
    ) -> Result<PullResponse, AppError> {
        let more = rows.len() > self.limit;
        let mut ops = Vec::with_capacity(rows.len().min(self.limit));
        let mut last = self.after.seq;
        for row in rows.take(self.limit) {
            let (seq, json) = row?;
            last = u64::try_from(seq).unwrap_or(last);
            // An op an older server stored that this one cannot read (too
            // deep for the parser, say) is passed over, said in the log:
            // failing the page would stop every desk that pulls it, forever,
            // and no desk of this version could read it either.
            match serde_json::from_str::<Op>(json.as_ref()) {
                Ok(op) => ops.push(op),
                Err(e) => tracing::error!(seq, error = %e, "stored op does not parse: not served"),
            }
        }
        Ok(PullResponse { ops, cursor: Cursor { epoch: self.epoch, seq: last }, more })
    }
}

/// A position as the databases' 64-bit integers hold it.
pub fn sql_int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Rows to fetch for a page of `limit`: one more, to know whether more remain.
pub fn fetch_limit(limit: usize) -> i64 {
    i64::try_from(limit + 1).unwrap_or(i64::MAX)
}

/// A migrated database must not be newer than this server.
pub fn check_schema_version(current: usize, known: usize) -> Result<(), AppError> {
    if current > known {
        return Err(AppError::internal(format!(
            "database schema version {current} is newer than this server ({known}); upgrade the server"
        )));
    }
    Ok(())
}

/// A photo refused for its content (400 `bad_photo`).
fn bad_photo(message: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::BadPhoto, message)
}

/// More ops in one push than `MAX_PUSH_OPS` (413 `batch_too_large`).
pub fn batch_too_large(ops: usize) -> AppError {
    AppError::new(ErrorCode::BatchTooLarge, format!("{ops} ops in one push; at most {MAX_PUSH_OPS}"))
}

/// The image of an uploaded photo, or why it is refused (400/413).
pub fn check_photo(photo: &PhotoBody) -> Result<Vec<u8>, AppError> {
    if !PHOTO_MIME_TYPES.contains(&photo.mime.as_str()) {
        return Err(bad_photo(format!(
            "photo type «{}» is not one of {}",
            photo.mime.escape_debug(),
            PHOTO_MIME_TYPES.join(", ")
        )));
    }
    if !is_photo_timestamp(&photo.updated_at) {
        return Err(bad_photo("updated_at must be RFC 3339 UTC with milliseconds (2026-11-25T09:30:00.000Z)"));
    }
    let bytes = BASE64.decode(photo.data.as_bytes()).map_err(|e| bad_photo(format!("data is not base64: {e}")))?;
    if bytes.is_empty() {
        return Err(bad_photo("the photo is empty"));
    }
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(AppError::new(
            ErrorCode::PhotoTooLarge,
            format!("photo of {} bytes; at most {MAX_PHOTO_BYTES}", bytes.len()),
        ));
    }
    // What the bytes are, not what the label says (HTML labelled image/jpeg
    // would be served to every desk of the center as a photo).
    if image_type(&bytes) != Some(photo.mime.as_str()) {
        return Err(bad_photo(format!("the bytes are not a {} image", photo.mime.escape_debug())));
    }
    Ok(bytes)
}

/// The image type `bytes` are by their magic bytes: JPEG, PNG or WebP.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some("image/png"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        _ => None,
    }
}

/// Most bytes of photos one center keeps on the server by default.
pub const CENTER_PHOTO_QUOTA: u64 = 1024 * 1024 * 1024;

/// An upload as the server keeps it: the device is the token's (never the
/// body's), and an `updated_at` more than `MAX_CLOCK_AHEAD_MS` ahead of the
/// server's clock is brought back to the server's time, so a photo dated
/// year 9999 cannot shut out every later one.
pub fn photo_as_kept(device_id: Uuid, photo: &PhotoBody, now_ms: i64) -> PhotoBody {
    let mut kept = PhotoBody { device_id, ..photo.clone() };
    let limit = chrono::DateTime::from_timestamp_millis(now_ms.saturating_add(MAX_CLOCK_AHEAD_MS)).unwrap_or_default();
    let limit = limit.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    // Both are RFC 3339 UTC with milliseconds: they compare as text.
    if is_photo_timestamp(&kept.updated_at) && kept.updated_at > limit {
        let now = chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
        kept.updated_at = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    }
    kept
}

/// Refuses an upload that would take the center's photos past `quota`
/// bytes (`others`: the bytes of its photos but this member's).
pub fn check_photo_quota(others: u64, new: usize, quota: u64) -> Result<(), AppError> {
    if others.saturating_add(new as u64) > quota {
        return Err(AppError::new(
            ErrorCode::PhotoQuotaExceeded,
            format!("the center's photos would take more than {quota} bytes; the photo stays on the desk"),
        ));
    }
    Ok(())
}

/// Whether `incoming` is later than the stored version `(updated_at, device_id)`.
pub fn is_newer_photo(incoming: &PhotoBody, stored: Option<(String, Uuid)>) -> bool {
    stored.is_none_or(|(at, device)| (incoming.updated_at.as_str(), incoming.device_id) > (at.as_str(), device))
}

/// A stored member photo as a page row.
pub struct StoredPhoto {
    pub seq: i64,
    pub member_id: Uuid,
    pub mime: String,
    pub bytes: Vec<u8>,
    pub updated_at: String,
    pub device_id: Uuid,
}

/// The page of photos from the rows fetched (`fetch_limit(limit)` of them,
/// in `seq` order).
pub fn photo_page(after: u64, limit: usize, rows: Vec<StoredPhoto>) -> PhotoPage {
    let more = rows.len() > limit;
    let mut page = PhotoPage { photos: Vec::with_capacity(rows.len().min(limit)), after, more };
    for row in rows.into_iter().take(limit) {
        page.after = u64::try_from(row.seq).unwrap_or(after);
        page.photos.push(PhotoBody {
            member_id: row.member_id,
            mime: row.mime,
            updated_at: row.updated_at,
            device_id: row.device_id,
            data: BASE64.encode(row.bytes),
        });
    }
    page
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn same_op_json_ignores_key_order_and_spacing_only() {
        assert!(same_op_json(r#"{"a":1,"b":[2]}"#, r#"{ "b": [2], "a": 1 }"#));
        assert!(!same_op_json(r#"{"a":1}"#, r#"{"a":2}"#));
    }

    fn op_of(center_id: Uuid, entity: &str, entity_id: Uuid, body: OpBody) -> IncomingOp {
        IncomingOp::from_op(Op {
            op_id: Uuid::now_v7(),
            schema_version: kanoon_protocol::SCHEMA_VERSION,
            hlc: kanoon_protocol::Hlc::new(1000, 0),
            device_id: Uuid::now_v7(),
            center_id,
            entity: EntityKind::new(entity),
            entity_id,
            staff_id: None,
            body,
            extra: Default::default(),
        })
        .unwrap()
    }

    fn event(center_id: Uuid, entity: &str, data: serde_json::Value) -> IncomingOp {
        op_of(center_id, entity, Uuid::now_v7(), OpBody::Event { kind: "x".into(), data })
    }

    #[test]
    fn a_record_created_by_another_center_is_refused_when_written_or_named() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let (session, title, unknown) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let patch = OpBody::Patch { fields: Default::default() };
        let batch = [
            op_of(b, EntityKind::ACTIVITY_SESSION, session, patch.clone()),
            event(b, EntityKind::ATTENDANCE, serde_json::json!({"session_id": session})),
            op_of(b, EntityKind::TITLE, title, patch.clone()),
            // What nobody stored is the pusher's: written, then named.
            op_of(b, EntityKind::ACTIVITY_SESSION, unknown, patch.clone()),
            event(b, EntityKind::ATTENDANCE, serde_json::json!({"session_id": unknown})),
            // A shared kind names nothing owned.
            op_of(b, EntityKind::MEMBER, session, patch.clone()),
        ];
        let refs = record_refs(&batch);
        assert!(refs.contains(&(EntityKind::ACTIVITY_SESSION, session)) && refs.contains(&(EntityKind::TITLE, title)));
        assert_eq!(refs.iter().filter(|r| r.1 == session).count(), 1, "{refs:?}");
        let creators: RecordCreators =
            [((EntityKind::ACTIVITY_SESSION.to_owned(), session), a), ((EntityKind::TITLE.to_owned(), title), a)]
                .into();
        let (kept, refused) = screen_ops(b, &batch, 1000, &creators, &CopyFacts::default(), &ProvinceSettings::new());
        let refused: Vec<(Uuid, Option<ErrorCode>)> = refused.iter().map(|r| (r.op_id, r.code)).collect();
        let expected: Vec<(Uuid, Option<ErrorCode>)> =
            batch[..3].iter().map(|o| (o.op.op_id, Some(ErrorCode::NotOwner))).collect();
        assert_eq!(refused, expected);
        assert_eq!(kept.len(), 3);
        // The creator itself writes and names them.
        let own = [
            op_of(a, EntityKind::ACTIVITY_SESSION, session, patch),
            event(a, EntityKind::ATTENDANCE, serde_json::json!({"session_id": session})),
        ];
        let (kept, refused) = screen_ops(a, &own, 1000, &creators, &CopyFacts::default(), &ProvinceSettings::new());
        assert!(refused.is_empty() && kept.len() == 2, "{refused:?}");
    }
}

/// Where a stored event is folded, for the snapshot (`crate::snapshot`):
/// `key` the group — the copy of a loan, return or transfer, the member of
/// a membership period or reminder call —; `refers` the event a renewal or
/// a void names, whose group it joins once that one is stored. Both None
/// for any other op (records, kinds this server does not know).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FoldLink {
    pub key: Option<Uuid>,
    pub refers: Option<Uuid>,
}

pub fn fold_link(op: &Op) -> FoldLink {
    if !matches!(op.entity.as_str(), EntityKind::CIRCULATION | EntityKind::MEMBERSHIP) {
        return FoldLink::default();
    }
    let OpBody::Event { data, .. } = &op.body else { return FoldLink::default() };
    // Read from the value in place (no clone of the body).
    let Ok(event) = Event::deserialize(data) else { return FoldLink::default() };
    match event {
        Event::Loan { copy_id, .. } | Event::Return { copy_id, .. } | Event::Transfer { copy_id, .. } => {
            FoldLink { key: Some(copy_id), refers: None }
        }
        Event::Membership { member_id, .. } | Event::ReminderCall { member_id, .. } => {
            FoldLink { key: Some(member_id), refers: None }
        }
        Event::Renewal { loan_id, .. } => FoldLink { key: None, refers: Some(loan_id) },
        Event::Void { target, .. } => FoldLink { key: None, refers: Some(target) },
    }
}

/// Passes of `RESOLVE_FOLD_SQL` after a push: a void of a void of a renewal
/// pushed in one batch takes three.
pub const FOLD_PASSES: usize = 4;
