//! A postal member's wish list (issue 14): the titles a child asked for,
//! first asked first, and the next parcel filled from it
//! (`kanoon_domain::parcels::fill_parcel`: in wish order, a free copy of
//! each wished title on this center's shelf, up to the parcel's size).
//!
//! A wish is a record per member and title (one id at every desk); it is
//! open until withdrawn or until the member borrows the title after
//! wishing it (a loan with a later clock) — derived from the loans, never
//! written, so a parcel sent at another desk fulfils it too.

use std::collections::BTreeMap;

use kanoon_domain::entities::Permission;
use kanoon_domain::parcels::{self, PostalRule};
use kanoon_domain::text;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::jalali;
use crate::desk::Desk;
use crate::error::{Result, StoreError};
use crate::rows::Record as _;
use crate::rows::wish::{WishRecord, wish_id};
use crate::sql::{parse_time, parse_uuid};

/// Most open wishes of one member (a parcel is five books).
pub const MAX_WISHES: usize = 50;

/// A wished title as the parcel form lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WishView {
    pub title_id: Uuid,
    pub title: String,
    pub author: String,
    pub wished_on: chrono::NaiveDate,
    pub wished_on_jalali: String,
    /// Copies of the title on this center's shelf now.
    pub free_copies: u32,
}

/// A copy picked for the next parcel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ParcelPick {
    pub title_id: Uuid,
    pub title: String,
    pub copy_id: Uuid,
    pub registration_number: String,
}

impl Desk {
    /// The member's open wishes, first wished first.
    pub fn wish_list(&self, member_id: Uuid) -> Result<Vec<WishView>> {
        self.require(Permission::ServeVillages)?;
        let center = self.center_id()?.to_string();
        let mut stmt = self.conn.prepare_cached(
            "SELECT w.title_id, t.title, t.author, w.wished_at,
                    (SELECT count(*) FROM copies c WHERE c.title_id = w.title_id AND c.center_id = ?2
                       AND c.withdrawn IS NULL AND NOT EXISTS (SELECT 1 FROM open_loans l WHERE l.copy_id = c.id))
             FROM wishes w JOIN titles t ON t.id = w.title_id
             WHERE w.member_id = ?1 AND w.withdrawn = 0
               AND NOT EXISTS (
                   SELECT 1 FROM events e JOIN copies c ON c.id = e.copy_id
                   WHERE e.kind = 'loan' AND e.member_id = w.member_id AND c.title_id = w.title_id
                     AND e.hlc > w.wished_hlc
                     AND NOT EXISTS (SELECT 1 FROM voided x WHERE x.event_id = e.id))
             ORDER BY w.wished_hlc, w.rowid",
        )?;
        let rows = stmt.query_map(params![member_id.to_string(), center], |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?, r.get(4)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (title_id, title, author, on, free_copies) = row?;
            let wished_on = kanoon_domain::jalali::tehran_date(parse_time(&on)?);
            out.push(WishView {
                title_id: parse_uuid(&title_id)?,
                title,
                author,
                wished_on,
                wished_on_jalali: jalali(wished_on),
                free_copies,
            });
        }
        Ok(out)
    }

    /// Adds a title to the member's wish list (at the end; a title wished
    /// already stays where it is).
    pub fn wish(&mut self, member_id: Uuid, title_id: Uuid) -> Result<Vec<WishView>> {
        self.require(Permission::ServeVillages)?;
        let member = self.member(member_id)?;
        if member.merged_into.is_some() {
            return Err(StoreError::Conflict(
                "این پرونده عضو با پرونده دیگری ادغام شده است؛ عضو را دوباره پیدا کنید.".into(),
            ));
        }
        self.title(title_id)?;
        let list = self.wish_list(member_id)?;
        if list.iter().any(|w| w.title_id == title_id) {
            return Ok(list);
        }
        if list.len() >= MAX_WISHES {
            return Err(StoreError::Conflict(format!(
                "فهرست آرزوی این عضو {} کتاب دارد؛ پیش از افزودن، چند کتاب را از آن بردارید.",
                text::to_persian_digits(&MAX_WISHES.to_string())
            )));
        }
        let id = wish_id(self.center_id()?, member_id, title_id);
        let record =
            WishRecord { center_id: self.center_id()?, member_id, title_id, wished_at: self.now(), withdrawn: false };
        let old = WishRecord::load(&self.conn, id)?;
        self.write(|w| w.save(id, &record, old.as_ref().map(|(o, c)| (o, c))).map(|_| ()))?;
        self.wish_list(member_id)
    }

    /// Takes a title off the member's wish list.
    pub fn unwish(&mut self, member_id: Uuid, title_id: Uuid) -> Result<Vec<WishView>> {
        self.require(Permission::ServeVillages)?;
        let id = wish_id(self.center_id()?, member_id, title_id);
        if let Some((old, clocks)) = WishRecord::load(&self.conn, id)?
            && !old.withdrawn
        {
            let record = WishRecord { withdrawn: true, ..old.clone() };
            self.write(|w| w.save(id, &record, Some((&old, &clocks))).map(|_| ()))?;
        }
        self.wish_list(member_id)
    }

    /// The next parcel from the member's wish list: in wish order, a free
    /// copy of each wished title on this center's shelf, up to the
    /// parcel's size. Nothing is written: the form shows the picks and
    /// staff send them (or change them).
    pub fn fill_parcel(&self, member_id: Uuid) -> Result<Vec<ParcelPick>> {
        let wishes = self.wish_list(member_id)?;
        let center = self.center_id()?.to_string();
        let mut available: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
        let mut numbers: BTreeMap<Uuid, String> = BTreeMap::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.id, c.registration_number FROM copies c
             WHERE c.title_id = ?1 AND c.center_id = ?2 AND c.withdrawn IS NULL
               AND NOT EXISTS (SELECT 1 FROM open_loans l WHERE l.copy_id = c.id)
             ORDER BY c.registration_number",
        )?;
        for w in wishes.iter().filter(|w| w.free_copies > 0) {
            let rows = stmt.query_map(params![w.title_id.to_string(), center], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?;
            let mut copies = Vec::new();
            for row in rows {
                let (id, number) = row?;
                let id = parse_uuid(&id)?;
                numbers.insert(id, number);
                copies.push(id);
            }
            available.insert(w.title_id, copies);
        }
        let order: Vec<Uuid> = wishes.iter().map(|w| w.title_id).collect();
        let picks = parcels::fill_parcel(&order, &available, PostalRule::default().parcel_size);
        Ok(picks
            .into_iter()
            .map(|p| ParcelPick {
                title_id: p.title_id,
                title: wishes.iter().find(|w| w.title_id == p.title_id).map(|w| w.title.clone()).unwrap_or_default(),
                copy_id: p.copy_id,
                registration_number: numbers.get(&p.copy_id).cloned().unwrap_or_default(),
            })
            .collect())
    }
}
