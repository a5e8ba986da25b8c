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
        self.apply_snapshot_fed(|applying| {
            for op in ops {
                applying.receive(op)?;
            }
            Ok((cursor, unreadable.to_vec()))
        })
    }

    /// `apply_snapshot` of a snapshot applied as it is read: `next` gives
    /// its items one by one (None at its end, after its cursor) and may wait
    /// for them, so reading and applying overlap. All or nothing, as
    /// `apply_snapshot`: an error of `next` (the connection lost) rolls the
    /// transaction back and the desk stays never-pulled.
    pub fn apply_snapshot_streamed<E: From<StoreError>>(
        &mut self,
        mut next: impl FnMut() -> std::result::Result<Option<SnapshotItem>, E>,
    ) -> std::result::Result<ApplyReport, E> {
        self.apply_snapshot_fed(|applying| {
            let (mut cursor, mut unreadable) = (None, Vec::new());
            while let Some(item) = next()? {
                match item {
                    SnapshotItem::Op { op, json } => applying.receive_as(&op, Some(&json))?,
                    // Set aside after the ops, as from a snapshot read whole.
                    SnapshotItem::Unreadable(u) => unreadable.push(u),
                    SnapshotItem::Cursor(c) => cursor = Some(c),
                }
            }
            let cursor = cursor.ok_or_else(|| StoreError::InvalidInput("snapshot without a cursor".into()))?;
            Ok((cursor, unreadable))
        })
    }

    /// One transaction on a never-pulled desk: `feed` receives the ops and
    /// answers the cursor and the ops that did not parse.
    fn apply_snapshot_fed<E: From<StoreError>>(
        &mut self,
        feed: impl FnOnce(&mut Applying<'_>) -> std::result::Result<(Cursor, Vec<UnreadableOp>), E>,
    ) -> std::result::Result<ApplyReport, E> {
        // One transaction of 100 MB and more for a large center: a page
        // cache to match, so its pages are not spilled to the WAL and read
        // back while it runs; the usual size again afterwards.
        // Its commit leaves the WAL far past `WAL_SAFETY_PAGES`: the desk's
        // checkpoint thread copies it then, not the commit inline.
        let pragma = |name: &str| self.conn.pragma_query_value(None, name, |r| r.get::<_, i64>(0));
        let (cache, checkpoint) =
            (pragma("cache_size").map_err(StoreError::from)?, pragma("wal_autocheckpoint").map_err(StoreError::from)?);
        self.conn.pragma_update(None, "cache_size", BOOTSTRAP_CACHE_KIB).map_err(StoreError::from)?;
        self.conn.pragma_update(None, "wal_autocheckpoint", 0).map_err(StoreError::from)?;
        let result = self.apply_snapshot_in_one_transaction(feed);
        self.conn.pragma_update(None, "cache_size", cache).map_err(StoreError::from)?;
        self.conn.pragma_update(None, "wal_autocheckpoint", checkpoint).map_err(StoreError::from)?;
        result
    }

    fn apply_snapshot_in_one_transaction<E: From<StoreError>>(
        &mut self,
        feed: impl FnOnce(&mut Applying<'_>) -> std::result::Result<(Cursor, Vec<UnreadableOp>), E>,
    ) -> std::result::Result<ApplyReport, E> {
        let identity = self.id()?.clone();
        let (now, clock) = (self.now(), self.hlc_clock());
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(StoreError::from)?;
        if !never_pulled(&tx)? {
            return Err(StoreError::Conflict(
                "این میز پیش‌تر داده‌های مرکز را از سرور استان گرفته است و نمی‌توان آن را دوباره از آغاز پر کرد؛ \
                 همگام‌سازی معمولی را ادامه دهید."
                    .into(),
            )
            .into());
        }
        stage_search_rows(&tx)?;
        // Never pulled: the inbox is empty in this transaction.
        let mut applying = Applying::new(tx, identity.device_id, identity.center.id, now, clock).fresh()?;
        let (cursor, unreadable) = feed(&mut applying)?;
        applying.set_aside_unreadable(&unreadable)?;
        let (clock, report) = applying.finish(cursor, |tx| {
            index_staged_search_rows(tx)?;
            set_meta(tx, crate::sync::apply::BOOTSTRAPPED, "1")?;
            continue_member_counter(tx, &identity.center.code, identity.center.id, identity.desk_number)
        })?;
        self.set_hlc_clock(clock);
        self.forget_reference();
        Ok(report)
    }
}

/// One item of a snapshot as the client reads it, in the order it comes.
#[derive(Debug)]
pub enum SnapshotItem {
    /// An op that parsed, with its JSON text as served (kept in the inbox).
    Op { op: Box<Op>, json: Box<str> },
    /// An op that did not parse: set aside as an exception.
    Unreadable(UnreadableOp),
    /// Where the snapshot ends in the log.
    Cursor(Cursor),
}

/// The full-text indexes written by the records' rooms (`rows::title`,
/// `rows::member`) while a snapshot applies.
const SEARCH_INDEXES: [&str; 2] = ["title_search", "member_search"];

/// Stages the search rows the snapshot's records write: a temporary table
/// of the same name takes them (temp is searched before main), so the
/// rooms' writes go there unchanged. FTS5 writes its pending rows out as a
/// segment at every statement savepoint — every write statement of a
/// transaction —, so row by row among the other writes each title and
/// member became a segment, merged again and again (a fifth of the apply).
/// Dropped with the transaction if it rolls back.
fn stage_search_rows(tx: &Connection) -> Result<()> {
    for index in SEARCH_INDEXES {
        tx.execute_batch(&format!("CREATE TEMP TABLE {index} (text TEXT)"))?;
    }
    Ok(())
}

/// Moves the staged search rows into the indexes at once (a row a record
/// wrote replaces the one its rowid had, as row by row) and drops the stage.
fn index_staged_search_rows(tx: &Connection) -> Result<()> {
    for index in SEARCH_INDEXES {
        tx.execute_batch(&format!(
            "DELETE FROM main.{index} WHERE rowid IN (SELECT rowid FROM temp.{index});
             INSERT INTO main.{index} (rowid, text) SELECT rowid, text FROM temp.{index} ORDER BY rowid;
             DROP TABLE temp.{index};"
        ))?;
    }
    Ok(())
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
