//! Who a desk is: its center, its number and its device id (fixed at first
//! run), and the first-run answers that make it so.

use kanoon_domain::entities::{Center, CenterKind};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who this desk is; fixed at first run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeskIdentity {
    pub device_id: Uuid,
    pub center: Center,
    pub desk_number: u8,
}

/// First-run answers: the center, this desk's number and the first manager.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SetupRequest {
    pub center_code: String,
    pub center_name: String,
    pub center_kind: CenterKind,
    pub desk_number: u8,
    pub manager_username: String,
    pub manager_full_name: String,
}
