//! Desks syncing through the real provincial server over HTTP on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bootstrap;
mod exception_resolution;
mod mixed_versions;
mod over_http;
mod photos;
mod province_exceptions;
mod simulation;
