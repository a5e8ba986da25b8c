//! The one versioned boundary of Kanoon Desk: what a desk writes to its
//! outbox and what travels between desks and the provincial server.
//!
//! Everything here is plain data with a stable JSON shape. Kinds and fields a
//! peer does not know are kept as raw JSON (`serde_json::Value`), never
//! dropped, so an older desk forwards what a newer one wrote.

pub mod bounds;
mod hlc;
mod op;
pub mod owned;
pub mod photos;
pub mod province;
pub mod stick;
pub mod wire;

pub use hlc::{Hlc, HlcClock};
pub use op::{EntityKind, FieldChange, FieldVersion, Op, OpBody, SCHEMA_VERSION};

/// Cases per property test: 1,000 in CI, more with `PROPTEST_CASES=N`.
#[cfg(test)]
pub(crate) fn proptest_cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000).max(1000)
}
