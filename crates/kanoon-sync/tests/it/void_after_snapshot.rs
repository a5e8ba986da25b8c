//! A void that arrives after a desk started from a snapshot, of an event
//! the snapshot left out (the return of a closed loan): the desk pulls the
//! whole log once more, so the voided return arrives and the loan it
//! closed is open again, as on every other desk.

use std::sync::Arc;

use kanoon_server::Storage;
use kanoon_sync::sync_once;

use crate::over_http::{add_copies, lend, register, two_enrolled_desks};

on_both_backends!(
    sqlite_a_void_of_history_the_snapshot_left_out_reopens_the_loan,
    postgres_a_void_of_history_the_snapshot_left_out_reopens_the_loan,
    a_void_of_history_the_snapshot_left_out_reopens_the_loan
);

async fn a_void_of_history_the_snapshot_left_out_reopens_the_loan(storage: Arc<dyn Storage>) {
    let t = two_enrolled_desks(&storage).await;
    add_copies(&t.a, &["1", "2"]);
    let m = register(&t.a, "سارا", 91);
    lend(&t.a, &m, "1");
    t.a.lock().unwrap().check_in("1").unwrap();
    sync_once(&t.a, &t.client).await.unwrap();
    // Desk 2 starts from the snapshot: the closed loan is not in it.
    let first = sync_once(&t.b, &t.client).await.unwrap();
    assert!(first.pulled > 0, "{first:?}");
    assert!(t.b.lock().unwrap().event_log().unwrap().iter().all(|e| e.event.kind() != "return"));
    // The return was scanned by mistake: desk 1 voids it.
    let back = t.a.lock().unwrap().event_log().unwrap().into_iter().find(|e| e.event.kind() == "return").unwrap();
    t.a.lock().unwrap().void_event(back.id, "کتاب اشتباهی اسکن شد").unwrap();
    assert_eq!(t.a.lock().unwrap().open_loans_of(m.id).unwrap().len(), 1);
    sync_once(&t.a, &t.client).await.unwrap();
    sync_once(&t.b, &t.client).await.unwrap();
    {
        let b = t.b.lock().unwrap();
        assert_eq!(b.open_loans_of(m.id).unwrap().len(), 1, "the void reopened the loan on desk 2 too");
        assert_eq!(b.all_open_loans().unwrap(), t.a.lock().unwrap().all_open_loans().unwrap());
        let kinds = |d: &kanoon_store::Desk| {
            let mut ids: Vec<_> = d.event_log().unwrap().into_iter().map(|e| e.id).collect();
            ids.sort();
            ids
        };
        assert_eq!(kinds(&b), kinds(&t.a.lock().unwrap()), "the whole history arrived");
    }
    // Once: later rounds pull after the cursor as usual.
    let again = sync_once(&t.b, &t.client).await.unwrap();
    assert_eq!(again.pulled, 0, "{again:?}");
}
