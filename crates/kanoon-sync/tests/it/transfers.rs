//! A copy sent to another center through the real server over HTTP: the
//! receiving center's desk lends it after one sync, a reinstalled desk of
//! that center gets it (on loan) from its snapshot, and the transfer back
//! makes it the sender's to lend again.

use std::sync::{Arc, Mutex};

use chrono::{TimeZone, Utc};
use kanoon_domain::entities::CenterKind;
use kanoon_server::Storage;
use kanoon_store::catalog::CopyStatus;
use kanoon_store::circulation::BookStatus;
use kanoon_store::{Desk, ManualClock, SetupRequest};
use kanoon_sync::{enrol, sync_once};

use crate::over_http::{add_copies, admin, lend, register, serve_on_loopback};

fn center_desk(clock: &ManualClock, code: &str, desk_number: u8) -> Arc<Mutex<Desk>> {
    let mut desk = Desk::open_in_memory().unwrap().with_clock(Arc::new(clock.clone()));
    desk.setup(
        SetupRequest {
            center_code: code.into(),
            center_name: format!("مرکز {code}"),
            center_kind: CenterKind::Fixed,
            desk_number,
            manager_username: format!("manager{desk_number}"),
            manager_full_name: "مدیر".into(),
        },
        "kanoon1404",
    )
    .unwrap();
    Arc::new(Mutex::new(desk))
}

fn status(desk: &Mutex<Desk>, number: &str) -> CopyStatus {
    desk.lock().unwrap().copy_by_registration_number(number).unwrap().status
}

fn exceptions(desk: &Mutex<Desk>) -> Vec<String> {
    desk.lock().unwrap().sync_exceptions().unwrap().into_iter().map(|e| e.code).collect()
}

async fn a_copy_sent_to_another_center_is_lent_there_and_comes_back(storage: Arc<dyn Storage>) {
    admin(&storage, |s| {
        s.add_center("1234", "مرکز ۱", CenterKind::Fixed).unwrap();
        s.add_center("5678", "مرکز ۲", CenterKind::Fixed).unwrap();
    });
    let (url, client) = serve_on_loopback(&storage).await;
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2025, 4, 5, 6, 30, 0).unwrap());
    let (a, b) = (center_desk(&clock, "1234", 1), center_desk(&clock, "5678", 1));
    for (desk, code) in [(&a, "1234"), (&b, "5678")] {
        let enrol_code = admin(&storage, |s| s.create_enrol_code(code).unwrap());
        enrol(desk, &client, &url, &enrol_code, "میز ۱").await.unwrap();
        sync_once(desk, &client).await.unwrap();
    }
    sync_once(&a, &client).await.unwrap();

    add_copies(&a, &["11", "12"]);
    let reader_a = register(&a, "سارا", 41);
    assert_eq!(lend(&a, &reader_a, "11"), BookStatus::Lent);
    a.lock().unwrap().check_in("11").unwrap();
    let copy = a.lock().unwrap().copy_by_registration_number("11").unwrap().id;
    a.lock().unwrap().transfer_copy(copy, "5678").unwrap();
    sync_once(&a, &client).await.unwrap();
    sync_once(&b, &client).await.unwrap();

    // B's desk has the copy on its shelf, and only it of A's copies.
    assert_eq!(status(&b, "11"), CopyStatus::Available);
    assert!(b.lock().unwrap().copy_by_registration_number("12").is_err());
    let reader_b = register(&b, "مینا", 42);
    assert_eq!(lend(&b, &reader_b, "11"), BookStatus::Lent);
    sync_once(&b, &client).await.unwrap();

    // A reinstalled desk of B starts from its snapshot: the copy, on loan.
    let b2 = center_desk(&clock, "5678", 2);
    let enrol_code = admin(&storage, |s| s.create_enrol_code("5678").unwrap());
    enrol(&b2, &client, &url, &enrol_code, "میز ۲").await.unwrap();
    sync_once(&b2, &client).await.unwrap();
    assert!(matches!(status(&b2, "11"), CopyStatus::OnLoan { .. }), "{:?}", status(&b2, "11"));

    // Back at B's shelf, sent back to A: A lends it again, B no longer can.
    b.lock().unwrap().check_in("11").unwrap();
    b.lock().unwrap().transfer_copy(copy, "1234").unwrap();
    sync_once(&b, &client).await.unwrap();
    sync_once(&a, &client).await.unwrap();
    sync_once(&b2, &client).await.unwrap();
    assert_eq!(status(&a, "11"), CopyStatus::Available);
    assert_eq!(lend(&a, &reader_a, "11"), BookStatus::Lent);
    assert!(matches!(b2.lock().unwrap().copy(copy).unwrap().status, CopyStatus::Elsewhere { .. }));
    assert_eq!(lend(&b2, &reader_b, "11"), BookStatus::Refused);
    for desk in [&a, &b, &b2] {
        assert_eq!(exceptions(desk), Vec::<String>::new());
    }
}

on_both_backends!(
    sqlite_a_copy_sent_to_another_center_is_lent_there_and_comes_back,
    postgres_a_copy_sent_to_another_center_is_lent_there_and_comes_back,
    a_copy_sent_to_another_center_is_lent_there_and_comes_back
);
