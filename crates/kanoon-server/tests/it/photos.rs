//! The member photo stream over HTTP: the latest version of a member's
//! photo is kept, a desk pulls its own center's photos after a position,
//! and bad uploads are refused with nothing stored.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use kanoon_protocol::photos::{PhotoBody, PhotoOutcome, PhotoPage, PhotoPushResponse};
use kanoon_server::ErrorCode;
use uuid::Uuid;

use crate::support::{Backend, Desk, TestServer, assert_error};

/// A JPEG upload: `bytes` after JPEG's magic bytes (nothing decodes the rest).
fn photo(desk: &Desk, member_id: Uuid, at: &str, bytes: &[u8]) -> PhotoBody {
    PhotoBody {
        member_id,
        mime: "image/jpeg".into(),
        updated_at: at.into(),
        device_id: desk.device_id,
        data: BASE64.encode([&[0xFF, 0xD8, 0xFF][..], bytes].concat()),
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
    let server = TestServer::binary(backend).await;
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
    let server = TestServer::binary(backend).await;
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

async fn hostile_uploads_are_refused_or_kept_as_the_token_says(backend: Backend) {
    let server = TestServer::binary(backend).await;
    server.add_center("1234");
    server.add_center("5678");
    let a = server.enrol("1234", 1).await;
    let b = server.enrol("1234", 2).await;
    let other = server.enrol("5678", 1).await;
    let m = Uuid::now_v7();

    // HTML labelled image/jpeg, and each type's bytes under another label.
    let html = PhotoBody {
        data: BASE64.encode(b"<html><script>alert(1)</script></html>"),
        ..photo(&a, m, "2026-11-25T09:30:00.000Z", b"")
    };
    assert_error(upload(&server, &a, &html).await, 400, ErrorCode::BadPhoto).await;
    let png = PhotoBody { mime: "image/png".into(), ..photo(&a, m, "2026-11-25T09:30:00.000Z", b"x") };
    assert_error(upload(&server, &a, &png).await, 400, ErrorCode::BadPhoto).await;
    assert!(page(&server, &a, 0).await.photos.is_empty());
    let real_png = PhotoBody {
        mime: "image/png".into(),
        data: BASE64.encode(b"\x89PNG\r\n\x1a\nrest"),
        ..photo(&a, Uuid::now_v7(), "2026-11-25T09:30:00.000Z", b"")
    };
    assert_eq!(put(&server, &a, &real_png).await, PhotoOutcome::Stored);
    let webp = PhotoBody {
        mime: "image/webp".into(),
        data: BASE64.encode(b"RIFF\0\0\0\0WEBPVP8 "),
        ..photo(&a, Uuid::now_v7(), "2026-11-25T09:30:00.000Z", b"")
    };
    assert_eq!(put(&server, &a, &webp).await, PhotoOutcome::Stored);

    // Another center's device id in the body: kept as the token's device,
    // in the token's center; the other center sees nothing.
    let spoofed = PhotoBody { device_id: other.device_id, ..photo(&a, m, "2026-11-25T09:30:00.000Z", b"a") };
    assert_eq!(put(&server, &a, &spoofed).await, PhotoOutcome::Stored);
    let kept = page(&server, &b, 0).await;
    let kept: Vec<_> = kept
        .photos
        .iter()
        .chain(&page(&server, &b, kept.after).await.photos)
        .filter(|p| p.member_id == m)
        .cloned()
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].device_id, a.device_id);
    assert!(page(&server, &other, 0).await.photos.is_empty());

    // Dated year 9999: kept at the server's time, so a later real upload wins.
    let future = photo(&a, m, "9999-12-31T23:59:59.999Z", b"future");
    assert_eq!(put(&server, &a, &future).await, PhotoOutcome::Stored);
    let later = chrono::Utc::now() + chrono::Duration::minutes(1);
    let later = photo(&b, m, &later.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), b"real");
    assert_eq!(put(&server, &b, &later).await, PhotoOutcome::Stored);
    crate::support::other_center_still_syncs(&server, &other, &[]).await;
}

async fn a_center_over_its_photo_quota_is_refused_and_the_photo_not_stored(backend: Backend) {
    let server = TestServer::binary_with(backend, &["--photo-quota-bytes", "100"]).await;
    server.add_center("1234");
    server.add_center("5678");
    let a = server.enrol("1234", 1).await;
    let other = server.enrol("5678", 1).await;
    let m = Uuid::now_v7();
    assert_eq!(put(&server, &a, &photo(&a, m, "2026-11-25T09:30:00.000Z", &[1; 60])).await, PhotoOutcome::Stored);
    let second = photo(&a, Uuid::now_v7(), "2026-11-25T09:30:00.000Z", &[2; 60]);
    assert_error(upload(&server, &a, &second).await, 413, ErrorCode::PhotoQuotaExceeded).await;
    assert_eq!(page(&server, &a, 0).await.photos.len(), 1);
    // A new version of the same member's photo replaces it within the quota.
    assert_eq!(put(&server, &a, &photo(&a, m, "2026-11-25T09:31:00.000Z", &[3; 90])).await, PhotoOutcome::Stored);
    // Each center has its own quota.
    assert_eq!(
        put(&server, &other, &photo(&other, m, "2026-11-25T09:30:00.000Z", &[4; 60])).await,
        PhotoOutcome::Stored
    );
}

backend_tests!(
    the_latest_version_of_a_photo_wins_and_only_its_center_pulls_it,
    bad_uploads_are_refused_and_nothing_is_stored,
    hostile_uploads_are_refused_or_kept_as_the_token_says,
    a_center_over_its_photo_quota_is_refused_and_the_photo_not_stored,
);
