//! The sync issue's acceptance check for exceptions: two desks of one
//! center lend the same copy offline, both see one `copy_lent_twice`
//! exception after syncing through the real server over HTTP; desk A
//! resolves it with a note, and after the next syncs desk B shows it
//! resolved with A's note, who and when.

use std::sync::{Arc, Mutex};

use kanoon_server::Storage;
use kanoon_store::circulation::BookStatus;
use kanoon_store::sync::SyncException;
use kanoon_store::{Clock, Desk};
use kanoon_sync::sync_once;

use crate::over_http::{TwoDesks, add_copies, lend, register, two_enrolled_desks};

on_both_backends!(
    sqlite_an_exception_resolved_on_one_desk_is_resolved_with_its_note_on_the_other,
    postgres_an_exception_resolved_on_one_desk_is_resolved_with_its_note_on_the_other,
    an_exception_resolved_on_one_desk_is_resolved_with_its_note_on_the_other
);

fn lent_twice(desk: &Mutex<Desk>) -> Vec<SyncException> {
    desk.lock().unwrap().sync_exceptions().unwrap().into_iter().filter(|e| e.code == "copy_lent_twice").collect()
}

async fn an_exception_resolved_on_one_desk_is_resolved_with_its_note_on_the_other(storage: Arc<dyn Storage>) {
    let TwoDesks { client, clock, a, b, .. } = two_enrolled_desks(&storage).await;

    add_copies(&a, &["7"]);
    let m = register(&a, "سارا", 51);
    let n = register(&a, "مینا", 52);
    sync_once(&a, &client).await.unwrap();
    sync_once(&b, &client).await.unwrap();

    // Both offline: copy 7 lent at each desk to a different member.
    assert_eq!(lend(&a, &m, "7"), BookStatus::Lent);
    clock.advance(chrono::Duration::seconds(30));
    assert_eq!(lend(&b, &n, "7"), BookStatus::Lent);
    for desk in [&a, &b, &a, &b] {
        sync_once(desk, &client).await.unwrap();
    }
    let (on_a, on_b) = (lent_twice(&a), lent_twice(&b));
    assert_eq!(on_a.len(), 1, "{on_a:?}");
    assert_eq!(on_b.len(), 1, "{on_b:?}");
    assert_eq!(on_a[0].id, on_b[0].id);
    assert!(!on_a[0].resolved && !on_b[0].resolved);

    clock.advance(chrono::Duration::minutes(2));
    let note = "با خانواده مینا تماس گرفتیم؛ کتاب فردا برمی‌گردد.";
    let resolved = a.lock().unwrap().resolve_sync_exception(on_a[0].id, note).unwrap();
    let resolution = resolved.resolution.clone().unwrap();
    assert!(resolved.resolved);
    for desk in [&a, &b, &a, &b] {
        sync_once(desk, &client).await.unwrap();
    }

    let on_b = lent_twice(&b);
    assert_eq!(on_b.len(), 1, "{on_b:?}");
    assert!(on_b[0].resolved, "{on_b:?}");
    let seen = on_b[0].resolution.as_ref().unwrap();
    assert_eq!(seen, &resolution);
    assert_eq!(seen.note, note);
    assert_eq!(seen.staff_name, "مدیر");
    assert_eq!(seen.resolved_at, clock.now());
    let on_a = lent_twice(&a);
    assert_eq!(on_a.len(), 1, "{on_a:?}");
    assert_eq!(on_a[0].resolution.as_ref(), Some(&resolution));
    for desk in [&a, &b] {
        assert_eq!(desk.lock().unwrap().outbox_len().unwrap(), 0, "everything was pushed");
    }
}
