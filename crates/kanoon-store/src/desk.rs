//! `Desk`: the one entry point the desktop app and the tests use. It owns
//! the connection, knows which center and desk it is, who is signed in and
//! what time it is, and runs every use case as one transaction that also
//! appends the change's op(s) to the outbox.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use kanoon_domain::age_group::AgeGroup;
use kanoon_domain::circulation::{Event, EventRecord};
use kanoon_domain::entities::{Center, CenterKind, Permission, Role, Staff};
use kanoon_domain::jalali;
use kanoon_domain::policy::Policy;
use kanoon_protocol::{EntityKind, FieldChange, FieldVersion, Hlc, HlcClock, Op, OpBody, SCHEMA_VERSION};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::{Clock, SystemClock};
use crate::db;
use crate::error::{Result, StoreError};
use crate::rows::center::CenterRecord;
use crate::rows::{self, FieldClocks, FieldStamp};
use crate::sql::parse_uuid;

/// How far behind the latest recorded time the clock may be before
/// circulation is refused (small corrections by time sync are normal).
const CLOCK_TOLERANCE: Duration = Duration::minutes(5);

/// Who this desk is; fixed at first run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeskIdentity {
    pub device_id: Uuid,
    pub center: Center,
    pub desk_number: u8,
}

/// First-run answers: the center, this desk's number and the first manager.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SetupRequest {
    pub center_code: String,
    pub center_name: String,
    pub center_kind: CenterKind,
    pub desk_number: u8,
    pub manager_username: String,
    pub manager_full_name: String,
}

pub struct Desk {
    pub(crate) conn: Connection,
    path: Option<PathBuf>,
    clock: Arc<dyn Clock>,
    identity: Option<DeskIdentity>,
    pub(crate) staff: Option<Staff>,
    hlc: HlcClock,
    /// Latest time this database has seen (circulation refuses earlier).
    clock_high_water: Option<DateTime<Utc>>,
    /// Policy and age groups, read once: the loan path needs them on every
    /// scan. Dropped by every write that changes settings.
    reference: RefCell<Option<Arc<Reference>>>,
    /// (highest outbox seq counted, ops waiting up to it): the status bar
    /// asks often, and a full count over a large outbox takes tens of ms
    /// with the desk locked. Dropped whenever ops are marked pushed.
    pub(crate) waiting: Cell<Option<(i64, i64)>>,
    /// Background WAL checkpoints for a database on disk.
    _checkpointer: Option<db::Checkpointer>,
}

/// Settings the loan check reads on every call.
pub(crate) struct Reference {
    pub policy: Policy,
    pub age_groups: Vec<AgeGroup>,
}

impl Desk {
    /// Opens (or creates) the center database at `path`, migrating it.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = db::open_file(path)?;
        let mut desk = Self::from_connection(conn, Some(path.to_path_buf()))?;
        desk._checkpointer = Some(db::Checkpointer::start(path)?);
        Ok(desk)
    }

    pub fn open_in_memory() -> Result<Self> {
        Self::from_connection(db::open_in_memory()?, None)
    }

    fn from_connection(conn: Connection, path: Option<PathBuf>) -> Result<Self> {
        let mut desk = Desk {
            conn,
            path,
            clock: Arc::new(SystemClock),
            identity: None,
            staff: None,
            hlc: HlcClock::default(),
            clock_high_water: None,
            reference: RefCell::new(None),
            waiting: Cell::new(None),
            _checkpointer: None,
        };
        desk.load_identity()?;
        Ok(desk)
    }

    /// Uses `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Today's date in Tehran.
    pub fn today(&self) -> NaiveDate {
        jalali::tehran_date(self.now())
    }

    pub fn pragmas(&self) -> Result<db::Pragmas> {
        db::read_pragmas(&self.conn)
    }

    /// Re-reads identity and clocks after the database content changed
    /// underneath (restore).
    pub(crate) fn reload(&mut self) -> Result<()> {
        self.identity = None;
        self.forget_reference();
        self.load_identity()
    }

    fn load_identity(&mut self) -> Result<()> {
        let meta = |key: &str| -> Result<Option<String>> {
            Ok(self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
        };
        // The latest clock and time: the last op written, or what a restore
        // carried over in meta, whichever is later.
        let last_op: Option<(String, String)> = self
            .conn
            .query_row("SELECT hlc, created_at FROM outbox ORDER BY seq DESC LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let (op_hlc, op_time) = last_op.unzip();
        let hlc = [meta("hlc_last")?, op_hlc].into_iter().flatten().filter_map(|h| Hlc::parse_sortable(&h)).max();
        self.hlc = HlcClock::new(hlc.unwrap_or_default());
        self.clock_high_water = [meta("clock_high_water")?, op_time]
            .into_iter()
            .flatten()
            .filter_map(|t| DateTime::parse_from_rfc3339(&t).ok().map(|t| t.with_timezone(&Utc)))
            .max();
        let (Some(device), Some(center_id), Some(desk_number)) =
            (meta("device_id")?, meta("center_id")?, meta("desk_number")?)
        else {
            return Ok(());
        };
        let center = crate::rows::center::find(&self.conn, parse_uuid(&center_id)?)?
            .ok_or_else(|| StoreError::Corrupt("مرکز این میز در پایگاه نیست".into()))?;
        self.identity = Some(DeskIdentity {
            device_id: parse_uuid(&device)?,
            center,
            desk_number: desk_number.parse().map_err(|_| StoreError::Corrupt("desk_number".into()))?,
        });
        Ok(())
    }

    pub(crate) fn hlc_last(&self) -> Hlc {
        self.hlc.last
    }

    pub(crate) fn hlc_clock(&self) -> HlcClock {
        self.hlc
    }

    /// After applying pulled ops in a committed transaction.
    pub(crate) fn set_hlc_clock(&mut self, clock: HlcClock) {
        self.hlc = clock;
    }

    pub(crate) fn clock_high_water(&self) -> Option<DateTime<Utc>> {
        self.clock_high_water
    }

    /// Only for a manager's accepted clock correction (it may go back).
    pub(crate) fn set_clock_high_water(&mut self, at: DateTime<Utc>) {
        self.clock_high_water = Some(at);
    }

    pub fn identity(&self) -> Option<&DeskIdentity> {
        self.identity.as_ref()
    }

    pub(crate) fn id(&self) -> Result<&DeskIdentity> {
        self.identity.as_ref().ok_or(StoreError::NotSetUp)
    }

    /// First run: records the center, this desk and the first manager with
    /// their password (hashed), and fills the shipped reference data (age
    /// groups, policy, exemptions), all in one transaction; the manager is
    /// signed in.
    pub fn setup(&mut self, req: SetupRequest, manager_password: &str) -> Result<Staff> {
        self.setup_with_password_hash(req, crate::auth::hash_password(manager_password)?)
    }

    /// `setup` with the manager's password already hashed (an argon2id PHC
    /// string from `auth::hash_password`): for provisioning many desks with
    /// one initial password, hashed once.
    pub fn setup_with_password_hash(&mut self, req: SetupRequest, password_hash: String) -> Result<Staff> {
        if self.identity.is_some() {
            return Err(StoreError::Conflict("این میز پیش‌تر راه‌اندازی شده است.".into()));
        }
        crate::auth::check_hash(&password_hash)?;
        let code = kanoon_domain::entities::normalize_center_code(&req.center_code);
        if !kanoon_domain::entities::is_valid_center_code(&code) {
            return Err(StoreError::InvalidInput(format!(
                "کد مرکز «{}» معتبر نیست؛ کد رسمی مرکز فقط رقم است (حداکثر ۸ رقم).",
                req.center_code
            )));
        }
        if req.desk_number == 0 || req.desk_number > 99 {
            return Err(StoreError::InvalidInput("شماره میز باید بین ۱ تا ۹۹ باشد.".into()));
        }
        if req.center_name.trim().is_empty() || req.manager_full_name.trim().is_empty() {
            return Err(StoreError::InvalidInput("نام مرکز و نام مدیر را وارد کنید.".into()));
        }
        let center = Center {
            id: Center::id_for_code(&code),
            code: code.clone(),
            name: req.center_name.trim().to_owned(),
            kind: req.center_kind,
            address: String::new(),
            phone: String::new(),
        };
        let identity = DeskIdentity { device_id: Uuid::now_v7(), center: center.clone(), desk_number: req.desk_number };
        let manager = Staff {
            id: Uuid::now_v7(),
            center_id: center.id,
            username: req.manager_username.trim().to_owned(),
            full_name: req.manager_full_name.trim().to_owned(),
            role: Role::CenterManager,
            active: true,
        };
        self.identity = Some(identity.clone());
        let result = self.write_as(Some(manager.id), |w| {
            for (k, v) in [
                ("device_id", identity.device_id.to_string()),
                ("center_id", center.id.to_string()),
                ("desk_number", identity.desk_number.to_string()),
                ("member_counter", "0".to_owned()),
            ] {
                w.tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", params![k, v])?;
            }
            rows::save(w, center.id, &CenterRecord::of(&center), None)?;
            crate::staff::insert_staff(w, &manager)?;
            crate::auth::store_hash(&w.tx, manager.id, &password_hash, w.now)?;
            crate::settings::install_reference_data(w)?;
            Ok(())
        });
        if let Err(e) = result {
            self.identity = None;
            return Err(e);
        }
        self.forget_reference();
        self.staff = Some(manager.clone());
        Ok(manager)
    }

    pub fn signed_in(&self) -> Option<&Staff> {
        self.staff.as_ref()
    }

    /// The signed-in staff member; `NotSignedIn` for a signed-out caller.
    /// Every use case the window calls (reads too) starts with this or
    /// with `require`.
    pub fn signed(&self) -> Result<&Staff> {
        self.staff.as_ref().ok_or(StoreError::NotSignedIn)
    }

    /// The signed-in staff member, if their role allows `p`.
    pub fn require(&self, p: Permission) -> Result<&Staff> {
        let staff = self.signed()?;
        if staff.role.allows(p) {
            Ok(staff)
        } else {
            Err(StoreError::Forbidden(format!(
                "نقش «{}» اجازه این کار را ندارد؛ از مدیر مرکز بخواهید.",
                staff.role.persian()
            )))
        }
    }

    /// Refuses when the clock is earlier than the latest time recorded.
    pub(crate) fn check_clock(&self) -> Result<DateTime<Utc>> {
        let now = self.now();
        if let Some(seen) = self.clock_high_water
            && now + CLOCK_TOLERANCE < seen
        {
            return Err(StoreError::ClockBehind {
                now: jalali::format_tehran_datetime(now),
                seen: jalali::format_tehran_datetime(seen),
            });
        }
        Ok(now)
    }

    pub fn policy(&self) -> Result<Policy> {
        self.signed()?;
        Ok(self.reference()?.policy.clone())
    }

    pub(crate) fn reference(&self) -> Result<Arc<Reference>> {
        if let Some(r) = self.reference.borrow().as_ref() {
            return Ok(r.clone());
        }
        let r = Arc::new(Reference {
            policy: crate::settings::load_policy(&self.conn)?,
            age_groups: crate::settings::load_age_groups(&self.conn)?,
        });
        *self.reference.borrow_mut() = Some(r.clone());
        Ok(r)
    }

    /// Called by every write that changes policy, holidays or age groups.
    pub(crate) fn forget_reference(&self) {
        self.reference.borrow_mut().take();
    }

    /// Runs `f` as one transaction by the signed-in staff member; the ops
    /// it records go to the outbox in the same transaction.
    pub(crate) fn write<T>(&mut self, f: impl FnOnce(&mut Write<'_>) -> Result<T>) -> Result<T> {
        let staff = self.staff.as_ref().map(|s| s.id).ok_or(StoreError::NotSignedIn)?;
        self.write_as(Some(staff), f)
    }

    pub(crate) fn write_as<T>(
        &mut self,
        staff_id: Option<Uuid>,
        f: impl FnOnce(&mut Write<'_>) -> Result<T>,
    ) -> Result<T> {
        let identity = self.identity.clone().ok_or(StoreError::NotSetUp)?;
        let now = self.now();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut w = Write { tx, hlc: self.hlc, now, identity, staff_id };
        let out = f(&mut w).map_err(StoreError::constraint_as_conflict)?;
        let high_water = self.clock_high_water.map_or(now, |seen| seen.max(now));
        let hlc = w.hlc;
        w.tx.commit()?;
        self.hlc = hlc;
        self.clock_high_water = Some(high_water);
        Ok(out)
    }

    /// `PRAGMA integrity_check` (the crash test and the backup check).
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}

/// One use case's transaction. Every record change and event goes through
/// `event` or `patch`, which append exactly one op each.
pub(crate) struct Write<'c> {
    pub tx: rusqlite::Transaction<'c>,
    hlc: HlcClock,
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
        crate::sync::outbox::append(&self.tx, &op, self.now)?;
        Ok((op.op_id, hlc))
    }

    /// Appends an event to the log (and its op to the outbox). Derived
    /// tables are the caller's to update in the same transaction.
    pub fn event(&mut self, id: Uuid, event: Event) -> Result<EventRecord> {
        let entity = match event {
            Event::Membership { .. } => EntityKind::MEMBERSHIP,
            Event::Void { .. }
            | Event::Loan { .. }
            | Event::Return { .. }
            | Event::Renewal { .. }
            | Event::Transfer { .. } => EntityKind::CIRCULATION,
        };
        let data = serde_json::to_value(&event)?;
        let (_, hlc) = self.push_op(entity, id, OpBody::Event { kind: event.kind().to_owned(), data: data.clone() })?;
        let record = EventRecord { id, hlc, device_id: self.identity.device_id, at: self.now, event };
        crate::circulation::insert_event(&self.tx, &record, self.staff_id, &data)?;
        Ok(record)
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
        let (_, hlc) = self.push_op(entity, entity_id, OpBody::Patch { fields })?;
        let mut stamps = old.clone();
        for (name, base) in bases {
            stamps.insert(name, FieldStamp { hlc, device_id: self.identity.device_id, base });
        }
        Ok((hlc, stamps))
    }
}
