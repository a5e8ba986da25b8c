//! A reinstalled desk starts from the server's snapshot over real HTTP:
//! the center's records and open loans, not its closed history; its member
//! numbers continue after the center's highest for its desk number; what
//! happens after the snapshot syncs normally.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use kanoon_domain::circulation::Event;
use kanoon_domain::entities::CenterKind;
use kanoon_domain::ids::MemberNumber;
use kanoon_server::testing::{TestPostgres, off_async, postgres_skipped};
use kanoon_server::{PostgresStorage, SqliteStorage, Storage};
use kanoon_store::catalog::{CopyStatus, TitleInput};
use kanoon_store::circulation::BookStatus;
use kanoon_store::{ErrorCode, ManualClock};
use kanoon_sync::{bootstrap, enrol, sync_once};

use crate::over_http::{lend, new_desk, register};

use crate::over_http::serve_on_loopback;

const CENTER: &str = "1234";

/// The admin gives a retired PC's desk number to its replacement (the
/// server has no command for it yet: its row is renumbered).
enum Server {
    Sqlite(Arc<SqliteStorage>),
    /// The database is dropped with the server.
    Postgres {
        storage: Arc<PostgresStorage>,
        _db: TestPostgres,
    },
}

impl Server {
    fn storage(&self) -> Arc<dyn Storage> {
        match self {
            Server::Sqlite(s) => s.clone(),
            Server::Postgres { storage, .. } => storage.clone(),
        }
    }

    fn free_desk_number(&self, desk_number: u8) {
        match self {
            Server::Sqlite(s) => s.with_connection(|c| {
                c.execute("UPDATE devices SET desk_number = 98 WHERE desk_number = ?1", [desk_number]).unwrap();
            }),
            Server::Postgres { storage: s, .. } => off_async(|| {
                s.with_client(|c| {
                    c.execute("UPDATE devices SET desk_number = 98 WHERE desk_number = $1", &[&i16::from(desk_number)])
                        .unwrap();
                })
                .unwrap()
            }),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_reinstalled_desk_bootstraps_from_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Arc::new(SqliteStorage::open(&dir.path().join("province.sqlite")).unwrap());
    a_reinstalled_desk_bootstraps_from_the_snapshot(Server::Sqlite(storage)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_reinstalled_desk_bootstraps_from_the_snapshot() {
    if postgres_skipped() {
        return;
    }
    let db = TestPostgres::create();
    let storage = Arc::new(off_async(|| PostgresStorage::open(db.url())).unwrap());
    a_reinstalled_desk_bootstraps_from_the_snapshot(Server::Postgres { storage, _db: db }).await;
}

async fn a_reinstalled_desk_bootstraps_from_the_snapshot(server: Server) {
    let storage = server.storage();
    let (code_a, code_b) = off_async(|| {
        storage.add_center(CENTER, "مرکز شماره ۱ اراک", CenterKind::Fixed).unwrap();
        (storage.create_enrol_code(CENTER).unwrap(), storage.create_enrol_code(CENTER).unwrap())
    });
    let (url, client) = serve_on_loopback(&storage).await;
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2025, 4, 5, 6, 30, 0).unwrap());

    // Desk 1 works for a while: members, books, loans, a return.
    let a = new_desk(&clock, 1);
    enrol(&a, &client, &url, &code_a, "میز ۱").await.unwrap();
    let numbers: Vec<String> = (1..=5).map(|n| n.to_string()).collect();
    a.lock()
        .unwrap()
        .add_title_with_copies(TitleInput { title: "قصه‌های مجید".into(), ..TitleInput::default() }, &numbers)
        .unwrap();
    let members: Vec<_> = (0..3).map(|i| register(&a, &format!("عضو {i}"), 100 + i)).collect();
    assert_eq!(lend(&a, &members[0], "1"), BookStatus::Lent);
    assert_eq!(lend(&a, &members[1], "2"), BookStatus::Lent);
    assert_eq!(lend(&a, &members[2], "3"), BookStatus::Lent);
    let returned = a.lock().unwrap().check_in("1").unwrap().loan_id;
    assert_eq!(lend(&a, &members[0], "4"), BookStatus::Lent);
    sync_once(&a, &client).await.unwrap();

    // Desk 1's PC is replaced: a fresh install with the same desk number.
    server.free_desk_number(1);
    let b = new_desk(&clock, 1);
    enrol(&b, &client, &url, &code_b, "میز ۱ (نو)").await.unwrap();
    assert!(b.lock().unwrap().never_pulled().unwrap());
    let round = sync_once(&b, &client).await.unwrap();
    assert!(round.pulled > 0 && round.applied.applied > 0, "{round:?}");
    assert!(!b.lock().unwrap().never_pulled().unwrap());
    {
        let (a, b) = (a.lock().unwrap(), b.lock().unwrap());
        assert_eq!(a.all_open_loans().unwrap(), b.all_open_loans().unwrap());
        assert_eq!(b.all_open_loans().unwrap().len(), 3);
        assert_eq!(a.list_members(0, 100).unwrap(), b.list_members(0, 100).unwrap());
        for n in &numbers {
            assert_eq!(
                a.copy_by_registration_number(n).unwrap(),
                b.copy_by_registration_number(n).unwrap(),
                "copy {n}"
            );
        }
        assert!(matches!(b.copy_by_registration_number("1").unwrap().status, CopyStatus::Available));
        // The closed history stayed on the server.
        let log = b.event_log().unwrap();
        assert!(!log.iter().any(|e| e.id == returned));
        assert!(!log.iter().any(|e| matches!(e.event, Event::Return { .. })));
        assert!(b.sync_exceptions().unwrap().is_empty(), "{:?}", b.sync_exceptions().unwrap());
    }
    // Only once: a desk that has pulled is refused, nothing changed.
    let again = b.lock().unwrap().apply_snapshot(&[], kanoon_protocol::wire::Cursor::default());
    assert_eq!(again.unwrap_err().code(), ErrorCode::Conflict);
    assert!(matches!(bootstrap(&b, &client).await, Err(kanoon_sync::SyncError::Store(_))));

    // The new PC's next member number follows the old PC's highest.
    let highest = members.iter().map(|m| m.member_number.clone()).max().unwrap();
    assert_eq!(highest, MemberNumber::compose(CENTER, 1, 3).unwrap().as_str());
    let newcomer = register(&b, "تازه", 200);
    assert_eq!(newcomer.member_number, MemberNumber::compose(CENTER, 1, 4).unwrap().as_str());

    // After the snapshot, both ways, as usual.
    b.lock().unwrap().check_in("2").unwrap();
    assert_eq!(lend(&b, &newcomer, "5"), BookStatus::Lent);
    sync_once(&b, &client).await.unwrap();
    assert_eq!(lend(&a, &members[1], "1"), BookStatus::Lent);
    sync_once(&a, &client).await.unwrap();
    sync_once(&b, &client).await.unwrap();
    let (a, b) = (a.lock().unwrap(), b.lock().unwrap());
    assert_eq!(a.all_open_loans().unwrap(), b.all_open_loans().unwrap());
    assert_eq!(b.all_open_loans().unwrap().len(), 4, "3 and 4 from before, 5 and 1 after");
    assert_eq!(a.list_members(0, 100).unwrap(), b.list_members(0, 100).unwrap());
    assert!(b.sync_exceptions().unwrap().is_empty(), "{:?}", b.sync_exceptions().unwrap());
}
