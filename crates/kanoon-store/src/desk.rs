//! `Desk`: the one entry point the desktop app and the tests use. It owns
//! the connection, knows which center and desk it is, who is signed in and
//! what time it is, and runs every use case as one transaction that also
//! appends the change's op(s) to the outbox.

use std::cell::{Cell, RefCell};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LockResult, Mutex, MutexGuard};
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use kanoon_domain::age_group::AgeGroup;

use kanoon_domain::entities::{Permission, Staff};
use kanoon_domain::jalali;
use kanoon_domain::policy::Policy;
use kanoon_protocol::{Hlc, HlcClock};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use uuid::Uuid;

use crate::clock::{Clock, SystemClock};
use crate::db;
use crate::error::{Result, StoreError};
pub use crate::identity::{DeskIdentity, SetupRequest};
use crate::sql::parse_uuid;
pub(crate) use crate::write::Write;

/// How far behind the latest recorded time the clock may be before
/// circulation is refused (small corrections by time sync are normal).
const CLOCK_TOLERANCE: Duration = Duration::minutes(5);

/// How far ahead of the provincial server's clock this desk's clock may be
/// before circulation is refused: the server refuses ops stamped further
/// ahead (`clock_ahead`), so they would wait in the outbox.
pub const MAX_AHEAD_OF_SERVER_MS: i64 = 5 * 60 * 1000;

/// The meta key set while the last push showed this desk's clock ahead of
/// the server's by more than `MAX_AHEAD_OF_SERVER_MS`.
const CLOCK_AHEAD_KEY: &str = "clock_ahead_of_server";

pub struct Desk {
    pub(crate) conn: Connection,
    path: Option<PathBuf>,
    clock: Arc<dyn Clock>,
    pub(crate) identity: Option<DeskIdentity>,
    pub(crate) staff: Option<Staff>,
    hlc: HlcClock,
    /// Latest time this database has seen (circulation refuses earlier).
    clock_high_water: Option<DateTime<Utc>>,
    /// The latest time an op was recorded at (or a manager accepted): what
    /// a restart knows of `clock_high_water` (meta and the outbox's last op).
    recorded_high_water: Option<DateTime<Utc>>,
    /// The last push showed this desk's clock ahead of the server's
    /// (meta `clock_ahead_of_server`): circulation is refused until a later
    /// push shows it fixed.
    clock_ahead_of_server: bool,
    /// Policy and age groups, read once: the loan path needs them on every
    /// scan. Dropped by every write that changes settings.
    reference: RefCell<Option<Arc<Reference>>>,
    /// (highest outbox seq counted, ops waiting up to it): the status bar
    /// asks often, and a full count over a large outbox takes tens of ms
    /// with the desk locked. Dropped whenever ops are marked pushed.
    pub(crate) waiting: Cell<Option<(i64, i64)>>,
    /// Background WAL checkpoints for a database on disk.
    _checkpointer: Option<db::Checkpointer>,
    /// Staff calls waiting for this desk (shared with whoever locks it for
    /// them): a pulled page gives way to them between its chunks.
    staff_waiting: StaffWaiting,
}

/// How many staff calls wait for a desk shared with the sync loop. The
/// window locks the desk through `lock`; applying a pulled page ends its
/// chunk early when a call waits and lets that call take the desk before
/// its next chunk (`give_way`), so a loan never waits behind a whole page.
#[derive(Clone, Debug, Default)]
pub struct StaffWaiting(Arc<AtomicUsize>);

/// How long sync waits, the desk unlocked, for the calls that wait to take
/// it: past this (a call that never comes), it takes the desk again.
const GIVE_WAY_AT_MOST: std::time::Duration = std::time::Duration::from_millis(20);

impl StaffWaiting {
    /// Locks `desk` for a staff call, counted as waiting until it holds it.
    pub fn lock<'d>(&self, desk: &'d Mutex<Desk>) -> LockResult<MutexGuard<'d, Desk>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        let guard = desk.lock();
        self.0.fetch_sub(1, Ordering::SeqCst);
        guard
    }

    /// Whether a staff call waits for the desk now.
    pub fn any(&self) -> bool {
        self.0.load(Ordering::SeqCst) > 0
    }

    /// Called with the desk unlocked: returns once no staff call waits (the
    /// ones that waited hold the desk or are done), or after
    /// `GIVE_WAY_AT_MOST`. A mutex does not hand itself to the thread that
    /// waited longest: without this, the sync loop would take it again
    /// before the woken call runs.
    pub fn give_way(&self) {
        let until = Instant::now() + GIVE_WAY_AT_MOST;
        while self.any() && Instant::now() < until {
            // Asleep rather than spinning: the call may need this core.
            std::thread::sleep(std::time::Duration::from_micros(50));
        }
    }
}

/// Settings the loan check reads on every call.
pub(crate) struct Reference {
    /// The policy that applies, every holiday folded in.
    pub policy: Policy,
    pub age_groups: Vec<AgeGroup>,
    /// The province's and the center's settings, resolved.
    pub settings: crate::settings::province::ResolvedSettings,
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
            recorded_high_water: None,
            clock_ahead_of_server: false,
            reference: RefCell::new(None),
            waiting: Cell::new(None),
            _checkpointer: None,
            staff_waiting: StaffWaiting::default(),
        };
        desk.load_identity()?;
        Ok(desk)
    }

    /// Uses `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The count of staff calls waiting for this desk: whoever shares the
    /// desk with the sync loop locks it for staff through this.
    pub fn staff_waiting(&self) -> StaffWaiting {
        self.staff_waiting.clone()
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
        self.recorded_high_water = self.clock_high_water;
        self.clock_ahead_of_server = meta(CLOCK_AHEAD_KEY)?.is_some();
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
        self.recorded_high_water = Some(at);
    }

    /// The center this desk serves (refused before the first run).
    pub(crate) fn center_id(&self) -> Result<Uuid> {
        Ok(self.identity.as_ref().ok_or(StoreError::NotSetUp)?.center.id)
    }

    pub fn identity(&self) -> Option<&DeskIdentity> {
        self.identity.as_ref()
    }

    pub(crate) fn id(&self) -> Result<&DeskIdentity> {
        self.identity.as_ref().ok_or(StoreError::NotSetUp)
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

    /// `check_clock`, and refuses while the last push showed this desk's
    /// clock ahead of the server's: every write of a loan, return, renewal,
    /// call, void or transfer (its ops would wait for the server's clock,
    /// its dates would be wrong).
    pub(crate) fn check_circulation_clock(&self) -> Result<DateTime<Utc>> {
        let now = self.check_clock()?;
        if self.clock_ahead_of_server {
            return Err(StoreError::ClockAhead);
        }
        Ok(now)
    }

    /// What a push told about this desk's clock: `server_time_ms`, the
    /// server's clock when it answered (None from a server too old to
    /// send it), and whether it held an op as stamped too far ahead of it
    /// (`clock_ahead`). The desk is ahead when its clock is more than
    /// `MAX_AHEAD_OF_SERVER_MS` past the server's; a held op says so only
    /// when the server sent no time (with a time, a clock already fixed
    /// may still have ops stamped before the fix waiting: those go once
    /// the server's clock passes them, and need not stop circulation).
    pub fn note_server_clock(&mut self, server_time_ms: Option<i64>, held: bool) -> Result<()> {
        let ahead = match server_time_ms {
            Some(server) => self.now().timestamp_millis() > server.saturating_add(MAX_AHEAD_OF_SERVER_MS),
            None => held,
        };
        if ahead == self.clock_ahead_of_server {
            return Ok(());
        }
        if ahead {
            crate::sql::set_meta(&self.conn, CLOCK_AHEAD_KEY, "1")?;
        } else {
            crate::sql::run(&self.conn, "DELETE FROM meta WHERE key = ?1", [CLOCK_AHEAD_KEY])?;
        }
        self.clock_ahead_of_server = ahead;
        Ok(())
    }

    /// The warning staff see while this desk's clock is ahead of the
    /// server's (circulation is refused until it is fixed and synced).
    pub fn clock_warning(&self) -> Option<String> {
        self.clock_ahead_of_server.then(|| StoreError::ClockAhead.to_string())
    }

    pub fn policy(&self) -> Result<Policy> {
        self.signed()?;
        Ok(self.reference()?.policy.clone())
    }

    pub(crate) fn reference(&self) -> Result<Arc<Reference>> {
        if let Some(r) = self.reference.borrow().as_ref() {
            return Ok(r.clone());
        }
        let settings = crate::settings::province::ResolvedSettings::load(&self.conn)?;
        let r = Arc::new(Reference {
            policy: settings.effective_policy(),
            age_groups: crate::rows::setting::load_age_groups(&self.conn)?,
            settings,
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
        // A write with the clock behind the latest recorded time (allowed
        // within the tolerance, and for what is not circulation) leaves an
        // op that no longer carries that time: it is kept in meta so a
        // restart still knows it. Before `f`, so a write that sets it itself
        // (a manager accepting the clock) has the last word.
        if let Some(recorded) = self.recorded_high_water
            && now < recorded
        {
            crate::sql::set_meta(&tx, "clock_high_water", &crate::sql::timestamp(recorded))?;
        }
        let hlc_before = self.hlc.last;
        let mut w = Write { tx, hlc: self.hlc, now, identity, staff_id };
        let out = f(&mut w).map_err(StoreError::constraint_as_conflict)?;
        let high_water = self.clock_high_water.map_or(now, |seen| seen.max(now));
        let hlc = w.hlc;
        w.tx.commit()?;
        if hlc.last != hlc_before {
            // It recorded ops.
            self.recorded_high_water = Some(self.recorded_high_water.map_or(now, |r| r.max(now)));
        }
        self.hlc = hlc;
        self.clock_high_water = Some(high_water);
        Ok(out)
    }

    /// `PRAGMA integrity_check` (the crash test and the backup check).
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}
