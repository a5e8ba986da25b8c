use std::sync::{Arc, Mutex};

use chrono::{TimeZone, Utc};
use kanoon_domain::entities::{CenterKind, Gender};
use kanoon_domain::jalali::JalaliDate;
use kanoon_server::testing::off_async;
use kanoon_server::{Storage, serve};
use kanoon_store::catalog::{CopyStatus, TitleInput};
use kanoon_store::circulation::{BookStatus, CheckOutRequest};
use kanoon_store::members::{FeeInput, MemberDetails, MemberView, RegisterMember, RegisterOutcome};
use kanoon_store::{Desk, ManualClock, SetupRequest};
use kanoon_sync::{Client, SyncError, enrol, sync_once};

fn national_id(nine: u64) -> String {
    kanoon_domain::ids::NationalId::from_body(&format!("{nine:09}")).unwrap().as_str().to_owned()
}

pub(crate) fn new_desk(clock: &ManualClock, desk_number: u8) -> Arc<Mutex<Desk>> {
    let mut desk = Desk::open_in_memory().unwrap().with_clock(Arc::new(clock.clone()));
    desk.setup(
        SetupRequest {
            center_code: "1234".into(),
            center_name: "مرکز شماره ۱ اراک".into(),
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

pub(crate) fn register(desk: &Mutex<Desk>, first: &str, nid: u64) -> MemberView {
    let out = desk
        .lock()
        .unwrap()
        .register_member(RegisterMember::new(
            MemberDetails {
                father_name: "محمد".into(),
                birth_date: Some(JalaliDate::new(1394, 5, 10).unwrap()),
                national_id: Some(national_id(nid)),
                school_grade: Some(4),
                ..MemberDetails::named(first, "آزمون", Gender::Female)
            },
            FeeInput::Paid { amount_rials: 350_000, receipt_number: "1".into() },
        ))
        .unwrap();
    match out {
        RegisterOutcome::Registered { member } => *member,
        other => panic!("{other:?}"),
    }
}

/// A title («قصه‌های مجید») with copies of these registration numbers.
pub(crate) fn add_copies(desk: &Mutex<Desk>, numbers: &[&str]) {
    let numbers: Vec<String> = numbers.iter().map(|n| n.to_string()).collect();
    desk.lock()
        .unwrap()
        .add_title_with_copies(TitleInput { title: "قصه‌های مجید".into(), ..TitleInput::default() }, &numbers)
        .unwrap();
}

pub(crate) fn lend(desk: &Mutex<Desk>, member: &MemberView, number: &str) -> BookStatus {
    desk.lock().unwrap().check_out(CheckOutRequest::new(member.id, [number]).confirmed()).unwrap().books[0].status
}

on_both_backends!(
    sqlite_two_offline_desks_lending_the_same_copy_both_see_one_exception_after_sync,
    postgres_two_offline_desks_lending_the_same_copy_both_see_one_exception_after_sync,
    two_offline_desks_lending_the_same_copy_both_see_one_exception_after_sync
);

/// Serves the sync API over `storage` on a free loopback port; its URL and
/// a client for it.
pub(crate) async fn serve_on_loopback(storage: &Arc<dyn Storage>) -> (String, Client) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve(listener, storage.clone()));
    let client = Client::new(&url, None).unwrap();
    (url, client)
}

/// Center 1234 on the server, its API on loopback, and two desks of it
/// (numbers 1 and 2) on one clock, both enrolled.
pub(crate) struct TwoDesks {
    pub url: String,
    pub client: Client,
    pub clock: ManualClock,
    pub a: Arc<Mutex<Desk>>,
    pub b: Arc<Mutex<Desk>>,
}

pub(crate) async fn two_enrolled_desks(storage: &Arc<dyn Storage>) -> TwoDesks {
    admin(storage, |s| s.add_center("1234", "مرکز شماره ۱ اراک", CenterKind::Fixed).unwrap());
    let (code_a, code_b) =
        admin(storage, |s| (s.create_enrol_code("1234").unwrap(), s.create_enrol_code("1234").unwrap()));
    let (url, client) = serve_on_loopback(storage).await;
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2025, 4, 5, 6, 30, 0).unwrap());
    let (a, b) = (new_desk(&clock, 1), new_desk(&clock, 2));
    enrol(&a, &client, &url, &code_a, "میز ۱").await.unwrap();
    enrol(&b, &client, &url, &code_b, "میز ۲").await.unwrap();
    TwoDesks { url, client, clock, a, b }
}

/// An admin command on the server's storage, run off the async runtime as
/// the server runs every storage call.
pub(crate) fn admin<T: Send>(storage: &Arc<dyn Storage>, f: impl FnOnce(&dyn Storage) -> T + Send) -> T {
    off_async(|| f(storage.as_ref()))
}

async fn two_offline_desks_lending_the_same_copy_both_see_one_exception_after_sync(storage: Arc<dyn Storage>) {
    let TwoDesks { url, client, clock, a, b } = two_enrolled_desks(&storage).await;
    // A code of another center is refused and nothing is kept.
    admin(&storage, |s| s.add_center("5678", "مرکز سیار", CenterKind::Mobile).unwrap());
    let other = admin(&storage, |s| s.create_enrol_code("5678").unwrap());
    let c = new_desk(&clock, 3);
    assert!(matches!(enrol(&c, &client, &url, &other, "میز ۳").await, Err(SyncError::WrongCenter)));
    assert_eq!(c.lock().unwrap().sync_settings().unwrap(), None);

    add_copies(&a, &["1", "2"]);
    let m = register(&a, "سارا", 41);
    let n = register(&a, "مینا", 42);
    assert_eq!(lend(&a, &m, "1"), BookStatus::Lent);
    sync_once(&a, &client).await.unwrap();
    let round = sync_once(&b, &client).await.unwrap();
    assert!(round.pulled > 0 && round.applied.applied > 0, "{round:?}");
    assert!(matches!(b.lock().unwrap().copy_by_registration_number("1").unwrap().status, CopyStatus::OnLoan { .. }));

    // Both offline: the same copy lent at each desk.
    assert_eq!(lend(&a, &m, "2"), BookStatus::Lent);
    assert_eq!(lend(&b, &n, "2"), BookStatus::Lent);
    for desk in [&a, &b, &a] {
        sync_once(desk, &client).await.unwrap();
    }
    for desk in [&a, &b] {
        let d = desk.lock().unwrap();
        let ex: Vec<_> = d.sync_exceptions().unwrap().into_iter().filter(|e| e.code == "copy_lent_twice").collect();
        assert_eq!(ex.len(), 1, "{ex:?}");
        assert_eq!(d.outbox_len().unwrap(), 0, "everything was pushed");
    }
    assert_eq!(a.lock().unwrap().all_open_loans().unwrap(), b.lock().unwrap().all_open_loans().unwrap());

    // Nothing is lost while the server is unreachable.
    assert_eq!(lend(&a, &n, "1"), BookStatus::Refused);
    a.lock().unwrap().check_in("1").unwrap();
    let dead = Client::new("http://127.0.0.1:9", None).unwrap();
    let waiting = a.lock().unwrap().outbox_len().unwrap();
    assert!(matches!(sync_once(&a, &dead).await, Err(SyncError::Unreachable(_))));
    assert_eq!(a.lock().unwrap().outbox_len().unwrap(), waiting);
    sync_once(&a, &client).await.unwrap();
    sync_once(&b, &client).await.unwrap();
    assert!(b.lock().unwrap().open_loans_of(m.id).unwrap().iter().all(|l| l.registration_number != "1"));
}
