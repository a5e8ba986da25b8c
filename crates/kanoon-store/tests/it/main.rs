//! Integration tests of the center database through the `Desk` API, on
//! real SQLite (in memory and on files). One test binary for the crate.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod activities;
mod backup;
mod bad_input;
mod bootstrap;
mod cashbook;
mod catalog;
mod circulation;
mod crash;
mod database;
mod demo;
mod import;
mod local;
mod members;
mod outreach;
mod props;
mod settings;
mod support;
mod sync;
mod sync_restart;
mod transfers;
mod workshops;
