//! Test support (feature `test-support`): a fresh PostgreSQL database for
//! each test, so the same tests run against both backends, in parallel.
//!
//! The server comes from `KANOON_TEST_POSTGRES_URL` (a base URL of a server
//! where tests may create databases; `scripts/with-postgres.sh` starts a
//! private one and sets it). Without it the PostgreSQL tests fail, unless
//! `KANOON_SKIP_POSTGRES=1` says to skip them for a local run.

use std::any::Any;

use postgres::NoTls;
use uuid::Uuid;

/// The base URL of the PostgreSQL server the tests use.
pub const POSTGRES_URL_VAR: &str = "KANOON_TEST_POSTGRES_URL";
/// Set to `1` to skip the PostgreSQL tests (local runs only).
pub const SKIP_POSTGRES_VAR: &str = "KANOON_SKIP_POSTGRES";

/// A database of its own on the test server, dropped with this value.
pub struct TestPostgres {
    base: String,
    name: String,
    url: String,
}

/// Whether the PostgreSQL tests are skipped (`KANOON_SKIP_POSTGRES=1` and no
/// server configured); says so on stderr.
pub fn postgres_skipped() -> bool {
    let configured = std::env::var(POSTGRES_URL_VAR).is_ok_and(|v| !v.trim().is_empty());
    let skip = !configured && std::env::var(SKIP_POSTGRES_VAR).is_ok_and(|v| v.trim() == "1");
    if skip {
        eprintln!("PostgreSQL test skipped: {SKIP_POSTGRES_VAR}=1 and no {POSTGRES_URL_VAR}");
    }
    skip
}

impl TestPostgres {
    /// A new empty database. Panics, saying what is needed, when no server
    /// is configured (check `postgres_skipped` first) or it cannot be created.
    pub fn create() -> TestPostgres {
        let Some(base) = std::env::var(POSTGRES_URL_VAR).ok().filter(|v| !v.trim().is_empty()) else {
            panic!(
                "the PostgreSQL tests need a server: set {POSTGRES_URL_VAR} to a base URL where tests may create \
                 databases (e.g. postgres://kanoon@127.0.0.1:5432/postgres), or run the tests under \
                 `bash scripts/with-postgres.sh cargo test ...`, which starts a private server; \
                 {SKIP_POSTGRES_VAR}=1 skips them for a local run"
            );
        };
        let name = format!("kanoon_test_{}", Uuid::new_v4().simple());
        let created = off_async(|| {
            let mut client = postgres::Client::connect(&base, NoTls)?;
            client.batch_execute(&format!("CREATE DATABASE {name}"))
        });
        if let Err(e) = created {
            panic!("cannot create a test database on {POSTGRES_URL_VAR}={base}: {e}");
        }
        TestPostgres { url: with_database(&base, &name), base, name }
    }

    /// The URL of this test's database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        // Connections still open (a server task not yet stopped) are closed.
        let dropped = off_async(|| {
            let mut client = postgres::Client::connect(&self.base, NoTls)?;
            client.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
        });
        if let Err(e) = dropped {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

/// Runs `f` on a thread of its own and waits for it: blocking storage calls
/// (and the `postgres` client, which panics inside an async task) made from
/// async tests.
pub fn off_async<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| scope.spawn(f).join())
        .unwrap_or_else(|panic: Box<dyn Any + Send>| std::panic::resume_unwind(panic))
}

/// `base` with its database replaced by `name` (user, host, port and
/// parameters kept).
pub fn with_database(base: &str, name: &str) -> String {
    let (head, query) = base.split_once('?').map_or((base, None), |(head, query)| (head, Some(query)));
    let authority = head.find("://").map_or(0, |i| i + 3);
    let path = head[authority..].find('/').map_or(head.len(), |i| authority + i);
    let mut url = format!("{}/{name}", &head[..path]);
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(
            with_database("postgres://kanoon@127.0.0.1:5432/postgres", "t1"),
            "postgres://kanoon@127.0.0.1:5432/t1"
        );
        assert_eq!(with_database("postgresql://u:p@h:1", "t"), "postgresql://u:p@h:1/t");
        assert_eq!(with_database("postgres://h/db?sslmode=disable", "t"), "postgres://h/t?sslmode=disable");
    }
}
