//! A center's own database and the use cases the desktop app calls.
//!
//! `Desk` is the one API: its inputs and outputs are the DTOs the UI sees
//! (serde; exported to TypeScript by the desktop shell). Every use case is
//! one SQLite transaction that also appends the change's ops to the outbox,
//! so sync needs nothing from the use cases. Only this crate knows rusqlite.

pub mod activities;
pub mod auth;
pub mod backup;
pub mod bootstrap;
pub mod cashbook;
pub mod catalog;
pub mod circulation;
pub mod clock;
pub mod db;
pub mod demo;
mod desk;
pub mod error;
mod findings;
mod identity;
pub mod import;
mod local;
pub mod members;
pub mod outreach;
pub mod photo_sync;
pub mod referrals;
mod rows;
pub mod settings;
mod setup;
mod sql;
mod staff;
pub mod sync;
pub mod text_cleanup;
pub mod workshops;
mod write;

pub use clock::{Clock, ManualClock, SystemClock};
pub use desk::{Desk, DeskIdentity, SetupRequest, StaffWaiting};
pub use error::{ErrorCode, Result, StoreError};
