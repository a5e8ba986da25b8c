//! The provincial admin's view of sync exceptions (`kanoon-server
//! exceptions`): the server finds a copy lent twice in the center's log
//! under the same id the desks record it by, and shows it resolved once a
//! desk's resolution has been pushed.

use std::sync::Arc;

use kanoon_domain::entities::CenterKind;
use kanoon_server::{Storage, province_exceptions};
use kanoon_store::circulation::BookStatus;
use kanoon_sync::sync_once;

use crate::over_http::{TwoDesks, add_copies, admin, lend, register, two_enrolled_desks};

on_both_backends!(
    sqlite_the_server_lists_a_double_loan_under_the_desks_id_and_its_resolution,
    postgres_the_server_lists_a_double_loan_under_the_desks_id_and_its_resolution,
    the_server_lists_a_double_loan_under_the_desks_id_and_its_resolution
);

async fn the_server_lists_a_double_loan_under_the_desks_id_and_its_resolution(storage: Arc<dyn Storage>) {
    let TwoDesks { client, clock, a, b, .. } = two_enrolled_desks(&storage).await;
    admin(&storage, |s| s.add_center("5678", "مرکز سیار", CenterKind::Mobile).unwrap());

    add_copies(&a, &["7", "8"]);
    let m = register(&a, "سارا", 61);
    let n = register(&a, "مینا", 62);
    // A loan returned in the ordinary way is no exception.
    assert_eq!(lend(&a, &m, "8"), BookStatus::Lent);
    a.lock().unwrap().check_in("8").unwrap();
    sync_once(&a, &client).await.unwrap();
    sync_once(&b, &client).await.unwrap();
    assert!(admin(&storage, |s| province_exceptions(s, None)).unwrap().is_empty());

    assert_eq!(lend(&a, &m, "7"), BookStatus::Lent);
    clock.advance(chrono::Duration::seconds(30));
    assert_eq!(lend(&b, &n, "7"), BookStatus::Lent);
    for desk in [&a, &b, &a] {
        sync_once(desk, &client).await.unwrap();
    }
    let on_desk = a.lock().unwrap().sync_exceptions().unwrap();
    let on_desk: Vec<_> = on_desk.into_iter().filter(|e| e.code == "copy_lent_twice").collect();
    assert_eq!(on_desk.len(), 1, "{on_desk:?}");

    let listed = admin(&storage, |s| province_exceptions(s, Some("۱۲۳۴"))).unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!((listed[0].center_code.as_str(), listed[0].code.as_str()), ("1234", "copy_lent_twice"));
    assert_eq!(listed[0].id, on_desk[0].id, "the server names it as the desks do");
    assert!(listed[0].resolution.is_none());
    // Another center has none.
    assert!(admin(&storage, |s| province_exceptions(s, Some("5678"))).unwrap().is_empty());

    let note = "کتاب از مینا پس گرفته شد.";
    b.lock().unwrap().resolve_sync_exception(on_desk[0].id, note).unwrap();
    sync_once(&b, &client).await.unwrap();
    let listed = admin(&storage, |s| province_exceptions(s, None)).unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let resolution = listed[0].resolution.as_ref().expect("resolved");
    assert_eq!(resolution.note, note);
    assert_eq!(resolution.staff_name, "مدیر");
}
