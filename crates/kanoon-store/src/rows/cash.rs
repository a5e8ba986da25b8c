//! Cash book rows: payments and refunds (`cash_entries`) and closed days
//! (`cash_closings`), both append-only events. No other module writes
//! them.

use chrono::NaiveDate;
use kanoon_domain::cashbook::{CashEntry, DayTotal, PaymentKind, PaymentMethod, ReceiptNumber};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::EventStamp;
use crate::error::{Result, StoreError};
use crate::findings::Finding;
use crate::sql::{parse_date, parse_uuid, timestamp};

/// The event kinds of the `cash` entity and of `cash_closing`.
pub(crate) const PAYMENT: &str = "payment";
pub(crate) const REFUND: &str = "refund";
pub(crate) const CLOSED: &str = "closed";

/// Receipt numbers issued twice (two PCs with one desk number, a restore
/// from an older backup): both entries kept, staff told.
pub(crate) const RECEIPT_CLASH: &str = "receipt_clash";

/// A payment or a refund as its event carries it. A refund's amount is
/// positive here and counts against its kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CashData {
    pub receipt: ReceiptNumber,
    pub day: NaiveDate,
    pub kind: PaymentKind,
    pub method: PaymentMethod,
    #[serde(default)]
    pub pos_ref: Option<String>,
    pub amount_rials: i64,
    pub payer: String,
    #[serde(default)]
    pub member_id: Option<Uuid>,
    #[serde(default)]
    pub refund_of: Option<Uuid>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub staff_name: Option<String>,
    /// Tuition: the workshop and the participant it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workshop_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_id: Option<Uuid>,
}

/// Keeps a payment (`refund` false) or a refund once; a receipt number
/// another entry already carries is reported (`found`), both kept.
pub(crate) fn insert_entry(
    conn: &Connection,
    id: Uuid,
    refund: bool,
    d: &CashData,
    stamp: &EventStamp,
    found: &mut Vec<Finding>,
) -> Result<bool> {
    let amount = if refund { -d.amount_rials } else { d.amount_rials };
    let inserted = conn
        .prepare_cached(
            "INSERT INTO cash_entries (id, receipt_desk, receipt_seq, day, kind, method, pos_ref, amount_rials, payer,
                 member_id, refund_of, reason, staff_id, staff_name, hlc, device_id, at, workshop_id, participant_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)
             ON CONFLICT (id) DO NOTHING",
        )?
        .execute(params![
            id.to_string(),
            d.receipt.desk,
            d.receipt.seq,
            d.day.to_string(),
            d.kind.as_str(),
            d.method.as_str(),
            d.pos_ref,
            amount,
            d.payer,
            d.member_id.map(|m| m.to_string()),
            d.refund_of.map(|m| m.to_string()),
            d.reason,
            stamp.staff_id.map(|s| s.to_string()),
            d.staff_name,
            stamp.hlc.to_sortable(),
            stamp.device_id.to_string(),
            timestamp(stamp.at),
            d.workshop_id.map(|w| w.to_string()),
            d.participant_id.map(|p| p.to_string()),
        ])?;
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM cash_entries WHERE receipt_desk = ?1 AND receipt_seq = ?2 AND id <> ?3 ORDER BY id",
    )?;
    let others = stmt.query_map(params![d.receipt.desk, d.receipt.seq, id.to_string()], |r| r.get::<_, String>(0))?;
    for other in others {
        let other = parse_uuid(&other?)?;
        found.push(Finding::new(
            RECEIPT_CLASH,
            &[id.min(other), id.max(other)],
            serde_json::json!({"receipt": d.receipt.printed(), "entry_ids": [id.min(other), id.max(other)]}),
        ));
    }
    Ok(inserted == 1)
}

/// The highest receipt number of `desk` in the book.
pub(crate) fn highest_receipt(conn: &Connection, desk: u8) -> Result<Option<u32>> {
    Ok(conn
        .prepare_cached("SELECT max(receipt_seq) FROM cash_entries WHERE receipt_desk = ?1")?
        .query_row([desk], |r| r.get::<_, Option<u32>>(0))?)
}

/// The next receipt number of `desk`: past every number of its desk number
/// the book holds (a synced entry from another PC with the same desk number
/// included) and past meta `receipt_counter`, which only grows; the counter
/// is moved to it.
pub(crate) fn next_receipt(conn: &Connection, desk: u8) -> Result<ReceiptNumber> {
    let counter: Option<u32> = conn
        .query_row("SELECT value FROM meta WHERE key = 'receipt_counter'", [], |r| r.get::<_, String>(0))
        .optional()?
        .and_then(|s| s.parse().ok());
    let last = counter.max(highest_receipt(conn, desk)?);
    let next = ReceiptNumber::next(desk, last)
        .ok_or_else(|| StoreError::Conflict("شمارهٔ رسید این میز به پایان رسیده است.".into()))?;
    crate::sql::set_meta(conn, "receipt_counter", &next.seq.to_string())?;
    Ok(next)
}

/// A stored entry, for the domain's rules and the window.
#[derive(Clone, Debug)]
pub(crate) struct StoredEntry {
    pub entry: CashEntry,
    pub pos_ref: Option<String>,
    pub payer: String,
    pub member_id: Option<Uuid>,
    pub refund_of: Option<Uuid>,
    pub reason: Option<String>,
    pub staff_name: Option<String>,
    pub at: String,
    pub workshop_id: Option<Uuid>,
    pub participant_id: Option<Uuid>,
}

const ENTRY_COLUMNS: &str = "id, receipt_desk, receipt_seq, staff_id, day, kind, method, amount_rials, pos_ref, payer, \
                             member_id, refund_of, reason, staff_name, at, workshop_id, participant_id";

fn entry_from_row(r: &rusqlite::Row<'_>) -> Result<StoredEntry> {
    let text = |i: usize| r.get::<_, String>(i);
    let opt = |i: usize| r.get::<_, Option<String>>(i);
    let kind = text(5)?;
    let method = text(6)?;
    Ok(StoredEntry {
        entry: CashEntry {
            id: parse_uuid(&text(0)?)?,
            receipt: ReceiptNumber { desk: r.get(1)?, seq: r.get(2)? },
            staff_id: opt(3)?.map(|s| parse_uuid(&s)).transpose()?.unwrap_or_default(),
            day: parse_date(&text(4)?)?,
            kind: PaymentKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("نوع پرداخت «{kind}»")))?,
            method: PaymentMethod::parse(&method)
                .ok_or_else(|| StoreError::Corrupt(format!("روش پرداخت «{method}»")))?,
            amount_rials: r.get(7)?,
        },
        pos_ref: opt(8)?,
        payer: text(9)?,
        member_id: opt(10)?.map(|s| parse_uuid(&s)).transpose()?,
        refund_of: opt(11)?.map(|s| parse_uuid(&s)).transpose()?,
        reason: opt(12)?,
        staff_name: opt(13)?,
        at: text(14)?,
        workshop_id: opt(15)?.map(|s| parse_uuid(&s)).transpose()?,
        participant_id: opt(16)?.map(|s| parse_uuid(&s)).transpose()?,
    })
}

/// Entries matching `condition` (over `ENTRY_COLUMNS`, one text argument),
/// in receipt order.
pub(crate) fn entries_where(conn: &Connection, condition: &str, arg: &str) -> Result<Vec<StoredEntry>> {
    let sql =
        format!("SELECT {ENTRY_COLUMNS} FROM cash_entries WHERE {condition} ORDER BY receipt_desk, receipt_seq, id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([arg])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(entry_from_row(row)?);
    }
    Ok(out)
}

pub(crate) fn entry(conn: &Connection, id: Uuid) -> Result<Option<StoredEntry>> {
    Ok(entries_where(conn, "id = ?1", &id.to_string())?.pop())
}

/// A participant's payments and refunds for a workshop, in receipt order.
pub(crate) fn of_participant(conn: &Connection, workshop: Uuid, participant: Uuid) -> Result<Vec<StoredEntry>> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM cash_entries WHERE workshop_id = ?1 AND participant_id = ?2
         ORDER BY receipt_desk, receipt_seq, id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![workshop.to_string(), participant.to_string()])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(entry_from_row(row)?);
    }
    Ok(out)
}

/// What each participant of a workshop paid, net of refunds.
pub(crate) fn paid_by_participant(conn: &Connection, workshop: Uuid) -> Result<Vec<(Uuid, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT participant_id, sum(amount_rials) FROM cash_entries
         WHERE workshop_id = ?1 AND participant_id IS NOT NULL GROUP BY participant_id",
    )?;
    let rows = stmt.query_map([workshop.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (p, sum) = row?;
        out.push((parse_uuid(&p)?, sum));
    }
    Ok(out)
}

/// What has been refunded of a payment so far (a positive sum).
pub(crate) fn refunded(conn: &Connection, payment: Uuid) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT coalesce(-sum(amount_rials), 0) FROM cash_entries WHERE refund_of = ?1")?
        .query_row([payment.to_string()], |r| r.get(0))?)
}

/// A closed day as its event carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ClosingData {
    pub staff_id: Uuid,
    #[serde(default)]
    pub staff_name: Option<String>,
    pub day: NaiveDate,
    pub totals: Vec<DayTotal>,
    #[serde(default)]
    pub confirmed_by_name: Option<String>,
}

/// Keeps a closing once.
pub(crate) fn insert_closing(conn: &Connection, id: Uuid, c: &ClosingData, stamp: &EventStamp) -> Result<bool> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO cash_closings (id, staff_id, staff_name, day, confirmed_by, confirmed_by_name, totals, hlc,
                 device_id, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (id) DO NOTHING",
        )?
        .execute(params![
            id.to_string(),
            c.staff_id.to_string(),
            c.staff_name,
            c.day.to_string(),
            stamp.staff_id.map(|s| s.to_string()),
            c.confirmed_by_name,
            serde_json::to_string(&c.totals)?,
            stamp.hlc.to_sortable(),
            stamp.device_id.to_string(),
            timestamp(stamp.at),
        ])?;
    Ok(inserted == 1)
}

/// A closed day as stored: who confirmed it, when (RFC 3339), the totals
/// confirmed.
pub(crate) struct StoredClosing {
    pub confirmed_by: Option<String>,
    pub at: String,
    pub totals: Vec<DayTotal>,
}

/// The closing of a staff member's day, if it is closed (the first one
/// recorded, should two desks have closed it).
pub(crate) fn closing_of(conn: &Connection, staff: Uuid, day: NaiveDate) -> Result<Option<StoredClosing>> {
    let row: Option<(Option<String>, String, String)> = conn
        .prepare_cached(
            "SELECT confirmed_by_name, at, totals FROM cash_closings WHERE staff_id = ?1 AND day = ?2 ORDER BY hlc, id LIMIT 1",
        )?
        .query_row(params![staff.to_string(), day.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    row.map(|(confirmed_by, at, totals)| Ok(StoredClosing { confirmed_by, at, totals: serde_json::from_str(&totals)? }))
        .transpose()
}
