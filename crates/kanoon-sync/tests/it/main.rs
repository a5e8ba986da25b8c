//! Desks syncing through the real provincial server over HTTP on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// `$sqlite` and `$postgres`: two tests running `$body(storage)`, on a
/// SQLite file and on a fresh PostgreSQL database (which fails when there
/// is no PostgreSQL to reach, unless `KANOON_SKIP_POSTGRES=1`).
macro_rules! on_both_backends {
    ($sqlite:ident, $postgres:ident, $body:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("province.sqlite");
            $body(std::sync::Arc::new(kanoon_server::SqliteStorage::open(&path).unwrap())).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            if kanoon_server::testing::postgres_skipped() {
                return;
            }
            let db = kanoon_server::testing::TestPostgres::create();
            let storage = kanoon_server::testing::off_async(|| kanoon_server::PostgresStorage::open(db.url())).unwrap();
            $body(std::sync::Arc::new(storage)).await;
        }
    };
}

mod bootstrap;
mod clock_ahead;
mod exception_resolution;
mod hostile_desk;
mod mixed_versions;
mod over_http;
mod photos;
mod province_exceptions;
mod province_settings;
mod simulation;
mod stick;
mod transfers;
mod void_after_snapshot;
