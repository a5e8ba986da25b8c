//! Kanoon Desk's domain: what a center's records and events are, and the
//! rules over them. Pure functions and plain data — no I/O, no clock, no
//! database. Both the desk store and the provincial server call these, so a
//! rule exists once.

pub mod age_group;
pub mod circulation;
pub mod entities;
pub mod error;
pub mod ids;
pub mod jalali;
pub mod merge;
pub mod policy;
pub mod text;

pub use error::DomainError;
