//! Membership (service A): centers and staff records, registering members
//! with their documents, photo and first fee, renewals, edits with history,
//! search, the card.

use chrono::{Days, NaiveDate};
use kanoon_domain::age_group::{self, AgeGroup};
use kanoon_domain::circulation::{Event, Fee};
use kanoon_domain::entities::{AlternativeId, CenterKind, Documents, Gender, Permission};
use kanoon_domain::ids::{MemberNumber, Mobile, NationalId};
use kanoon_domain::jalali::JalaliDate;
use kanoon_domain::text;
use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::desk::{Desk, Write};
use crate::error::{Result, StoreError};
use crate::rows::{self, Record as _, member::MemberRecord};
use crate::sql::{parse_date, parse_uuid, timestamp, uuid_column};

mod read;
mod roster;
mod validate;
mod write;

pub use roster::{
    ClassRoster, MAX_ROSTER_ROWS, RosterFile, RosterOutcome, RosterRow, RosterRowError, UnmatchedVillage, VillageLinks,
};
use validate::*;
pub(crate) use validate::{ValidMember, validate};
pub(crate) use write::{NewMember, add_membership_period, insert_member};

// ---------------------------------------------------------------- DTOs

/// A photo as handed in (already cropped and resized by the UI).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Photo {
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// How a membership period is paid for, as entered at the desk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FeeInput {
    Paid { amount_rials: i64, receipt_number: String },
    Exempt { exemption: String, reason: String },
}

/// The member's details as typed in the registration or edit form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MemberDetails {
    pub first_name: String,
    pub last_name: String,
    pub father_name: String,
    pub gender: Gender,
    pub birth_date: Option<JalaliDate>,
    /// As typed (any digit script); validated.
    pub national_id: Option<String>,
    pub alternative_id: Option<AlternativeId>,
    pub school_grade: Option<u8>,
    /// As typed; validated.
    pub guardian_phone: Option<String>,
    pub address: String,
    /// Typed by hand, or the name of `village_id` (set from it).
    pub village: Option<String>,
    /// One of the center's villages, chosen from its list.
    #[serde(default)]
    pub village_id: Option<Uuid>,
    pub documents: Documents,
    pub age_group_override: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RegisterMember {
    pub details: MemberDetails,
    pub photo: Option<Photo>,
    pub fee: FeeInput,
    /// Set after staff saw the "national id already registered" warning.
    pub confirm_duplicate_national_id: bool,
    /// The number on a card issued by the software used before.
    pub legacy_number: Option<String>,
}

impl MemberDetails {
    /// Only a name and gender; everything else empty (the rest is added
    /// with `..MemberDetails::named(…)`).
    pub fn named(first_name: &str, last_name: &str, gender: Gender) -> Self {
        MemberDetails {
            first_name: first_name.to_owned(),
            last_name: last_name.to_owned(),
            father_name: String::new(),
            gender,
            birth_date: None,
            national_id: None,
            alternative_id: None,
            school_grade: None,
            guardian_phone: None,
            address: String::new(),
            village: None,
            village_id: None,
            documents: Documents::default(),
            age_group_override: None,
        }
    }
}

impl RegisterMember {
    /// A new member with these details and this fee: no photo, no card
    /// from the software used before, duplicate national ids not yet seen.
    pub fn new(details: MemberDetails, fee: FeeInput) -> Self {
        RegisterMember { details, photo: None, fee, confirm_duplicate_national_id: false, legacy_number: None }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RegisterOutcome {
    Registered {
        member: Box<MemberView>,
    },
    /// Nothing was written: the national id belongs to these members.
    DuplicateNationalId {
        existing: Vec<MemberSummary>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MembershipState {
    pub ends_on: Option<NaiveDate>,
    pub ends_on_jalali: Option<String>,
    pub active: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MemberView {
    pub id: Uuid,
    pub member_number: String,
    pub legacy_number: Option<String>,
    pub full_name: String,
    pub details: MemberDetails,
    /// Normalized national id (10 digits).
    pub national_id: Option<String>,
    pub guardian_phone: Option<String>,
    /// The age group used for the loan check: the override, else derived.
    pub age_group: Option<String>,
    pub has_photo: bool,
    pub membership: MembershipState,
    pub merged_into: Option<Uuid>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MemberSummary {
    pub id: Uuid,
    pub member_number: String,
    pub full_name: String,
    pub father_name: String,
    pub national_id: Option<String>,
    /// Last day of the latest membership period (compare with today).
    pub membership_ends_on: Option<NaiveDate>,
    pub membership_ends_jalali: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MemberEdit {
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub staff: Option<String>,
    pub at_jalali: String,
}

/// One membership period and how it was paid for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MembershipPeriod {
    pub period_id: Uuid,
    pub starts_on_jalali: String,
    pub ends_on_jalali: String,
    pub fee: Fee,
    pub recorded_at_jalali: String,
    pub voided: bool,
}

/// What the printed membership card shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MemberCard {
    pub member_number: String,
    pub full_name: String,
    pub father_name: String,
    pub center_name: String,
    pub expires_jalali: Option<String>,
    pub photo: Option<Photo>,
}

impl Desk {
    /// A member's village chosen from the center's list: its name goes in
    /// `village` too (lists, cards and older desks read the name).
    pub(crate) fn name_village(&self, d: &mut MemberDetails) -> Result<()> {
        let Some(id) = d.village_id else { return Ok(()) };
        let center = self.id()?.center.id;
        match rows::outreach::VillageRecord::load(&self.conn, id)? {
            Some((v, _)) if v.center_id == center => {
                d.village = Some(v.name);
                Ok(())
            }
            _ => Err(StoreError::InvalidInput(
                "روستای انتخاب‌شده در فهرست روستاهای این مرکز نیست؛ روستا را دوباره از فهرست انتخاب کنید.".into(),
            )),
        }
    }
}
