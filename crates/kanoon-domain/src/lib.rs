//! Kanoon Desk's domain: what a center's records and events are, and the
//! rules over them. Pure functions and plain data — no I/O, no clock, no
//! database. Both the desk store and the provincial server call these, so a
//! rule exists once.

pub mod activities;
pub mod age_group;
pub mod cashbook;
pub mod circulation;
pub mod entities;
pub mod error;
pub mod ids;
pub mod jalali;
pub mod merge;
pub mod outreach;
pub mod parcels;
pub mod policy;
pub mod settings;
pub mod text;
pub mod workshops;

pub use error::DomainError;

/// Cases per property test: 1,000 in CI, more with `PROPTEST_CASES=N`.
#[cfg(test)]
pub(crate) fn proptest_cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000).max(1000)
}
