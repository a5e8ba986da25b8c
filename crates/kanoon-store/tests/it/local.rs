//! Desk-local data: staff password hashes and form drafts (never synced).

use kanoon_domain::entities::Role;
use kanoon_store::ErrorCode;

use crate::support::{MANAGER, PASSWORD, desk};

#[test]
fn passwords_are_checked_per_staff_and_only_managers_reset_others() {
    // Replaces password_hashes_are_kept_per_staff_and_only_managers_set_others:
    // the store now hashes and checks passwords itself.
    let mut f = desk();
    let outbox_before = f.desk.outbox_len().unwrap();
    f.desk.add_staff_with_password("sara", "سارا مربی", Role::Instructor, "رمز سارا ۱").unwrap();
    // Too short a password is refused before anything is written.
    let short = f.desk.add_staff_with_password("reza", "رضا", Role::Instructor, "۱۲۳").unwrap_err();
    assert_eq!(short.code(), ErrorCode::InvalidInput);
    assert_eq!(f.desk.sign_in("reza", "۱۲۳").unwrap_err().code(), ErrorCode::WrongCredentials);

    f.desk.sign_out();
    assert_eq!(f.desk.sign_in("sara", "wrong one").unwrap_err().code(), ErrorCode::WrongCredentials);
    assert_eq!(f.desk.sign_in("nobody", "رمز سارا ۱").unwrap_err().code(), ErrorCode::WrongCredentials);
    assert!(f.desk.signed_in().is_none());
    assert_eq!(f.desk.sign_in("  sara ", "رمز سارا ۱").unwrap().username, "sara");

    // An instructor changes their own password only with the current one,
    // and cannot reset anyone's.
    let e = f.desk.change_password("not mine", "رمز تازه سارا").unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput, "{e}");
    f.desk.change_password("رمز سارا ۱", "رمز تازه سارا").unwrap();
    assert_eq!(f.desk.reset_password(MANAGER, "x1234567").unwrap_err().code(), ErrorCode::Forbidden);
    f.desk.sign_out();
    assert_eq!(f.desk.sign_in("sara", "رمز سارا ۱").unwrap_err().code(), ErrorCode::WrongCredentials);
    f.desk.sign_in("sara", "رمز تازه سارا").unwrap();

    // A manager resets another's password without the old one, but not
    // their own.
    f.desk.sign_in(MANAGER, PASSWORD).unwrap();
    f.desk.reset_password("sara", "رمز سوم سارا").unwrap();
    assert_eq!(f.desk.reset_password(MANAGER, "x1234567").unwrap_err().code(), ErrorCode::InvalidInput);
    f.desk.sign_in("sara", "رمز سوم سارا").unwrap();

    // Signed out: nothing.
    f.desk.sign_out();
    assert_eq!(f.desk.change_password("رمز سوم سارا", "x1234567").unwrap_err().code(), ErrorCode::NotSignedIn);
    assert_eq!(f.desk.reset_password("sara", "x1234567").unwrap_err().code(), ErrorCode::NotSignedIn);
    // Hashes never go to the outbox (adding the staff member did, once).
    assert_eq!(f.desk.outbox_len().unwrap(), outbox_before + 1);
}

#[test]
fn drafts_survive_reopening_and_are_cleared_once_saved() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("center.sqlite");
    {
        let mut d = kanoon_store::Desk::open(&path).unwrap();
        d.setup(crate::support::setup_request(), PASSWORD).unwrap();
        d.save_draft("register", r#"{"first_name":"سارا"}"#).unwrap();
        d.save_draft("register", r#"{"first_name":"سارا","last_name":"احمدی"}"#).unwrap();
        // Dropped without any "save": as after a crash or a closed window.
    }
    let mut d = kanoon_store::Desk::open(&path).unwrap();
    assert_eq!(d.draft("register").unwrap_err().code(), ErrorCode::NotSignedIn, "drafts are for staff only");
    d.sign_in(MANAGER, PASSWORD).unwrap();
    assert_eq!(d.draft("register").unwrap().as_deref(), Some(r#"{"first_name":"سارا","last_name":"احمدی"}"#));
    assert_eq!(d.draft("catalog").unwrap(), None);
    d.clear_draft("register").unwrap();
    assert_eq!(d.draft("register").unwrap(), None);
    assert!(d.save_draft("big", &"x".repeat(3 * 1024 * 1024)).is_err(), "a draft is a form, not a file");
}
