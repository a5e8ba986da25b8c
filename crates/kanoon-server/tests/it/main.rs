//! Integration tests of the server over real HTTP on loopback, each with
//! its own server on a temp-file SQLite database. One test binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod binary;
mod enrol;
mod faults;
mod hostile;
mod pull;
mod push;
mod support;
