//! The database file itself: pragmas on every connection, STRICT tables,
//! migrations (numbering, upgrade from every earlier version, refusing a
//! newer one) and refusing files that are not a database without touching
//! them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kanoon_store::db::{self, MIGRATIONS};
use kanoon_store::members::{RegisterMember, RegisterOutcome};
use kanoon_store::{Desk, ErrorCode, ManualClock};
use rusqlite::Connection;

use crate::support::*;

fn migrations_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/local"))
}

/// Opens `path`, sets the desk up if needed and registers a member: the
/// database works.
fn use_it(path: &Path, nid: u64) -> Desk {
    let clock = ManualClock::new(start_time());
    let mut desk = Desk::open(path).unwrap().with_clock(Arc::new(clock));
    if desk.identity().is_none() {
        desk.setup(setup_request(), PASSWORD).unwrap();
    } else {
        desk.sign_in("manager", PASSWORD).unwrap();
    }
    let out =
        desk.register_member(RegisterMember::new(details("آزمون", "پایگاه", Some(national_id(nid))), paid())).unwrap();
    assert!(matches!(out, RegisterOutcome::Registered { .. }), "{out:?}");
    desk
}

fn sidecars(path: &Path) -> Vec<PathBuf> {
    ["-wal", "-shm", "-journal"]
        .iter()
        .map(|s| PathBuf::from(format!("{}{s}", path.display())))
        .filter(|p| p.exists())
        .collect()
}

#[test]
fn a_file_database_has_wal_full_sync_and_foreign_keys_also_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("center.sqlite");
    let expected = db::Pragmas {
        journal_mode: "wal".into(),
        synchronous: 2,
        foreign_keys: true,
        user_version: MIGRATIONS.len() as i64,
    };
    {
        let desk = use_it(&path, 1);
        assert_eq!(desk.pragmas().unwrap(), expected);
    }
    // Reopened: WAL persists in the file, the others are per connection.
    let mut desk = Desk::open(&path).unwrap();
    assert_eq!(desk.pragmas().unwrap(), expected);
    desk.sign_in(MANAGER, PASSWORD).unwrap();
    assert_eq!(desk.list_members(0, 10).unwrap().len(), 1);
    // A connection opened by the crate's own opener (used for backups) too.
    let conn = db::open_file(&path).unwrap();
    assert_eq!(db::read_pragmas(&conn).unwrap(), expected);
}

#[test]
fn an_in_memory_database_has_full_sync_and_foreign_keys() {
    let desk = Desk::open_in_memory().unwrap();
    let p = desk.pragmas().unwrap();
    // SQLite reports "memory" for an in-memory database whatever was asked.
    assert_eq!(p.journal_mode, "memory");
    assert_eq!(p.synchronous, 2);
    assert!(p.foreign_keys);
    assert_eq!(p.user_version, MIGRATIONS.len() as i64);
}

#[test]
fn every_table_is_strict() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("center.sqlite");
    drop(use_it(&path, 2));
    let conn = Connection::open(&path).unwrap();
    let tables: Vec<(String, bool)> = conn
        .prepare(
            "SELECT name, strict FROM pragma_table_list
             WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert!(tables.len() >= 10, "{tables:?}");
    for expected in ["members", "copies", "events", "outbox", "open_loans", "meta"] {
        assert!(tables.iter().any(|(n, _)| n == expected), "{expected} missing from {tables:?}");
    }
    let lax: Vec<&str> = tables.iter().filter(|(_, strict)| !strict).map(|(n, _)| n.as_str()).collect();
    assert!(lax.is_empty(), "tables that are not STRICT: {lax:?}");
}

#[test]
fn migration_files_are_numbered_from_0001_without_gaps_and_all_embedded() {
    let mut files: Vec<String> = std::fs::read_dir(migrations_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for (i, name) in files.iter().enumerate() {
        let prefix = format!("{:04}_", i + 1);
        assert!(name.starts_with(&prefix), "migration {name} should start with {prefix}");
    }
    let embedded: Vec<&str> = MIGRATIONS.iter().map(|(name, _)| *name).collect();
    assert_eq!(embedded, files.iter().map(String::as_str).collect::<Vec<_>>());
    for (name, sql) in MIGRATIONS {
        let on_disk = std::fs::read_to_string(migrations_dir().join(name)).unwrap();
        assert_eq!(*sql, on_disk, "{name} embedded differs from the file");
    }
}

#[test]
fn a_database_from_every_earlier_version_is_upgraded_and_works() {
    for k in 0..MIGRATIONS.len() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        {
            let conn = Connection::open(&path).unwrap();
            db::migrate_to(&conn, k).unwrap();
            let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
            assert_eq!(v, k as i64);
        }
        let desk = use_it(&path, 10 + k as u64);
        assert_eq!(desk.pragmas().unwrap().user_version, MIGRATIONS.len() as i64, "from version {k}");
        assert_eq!(desk.integrity_check().unwrap(), "ok");
        drop(desk);
        // And opens again at the latest version with its data.
        let mut desk = Desk::open(&path).unwrap();
        desk.sign_in(MANAGER, PASSWORD).unwrap();
        assert_eq!(desk.list_members(0, 10).unwrap().len(), 1, "from version {k}");
    }
}

#[test]
fn the_title_index_keeps_its_rows_when_its_prefixes_change() {
    let conn = Connection::open_in_memory().unwrap();
    let before = MIGRATIONS.iter().position(|(name, _)| *name == "0014_title_search_prefixes.sql").unwrap();
    db::migrate_to(&conn, before).unwrap();
    conn.execute("INSERT INTO title_search (rowid, text) VALUES (7, 'ماهی سیاه کوچولو')", []).unwrap();
    conn.execute("INSERT INTO title_search (rowid, text) VALUES (9, 'کوه و دریا')", []).unwrap();
    db::migrate(&conn).unwrap();
    let find = |q: &str| -> Vec<i64> {
        let mut stmt =
            conn.prepare("SELECT rowid FROM title_search WHERE title_search MATCH ?1 ORDER BY rowid").unwrap();
        stmt.query_map([q], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    // A prefix of five letters (now an index of its own), of two, a whole word.
    assert_eq!(find("\"کوچول\"*"), vec![7]);
    assert_eq!(find("\"کو\"*"), vec![7, 9]);
    assert_eq!(find("\"دریا\"*"), vec![9]);
    let sql: String =
        conn.query_row("SELECT sql FROM sqlite_master WHERE name = 'title_search'", [], |r| r.get(0)).unwrap();
    assert!(sql.contains("prefix = '1 2 3 4 5 6'"), "{sql}");
}

#[test]
fn migrating_twice_changes_nothing() {
    let conn = Connection::open_in_memory().unwrap();
    db::migrate(&conn).unwrap();
    db::migrate(&conn).unwrap();
    let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(v, MIGRATIONS.len() as i64);
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_left_as_it_was() {
    let mut random = Vec::with_capacity(8192);
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for _ in 0..8192 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        random.push((x >> 24) as u8);
    }
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&[0u8; 64]);
    // The SQLite header followed by garbage: a damaged database.
    let mut damaged = b"SQLite format 3\0".to_vec();
    damaged.extend(std::iter::repeat_n(0xFFu8, 4096));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("text", "نام,نام خانوادگی\nسارا,کریمی\n".as_bytes().to_vec()),
        ("png", png),
        ("random", random),
        ("one byte", vec![b'x']),
        ("damaged", damaged),
    ];
    for (what, bytes) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("center.sqlite");
        std::fs::write(&path, &bytes).unwrap();
        let err = Desk::open(&path).err().unwrap_or_else(|| panic!("{what}: opened"));
        assert_eq!(err.code(), ErrorCode::NotADatabase, "{what}: {err}");
        assert!(err.to_string().contains("پایگاه داده"), "{what}: {err}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{what}: the file was changed");
        assert!(sidecars(&path).is_empty(), "{what}: created {:?}", sidecars(&path));
    }
}

#[test]
fn a_database_from_a_newer_version_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("center.sqlite");
    drop(use_it(&path, 3));
    let newer = MIGRATIONS.len() as i64 + 1;
    {
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", newer).unwrap();
    }
    let err = Desk::open(&path).err().expect("a newer database was opened");
    assert_eq!(err.code(), ErrorCode::Conflict, "{err}");
    let message = err.to_string();
    assert!(message.contains("نسخه جدیدتر") && message.contains("به‌روز"), "{message}");
    let conn = Connection::open(&path).unwrap();
    let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(v, newer);
    let members: i64 = conn.query_row("SELECT count(*) FROM members", [], |r| r.get(0)).unwrap();
    assert_eq!(members, 1);
}

#[test]
fn another_programs_sqlite_file_is_refused_and_left_as_it_was() {
    // The open dialog lets staff pick any .sqlite file, e.g. a browser's.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("places.sqlite");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT);
             INSERT INTO moz_places (url) VALUES ('https://example.com');",
        )
        .unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    let err = Desk::open(&path).err().expect("another program's database was opened as a center database");
    assert_eq!(err.code(), ErrorCode::NotADatabase, "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "the other program's file was changed");
    assert!(sidecars(&path).is_empty(), "created {:?}", sidecars(&path));
}
