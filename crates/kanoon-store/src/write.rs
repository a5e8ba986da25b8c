//! `Write`: one use case's transaction. Every record change and event goes
//! through it, and each appends exactly one op to the outbox in the same
//! transaction.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use kanoon_domain::circulation::{Event, EventRecord};
use kanoon_domain::jalali;
use kanoon_protocol::{EntityKind, FieldChange, FieldVersion, Hlc, HlcClock, Op, OpBody, SCHEMA_VERSION};
use rusqlite::params;
use uuid::Uuid;

use crate::error::Result;
use crate::identity::DeskIdentity;
use crate::rows::{EventStamp, FieldClocks, FieldStamp, Record};
use crate::sql::{run, timestamp};

/// The field of an event op's data that carries when it happened (older
/// ops lack it: their HLC's wall time stands in).
pub(crate) const EVENT_AT: &str = "at";

/// One use case's transaction. Every record change and event goes through
/// `event` or `patch`, which append exactly one op each.
pub(crate) struct Write<'c> {
    pub tx: rusqlite::Transaction<'c>,
    pub hlc: HlcClock,
    pub now: DateTime<Utc>,
    pub identity: DeskIdentity,
    pub staff_id: Option<Uuid>,
}

impl Write<'_> {
    pub fn center_id(&self) -> Uuid {
        self.identity.center.id
    }

    pub fn today(&self) -> NaiveDate {
        jalali::tehran_date(self.now)
    }

    /// Appends one op to the outbox; returns its id and clock.
    pub fn push_op(&mut self, entity: &str, entity_id: Uuid, body: OpBody) -> Result<(Uuid, Hlc)> {
        let hlc = self.hlc.tick(self.now.timestamp_millis());
        let op = Op {
            op_id: Uuid::now_v7(),
            schema_version: SCHEMA_VERSION,
            hlc,
            device_id: self.identity.device_id,
            center_id: self.identity.center.id,
            entity: EntityKind::new(entity),
            entity_id,
            staff_id: self.staff_id,
            body,
            extra: Default::default(),
        };
        run(
            &self.tx,
            "INSERT INTO outbox (op_id, hlc, entity, entity_id, op, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                op.op_id.to_string(),
                hlc.to_sortable(),
                entity,
                entity_id.to_string(),
                serde_json::to_string(&op)?,
                timestamp(self.now)
            ],
        )?;
        Ok((op.op_id, hlc))
    }

    /// Appends an event to the log (and its op to the outbox). Derived
    /// tables are the caller's to update in the same transaction.
    pub fn event(&mut self, id: Uuid, event: Event) -> Result<EventRecord> {
        let entity = match event {
            Event::Membership { .. } => EntityKind::MEMBERSHIP,
            Event::Void { .. }
            | Event::ReminderCall { .. }
            | Event::Loan { .. }
            | Event::Return { .. }
            | Event::Renewal { .. }
            | Event::Transfer { .. } => EntityKind::CIRCULATION,
        };
        let mut data = serde_json::to_value(&event)?;
        // The time it happened travels with it (`data.at`): every desk
        // shows the writer's time, not its own receipt's or the clock's.
        if let Some(fields) = data.as_object_mut() {
            fields.insert(EVENT_AT.to_owned(), serde_json::Value::String(timestamp(self.now)));
        }
        let (_, hlc) = self.push_op(entity, id, OpBody::Event { kind: event.kind().to_owned(), data: data.clone() })?;
        let record = EventRecord { id, hlc, device_id: self.identity.device_id, at: self.now, event };
        crate::rows::event::insert_event(&self.tx, &record, self.staff_id, &data)?;
        Ok(record)
    }

    /// Appends an event of a service's own log (activities, workshops, the
    /// cash book: not the circulation fold) as one op; `data` gains when
    /// it happened (`data.at`). Returns how it was stamped; storing the
    /// event in its room is the caller's, in the same transaction.
    pub fn service_event(&mut self, entity: &str, id: Uuid, kind: &str, data: serde_json::Value) -> Result<EventStamp> {
        let mut data = data;
        if let Some(fields) = data.as_object_mut() {
            fields.insert(EVENT_AT.to_owned(), serde_json::Value::String(timestamp(self.now)));
        }
        let (_, hlc) = self.push_op(entity, id, OpBody::Event { kind: kind.to_owned(), data })?;
        Ok(EventStamp { hlc, device_id: self.identity.device_id, at: self.now, staff_id: self.staff_id })
    }

    /// Records a field-by-field change of a record and returns the clock
    /// it was written with and the record's new field stamps. `old` are the
    /// fields' current stamps: each change carries the version it replaced.
    pub fn patch(
        &mut self,
        entity: &str,
        entity_id: Uuid,
        changes: BTreeMap<String, serde_json::Value>,
        old: &FieldClocks,
    ) -> Result<(Hlc, FieldClocks)> {
        let fields = changes
            .into_iter()
            .map(|(name, value)| {
                let base = old.get(&name).map(FieldStamp::version);
                (name, FieldChange { value, base })
            })
            .collect::<BTreeMap<_, _>>();
        let bases: Vec<(String, Option<FieldVersion>)> = fields.iter().map(|(n, c)| (n.clone(), c.base)).collect();
        // Stamped strictly after every version it replaces: a desk whose
        // clock is behind a value it saw (one written on a desk whose clock
        // ran ahead) would otherwise write an edit that loses to that value
        // on every other desk while it keeps its own.
        if let Some(latest) = bases.iter().filter_map(|(_, b)| b.map(|v| v.hlc)).max()
            && latest > self.hlc.last
        {
            self.hlc.last = latest;
        }
        let (_, hlc) = self.push_op(entity, entity_id, OpBody::Patch { fields })?;
        let mut stamps = old.clone();
        for (name, base) in bases {
            stamps.insert(name, FieldStamp { hlc, device_id: self.identity.device_id, base });
        }
        Ok((hlc, stamps))
    }

    /// Saves a record a use case created (`old` None) or changed: the
    /// fields that differ go out as one patch op, each carrying the version
    /// it replaced, and the row is stored (its room's `Record::store`) with
    /// the new stamps. Nothing changed: nothing written. Returns the
    /// changed fields.
    pub fn save<R: Record>(&mut self, id: Uuid, record: &R, old: Option<(&R, &FieldClocks)>) -> Result<Vec<Changed>> {
        let new = record.fields()?;
        let (before, old_clocks) = match old {
            Some((r, clocks)) => (r.fields()?, clocks.clone()),
            None => (serde_json::Map::new(), FieldClocks::new()),
        };
        let changed: Vec<Changed> = new
            .into_iter()
            .filter(|(k, v)| old.is_none() || before.get(k) != Some(v))
            .map(|(field, new)| Changed { old: before.get(&field).cloned().unwrap_or_default(), field, new })
            .collect();
        if changed.is_empty() {
            return Ok(changed);
        }
        let patch = changed.iter().map(|c| (c.field.clone(), c.new.clone())).collect();
        let (_, clocks) = self.patch(R::ENTITY, id, patch, &old_clocks)?;
        R::store(&self.tx, id, record, &clocks, self.now)?;
        Ok(changed)
    }
}

/// A field a use case changed, with its value before and after.
pub(crate) struct Changed {
    pub field: String,
    pub old: serde_json::Value,
    pub new: serde_json::Value,
}
