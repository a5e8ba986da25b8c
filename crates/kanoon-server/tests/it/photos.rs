//! The member photo stream over HTTP: the latest version of a member's
//! photo is kept, a desk pulls its own center's photos after a position,
//! and bad uploads are refused with nothing stored.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use kanoon_protocol::photos::{PhotoBody, PhotoOutcome, PhotoPage, PhotoPushResponse};
use kanoon_server::ErrorCode;
use uuid::Uuid;

use crate::support::{Backend, Desk, TestServer, assert_error};

fn photo(desk: &Desk, member_id: Uuid, at: &str, bytes: &[u8]) -> PhotoBody {
    PhotoBody {
        member_id,
        mime: "image/jpeg".into(),
        updated_at: at.into(),
        device_id: desk.device_id,
        data: BASE64.encode(bytes),
    }
}

async fn upload(server: &TestServer, desk: &Desk, body: &PhotoBody) -> reqwest::Response {
    server.client.post(server.api("/photos")).bearer_auth(&desk.token).json(body).send().await.unwrap()
}

async fn put(server: &TestServer, desk: &Desk, body: &PhotoBody) -> PhotoOutcome {
    let response = upload(server, desk, body).await;
    assert_eq!(response.status(), 200);
    response.json::<PhotoPushResponse>().await.unwrap().outcome
}

async fn page(server: &TestServer, desk: &Desk, after: u64) -> PhotoPage {
    let response = server
        .client
        .get(server.api(&format!("/photos?after={after}&limit=2")))
        .bearer_auth(&desk.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn the_latest_version_of_a_photo_wins_and_only_its_center_pulls_it(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.add_center("1234");
    server.add_center("5678");
    let a = server.enrol("1234", 1).await;
    let b = server.enrol("1234", 2).await;
    let other = server.enrol("5678", 1).await;
    let (m1, m2, m3) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());

    let v1 = photo(&a, m1, "2026-11-25T09:30:00.000Z", b"first");
    assert_eq!(put(&server, &a, &v1).await, PhotoOutcome::Stored);
    // Sent again (a retry after a drop): nothing changes.
    assert_eq!(put(&server, &a, &v1).await, PhotoOutcome::NewerKept);
    // An older version from the other desk loses.
    let older = photo(&b, m1, "2026-11-25T09:29:59.999Z", b"older");
    assert_eq!(put(&server, &b, &older).await, PhotoOutcome::NewerKept);
    assert_eq!(put(&server, &b, &photo(&b, m2, "2026-11-25T09:31:00.000Z", b"second")).await, PhotoOutcome::Stored);
    assert_eq!(put(&server, &a, &photo(&a, m3, "2026-11-25T09:32:00.000Z", b"third")).await, PhotoOutcome::Stored);

    // Pages of two, oldest change first.
    let first = page(&server, &b, 0).await;
    assert_eq!(first.photos, vec![v1.clone(), photo(&b, m2, "2026-11-25T09:31:00.000Z", b"second")]);
    assert!(first.more);
    let second = page(&server, &b, first.after).await;
    assert_eq!(second.photos.len(), 1);
    assert_eq!(second.photos[0].member_id, m3);
    assert!(!second.more);

    // A newer version of m1 comes after the position already reached.
    let v2 = photo(&b, m1, "2026-11-25T10:00:00.000Z", b"retaken");
    assert_eq!(put(&server, &b, &v2).await, PhotoOutcome::Stored);
    let next = page(&server, &a, second.after).await;
    assert_eq!(next.photos, vec![v2.clone()]);
    // From the start: one photo per member, the latest.
    let start = page(&server, &a, 0).await;
    let mut all = start.photos;
    all.extend(page(&server, &a, start.after).await.photos);
    assert_eq!(all.iter().filter(|p| p.member_id == m1).count(), 1);
    assert!(all.contains(&v2));

    // Another center's desk sees none of them.
    let theirs = page(&server, &other, 0).await;
    assert!(theirs.photos.is_empty() && !theirs.more);
}

async fn bad_uploads_are_refused_and_nothing_is_stored(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.add_center("1234");
    let a = server.enrol("1234", 1).await;
    let m = Uuid::now_v7();
    let good = photo(&a, m, "2026-11-25T09:30:00.000Z", b"jpeg");

    let gif = PhotoBody { mime: "image/gif".into(), ..good.clone() };
    assert_error(upload(&server, &a, &gif).await, 400, ErrorCode::BadPhoto).await;
    let no_millis = PhotoBody { updated_at: "2026-11-25T09:30:00Z".into(), ..good.clone() };
    assert_error(upload(&server, &a, &no_millis).await, 400, ErrorCode::BadPhoto).await;
    let not_base64 = PhotoBody { data: "***".into(), ..good.clone() };
    assert_error(upload(&server, &a, &not_base64).await, 400, ErrorCode::BadPhoto).await;
    let empty = PhotoBody { data: String::new(), ..good.clone() };
    assert_error(upload(&server, &a, &empty).await, 400, ErrorCode::BadPhoto).await;
    let huge = photo(&a, m, "2026-11-25T09:30:00.000Z", &vec![7u8; 2 * 1024 * 1024 + 1]);
    assert_error(upload(&server, &a, &huge).await, 413, ErrorCode::PhotoTooLarge).await;
    let response = server.client.post(server.api("/photos")).json(&good).send().await.unwrap();
    assert_error(response, 401, ErrorCode::Unauthorized).await;
    let response = server
        .client
        .post(server.api("/photos"))
        .bearer_auth(&a.token)
        .header("content-type", "application/json")
        .body("{\"member_id\": 1}")
        .send()
        .await
        .unwrap();
    assert_error(response, 400, ErrorCode::BadRequest).await;

    let nothing = page(&server, &a, 0).await;
    assert!(nothing.photos.is_empty());
    let response = server.client.get(server.api("/photos?after=x")).bearer_auth(&a.token).send().await.unwrap();
    assert_error(response, 400, ErrorCode::BadRequest).await;
}

backend_tests!(
    the_latest_version_of_a_photo_wins_and_only_its_center_pulls_it,
    bad_uploads_are_refused_and_nothing_is_stored,
);
