//! The catalog: titles (bibliographic records) and copies (physical books
//! with a registration number), transfers and withdrawals. Nothing is
//! deleted: a withdrawn copy stays, and frees its registration number.

use kanoon_domain::age_group;
use kanoon_domain::circulation::Event;
use kanoon_domain::entities::{Center, Permission, WithdrawReason, normalize_registration_number};
use kanoon_domain::jalali::JalaliDate;
use kanoon_domain::text;
use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::desk::{Desk, Write};
use crate::error::{Result, StoreError};
use crate::rows;
use crate::rows::center::CenterRecord;
use crate::rows::copy::CopyRecord;
use crate::rows::title::TitleRecord;
use crate::sql::{parse_date, uuid_column};

/// A title's details as staff type them (the domain's `TitleDetails`).
pub use kanoon_domain::entities::TitleDetails as TitleInput;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TitleView {
    pub id: Uuid,
    pub details: TitleInput,
    pub copies: Vec<CopyView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TitleHit {
    pub id: Uuid,
    pub title: String,
    pub author: String,
    pub publisher: String,
    pub age_group: Option<String>,
    pub copies: u32,
    pub available: u32,
}

/// Matches beyond which title search stops ranking by relevance.
pub const RANKED_MATCHES_MAX: u32 = 1000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TitleSearch {
    /// All titles matching the query.
    pub total: u32,
    /// False when there were too many matches to rank; newest first then.
    pub by_relevance: bool,
    pub hits: Vec<TitleHit>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CopyStatus {
    Available,
    OnLoan {
        member_number: String,
        member_name: String,
        due_on_jalali: String,
    },
    Withdrawn {
        reason: WithdrawReason,
    },
    /// Transferred to another center.
    Elsewhere {
        center_code: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CopyView {
    pub id: Uuid,
    pub title_id: Uuid,
    pub title: String,
    pub author: String,
    pub registration_number: String,
    pub age_group: Option<String>,
    pub status: CopyStatus,
}

fn clean_title(mut t: TitleInput, groups: &[kanoon_domain::age_group::AgeGroup]) -> Result<TitleInput> {
    for f in [&mut t.title, &mut t.author, &mut t.translator, &mut t.illustrator, &mut t.publisher, &mut t.subjects] {
        *f = text::clean_text(f);
    }
    if text::normalize_search(&t.title).is_empty() {
        return Err(StoreError::InvalidInput("عنوان کتاب را وارد کنید.".into()));
    }
    t.isbn = text::to_ascii_digits(&t.isbn).chars().filter(|c| c.is_ascii_digit() || *c == 'X' || *c == 'x').collect();
    t.age_group = match t.age_group.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(g) => Some(
            age_group::normalize_code(g)
                .filter(|c| groups.iter().any(|known| &known.code == c))
                .ok_or_else(|| StoreError::InvalidInput(format!("گروه سنی «{g}» شناخته نیست (مثلاً «ب» یا «+۷»).")))?,
        ),
    };
    Ok(t)
}

pub(crate) fn insert_title(w: &mut Write<'_>, t: &TitleInput) -> Result<Uuid> {
    let id = Uuid::now_v7();
    w.save(id, &TitleRecord { details: t.clone(), merged_into: None }, None)?;
    Ok(id)
}

pub(crate) fn insert_copy(w: &mut Write<'_>, title_id: Uuid, registration_number: &str) -> Result<Uuid> {
    let number = normalize_registration_number(registration_number);
    if number.is_empty() {
        return Err(StoreError::InvalidInput("شماره ثبت نسخه را وارد کنید.".into()));
    }
    if rows::copy::active_with_number(&w.tx, w.center_id(), &number)?.is_some() {
        return Err(StoreError::Conflict(format!(
            "شماره ثبت «{}» پیش‌تر به نسخه دیگری داده شده است؛ شماره مهر‌شده در کتاب را دوباره بخوانید.",
            text::to_persian_digits(&number)
        )));
    }
    let id = Uuid::now_v7();
    let copy = CopyRecord { title_id, center_id: w.center_id(), registration_number: number, withdrawn: None };
    w.save(id, &copy, None)?;
    Ok(id)
}

/// Changes a copy inside a use case's transaction, with its op.
pub(crate) fn change_copy(w: &mut Write<'_>, copy_id: Uuid, change: impl FnOnce(&mut CopyRecord)) -> Result<()> {
    let (old, clocks) = rows::load_existing::<CopyRecord>(&w.tx, copy_id, "این نسخه پیدا نشد.")?;
    let mut copy = old.clone();
    change(&mut copy);
    w.save(copy_id, &copy, Some((&old, &clocks)))?;
    Ok(())
}

const COPY_SELECT: &str = "SELECT c.id, c.title_id, t.title, t.author, c.registration_number, t.age_group, c.withdrawn,
        c.center_id, (SELECT code FROM centers WHERE id = c.center_id),
        m.member_number, m.first_name || ' ' || m.last_name, o.due_on
    FROM copies c JOIN titles t ON t.id = c.title_id
    LEFT JOIN open_loans o ON o.copy_id = c.id
    LEFT JOIN members m ON m.id = o.member_id";

fn copy_from_row(r: &Row<'_>, center: Uuid) -> rusqlite::Result<CopyView> {
    let withdrawn: Option<String> = r.get(6)?;
    let center_id: String = r.get(7)?;
    let member_number: Option<String> = r.get(9)?;
    let status = if let Some(reason) = withdrawn.as_deref().and_then(WithdrawReason::parse) {
        CopyStatus::Withdrawn { reason }
    } else if let Some(member_number) = member_number {
        let due: String = r.get(11)?;
        CopyStatus::OnLoan {
            member_number,
            member_name: r.get(10)?,
            due_on_jalali: parse_date(&due).map(|d| JalaliDate::from_gregorian(d).to_string()).unwrap_or(due),
        }
    } else if center_id != center.to_string() {
        CopyStatus::Elsewhere { center_code: r.get::<_, Option<String>>(8)?.unwrap_or_default() }
    } else {
        CopyStatus::Available
    };
    Ok(CopyView {
        id: uuid_column(r, 0)?,
        title_id: uuid_column(r, 1)?,
        title: r.get(2)?,
        author: r.get(3)?,
        registration_number: r.get(4)?,
        age_group: r.get(5)?,
        status,
    })
}

impl Desk {
    pub fn add_title(&mut self, input: TitleInput) -> Result<TitleView> {
        self.require(Permission::EditCatalog)?;
        let t = clean_title(input, &self.reference()?.age_groups)?;
        let id = self.write(|w| insert_title(w, &t))?;
        self.title(id)
    }

    /// Adds a title together with its first copies (the usual case at the
    /// desk: a new book arrives with its registration numbers stamped).
    pub fn add_title_with_copies(&mut self, input: TitleInput, registration_numbers: &[String]) -> Result<TitleView> {
        self.require(Permission::EditCatalog)?;
        let t = clean_title(input, &self.reference()?.age_groups)?;
        let id = self.write(|w| {
            let id = insert_title(w, &t)?;
            for n in registration_numbers {
                insert_copy(w, id, n)?;
            }
            Ok(id)
        })?;
        self.title(id)
    }

    pub fn edit_title(&mut self, id: Uuid, input: TitleInput) -> Result<TitleView> {
        self.require(Permission::EditCatalog)?;
        let t = clean_title(input, &self.reference()?.age_groups)?;
        let current = self.title(id)?;
        let (old, clocks) = rows::load_existing::<TitleRecord>(&self.conn, id, "این عنوان پیدا نشد.")?;
        let record = TitleRecord { details: t, ..old.clone() };
        if record == old {
            return Ok(current);
        }
        self.write(|w| w.save(id, &record, Some((&old, &clocks))))?;
        self.title(id)
    }

    pub fn title(&self, id: Uuid) -> Result<TitleView> {
        self.signed()?;
        let (TitleRecord { details, .. }, _) = rows::load_existing(&self.conn, id, "این عنوان پیدا نشد.")?;
        let center = self.id()?.center.id;
        let mut stmt =
            self.conn.prepare_cached(&format!("{COPY_SELECT} WHERE c.title_id = ?1 ORDER BY c.registration_number"))?;
        let copies =
            stmt.query_map([id.to_string()], |r| copy_from_row(r, center))?.collect::<rusqlite::Result<_>>()?;
        Ok(TitleView { id, details, copies })
    }

    pub fn add_copy(&mut self, title_id: Uuid, registration_number: &str) -> Result<CopyView> {
        self.require(Permission::EditCatalog)?;
        self.title(title_id)?;
        let id = self.write(|w| insert_copy(w, title_id, registration_number))?;
        self.copy(id)
    }

    pub fn copy(&self, id: Uuid) -> Result<CopyView> {
        self.signed()?;
        let center = self.id()?.center.id;
        self.conn
            .prepare_cached(&format!("{COPY_SELECT} WHERE c.id = ?1"))?
            .query_row([id.to_string()], |r| copy_from_row(r, center))
            .optional()?
            .ok_or_else(|| StoreError::NotFound("این نسخه پیدا نشد.".into()))
    }

    /// The copy a scanned or typed registration number names at this center
    /// (an active copy first, else a withdrawn one that had the number).
    pub fn copy_by_registration_number(&self, input: &str) -> Result<CopyView> {
        self.signed()?;
        let number = normalize_registration_number(input);
        let center = self.id()?.center.id;
        self.conn
            .prepare_cached(&format!(
                "{COPY_SELECT} WHERE c.registration_number = ?1 AND c.center_id = ?2
                 ORDER BY c.withdrawn IS NOT NULL, c.created_at DESC LIMIT 1"
            ))?
            .query_row(params![number, center.to_string()], |r| copy_from_row(r, center))
            .optional()?
            .ok_or_else(|| {
                StoreError::NotFound(format!(
                    "کتابی با شماره ثبت «{}» در این مرکز نیست.",
                    text::to_persian_digits(&number)
                ))
            })
    }

    /// Withdraws a copy from the collection (lost, damaged, weeded). The
    /// copy and its history stay; its registration number is freed.
    pub fn withdraw_copy(&mut self, copy_id: Uuid, reason: WithdrawReason) -> Result<CopyView> {
        self.require(Permission::EditCatalog)?;
        let copy = self.copy(copy_id)?;
        match copy.status {
            CopyStatus::OnLoan { .. } => {
                return Err(StoreError::Conflict(
                    "این نسخه در امانت است؛ ابتدا بازگشت آن را ثبت کنید، سپس آن را از مجموعه خارج کنید.".into(),
                ));
            }
            CopyStatus::Withdrawn { .. } => {
                return Err(StoreError::Conflict("این نسخه پیش‌تر از مجموعه خارج شده است.".into()));
            }
            _ => {}
        }
        self.set_withdrawn(copy_id, Some(reason))?;
        self.copy(copy_id)
    }

    /// Returns a withdrawn copy to the collection (e.g. a lost book found).
    pub fn reinstate_copy(&mut self, copy_id: Uuid) -> Result<CopyView> {
        self.require(Permission::EditCatalog)?;
        let copy = self.copy(copy_id)?;
        if !matches!(copy.status, CopyStatus::Withdrawn { .. }) {
            return Err(StoreError::Conflict("این نسخه در مجموعه است.".into()));
        }
        if rows::copy::active_with_number(&self.conn, self.id()?.center.id, &copy.registration_number)?.is_some() {
            return Err(StoreError::Conflict(format!(
                "شماره ثبت «{}» اکنون به نسخه دیگری داده شده است؛ پیش از بازگرداندن، شماره آن نسخه را اصلاح کنید.",
                text::to_persian_digits(&copy.registration_number)
            )));
        }
        self.set_withdrawn(copy_id, None)?;
        self.copy(copy_id)
    }

    fn set_withdrawn(&mut self, copy_id: Uuid, reason: Option<WithdrawReason>) -> Result<()> {
        self.write(|w| change_copy(w, copy_id, |c| c.withdrawn = reason))
    }

    /// Corrects a copy's registration number (a typo when it was entered).
    pub fn edit_registration_number(&mut self, copy_id: Uuid, new_number: &str) -> Result<CopyView> {
        self.require(Permission::EditCatalog)?;
        let copy = self.copy(copy_id)?;
        let number = normalize_registration_number(new_number);
        if number.is_empty() {
            return Err(StoreError::InvalidInput("شماره ثبت تازه را وارد کنید.".into()));
        }
        if number == copy.registration_number {
            return Ok(copy);
        }
        if rows::copy::active_with_number(&self.conn, self.id()?.center.id, &number)?.is_some() {
            return Err(StoreError::Conflict(format!(
                "شماره ثبت «{}» به نسخه دیگری داده شده است.",
                text::to_persian_digits(&number)
            )));
        }
        self.write(|w| change_copy(w, copy_id, |c| c.registration_number = number))?;
        self.copy(copy_id)
    }

    /// Merges a duplicate title into the one kept: its copies move to the
    /// kept title, and the duplicate redirects and leaves searches. Nothing
    /// is deleted.
    pub fn merge_titles(&mut self, keep: Uuid, duplicate: Uuid) -> Result<TitleView> {
        self.require(Permission::MergeRecords)?;
        if keep == duplicate {
            return Err(StoreError::InvalidInput("عنوان تکراری و عنوان ماندنی یکی هستند.".into()));
        }
        self.title(keep)?;
        let dup = self.title(duplicate)?;
        let (kept, _) = rows::load_existing::<TitleRecord>(&self.conn, keep, "این عنوان پیدا نشد.")?;
        let (old, clocks) = rows::load_existing::<TitleRecord>(&self.conn, duplicate, "این عنوان پیدا نشد.")?;
        if kept.merged_into.is_some() || old.merged_into.is_some() {
            return Err(StoreError::Conflict("یکی از این دو عنوان پیش‌تر ادغام شده است.".into()));
        }
        let record = TitleRecord { merged_into: Some(keep), ..old.clone() };
        self.write(|w| {
            for c in &dup.copies {
                change_copy(w, c.id, |copy| copy.title_id = keep)?;
            }
            w.save(duplicate, &record, Some((&old, &clocks)))?;
            Ok(())
        })?;
        self.title(keep)
    }

    /// Centers this desk knows (its own, and those synced from the province).
    pub fn centers(&self) -> Result<Vec<Center>> {
        self.signed()?;
        rows::center::all(&self.conn)
    }

    /// Records a center of the province (until sync brings the list).
    pub fn add_center(&mut self, center: Center) -> Result<()> {
        self.require(Permission::EditPolicy)?;
        let code = kanoon_domain::entities::normalize_center_code(&center.code);
        if !kanoon_domain::entities::is_valid_center_code(&code) {
            return Err(StoreError::InvalidInput(format!(
                "کد مرکز «{}» معتبر نیست؛ کد رسمی مرکز فقط رقم است (حداکثر ۸ رقم).",
                text::to_persian_digits(&center.code)
            )));
        }
        let center = Center { code, ..center };
        let exists: bool =
            self.conn
                .query_row("SELECT EXISTS (SELECT 1 FROM centers WHERE code = ?1)", [&center.code], |r| r.get(0))?;
        if exists {
            return Err(StoreError::Conflict(format!("مرکز با کد «{}» پیش‌تر ثبت شده است.", center.code)));
        }
        let center = Center { id: Center::id_for_code(&center.code), ..center };
        self.write(|w| w.save(center.id, &CenterRecord::of(&center), None).map(drop))
    }

    /// Sends a copy to another center (the van's and the postal center's
    /// stock rotates). The copy must not be on loan.
    pub fn transfer_copy(&mut self, copy_id: Uuid, to_center_code: &str) -> Result<CopyView> {
        self.require(Permission::EditCatalog)?;
        let copy = self.copy(copy_id)?;
        if !matches!(copy.status, CopyStatus::Available) {
            return Err(StoreError::Conflict(
                "فقط نسخه‌ای که در قفسه همین مرکز است منتقل می‌شود؛ وضعیت نسخه را ببینید.".into(),
            ));
        }
        let code = kanoon_domain::entities::normalize_center_code(to_center_code);
        let to = self.centers()?.into_iter().find(|c| c.code == code).ok_or_else(|| {
            StoreError::NotFound(format!("مرکزی با کد «{code}» شناخته نیست؛ پس از همگام‌سازی دوباره تلاش کنید."))
        })?;
        let from = self.id()?.center.id;
        if to.id == from {
            return Err(StoreError::InvalidInput("مرکز مقصد همین مرکز است.".into()));
        }
        self.check_circulation_clock()?;
        self.write(|w| {
            w.event(Uuid::now_v7(), Event::Transfer { copy_id, from_center: from, to_center: to.id })?;
            rows::copy::set_center(&w.tx, copy_id, to.id)
        })?;
        self.copy(copy_id)
    }

    /// Titles matching the query (title, author, translator, illustrator,
    /// publisher, subjects, ISBN), best first, with copy counts.
    pub fn find_titles(&self, query: &str, limit: usize) -> Result<Vec<TitleHit>> {
        self.signed()?;
        Ok(self.search_titles(query, limit)?.hits)
    }

    /// Like `find_titles`, with the number of matches. Relevance (bm25)
    /// costs time per match, so a query matching more than
    /// `RANKED_MATCHES_MAX` titles (a word on thousands of books) lists the
    /// newest catalogued first and says so; the UI asks to narrow it.
    pub fn search_titles(&self, query: &str, limit: usize) -> Result<TitleSearch> {
        self.signed()?;
        let Some(fts) = text::fts_query(query) else {
            return Ok(TitleSearch { total: 0, by_relevance: true, hits: Vec::new() });
        };
        let total: u32 = self
            .conn
            .prepare_cached("SELECT count(*) FROM title_search WHERE title_search MATCH ?1")?
            .query_row([&fts], |r| r.get(0))?;
        let by_relevance = total <= RANKED_MATCHES_MAX;
        // Relevance: bm25 ascending; otherwise the newest catalogued first.
        // bm25() by name, not FTS5's `ORDER BY rank`: its sorter path took
        // a third longer for the same order (docs/BENCHMARKS.md). Equal
        // scores (a prefix matches «12» and «129» alike) keep the order
        // of cataloguing.
        // Newest first is FTS5's own rowid order read backwards: no sort.
        let (key, order, outer) = if by_relevance {
            ("bm25(title_search)", "ord, rowid", "f.ord, f.rowid")
        } else {
            ("rowid", "rowid DESC", "f.rowid DESC")
        };
        let center = self.id()?.center.id.to_string();
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT t.id, t.title, t.author, t.publisher, t.age_group,
                    (SELECT count(*) FROM copies c WHERE c.title_id = t.id AND c.withdrawn IS NULL AND c.center_id = ?3),
                    (SELECT count(*) FROM copies c WHERE c.title_id = t.id AND c.withdrawn IS NULL AND c.center_id = ?3
                        AND NOT EXISTS (SELECT 1 FROM open_loans o WHERE o.copy_id = c.id))
             FROM (SELECT rowid, {key} AS ord FROM title_search WHERE title_search MATCH ?1
                   ORDER BY {order} LIMIT ?2) f
             JOIN titles t ON t.seq = f.rowid WHERE t.merged_into IS NULL ORDER BY {outer}"
        ))?;
        let ranked: Vec<TitleHit> =
            stmt.query_map(params![fts, limit as i64, center], title_hit)?.collect::<rusqlite::Result<_>>()?;
        // The title typed exactly comes first: bm25 ranks a short title that
        // is the whole query below longer ones that repeat its words, and a
        // common word may leave it out of the newest-first page entirely.
        // Its sort key (indexed) equals the query's.
        let mut exact: Vec<TitleHit> = self
            .conn
            .prepare_cached(
                "SELECT t.id, t.title, t.author, t.publisher, t.age_group,
                        (SELECT count(*) FROM copies c WHERE c.title_id = t.id AND c.withdrawn IS NULL AND c.center_id = ?2),
                        (SELECT count(*) FROM copies c WHERE c.title_id = t.id AND c.withdrawn IS NULL AND c.center_id = ?2
                            AND NOT EXISTS (SELECT 1 FROM open_loans o WHERE o.copy_id = c.id))
                 FROM titles t WHERE t.sort_key = ?1 AND t.merged_into IS NULL LIMIT 20",
            )?
            .query_map(params![text::collation_key(query.trim()), center], title_hit)?
            .collect::<rusqlite::Result<_>>()?;
        exact.extend(ranked.into_iter().filter(|h| !exact.iter().any(|e| e.id == h.id)).collect::<Vec<_>>());
        exact.truncate(limit);
        Ok(TitleSearch { total, by_relevance, hits: exact })
    }

    /// Titles in Persian alphabetical order.
    pub fn list_titles(&self, offset: usize, limit: usize) -> Result<Vec<TitleHit>> {
        self.signed()?;
        let center = self.id()?.center.id.to_string();
        let mut stmt = self.conn.prepare_cached(
            "SELECT t.id, t.title, t.author, t.publisher, t.age_group,
                    (SELECT count(*) FROM copies c WHERE c.title_id = t.id AND c.withdrawn IS NULL AND c.center_id = ?3),
                    (SELECT count(*) FROM copies c WHERE c.title_id = t.id AND c.withdrawn IS NULL AND c.center_id = ?3
                        AND NOT EXISTS (SELECT 1 FROM open_loans o WHERE o.copy_id = c.id))
             FROM titles t WHERE t.merged_into IS NULL ORDER BY t.sort_key, t.id LIMIT ?1 OFFSET ?2",
        )?;
        let rows = stmt.query_map(params![limit as i64, offset as i64, center], title_hit)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

fn title_hit(r: &Row<'_>) -> rusqlite::Result<TitleHit> {
    Ok(TitleHit {
        id: uuid_column(r, 0)?,
        title: r.get(1)?,
        author: r.get(2)?,
        publisher: r.get(3)?,
        age_group: r.get(4)?,
        copies: r.get(5)?,
        available: r.get(6)?,
    })
}
