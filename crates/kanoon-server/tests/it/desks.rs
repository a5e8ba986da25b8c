//! Two real desks of one center (`kanoon-store` databases on files, the
//! `kanoon-sync` client) syncing through the real `kanoon-server` binary
//! started as a process, on each backend: what one desk records, the other
//! sees, both ways, and the same copy lent at both while apart is one
//! exception on each.

use std::path::Path;
use std::sync::{Arc, Mutex};

use kanoon_domain::entities::{CenterKind, Gender};
use kanoon_domain::ids::NationalId;
use kanoon_domain::jalali::JalaliDate;
use kanoon_store::catalog::TitleInput;
use kanoon_store::circulation::{BookStatus, CheckOutRequest};
use kanoon_store::members::{FeeInput, MemberDetails, MemberView, RegisterMember, RegisterOutcome};
use kanoon_store::{Desk, SetupRequest};
use kanoon_sync::{Client, enrol, sync_once};

use crate::binary::{free_port, run, start, wait_healthy};
use crate::support::{Backend, TestDatabase};

pub(crate) fn desk(dir: &Path, desk_number: u8) -> Mutex<Desk> {
    let mut desk = Desk::open(&dir.join(format!("desk{desk_number}.sqlite"))).unwrap();
    desk.setup(
        SetupRequest {
            center_code: "1234".into(),
            center_name: "کانون شماره ۱".into(),
            center_kind: CenterKind::Fixed,
            desk_number,
            manager_username: "manager".into(),
            manager_full_name: "مدیر".into(),
        },
        "kanoon1404",
    )
    .unwrap();
    Mutex::new(desk)
}

pub(crate) fn register(desk: &Mutex<Desk>, first: &str, body: u64) -> MemberView {
    let details = MemberDetails {
        father_name: "علی".into(),
        birth_date: Some(JalaliDate::new(1395, 2, 14).unwrap()),
        national_id: Some(NationalId::from_body(&format!("{body:09}")).unwrap().as_str().to_owned()),
        school_grade: Some(3),
        ..MemberDetails::named(first, "آزمون", Gender::Female)
    };
    let request = RegisterMember::new(details, FeeInput::Paid { amount_rials: 350_000, receipt_number: "9".into() });
    match desk.lock().unwrap().register_member(request).unwrap() {
        RegisterOutcome::Registered { member } => *member,
        other => panic!("{other:?}"),
    }
}

pub(crate) fn lend(desk: &Mutex<Desk>, member: &MemberView, number: &str) -> BookStatus {
    let request = CheckOutRequest::new(member.id, [number]).confirmed();
    desk.lock().unwrap().check_out(request).unwrap().books[0].status
}

async fn two_desks_sync_through_the_server_binary(backend: Backend) {
    let db = TestDatabase::create(backend);
    let db_arg = db.arg();
    let db_arg = db_arg.as_str();
    run(&["center", "add", "--database", db_arg, "--code", "1234", "--name", "کانون شماره ۱", "--kind", "fixed"]);
    let enrol_code = || {
        let printed = run(&["enrol-code", "--database", db_arg, "--center", "1234"]).stdout;
        String::from_utf8(printed).unwrap().trim().to_owned()
    };
    let (code_a, code_b) = (enrol_code(), enrol_code());
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut server = start(db_arg, port);
    wait_healthy(&reqwest::Client::new(), &url, &mut server).await;

    let files = tempfile::tempdir().unwrap();
    let (a, b) = (Arc::new(desk(files.path(), 1)), Arc::new(desk(files.path(), 2)));
    let client = Client::new(&url, None).unwrap();
    enrol(&a, &client, &url, &code_a, "میز ۱").await.unwrap();
    enrol(&b, &client, &url, &code_b, "میز ۲").await.unwrap();

    // Desk 1 catalogs, registers and lends; desk 2 sees it all.
    a.lock()
        .unwrap()
        .add_title_with_copies(
            TitleInput { title: "ماهی سیاه کوچولو".into(), ..TitleInput::default() },
            &["11".to_string(), "12".to_string()],
        )
        .unwrap();
    let sara = register(&a, "سارا", 71);
    let mina = register(&a, "مینا", 72);
    assert_eq!(lend(&a, &sara, "11"), BookStatus::Lent);
    sync_once(&a, &client).await.unwrap();
    sync_once(&b, &client).await.unwrap();
    assert_eq!(b.lock().unwrap().member_by_number(&sara.member_number).unwrap().id, sara.id);
    assert_eq!(b.lock().unwrap().open_loans_of(sara.id).unwrap().len(), 1);

    // Desk 2 takes the book back; desk 1 sees it returned.
    b.lock().unwrap().check_in("11").unwrap();
    sync_once(&b, &client).await.unwrap();
    sync_once(&a, &client).await.unwrap();
    assert!(a.lock().unwrap().open_loans_of(sara.id).unwrap().is_empty());

    // Apart, both lend copy 12: one exception on each desk, the same one.
    assert_eq!(lend(&a, &sara, "12"), BookStatus::Lent);
    assert_eq!(lend(&b, &mina, "12"), BookStatus::Lent);
    for d in [&a, &b, &a] {
        sync_once(d, &client).await.unwrap();
    }
    let lent_twice = |d: &Mutex<Desk>| {
        d.lock()
            .unwrap()
            .sync_exceptions()
            .unwrap()
            .into_iter()
            .filter(|e| e.code == "copy_lent_twice")
            .collect::<Vec<_>>()
    };
    let (on_a, on_b) = (lent_twice(&a), lent_twice(&b));
    assert_eq!((on_a.len(), on_b.len()), (1, 1), "{on_a:?} {on_b:?}");
    assert_eq!(on_a[0].id, on_b[0].id);
    assert_eq!(a.lock().unwrap().all_open_loans().unwrap(), b.lock().unwrap().all_open_loans().unwrap());
    for d in [&a, &b] {
        assert_eq!(d.lock().unwrap().outbox_len().unwrap(), 0);
    }
    drop(server);
}

backend_tests!(two_desks_sync_through_the_server_binary);
