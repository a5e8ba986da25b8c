//! A desk whose clock runs ahead of the provincial server's: the server
//! holds its ops (`clock_ahead`), the desk warns and records no
//! circulation until its clock is fixed, and nothing it wrote is lost.

use std::sync::Arc;

use kanoon_server::Storage;
use kanoon_store::ErrorCode;
use kanoon_store::circulation::{BookStatus, CheckOutRequest};
use kanoon_sync::sync_once;

use crate::hostile_desk::SERVER_CLOCK;
use crate::over_http::{add_copies, lend, register, two_enrolled_desks};

on_both_backends!(
    sqlite_a_desk_an_hour_ahead_warns_refuses_circulation_and_loses_nothing,
    postgres_a_desk_an_hour_ahead_warns_refuses_circulation_and_loses_nothing,
    a_desk_an_hour_ahead_warns_refuses_circulation_and_loses_nothing
);

async fn a_desk_an_hour_ahead_warns_refuses_circulation_and_loses_nothing(storage: Arc<dyn Storage>) {
    let _alone = SERVER_CLOCK.lock().await;
    let t = two_enrolled_desks(&storage).await;
    let server_now = || chrono::DateTime::from_timestamp_millis(kanoon_server::clock::now_ms()).unwrap();
    // Memberships run a year: the desks live in the server's present.
    t.clock.set(server_now());
    add_copies(&t.a, &["1", "2"]);
    let m = register(&t.a, "سارا", 81);
    sync_once(&t.a, &t.client).await.unwrap();
    assert_eq!(t.a.lock().unwrap().clock_warning(), None);

    // The PC's clock is set an hour ahead of the server's.
    t.clock.set(server_now() + chrono::Duration::hours(1));
    // It does not know yet: the loan is recorded, stamped an hour ahead.
    assert_eq!(lend(&t.a, &m, "1"), BookStatus::Lent);
    let round = sync_once(&t.a, &t.client).await.unwrap();
    assert_eq!((round.pushed, round.rejected, round.held), (0, 0, 1), "{round:?}");
    let warning = t.a.lock().unwrap().clock_warning().expect("the desk warns");
    assert!(warning.contains("ساعت") && warning.contains("ویندوز"), "{warning}");
    let refused = t.a.lock().unwrap().check_out(CheckOutRequest::new(m.id, ["2"]).confirmed()).unwrap_err();
    assert_eq!(refused.code(), ErrorCode::ClockAhead);
    assert_eq!(t.a.lock().unwrap().check_in("1").unwrap_err().code(), ErrorCode::ClockAhead);
    assert_eq!(t.a.lock().unwrap().outbox_len().unwrap(), 1, "the held loan is kept");

    // The clock fixed: the next round clears the warning (the loan, stamped
    // before the fix, still waits for the server's clock).
    t.clock.set(server_now());
    let round = sync_once(&t.a, &t.client).await.unwrap();
    assert_eq!(round.held, 1, "{round:?}");
    assert_eq!(t.a.lock().unwrap().clock_warning(), None);
    // The clock went back an hour: a manager accepts the corrected time.
    t.a.lock().unwrap().accept_current_clock().unwrap();
    assert_eq!(lend(&t.a, &m, "2"), BookStatus::Lent);

    // The server's time passes the ops' (the desk's clock stays after what
    // it wrote): the loans and the correction go and reach the other desk.
    kanoon_server::clock::advance(2 * 3600 * 1000);
    let round = sync_once(&t.a, &t.client).await.unwrap();
    assert_eq!((round.pushed, round.held), (3, 0), "{round:?}");
    assert_eq!(t.a.lock().unwrap().outbox_len().unwrap(), 0);
    // Desk 2's clock still at the old time holds them (stamped over 10
    // minutes ahead of it) until its time comes.
    sync_once(&t.b, &t.client).await.unwrap();
    assert!(t.b.lock().unwrap().open_loans_of(m.id).unwrap().is_empty());
    t.clock.set(server_now());
    sync_once(&t.b, &t.client).await.unwrap();
    let loans = t.b.lock().unwrap().open_loans_of(m.id).unwrap();
    assert_eq!(loans.len(), 2, "{loans:?}");
}

on_both_backends!(
    sqlite_a_desk_with_nothing_to_push_learns_its_fixed_clock_from_an_empty_push,
    postgres_a_desk_with_nothing_to_push_learns_its_fixed_clock_from_an_empty_push,
    a_desk_with_nothing_to_push_learns_its_fixed_clock_from_an_empty_push
);

async fn a_desk_with_nothing_to_push_learns_its_fixed_clock_from_an_empty_push(storage: Arc<dyn Storage>) {
    let _alone = SERVER_CLOCK.lock().await;
    let t = two_enrolled_desks(&storage).await;
    sync_once(&t.a, &t.client).await.unwrap();
    let server_ms = kanoon_server::clock::now_ms();
    t.clock.set(chrono::DateTime::from_timestamp_millis(server_ms + 3_600_000).unwrap());
    t.a.lock().unwrap().note_server_clock(Some(server_ms), false).unwrap();
    assert!(t.a.lock().unwrap().clock_warning().is_some());
    assert_eq!(t.a.lock().unwrap().outbox_len().unwrap(), 0);
    t.clock.set(chrono::DateTime::from_timestamp_millis(server_ms).unwrap());
    sync_once(&t.a, &t.client).await.unwrap();
    assert_eq!(t.a.lock().unwrap().clock_warning(), None);
}
