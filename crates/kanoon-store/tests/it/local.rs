//! Desk-local data: staff password hashes and form drafts (never synced).

use kanoon_domain::entities::Role;

use crate::support::desk;

#[test]
fn password_hashes_are_kept_per_staff_and_only_managers_set_others() {
    let mut f = desk();
    let outbox_before = f.desk.outbox_len().unwrap();
    let manager = f.desk.signed_in().unwrap().username.clone();
    assert_eq!(f.desk.staff_credentials(&manager).unwrap().unwrap().1, None, "no hash until one is set");
    f.desk.set_password_hash(&manager, "$argon2id$manager").unwrap();
    f.desk.add_staff("sara", "سارا مربی", Role::Instructor).unwrap();
    f.desk.set_password_hash("sara", "$argon2id$sara").unwrap();
    let (staff, hash) = f.desk.staff_credentials("  sara ").unwrap().unwrap();
    assert_eq!((staff.username.as_str(), hash.as_deref()), ("sara", Some("$argon2id$sara")));
    assert!(f.desk.staff_credentials("nobody").unwrap().is_none());

    // An instructor may change only their own password.
    f.desk.sign_in("sara").unwrap();
    f.desk.set_password_hash("sara", "$argon2id$sara2").unwrap();
    let err = f.desk.set_password_hash(&manager, "$argon2id$x").unwrap_err();
    assert_eq!(err.code(), kanoon_store::ErrorCode::Forbidden);
    assert_eq!(f.desk.staff_credentials(&manager).unwrap().unwrap().1.as_deref(), Some("$argon2id$manager"));

    // Signing out forgets who is at the desk.
    f.desk.sign_out();
    assert!(f.desk.signed_in().is_none());
    assert_eq!(
        f.desk.set_password_hash("sara", "$argon2id$y").unwrap_err().code(),
        kanoon_store::ErrorCode::NotSignedIn
    );
    // Hashes never go to the outbox (adding the staff member did, once).
    assert_eq!(f.desk.outbox_len().unwrap(), outbox_before + 1);
}

#[test]
fn drafts_survive_reopening_and_are_cleared_once_saved() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("center.sqlite");
    {
        let mut d = kanoon_store::Desk::open(&path).unwrap();
        d.setup(crate::support::setup_request()).unwrap();
        d.save_draft("register", r#"{"first_name":"سارا"}"#).unwrap();
        d.save_draft("register", r#"{"first_name":"سارا","last_name":"احمدی"}"#).unwrap();
        // Dropped without any "save": as after a crash or a closed window.
    }
    let d = kanoon_store::Desk::open(&path).unwrap();
    assert_eq!(d.draft("register").unwrap().as_deref(), Some(r#"{"first_name":"سارا","last_name":"احمدی"}"#));
    assert_eq!(d.draft("catalog").unwrap(), None);
    d.clear_draft("register").unwrap();
    assert_eq!(d.draft("register").unwrap(), None);
    assert!(d.save_draft("big", &"x".repeat(3 * 1024 * 1024)).is_err(), "a draft is a form, not a file");
}
