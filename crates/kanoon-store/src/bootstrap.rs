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
use crate::sync::{APPLIED_KINDS, ApplyReport, Finding, MAX_CLOCK_AHEAD_MS, record_exception, try_apply};

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
        // One transaction of 100 MB and more for a large center: a page
        // cache to match, so its pages are not spilled to the WAL and read
        // back while it runs; the usual size again afterwards.
        let cache: i64 = self.conn.pragma_query_value(None, "cache_size", |r| r.get(0))?;
        self.conn.pragma_update(None, "cache_size", BOOTSTRAP_CACHE_KIB)?;
        let result = self.apply_snapshot_in_one_transaction(ops, cursor);
        self.conn.pragma_update(None, "cache_size", cache)?;
        result
    }

    fn apply_snapshot_in_one_transaction(&mut self, ops: &[Op], cursor: Cursor) -> Result<ApplyReport> {
        let identity = self.id()?.clone();
        let now = self.now();
        let mut clock = self.hlc_clock();
        let clock_before = clock.last;
        let mut report = ApplyReport::default();
        let stamp = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if !never_pulled(&tx)? {
            return Err(StoreError::Conflict(
                "این میز پیش‌تر داده‌های مرکز را از سرور استان گرفته است و نمی‌توان آن را دوباره از آغاز پر کرد؛ \
                 همگام‌سازی معمولی را ادامه دهید."
                    .into(),
            ));
        }
        for op in ops {
            if op.device_id == identity.device_id {
                report.own += 1;
            }
            let mut found = Vec::new();
            if !clock.observe(op.hlc, now.timestamp_millis(), MAX_CLOCK_AHEAD_MS) {
                found.push(Finding::new(
                    "clock_far_off",
                    &[op.op_id],
                    serde_json::json!({"op_id": op.op_id, "hlc": op.hlc}),
                ));
            }
            let applied = try_apply(&mut tx, op, &mut found)?;
            let inserted = tx
                .prepare_cached(
                    "INSERT INTO inbox (op_id, entity, entity_id, op, received_at, applied) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (op_id) DO NOTHING",
                )?
                .execute(params![
                    op.op_id.to_string(),
                    op.entity.as_str(),
                    op.entity_id.to_string(),
                    serde_json::to_string(op)?,
                    stamp,
                    applied
                ])?;
            if inserted == 0 {
                // The same op twice in one snapshot: applying it again changed nothing.
                report.duplicates += 1;
                continue;
            }
            for f in found {
                report.exceptions += record_exception(&tx, &f, now)?;
            }
            if applied {
                report.applied += 1;
            } else {
                report.kept += 1;
            }
        }
        // Ops kept for a record that came later in the snapshot: retried
        // until a pass applies nothing more (as after a pulled page).
        loop {
            let waiting: Vec<(String, String)> = {
                let mut stmt = tx.prepare_cached(
                    "SELECT op_id, op FROM inbox WHERE applied = 0 AND entity IN (?1, ?2, ?3, ?4, ?5, ?6) ORDER BY rowid",
                )?;
                let rows = stmt.query_map(APPLIED_KINDS, |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let mut progress = false;
            for (op_id, json) in waiting {
                let op: Op = serde_json::from_str(&json)?;
                let mut found = Vec::new();
                if try_apply(&mut tx, &op, &mut found)? {
                    tx.execute("UPDATE inbox SET applied = 1 WHERE op_id = ?1", [op_id])?;
                    for f in found {
                        report.exceptions += record_exception(&tx, &f, now)?;
                    }
                    report.applied += 1;
                    report.kept = report.kept.saturating_sub(1);
                    progress = true;
                }
            }
            if !progress {
                break;
            }
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('sync_cursor', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [cursor.to_string()],
        )?;
        if clock.last > clock_before {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('hlc_last', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [clock.last.to_sortable()],
            )?;
        }
        continue_member_counter(&tx, &identity.center.code, identity.center.id, identity.desk_number)?;
        tx.commit()?;
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
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('member_counter', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [highest.to_string()],
        )?;
    }
    Ok(())
}
