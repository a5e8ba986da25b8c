//! Member photos through the real server over HTTP: they follow the ops as
//! a stream of their own, reach the other desks of the center (not other
//! centers), and the latest change of a member's photo wins everywhere.

use std::sync::Arc;

use chrono::Duration;
use kanoon_server::{SqliteStorage, Storage};
use kanoon_store::members::Photo;
use kanoon_sync::sync_once;

use crate::over_http::{TwoDesks, register, two_enrolled_desks};

fn jpeg(tag: &str) -> Photo {
    // JPEG's magic bytes (the server checks them); nothing decodes the rest.
    Photo { mime: "image/jpeg".into(), bytes: [&[0xFF, 0xD8, 0xFF][..], tag.as_bytes()].concat() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_reaches_the_other_desk_and_the_latest_change_wins() {
    let dir = tempfile::tempdir().unwrap();
    let storage: Arc<dyn Storage> = Arc::new(SqliteStorage::open(&dir.path().join("province.sqlite")).unwrap());
    let TwoDesks { client, clock, a, b, .. } = two_enrolled_desks(&storage).await;

    let sara = register(&a, "سارا", 41);
    let mina = register(&a, "مینا", 42);
    a.lock().unwrap().set_member_photo(sara.id, jpeg("sara-1")).unwrap();
    assert_eq!(a.lock().unwrap().photos_waiting().unwrap(), 1);

    let round = sync_once(&a, &client).await.unwrap();
    assert_eq!((round.photos.uploaded, round.photos.unsupported), (1, false), "{round:?}");
    assert_eq!(a.lock().unwrap().photos_waiting().unwrap(), 0);
    let round = sync_once(&b, &client).await.unwrap();
    assert_eq!(round.photos.received, 1, "{round:?}");
    assert_eq!(b.lock().unwrap().member_photo(sara.id).unwrap(), Some(jpeg("sara-1")));
    // Pulled photos are not sent back.
    assert_eq!(b.lock().unwrap().photos_waiting().unwrap(), 0);

    // Both offline: A retakes Sara's photo, later B does too; B's is the latest.
    clock.advance(Duration::minutes(5));
    a.lock().unwrap().set_member_photo(sara.id, jpeg("sara-a")).unwrap();
    clock.advance(Duration::minutes(5));
    b.lock().unwrap().set_member_photo(sara.id, jpeg("sara-b")).unwrap();
    b.lock().unwrap().set_member_photo(mina.id, jpeg("mina-b")).unwrap();
    for desk in [&b, &a, &b] {
        sync_once(desk, &client).await.unwrap();
    }
    for desk in [&a, &b] {
        let d = desk.lock().unwrap();
        assert_eq!(d.member_photo(sara.id).unwrap(), Some(jpeg("sara-b")));
        assert_eq!(d.member_photo(mina.id).unwrap(), Some(jpeg("mina-b")));
        assert_eq!(d.photos_waiting().unwrap(), 0);
    }
    // A round with nothing new moves no photo.
    let quiet = sync_once(&a, &client).await.unwrap();
    assert_eq!((quiet.photos.uploaded, quiet.photos.received), (0, 0), "{quiet:?}");
}
