//! Who may do what: sign-in with a slowing throttle, the manager-only
//! backup, restore, enrolment and settings, what a backup leaves out, and
//! the enrolment address check.

use std::path::Path;
use std::sync::Arc;

use chrono::Duration;
use kanoon_domain::entities::Role;
use kanoon_domain::policy::Policy;
use kanoon_store::settings::MembershipTerms;
use kanoon_store::sync::SyncSettings;
use kanoon_store::{Desk, ErrorCode, ManualClock};

use crate::support::*;

const DB: &str = "center.sqlite";
const SARA: &str = "sara";
const SARA_PASSWORD: &str = "رمز سارا ۱۴۰۵";

fn file_desk(dir: &Path, clock: &ManualClock) -> Desk {
    let mut desk = Desk::open(&dir.join(DB)).unwrap().with_clock(Arc::new(clock.clone()));
    desk.setup(setup_request(), PASSWORD).unwrap();
    desk
}

fn reopen(dir: &Path, clock: &ManualClock) -> Desk {
    Desk::open(&dir.join(DB)).unwrap().with_clock(Arc::new(clock.clone()))
}

fn code<T: std::fmt::Debug>(r: kanoon_store::Result<T>) -> ErrorCode {
    r.unwrap_err().code()
}

#[test]
fn wrong_passwords_slow_down_and_the_right_one_signs_in_after_the_wait() {
    let live = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start_time());
    let mut desk = file_desk(live.path(), &clock);
    desk.add_staff_with_password(SARA, "سارا مربی", Role::Instructor, SARA_PASSWORD).unwrap();
    desk.sign_out();
    let ops = desk.outbox_len().unwrap();

    for _ in 0..4 {
        assert_eq!(code(desk.sign_in(MANAGER, "not the password")), ErrorCode::WrongCredentials);
    }
    let fifth = desk.sign_in(MANAGER, "not the password").unwrap_err();
    assert_eq!(fifth.code(), ErrorCode::TooManyAttempts);
    assert!(fifth.to_string().contains("۳۰ ثانیه"), "{fifth}");
    // Even the right password waits; another username does not.
    let waiting = desk.sign_in(MANAGER, PASSWORD).unwrap_err();
    assert_eq!(waiting.code(), ErrorCode::TooManyAttempts, "{waiting}");
    desk.sign_in(SARA, SARA_PASSWORD).unwrap();
    desk.sign_out();

    // A restart does not reset the count or the wait.
    clock.advance(Duration::seconds(29));
    drop(desk);
    let mut desk = reopen(live.path(), &clock);
    let e = desk.sign_in(MANAGER, PASSWORD).unwrap_err();
    assert_eq!(e.code(), ErrorCode::TooManyAttempts);
    assert!(e.to_string().contains("۱ ثانیه"), "{e}");
    assert!(desk.signed_in().is_none());

    // After the wait every further wrong password doubles it, up to 15 minutes.
    clock.advance(Duration::seconds(1));
    for wait in [60, 120, 240, 480, 900, 900] {
        let e = desk.sign_in(MANAGER, "still wrong").unwrap_err();
        assert_eq!(e.code(), ErrorCode::TooManyAttempts, "{e}");
        clock.advance(Duration::seconds(wait - 1));
        assert_eq!(code(desk.sign_in(MANAGER, PASSWORD)), ErrorCode::TooManyAttempts, "{wait} s");
        clock.advance(Duration::seconds(1));
    }
    // The right password after the wait works (the manager is never locked
    // out for good), and clears the count.
    assert_eq!(desk.sign_in(MANAGER, PASSWORD).unwrap().username, MANAGER);
    desk.sign_out();
    for _ in 0..4 {
        assert_eq!(code(desk.sign_in(MANAGER, "wrong again")), ErrorCode::WrongCredentials);
    }
    desk.sign_in(MANAGER, PASSWORD).unwrap();
    // Nothing of this went to the outbox.
    assert_eq!(desk.outbox_len().unwrap(), ops);
}

#[test]
fn an_instructor_cannot_back_up_restore_enrol_or_change_settings() {
    let live = tempfile::tempdir().unwrap();
    let usb = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start_time());
    let mut desk = file_desk(live.path(), &clock);
    let backup = desk.backup_to(usb.path(), 5).unwrap();
    desk.add_staff_with_password(SARA, "سارا مربی", Role::Instructor, SARA_PASSWORD).unwrap();
    desk.sign_in(SARA, SARA_PASSWORD).unwrap();
    let before = std::fs::read_dir(usb.path()).unwrap().count();

    assert_eq!(code(desk.backup_to(usb.path(), 5)), ErrorCode::Forbidden);
    assert_eq!(code(desk.restore_from(&backup)), ErrorCode::Forbidden);
    assert_eq!(code(desk.check_enrolment_server("https://sync.example.ir")), ErrorCode::Forbidden);
    let settings = SyncSettings { server: "https://sync.example.ir".into(), token: "t".into() };
    assert_eq!(code(desk.set_sync_settings(&settings)), ErrorCode::Forbidden);
    assert_eq!(code(desk.set_policy(Policy::default())), ErrorCode::Forbidden);
    let terms = MembershipTerms { fee_rials: 1, period_days: 365 };
    assert_eq!(code(desk.set_membership_terms(terms)), ErrorCode::Forbidden);
    assert_eq!(code(desk.set_holidays(desk.today(), desk.today(), vec![])), ErrorCode::Forbidden);
    assert_eq!(code(desk.accept_current_clock()), ErrorCode::Forbidden);

    assert_eq!(std::fs::read_dir(usb.path()).unwrap().count(), before, "nothing written");
    assert_eq!(desk.sync_settings().unwrap(), None);
    // The instructor still reads what the desk needs.
    desk.policy().unwrap();
}

#[test]
fn signed_out_reads_are_refused() {
    let mut f = desk();
    let m = register(&mut f.desk, "سارا", "کریمی", 1);
    f.desk.sign_out();
    assert_eq!(code(f.desk.member(m.id)), ErrorCode::NotSignedIn);
    assert_eq!(code(f.desk.find_members("سارا", 10)), ErrorCode::NotSignedIn);
    assert_eq!(code(f.desk.overdue_loans()), ErrorCode::NotSignedIn);
    assert_eq!(code(f.desk.sync_exceptions()), ErrorCode::NotSignedIn);
    assert_eq!(code(f.desk.draft("register")), ErrorCode::NotSignedIn);
    assert_eq!(code(f.desk.search_titles("قصه", 10)), ErrorCode::NotSignedIn);
    assert_eq!(code(f.desk.policy()), ErrorCode::NotSignedIn);
    assert_eq!(code(f.desk.check_enrolment_server("https://sync.example.ir")), ErrorCode::NotSignedIn);
    f.desk.sign_in(MANAGER, PASSWORD).unwrap();
    assert_eq!(f.desk.member(m.id).unwrap().id, m.id);
}

#[test]
fn a_backup_holds_no_sync_token_and_restore_keeps_this_pcs_enrolment() {
    let live = tempfile::tempdir().unwrap();
    let other_pc = tempfile::tempdir().unwrap();
    let usb = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start_time());
    let mut desk = file_desk(live.path(), &clock);
    let token = "device-token-5f2c9a7e41d0";
    let settings = SyncSettings { server: "https://sync.example.ir".into(), token: token.into() };
    desk.set_sync_settings(&settings).unwrap();
    let a = register(&mut desk, "مریم", "حسینی", 10);
    let backup = desk.backup_to(usb.path(), 5).unwrap();

    // Not in the file at all (not even in free pages).
    let bytes = std::fs::read(&backup).unwrap();
    assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()), "the token is in the backup");
    let conn = rusqlite::Connection::open(&backup).unwrap();
    let n: i64 = conn.query_row("SELECT count(*) FROM meta WHERE key = 'sync_settings'", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 0);
    drop(conn);

    // The same PC keeps its enrolment and token.
    register(&mut desk, "بهار", "چمران", 11);
    desk.restore_from(&backup).unwrap();
    assert_eq!(desk.sync_settings().unwrap(), Some(settings));
    assert_eq!(desk.member(a.id).unwrap().id, a.id);

    // A PC without a token (another desk of the same center, reinstalled)
    // is not enrolled after the restore: the window asks for enrolment.
    let mut fresh = file_desk(other_pc.path(), &clock);
    fresh.restore_from(&backup).unwrap();
    assert_eq!(fresh.sync_settings().unwrap(), None);
    assert_eq!(fresh.member(a.id).unwrap().id, a.id);
}

#[test]
fn backups_go_only_into_an_existing_folder_and_rotation_deletes_only_what_this_desk_wrote() {
    let live = tempfile::tempdir().unwrap();
    let usb = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start_time());
    let desk = file_desk(live.path(), &clock);

    let missing = usb.path().join("نیست");
    assert_eq!(code(desk.backup_to(&missing, 3)), ErrorCode::InvalidInput);
    assert!(!missing.exists(), "no folder is created");
    let a_file = usb.path().join("a.txt");
    std::fs::write(&a_file, "x").unwrap();
    assert_eq!(code(desk.backup_to(&a_file, 3)), ErrorCode::InvalidInput);

    // Files named like backups that this desk did not write: another
    // program's, and a real desk database copied there by hand.
    let lookalike = usb.path().join("kanoon-1234-20200101-000000000.sqlite");
    std::fs::write(&lookalike, "not ours").unwrap();
    let first = desk.backup_to(usb.path(), 3).unwrap();
    let copied = usb.path().join("kanoon-1234-20200102-000000000.sqlite");
    std::fs::copy(&first, &copied).unwrap();
    // One this desk wrote that was replaced by another file meanwhile.
    clock.advance(Duration::seconds(3));
    let replaced = desk.backup_to(usb.path(), 3).unwrap();
    std::fs::write(&replaced, "someone's notes").unwrap();

    let mut made = Vec::new();
    for _ in 0..4 {
        clock.advance(Duration::seconds(3));
        made.push(desk.backup_to(usb.path(), 2).unwrap());
    }
    assert!(!first.exists(), "an old backup of this desk is rotated out");
    assert!(lookalike.exists() && copied.exists(), "rotation deleted a file this desk did not write");
    assert_eq!(std::fs::read_to_string(&replaced).unwrap(), "someone's notes");
    assert!(made[2..].iter().all(|p| p.is_file()) && made[..2].iter().all(|p| !p.exists()));

    // A backup never writes over an existing file of the same name.
    let again = desk.backup_to(usb.path(), 10).unwrap();
    assert_ne!(&again, made.last().unwrap());
    assert!(made.last().unwrap().is_file());
}

#[test]
fn plain_http_enrolment_is_refused_except_to_this_computer() {
    let mut f = desk();
    for bad in ["http://sync.example.ir", "http://192.168.1.5:8080", "http://127.0.0.1.example.ir", "ftp://x.ir"] {
        assert_eq!(code(f.desk.check_enrolment_server(bad)), ErrorCode::InvalidInput, "{bad}");
        let s = SyncSettings { server: bad.into(), token: "t".into() };
        assert_eq!(code(f.desk.set_sync_settings(&s)), ErrorCode::InvalidInput, "{bad}");
    }
    assert_eq!(f.desk.sync_settings().unwrap(), None);
    for ok in ["https://sync.example.ir/", "http://127.0.0.1:8080", "http://localhost:3000", "http://[::1]:8080"] {
        let server = f.desk.check_enrolment_server(ok).unwrap();
        f.desk.set_sync_settings(&SyncSettings { server, token: "t".into() }).unwrap();
    }
}

#[test]
fn setup_with_a_prepared_hash_takes_only_an_argon2id_hash_and_its_password_signs_in() {
    let mut desk = Desk::open_in_memory().unwrap();
    for not_argon2id in ["kanoon1404", "", "$2b$12$abcdefghijklmnopqrstuv"] {
        assert_eq!(code(desk.setup_with_password_hash(setup_request(), not_argon2id.into())), ErrorCode::InvalidInput);
    }
    assert!(desk.identity().is_none(), "a refused setup writes nothing");
    let hash = kanoon_store::auth::hash_password(PASSWORD).unwrap();
    let manager = desk.setup_with_password_hash(setup_request(), hash).unwrap();
    desk.sign_out();
    assert_eq!(desk.sign_in(&manager.username, PASSWORD).unwrap().id, manager.id);
}

#[test]
fn a_manager_lists_staff_and_a_deactivated_account_cannot_sign_in() {
    let mut f = desk();
    let sara = f.desk.add_staff_with_password(SARA, "سارا مربی", Role::Instructor, SARA_PASSWORD).unwrap();
    let names: Vec<String> = f.desk.staff_list().unwrap().into_iter().map(|s| s.username).collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&SARA.to_owned()));

    let me = f.desk.signed().unwrap().id;
    assert_eq!(code(f.desk.set_staff_active(me, false)), ErrorCode::InvalidInput, "not oneself");
    let ops = f.desk.outbox_len().unwrap();
    assert!(!f.desk.set_staff_active(sara.id, false).unwrap().active);
    assert_eq!(f.desk.outbox_len().unwrap(), ops + 1, "synced like every change");
    f.desk.sign_out();
    assert_eq!(code(f.desk.sign_in(SARA, SARA_PASSWORD)), ErrorCode::WrongCredentials);
    // An instructor may not see the list or change accounts.
    f.desk.sign_in(MANAGER, PASSWORD).unwrap();
    f.desk.set_staff_active(sara.id, true).unwrap();
    f.desk.sign_out();
    f.desk.sign_in(SARA, SARA_PASSWORD).unwrap();
    assert_eq!(code(f.desk.staff_list()), ErrorCode::Forbidden);
    assert_eq!(code(f.desk.set_staff_active(me, false)), ErrorCode::Forbidden);
}
