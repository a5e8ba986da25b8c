//! What only the PostgreSQL backend has: its schema table, its refusal of
//! another program's database, its URL.

use kanoon_server::testing::{TestPostgres, off_async, postgres_skipped};
use kanoon_server::{ErrorCode, POSTGRES_MIGRATIONS, PostgresStorage, SCHEMA_TABLE, Storage};
use postgres::NoTls;

#[test]
fn postgres_migrates_once_and_records_the_schema_version() {
    if postgres_skipped() {
        return;
    }
    let db = TestPostgres::create();
    let epoch = PostgresStorage::open(db.url()).unwrap().epoch();
    let again = PostgresStorage::open(db.url()).unwrap();
    assert_eq!(again.epoch(), epoch);
    let (count, version): (i64, i32) = again
        .with_client(|c| {
            let row = c.query_one(&format!("SELECT count(*), max(version) FROM {SCHEMA_TABLE}"), &[]).unwrap();
            (row.get(0), row.get(1))
        })
        .unwrap();
    let migrations = i32::try_from(POSTGRES_MIGRATIONS.len()).unwrap();
    assert_eq!((count, version), (i64::from(migrations), migrations));
}

#[test]
fn postgres_refuses_another_programs_database_untouched() {
    if postgres_skipped() {
        return;
    }
    let db = TestPostgres::create();
    let mut client = postgres::Client::connect(db.url(), NoTls).unwrap();
    client.batch_execute("CREATE TABLE accounts (id integer)").unwrap();
    let refused = PostgresStorage::open(db.url()).err().unwrap();
    assert!(refused.message.contains("not a Kanoon server database"), "{}", refused.message);
    let ours: bool = client.query_one("SELECT to_regclass($1) IS NOT NULL", &[&SCHEMA_TABLE]).unwrap().get(0);
    assert!(!ours);
    drop(client);
}

#[test]
fn postgres_refuses_a_database_of_a_newer_server() {
    if postgres_skipped() {
        return;
    }
    let db = TestPostgres::create();
    PostgresStorage::open(db.url())
        .unwrap()
        .with_client(|c| {
            c.execute(&format!("INSERT INTO {SCHEMA_TABLE} (version, name) VALUES (99, 'future.sql')"), &[]).unwrap()
        })
        .unwrap();
    let refused = PostgresStorage::open(db.url()).err().unwrap();
    assert!(refused.message.contains("newer than this server"), "{}", refused.message);
}

#[tokio::test]
async fn postgres_url_that_does_not_parse_is_a_bad_request() {
    let refused = off_async(|| PostgresStorage::open("postgres://kanoon@localhost:notaport/db")).err().unwrap();
    assert_eq!(refused.code, ErrorCode::BadRequest);
}
