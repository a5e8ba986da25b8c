//! Backups (online copy, integrity-checked, rotated) and restore (same
//! center only, refuses non-databases, never issues a member number twice).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Duration;
use kanoon_store::circulation::CheckOutRequest;
use kanoon_store::{Desk, ErrorCode, ManualClock, SetupRequest};
use rusqlite::{Connection, OpenFlags};

use crate::support::*;

const DB: &str = "center.sqlite";

fn file_desk(dir: &Path, clock: &ManualClock, setup: SetupRequest) -> Desk {
    let mut desk = Desk::open(&dir.join(DB)).unwrap().with_clock(Arc::new(clock.clone()));
    desk.setup(setup, PASSWORD).unwrap();
    desk
}

/// Files in `dir`, sorted by name.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    v.sort();
    v
}

/// This center's backup databases in `dir` (not their -wal/-shm files).
fn backups_in(dir: &Path) -> Vec<PathBuf> {
    files(dir)
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.starts_with("kanoon-1234-") && name.ends_with(".sqlite")
        })
        .collect()
}

fn member_numbers(desk: &Desk) -> Vec<String> {
    desk.list_members(0, 1000).unwrap().into_iter().map(|m| m.member_number).collect()
}

fn count(path: &Path, sql: &str) -> i64 {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn a_backup_is_a_sound_database_with_the_centers_data() {
    let live = tempfile::tempdir().unwrap();
    let usb = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start_time());
    let mut desk = file_desk(live.path(), &clock, setup_request());
    let m = register(&mut desk, "سارا", "کریمی", 1);
    books(&mut desk, "قصه‌ها", 1, 2);

    let folder = usb.path().join("پشتیبان کانون");
    std::fs::create_dir(&folder).unwrap();
    let file = desk.backup_to(&folder, 5).unwrap();
    assert!(file.starts_with(&folder) && file.is_file(), "{}", file.display());
    let name = file.file_name().unwrap().to_str().unwrap();
    assert!(name.starts_with("kanoon-1234-") && name.ends_with(".sqlite"), "{name}");

    let conn = Connection::open_with_flags(&file, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
    drop(conn);
    assert_eq!(count(&file, "SELECT count(*) FROM members"), 1);
    assert_eq!(count(&file, "SELECT count(*) FROM copies"), 2);

    // A copy of the backup opens as the same center's desk.
    let copy = usb.path().join("opened.sqlite");
    std::fs::copy(&file, &copy).unwrap();
    let mut restored = Desk::open(&copy).unwrap();
    restored.sign_in(MANAGER, PASSWORD).unwrap();
    assert_eq!(restored.identity().unwrap().center.code, "1234");
    assert_eq!(restored.member_by_number(&m.member_number).unwrap().id, m.id);

    // The desk keeps working after the backup; an in-memory desk backs up too.
    register(&mut desk, "علی", "رضایی", 2);
    let f = desk_with_member();
    let file = f.desk.backup_to(usb.path(), 5).unwrap();
    assert_eq!(count(&file, "SELECT count(*) FROM members"), 1);
}

fn desk_with_member() -> Fixture {
    let mut f = desk();
    register(&mut f.desk, "نرگس", "موسوی", 3);
    f
}

#[test]
fn rotation_keeps_only_the_newest_backups_of_this_center() {
    let live = tempfile::tempdir().unwrap();
    let usb = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start_time());
    let desk = file_desk(live.path(), &clock, setup_request());
    let foreign = usb.path().join("kanoon-5678-20250101-000000000.sqlite");
    let notes = usb.path().join("یادداشت.txt");
    std::fs::write(&foreign, b"another center").unwrap();
    std::fs::write(&notes, "پشتیبان هفتگی").unwrap();

    let mut made = Vec::new();
    for _ in 0..5 {
        made.push(desk.backup_to(usb.path(), 3).unwrap());
        clock.advance(Duration::seconds(3));
    }
    let distinct: std::collections::BTreeSet<_> = made.iter().collect();
    assert_eq!(distinct.len(), 5, "names differ: {made:?}");
    assert_eq!(backups_in(usb.path()), made[2..].to_vec());
    assert!(foreign.exists() && notes.exists(), "rotation touched files that are not this center's backups");

    // keep = 0 still keeps the backup just made.
    let last = desk.backup_to(usb.path(), 0).unwrap();
    assert_eq!(backups_in(usb.path()), vec![last]);
}

#[test]
fn backups_leave_nothing_but_the_backup_files_on_the_drive() {
    // A WAL-mode copy opened for the integrity check leaves -wal/-shm files
    // beside it, and rotation then orphans them on the USB drive.
    let live = tempfile::tempdir().unwrap();
    let usb = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start_time());
    let mut desk = file_desk(live.path(), &clock, setup_request());
    register(&mut desk, "سارا", "کریمی", 1);
    let mut kept = Vec::new();
    for _ in 0..3 {
        kept.push(desk.backup_to(usb.path(), 2).unwrap());
        clock.advance(Duration::seconds(3));
    }
    assert_eq!(files(usb.path()), kept[1..].to_vec(), "only the kept backups are on the drive");
    // A backup is a self-contained file: rollback-journal mode, no WAL needed.
    let conn = Connection::open_with_flags(&kept[2], OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
    assert_ne!(mode, "wal");
}

#[test]
fn a_backup_made_while_the_clock_is_behind_is_not_deleted_by_rotation() {
    // A PC whose clock was reset (flat CMOS battery) names the new backup
    // with an earlier time than the ones already on the drive.
    let live = tempfile::tempdir().unwrap();
    let usb = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start_time());
    let desk = file_desk(live.path(), &clock, setup_request());
    desk.backup_to(usb.path(), 2).unwrap();
    clock.advance(Duration::seconds(3));
    desk.backup_to(usb.path(), 2).unwrap();
    clock.set(start_time() - Duration::days(400));
    let newest = desk.backup_to(usb.path(), 2).unwrap();
    assert!(newest.is_file(), "the backup just made was deleted: {}", newest.display());
    assert_eq!(backups_in(usb.path()).len(), 2);
}

#[test]
fn restore_brings_back_the_old_content_but_never_an_old_member_number() {
    let live = tempfile::tempdir().unwrap();
    let usb = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start_time());
    let mut desk = file_desk(live.path(), &clock, setup_request());
    books(&mut desk, "ماهی سیاه کوچولو", 1, 2);
    let a = register(&mut desk, "مریم", "حسینی", 10);
    let backup = desk.backup_to(usb.path(), 5).unwrap();

    clock.advance(Duration::seconds(5));
    let b = register(&mut desk, "بهار", "چمران", 11);
    let issued: Vec<String> = member_numbers(&desk);
    assert_eq!(issued.len(), 2);
    let last_clock = desk.outbox(10_000).unwrap().iter().map(|op| op.hlc).max().unwrap();

    clock.advance(Duration::seconds(5));
    let safety = desk.restore_from(&backup).unwrap();
    assert_eq!(member_numbers(&desk), vec![a.member_number.clone()], "the member added after the backup is gone");
    assert_eq!(desk.member_by_number(&b.member_number).unwrap_err().code(), ErrorCode::NotFound);
    assert!(desk.find_members("چمران", 10).unwrap().is_empty());
    // What was replaced is kept beside the database.
    assert!(safety.is_file() && safety.starts_with(live.path()), "{}", safety.display());
    assert_eq!(count(&safety, "SELECT count(*) FROM members"), 2);

    // The next member gets a number never issued before, not B's again, and
    // its op a clock after every op issued before the restore (the wall
    // clock is even back at the backup's time).
    clock.set(start_time());
    let c = register(&mut desk, "کاوه", "امینی", 12);
    assert!(!issued.contains(&c.member_number), "{} was issued before the restore", c.member_number);
    assert!(c.member_number > b.member_number);
    let c_ops: Vec<_> = desk.outbox(10_000).unwrap().into_iter().filter(|op| op.entity_id == c.id).collect();
    assert!(!c_ops.is_empty() && c_ops.iter().all(|op| op.hlc > last_clock), "{c_ops:?} vs {last_clock:?}");

    // The restored desk lends and the restore is on disk.
    let out = desk.check_out(CheckOutRequest::new(a.id, ["1"]).confirmed()).unwrap();
    assert_eq!(out.lent(), 1);
    drop(desk);
    let mut reopened = Desk::open(&live.path().join(DB)).unwrap();
    reopened.sign_in(MANAGER, PASSWORD).unwrap();
    let mut numbers = member_numbers(&reopened);
    numbers.sort();
    assert_eq!(numbers, vec![a.member_number.clone(), c.member_number.clone()]);
    assert_eq!(reopened.open_loans_of(a.id).unwrap().len(), 1);
    assert_eq!(reopened.integrity_check().unwrap(), "ok");
    assert_eq!(reopened.pragmas().unwrap().journal_mode, "wal");
}

#[test]
fn restoring_a_file_that_is_not_a_database_is_refused_and_the_live_database_is_untouched() {
    let live = tempfile::tempdir().unwrap();
    let usb = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start_time());
    let mut desk = file_desk(live.path(), &clock, setup_request());
    let a = register(&mut desk, "مینا", "اکبری", 20);
    let good = desk.backup_to(usb.path(), 5).unwrap();
    let mut truncated = std::fs::read(&good).unwrap();
    truncated.truncate(truncated.len() / 2);
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&[7u8; 100]);

    let cases: Vec<(&str, Option<Vec<u8>>)> = vec![
        ("text", Some("این پشتیبان نیست".as_bytes().to_vec())),
        ("png", Some(png)),
        ("empty", Some(Vec::new())),
        ("half a backup (USB pulled out)", Some(truncated)),
        ("missing", None),
    ];
    let before_files = files(live.path());
    let ops = desk.outbox_len().unwrap();
    let mut problems = Vec::new();
    for (i, (what, bytes)) in cases.into_iter().enumerate() {
        let path = usb.path().join(format!("kanoon-1234-2025010{i}-000000000.sqlite"));
        if let Some(bytes) = &bytes {
            std::fs::write(&path, bytes).unwrap();
        }
        match desk.restore_from(&path) {
            Ok(_) => problems.push(format!("{what}: restored")),
            Err(e) if e.code() != ErrorCode::NotADatabase => problems.push(format!("{what}: {:?} «{e}»", e.code())),
            Err(_) => {}
        }
        if let Some(bytes) = &bytes {
            assert_eq!(&std::fs::read(&path).unwrap(), bytes, "{what}: the chosen file was changed");
        }
        assert_eq!(member_numbers(&desk), vec![a.member_number.clone()], "{what}");
        assert_eq!(desk.outbox_len().unwrap(), ops, "{what}");
        assert_eq!(desk.integrity_check().unwrap(), "ok", "{what}");
        assert_eq!(files(live.path()), before_files, "{what}: files were left beside the database");
    }
    assert!(problems.is_empty(), "not refused as «not a database»:\n{}", problems.join("\n"));
    // Still a working desk.
    register(&mut desk, "کیان", "صدری", 21);
}

#[test]
fn restoring_another_centers_backup_is_refused() {
    let live = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let usb = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start_time());
    let mut desk = file_desk(live.path(), &clock, setup_request());
    let mine = register(&mut desk, "رعنا", "قاسمی", 30);
    let mut theirs = file_desk(
        other.path(),
        &clock,
        SetupRequest { center_code: "5678".into(), center_name: "مرکز سیار".into(), ..setup_request() },
    );
    register(&mut theirs, "حسن", "نوری", 31);
    let their_backup = theirs.backup_to(usb.path(), 5).unwrap();

    let before_files = files(live.path());
    let err = desk.restore_from(&their_backup).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict, "{err}");
    assert!(err.to_string().contains("مرکز دیگری"), "{err}");
    assert_eq!(member_numbers(&desk), vec![mine.member_number]);
    assert_eq!(desk.identity().unwrap().center.code, "1234");
    assert_eq!(files(live.path()), before_files);
}

#[test]
fn restore_needs_a_signed_in_staff_member() {
    // Restoring throws away everything since the backup: like every other
    // change it is done by someone signed in (with the backup permission).
    let live = tempfile::tempdir().unwrap();
    let usb = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start_time());
    let mut desk = file_desk(live.path(), &clock, setup_request());
    let backup = desk.backup_to(usb.path(), 5).unwrap();
    let a = register(&mut desk, "سارا", "کریمی", 50);
    drop(desk);

    let mut reopened = Desk::open(&live.path().join(DB)).unwrap().with_clock(Arc::new(clock.clone()));
    assert!(reopened.signed_in().is_none());
    let err = reopened.restore_from(&backup).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotSignedIn, "{err}");
    reopened.sign_in(MANAGER, PASSWORD).unwrap();
    assert_eq!(member_numbers(&reopened), vec![a.member_number]);
}
