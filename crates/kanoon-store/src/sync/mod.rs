//! The desk's side of sync. Transport, retries and backoff belong to the
//! sync client (`kanoon-sync`); this module takes plain data and writes
//! rows: `outbox` (what this desk wrote, to push), `apply` (pulled ops and
//! the bootstrap snapshot applied with the domain's rules), `exceptions`
//! (conflicts staff must see and their resolutions), `settings` (server,
//! token, cursor).

pub(crate) mod apply;
pub(crate) mod exceptions;
pub(crate) mod outbox;
mod settings;
mod stick;

use serde::{Deserialize, Serialize};

pub use apply::{CHUNK_OPS, PulledPage, UnreadableOp, apply_pulled_shared};
pub use exceptions::{EXCEPTION_RESOLVED, ExceptionResolution, MAX_RESOLUTION_NOTE, SyncException};
pub use settings::SyncSettings;
pub use stick::{STICK_OPS, StickImport};

/// What applying a page of pulled ops did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ApplyReport {
    pub applied: usize,
    /// This desk's own ops coming back.
    pub own: usize,
    /// Already received earlier.
    pub duplicates: usize,
    /// Kept to apply later (unknown kind, missing record, clash).
    pub kept: usize,
    /// New exceptions recorded.
    pub exceptions: usize,
}
