//! The van and the post (issue 14, services ): the center's
//! villages and the van's route (`villages`), its visits with their
//! exchanges and reports (`visits`), and the postal center's parcels
//! (`parcels`) filled from a member's wish list (`wishes`).
//!
//! A visit's and a parcel's loans are ordinary loans (`check_out` with a
//! visit, `send_parcel`), so every count and report sees them.

mod parcels;
mod villages;
mod visits;
mod wishes;

use chrono::NaiveDate;
use kanoon_domain::jalali::JalaliDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::rows::outreach::VisitReport;
pub use kanoon_domain::outreach::Slot;
pub(crate) use visits::apply_change;
pub use wishes::{MAX_WISHES, ParcelPick, WishView};

/// The Saturday of the route's week 0: a fixed day, the same at every desk,
/// so "week 1" means the same fortnight everywhere (1 Farvardin 1404 was a
/// Friday; this is the next day).
pub const ROUTE_ANCHOR: NaiveDate = match NaiveDate::from_ymd_opt(2025, 3, 22) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// A village as the window lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VillageView {
    pub id: Uuid,
    pub name: String,
    pub district: String,
    pub eligible: bool,
    pub ineligible_reason: Option<String>,
    pub distance_km: Option<u32>,
    pub school: Option<String>,
    pub contact_name: String,
    pub contact_phone: String,
    pub children: Option<u32>,
    /// Its slot on the van's route; None off the route.
    pub slot: Option<Slot>,
    pub retired: bool,
    /// The next real visit from today on (cancelled and moved visits
    /// counted), if it is on the route.
    pub next_visit_on: Option<NaiveDate>,
    pub next_visit_jalali: Option<String>,
}

/// What staff type for a village.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VillageInput {
    pub name: String,
    pub district: String,
    pub eligible: bool,
    pub ineligible_reason: Option<String>,
    pub distance_km: Option<u32>,
    pub school: Option<String>,
    pub contact_name: String,
    pub contact_phone: String,
    pub children: Option<u32>,
}

/// A village's visit on a day of the route: planned, opened or closed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RouteStop {
    pub village_id: Uuid,
    pub village_name: String,
    pub day: NaiveDate,
    pub day_jalali: String,
    /// The visit opened for it, if any.
    pub visit_id: Option<Uuid>,
    pub closed: bool,
}

/// A visit as the window shows it: its village, day, the next visit (its
/// loans' due date) and its report, counted now or as closed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VisitView {
    pub id: Uuid,
    pub village_id: Uuid,
    pub village_name: String,
    pub day: NaiveDate,
    pub day_jalali: String,
    pub next_visit_on: Option<NaiveDate>,
    pub next_visit_jalali: Option<String>,
    pub closed: bool,
    pub report: VisitReport,
}

/// A visit cancelled or moved, and what it did to the loans due on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VisitChangeInput {
    pub village_id: Uuid,
    /// The planned visit's day.
    pub on: NaiveDate,
    /// The new day; None cancels the visit.
    pub to: Option<NaiveDate>,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VisitChangeOutcome {
    /// Where the loans due on the visit are now due (None: no visit left
    /// within a year; they keep their date).
    pub new_due_on: Option<NaiveDate>,
    pub new_due_jalali: Option<String>,
    /// How many open loans moved.
    pub loans_moved: u32,
}

/// What staff fill in to send a parcel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ParcelInput {
    pub member_id: Uuid,
    /// As scanned, in the packing slip's order.
    pub registration_numbers: Vec<String>,
    pub postage_rials: i64,
    pub tracking_number: String,
}

/// Where a book of a parcel is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ParcelBookState {
    Out,
    Received,
    Lost,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ParcelBookView {
    pub copy_id: Uuid,
    pub registration_number: String,
    pub title: String,
    pub state: ParcelBookState,
    pub on_jalali: Option<String>,
}

/// A parcel as the window and its packing slip show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ParcelView {
    pub id: Uuid,
    pub member_id: Uuid,
    pub member_name: String,
    pub member_number: String,
    pub address: String,
    pub dispatched_on: NaiveDate,
    pub dispatched_jalali: String,
    pub expected_on: NaiveDate,
    pub expected_jalali: String,
    pub postage_rials: i64,
    pub tracking_number: String,
    pub books: Vec<ParcelBookView>,
    /// A book is still out.
    pub open: bool,
    /// Open and past its expected return.
    pub overdue: bool,
}

fn jalali(d: NaiveDate) -> String {
    JalaliDate::from_gregorian(d).to_persian_string()
}
