//! The outbox: every op this desk wrote, in order, with whether the server
//! has stored it. Use cases append through `Write` in their own
//! transaction; the sync client takes what waits and marks what the server
//! stored.

use kanoon_protocol::Op;
use kanoon_protocol::wire::RejectedOp;
use rusqlite::params;
use uuid::Uuid;

use crate::desk::Desk;
use crate::error::Result;
use crate::findings::{Finding, codes, record_exception};
use crate::sql::{run, timestamp};

impl Desk {
    /// Ops not yet accepted by the server, oldest first.
    pub fn ops_to_push(&self, limit: usize) -> Result<Vec<Op>> {
        let mut stmt =
            self.conn.prepare_cached("SELECT op FROM outbox WHERE pushed_at IS NULL ORDER BY seq LIMIT ?1")?;
        let rows = stmt.query_map([limit as i64], |r| r.get::<_, String>(0))?;
        rows.map(|r| Ok(serde_json::from_str(&r?)?)).collect()
    }

    /// The ops in the outbox, pushed or not, oldest first.
    pub fn outbox(&self, limit: usize) -> Result<Vec<Op>> {
        let mut stmt = self.conn.prepare_cached("SELECT op FROM outbox ORDER BY seq LIMIT ?1")?;
        let rows = stmt.query_map([limit as i64], |r| r.get::<_, String>(0))?;
        rows.map(|r| Ok(serde_json::from_str(&r?)?)).collect()
    }

    /// Number of ops waiting in the outbox (sync status, tests). Counted in
    /// full once, then only the ops appended since (new ops are never
    /// pushed before they are counted: marking pushed drops the count).
    pub fn outbox_len(&self) -> Result<i64> {
        let max: i64 = self.conn.query_row("SELECT coalesce(max(seq), 0) FROM outbox", [], |r| r.get(0))?;
        let count = match self.waiting.get() {
            Some((counted_to, count)) if counted_to <= max => {
                let new: i64 = self.conn.query_row(
                    "SELECT count(*) FROM outbox WHERE seq > ?1 AND pushed_at IS NULL",
                    [counted_to],
                    |r| r.get(0),
                )?;
                count + new
            }
            _ => self.conn.query_row("SELECT count(*) FROM outbox WHERE pushed_at IS NULL", [], |r| r.get(0))?,
        };
        self.waiting.set(Some((max, count)));
        Ok(count)
    }

    /// Marks ops the server stored (accepted now or earlier).
    pub fn mark_pushed(&mut self, op_ids: &[Uuid]) -> Result<()> {
        self.waiting.set(None);
        let now = timestamp(self.now());
        let tx = self.conn.transaction()?;
        for id in op_ids {
            run(
                &tx,
                "UPDATE outbox SET pushed_at = ?2 WHERE op_id = ?1 AND pushed_at IS NULL",
                params![id.to_string(), now],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Ops the server refused for their content: taken out of the push queue
    /// (they must not block the rest) and shown to staff as exceptions.
    pub fn set_aside(&mut self, rejected: &[RejectedOp]) -> Result<()> {
        self.waiting.set(None);
        let now = self.now();
        let tx = self.conn.transaction()?;
        for r in rejected {
            run(
                &tx,
                "UPDATE outbox SET pushed_at = ?2 WHERE op_id = ?1",
                params![r.op_id.to_string(), timestamp(now)],
            )?;
            let f = Finding::about_op(
                codes::OP_REJECTED,
                r.op_id,
                serde_json::json!({"op_id": r.op_id, "reason": r.reason}),
            );
            record_exception(&tx, &f, now)?;
        }
        tx.commit()?;
        Ok(())
    }
}
