//! Bootstrap: a new or reinstalled desk of a center that already has data
//! starts from the server's snapshot (`GET /sync/v1/snapshot`) instead of
//! replaying years of history — the records of its center and the
//! province, the open loans with their renewals, the current membership
//! periods, transfers and voids of those, and every op the server does not
//! understand — and then pulls normally after the snapshot's cursor.
//!
//! The snapshot is applied like a pulled page (the same per-op apply of
//! `sync`: records merged field by field, events by id and re-derived,
//! what cannot apply kept in the inbox), all in one transaction with its
//! cursor, and only on a desk that has pulled nothing yet. The desk's
//! member-number counter then continues after the highest counter the
//! center has used for this desk number, so a reinstalled desk never issues
//! a number that is already on a card.
//!
//! A bootstrapped desk has no local loan history before its snapshot:
//! returned loans and expired membership periods stay on the server.

use kanoon_domain::ids::MemberNumber;
use kanoon_protocol::Op;
use kanoon_protocol::wire::Cursor;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::desk::Desk;
use crate::error::{Result, StoreError};
use crate::sql::set_meta;
use crate::sync::ApplyReport;
use crate::sync::apply::{Applying, UnreadableOp};

/// The page cache while a snapshot is applied (negative: KiB), 256 MiB.
const BOOTSTRAP_CACHE_KIB: i64 = -262_144;

impl Desk {
    /// Whether this desk has pulled nothing yet: no cursor and nothing
    /// received. Only such a desk may start from a snapshot.
    pub fn never_pulled(&self) -> Result<bool> {
        never_pulled(&self.conn)
    }

    /// Applies the server's snapshot with its cursor, in one transaction,
    /// then moves this desk's member-number counter past the highest one
    /// the center has used for its desk number (never lowering it). Refused
    /// on a desk that has already pulled: its data would be mixed with an
    /// older or newer view of the log.
    pub fn apply_snapshot(&mut self, ops: &[Op], cursor: Cursor) -> Result<ApplyReport> {
        self.apply_snapshot_with_unreadable(ops, &[], cursor)
    }

    /// `apply_snapshot` of a snapshot some of whose ops did not parse:
    /// those are set aside as `op_unreadable` exceptions.
    pub fn apply_snapshot_with_unreadable(
        &mut self,
        ops: &[Op],
        unreadable: &[UnreadableOp],
        cursor: Cursor,
    ) -> Result<ApplyReport> {
        // One transaction of 100 MB and more for a large center: a page
        // cache to match, so its pages are not spilled to the WAL and read
        // back while it runs; the usual size again afterwards.
        let cache: i64 = self.conn.pragma_query_value(None, "cache_size", |r| r.get(0))?;
        self.conn.pragma_update(None, "cache_size", BOOTSTRAP_CACHE_KIB)?;
        let result = self.apply_snapshot_in_one_transaction(ops, unreadable, cursor);
        self.conn.pragma_update(None, "cache_size", cache)?;
        result
    }

    fn apply_snapshot_in_one_transaction(
        &mut self,
        ops: &[Op],
        unreadable: &[UnreadableOp],
        cursor: Cursor,
    ) -> Result<ApplyReport> {
        let identity = self.id()?.clone();
        let (now, clock) = (self.now(), self.hlc_clock());
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if !never_pulled(&tx)? {
            return Err(StoreError::Conflict(
                "این میز پیش‌تر داده‌های مرکز را از سرور استان گرفته است و نمی‌توان آن را دوباره از آغاز پر کرد؛ \
                 همگام‌سازی معمولی را ادامه دهید."
                    .into(),
            ));
        }
        let mut applying = Applying::new(tx, identity.device_id, identity.center.id, now, clock);
        for op in ops {
            applying.receive(op)?;
        }
        applying.set_aside_unreadable(unreadable)?;
        let (clock, report) = applying.finish(cursor, |tx| {
            set_meta(tx, crate::sync::apply::BOOTSTRAPPED, "1")?;
            continue_member_counter(tx, &identity.center.code, identity.center.id, identity.desk_number)
        })?;
        self.set_hlc_clock(clock);
        self.forget_reference();
        Ok(report)
    }
}

fn never_pulled(conn: &Connection) -> Result<bool> {
    let cursor: Option<String> =
        conn.query_row("SELECT value FROM meta WHERE key = 'sync_cursor'", [], |r| r.get(0)).optional()?;
    let received: bool = conn.query_row("SELECT EXISTS (SELECT 1 FROM inbox)", [], |r| r.get(0))?;
    Ok(cursor.is_none() && !received)
}

/// The highest counter among the center's member numbers issued at desk
/// `desk_number` (center code + two-digit desk number + counter + check
/// digit), if any.
pub(crate) fn highest_member_counter(
    conn: &Connection,
    center_code: &str,
    center_id: uuid::Uuid,
    desk_number: u8,
) -> Result<Option<u64>> {
    // The prefix as `MemberNumber` writes it (counter of 5 digits + check digit after it).
    let sample = MemberNumber::compose(center_code, desk_number, 0)?;
    let prefix = &sample.as_str()[..sample.as_str().len() - 6];
    let mut stmt =
        conn.prepare("SELECT member_number FROM members WHERE center_id = ?1 AND substr(member_number, 1, ?2) = ?3")?;
    let numbers =
        stmt.query_map(params![center_id.to_string(), prefix.len() as i64, prefix], |r| r.get::<_, String>(0))?;
    let mut highest = None;
    for number in numbers {
        let number = number?;
        // Only well-formed numbers (check digit right, counter of 5+ digits).
        if number.len() < prefix.len() + 6 || MemberNumber::parse(&number).is_err() {
            continue;
        }
        if let Ok(counter) = number[prefix.len()..number.len() - 1].parse::<u64>() {
            highest = highest.max(Some(counter));
        }
    }
    Ok(highest)
}

/// Moves the desk's member counter up to the highest one the center has
/// used for this desk number; never lowers it.
fn continue_member_counter(conn: &Connection, center_code: &str, center_id: uuid::Uuid, desk_number: u8) -> Result<()> {
    let Some(highest) = highest_member_counter(conn, center_code, center_id, desk_number)? else {
        return Ok(());
    };
    let current: u64 = conn
        .query_row("SELECT value FROM meta WHERE key = 'member_counter'", [], |r| r.get::<_, String>(0))
        .optional()?
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if highest > current {
        set_meta(conn, "member_counter", &highest.to_string())?;
    }
    Ok(())
}
