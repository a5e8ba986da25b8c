//! Integration tests of the server over real HTTP on loopback and of its
//! storage, each test on a fresh database of its own, once per backend
//! (`sqlite::…` and `postgres::…`, see `backend_tests!`). One test binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod support;

mod binary;
mod desks;
mod enrol;
mod faults;
mod hostile;
mod hostile_desk;
mod metrics;
mod netfaults;
mod openapi;
mod photos;
mod postgres_only;
mod process;
mod province_settings;
mod pull;
mod push;
mod snapshot;
mod snapshot_stream;
mod storage;
mod tls;
mod transfers;
