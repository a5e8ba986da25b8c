//! Service E: the Iran Language Institute runs its own online
//! registration, placement tests, payments and certificates; the desk
//! records whom it referred, so it counts (what families are told about
//! the institute is a setting: `settings::LanguageInstitute`).

use chrono::NaiveDate;
use kanoon_domain::entities::Permission;
use kanoon_domain::jalali::JalaliDate;
use kanoon_domain::text;
use kanoon_protocol::EntityKind;
use rusqlite::OptionalExtension;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::desk::Desk;
use crate::error::{Result, StoreError};
use crate::rows::referral::{self, ReferralVoid, Referred};
use crate::sql::parse_uuid;

/// A referral as the window lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReferralView {
    pub id: Uuid,
    pub day_jalali: String,
    pub member_id: Option<Uuid>,
    pub name: String,
    pub age_group: Option<String>,
    pub note: String,
    pub staff_name: Option<String>,
}

/// Who is referred: a member of the center, or a visitor by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReferralInput {
    pub member_id: Option<Uuid>,
    /// A visitor's name (ignored for a member).
    pub visitor_name: String,
    /// A visitor's age group (a member's is their own).
    pub age_group: Option<String>,
    pub note: String,
}

impl Desk {
    /// Records a referral to the institute (a member or a visitor), dated
    /// today.
    pub fn record_referral(&mut self, input: ReferralInput) -> Result<ReferralView> {
        let staff = self.require(Permission::RegisterMembers)?.clone();
        let (name, age_group) = match input.member_id {
            Some(id) => {
                let m = self.member(id)?;
                (m.full_name, m.age_group)
            }
            None => {
                let name = text::clean_text(&input.visitor_name);
                if name.is_empty() {
                    return Err(StoreError::InvalidInput("نام مراجعه‌کننده را بنویسید یا عضو را انتخاب کنید.".into()));
                }
                (name, input.age_group.filter(|g| !g.is_empty()))
            }
        };
        let data = Referred {
            day: self.today(),
            member_id: input.member_id,
            name,
            age_group,
            note: text::clean_text(&input.note),
            staff_name: Some(staff.full_name),
        };
        let id = Uuid::now_v7();
        self.write(|w| {
            let stamp = w.service_event(EntityKind::REFERRAL, id, referral::REFERRED, serde_json::to_value(&data)?)?;
            referral::insert_referral(&w.tx, id, &data, &stamp)
        })?;
        Ok(view(id, &data))
    }

    /// Takes back a referral recorded by mistake, with the reason.
    pub fn void_referral(&mut self, id: Uuid, reason: &str) -> Result<()> {
        self.require(Permission::RegisterMembers)?;
        let reason = text::clean_text(reason);
        if reason.is_empty() {
            return Err(StoreError::InvalidInput("دلیل حذف را بنویسید.".into()));
        }
        let state: Option<Option<String>> = self
            .conn
            .prepare_cached("SELECT void_id FROM referrals WHERE id = ?1")?
            .query_row([id.to_string()], |r| r.get(0))
            .optional()?;
        match state {
            None => return Err(StoreError::NotFound("این معرفی پیدا نشد.".into())),
            Some(Some(_)) => return Err(StoreError::Conflict("این معرفی پیش‌تر حذف شده است.".into())),
            Some(None) => {}
        }
        let void = ReferralVoid { target: id, reason };
        self.write(|w| {
            let void_id = Uuid::now_v7();
            w.service_event(EntityKind::REFERRAL, void_id, referral::VOID, serde_json::to_value(&void)?)?;
            referral::insert_void(&w.tx, void_id, &void)
        })
    }

    /// Referrals of the days `from..=to`, latest first (voids left out).
    pub fn referrals(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<ReferralView>> {
        self.signed()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, day, member_id, name, age_group, note, staff_name FROM referrals
             WHERE day BETWEEN ?1 AND ?2 AND void_id IS NULL ORDER BY at DESC, id DESC",
        )?;
        let rows = stmt.query_map(params![from.to_string(), to.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, day, member_id, name, age_group, note, staff_name) = row?;
            let data = Referred {
                day: crate::sql::parse_date(&day)?,
                member_id: member_id.map(|m| parse_uuid(&m)).transpose()?,
                name,
                age_group,
                note,
                staff_name,
            };
            out.push(view(parse_uuid(&id)?, &data));
        }
        Ok(out)
    }
}

fn view(id: Uuid, r: &Referred) -> ReferralView {
    ReferralView {
        id,
        day_jalali: JalaliDate::from_gregorian(r.day).to_persian_string(),
        member_id: r.member_id,
        name: r.name.clone(),
        age_group: r.age_group.clone(),
        note: r.note.clone(),
        staff_name: r.staff_name.clone(),
    }
}
