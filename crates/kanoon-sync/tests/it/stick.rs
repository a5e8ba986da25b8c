//! Ops carried on a USB stick to and from the provincial server
//! (`kanoon-server import-ops` / `export-ops`): a desk's file is stored as
//! its push, once however often it is read, only with its device's
//! signature; the server's file for a desk brings the center's ops.

use kanoon_protocol::stick;
use kanoon_server::{ErrorCode, Storage, export_ops, import_ops};

use crate::over_http::{TwoDesks, add_copies, admin, lend, register, two_enrolled_desks};

on_both_backends!(
    sqlite_a_stick_is_stored_once_only_with_its_devices_signature_and_the_servers_file_reaches_another_desk,
    postgres_a_stick_is_stored_once_only_with_its_devices_signature_and_the_servers_file_reaches_another_desk,
    a_stick_is_stored_once_only_with_its_devices_signature_and_the_servers_file_reaches_another_desk
);

async fn a_stick_is_stored_once_only_with_its_devices_signature_and_the_servers_file_reaches_another_desk(
    storage: std::sync::Arc<dyn Storage>,
) {
    let TwoDesks { a, b, .. } = two_enrolled_desks(&storage).await;
    // Desk A works with no network: a member, a book, a loan.
    add_copies(&a, &["100"]);
    let sara = register(&a, "سارا", 1);
    lend(&a, &sara, "100");
    let (file, n) = a.lock().unwrap().export_ops().unwrap();
    assert!(n >= 4, "{n} ops");

    // Changed after writing (a name on the stick edited): refused, nothing stored.
    let text = String::from_utf8(file.clone()).unwrap();
    let tampered = text.replacen("سارا", "سمیه", 1);
    assert_ne!(tampered, text);
    let err = admin(&storage, |s| import_ops(s, tampered.as_bytes())).unwrap_err();
    assert_eq!(err.code, ErrorCode::Unauthorized, "{err}");
    // Desk B's name on A's ops, signed with A's key: refused.
    let a_key = stick::device_key(&a.lock().unwrap().sync_settings().unwrap().unwrap().token);
    let b_device = b.lock().unwrap().identity().unwrap().device_id;
    let ops = a.lock().unwrap().ops_to_push(1000).unwrap();
    let center = ops[0].center_id;
    let forged = stick::write(center, b_device, Some(&a_key), "2025-04-05T06:30:00Z", &ops);
    let err = admin(&storage, |s| import_ops(s, &forged)).unwrap_err();
    assert_eq!(err.code, ErrorCode::Unauthorized, "{err}");
    assert_eq!(admin(&storage, |s| s.log_length().unwrap()), 0, "nothing of a refused file is stored");

    // The real file: stored as A's push, then nothing more the second time.
    let first = admin(&storage, |s| import_ops(s, &file)).unwrap();
    assert_eq!((first.accepted, first.duplicates, first.rejected.len()), (n, 0, 0));
    let again = admin(&storage, |s| import_ops(s, &file)).unwrap();
    assert_eq!((again.accepted, again.duplicates), (0, n), "a stick read twice stores nothing twice");
    assert_eq!(admin(&storage, |s| s.log_length().unwrap()), n as u64);

    // The server writes the center's ops for desk B, which reads them.
    let (for_b, m) = admin(&storage, |s| export_ops(s, b_device, 0, "2025-04-05T07:00:00Z")).unwrap();
    assert_eq!(m, n);
    let read = b.lock().unwrap().import_ops(&for_b).unwrap();
    assert_eq!((read.ops, read.applied + read.kept), (n, n), "{read:?}");
    assert_eq!(b.lock().unwrap().open_loans_of(sara.id).unwrap().len(), 1, "desk B sees A's loan");
    // Changed on the way: B refuses a file in its name whose signature fails.
    let bent = String::from_utf8(for_b).unwrap().replacen("سارا", "سمیه", 1);
    let err = b.lock().unwrap().import_ops(bent.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("امضای"), "{err}");
}
