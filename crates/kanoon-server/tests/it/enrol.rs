use kanoon_domain::entities::Center;
use kanoon_protocol::wire::EnrolResponse;
use kanoon_server::ErrorCode;
use uuid::Uuid;

use crate::support::{Backend, TestServer, assert_error, other_center_still_syncs};

async fn a_code_enrols_one_device_once(backend: Backend) {
    let server = TestServer::binary(backend).await;
    server.add_center("1234");
    let code = server.enrol_code("1234");
    assert_eq!(code.len(), 10);

    let device_id = Uuid::now_v7();
    let response = server.try_enrol(&code, device_id, 1).await;
    assert_eq!(response.status(), 200);
    let enrolled: EnrolResponse = response.json().await.unwrap();
    assert_eq!(enrolled.center_id, Center::id_for_code("1234"));
    assert_eq!(enrolled.center_code, "1234");
    assert_eq!(enrolled.token.len(), 64);

    // The code is spent, whoever tries it next.
    assert_error(server.try_enrol(&code, Uuid::now_v7(), 2).await, 401, ErrorCode::EnrolCodeUnknown).await;
    assert_error(server.try_enrol(&code, device_id, 1).await, 401, ErrorCode::EnrolCodeUnknown).await;
    assert_error(server.try_enrol("0000000000", Uuid::now_v7(), 2).await, 401, ErrorCode::EnrolCodeUnknown).await;

    // Only hashes are kept.
    let token_hashes = server.store.devices_with_token_hash(&kanoon_server::hash_secret(&enrolled.token));
    let plain = server.store.devices_with_token_hash(&enrolled.token);
    assert_eq!((token_hashes, plain), (1, 0));

    let devices = server.call(|s| s.devices()).unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!((devices[0].device_id, devices[0].desk_number, devices[0].center_code.as_str()), (device_id, 1, "1234"));
}

async fn a_code_typed_in_persian_digits_with_spaces_works(backend: Backend) {
    let server = TestServer::binary(backend).await;
    server.add_center("77");
    let code = server.enrol_code("۷۷");
    let persian: String = code.chars().map(|c| char::from_u32(0x06F0 + c.to_digit(10).unwrap()).unwrap()).collect();
    let typed = format!(" {}-{} ", &persian[..10], &persian[10..]);
    assert_eq!(server.try_enrol(&typed, Uuid::now_v7(), 1).await.status(), 200);
}

async fn a_desk_number_in_use_is_refused_and_the_code_stays_unused(backend: Backend) {
    let server = TestServer::binary(backend).await;
    server.add_center("1234");
    server.enrol("1234", 1).await;
    let code = server.enrol_code("1234");
    let body = assert_error(server.try_enrol(&code, Uuid::now_v7(), 1).await, 409, ErrorCode::DeskNumberTaken).await;
    assert!(body.message.contains("desk number"), "{}", body.message);
    assert_eq!(server.try_enrol(&code, Uuid::now_v7(), 2).await.status(), 200);
    // The same desk number at another center is no clash.
    server.add_center("5678");
    server.enrol("5678", 1).await;
    assert_eq!(server.call(|s| s.devices()).unwrap().len(), 3);
}

async fn a_device_enrolling_again_gets_a_new_token_and_the_old_one_stops_working(backend: Backend) {
    let server = TestServer::binary(backend).await;
    server.add_center("1234");
    let desk = server.enrol("1234", 3).await;
    let code = server.call(|s| s.create_reenrol_code("1234", desk.device_id)).unwrap();
    let again: EnrolResponse = server.try_enrol(&code, desk.device_id, 3).await.json().await.unwrap();
    assert_ne!(again.token, desk.token);
    assert_error(server.try_pull(Some(&desk.token), "").await, 401, ErrorCode::Unauthorized).await;
    assert_eq!(server.try_pull(Some(&again.token), "").await.status(), 200);
    assert_eq!(server.call(|s| s.devices()).unwrap().len(), 1);
}

async fn bad_enrolment_requests_are_400_and_unknown_centers_get_no_code(backend: Backend) {
    let server = TestServer::binary(backend).await;
    server.add_center("1234");
    let code = server.enrol_code("1234");
    assert_error(server.try_enrol(&code, Uuid::now_v7(), 0).await, 400, ErrorCode::BadRequest).await;
    assert_error(server.try_enrol(&code, Uuid::now_v7(), 100).await, 400, ErrorCode::BadRequest).await;
    let response = server
        .client
        .post(server.api("/enrol"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_error(response, 400, ErrorCode::BadRequest).await;
    // The code survived the bad requests.
    assert_eq!(server.try_enrol(&code, Uuid::now_v7(), 1).await.status(), 200);

    assert_eq!(server.call(|s| s.create_enrol_code("9999")).unwrap_err().code, ErrorCode::NotFound);
    assert_eq!(
        server.call(|s| s.add_center("1234", "again", kanoon_domain::entities::CenterKind::Fixed)).unwrap_err().code,
        ErrorCode::Conflict
    );
}

async fn a_spare_code_does_not_take_an_enrolled_device_and_lock_the_real_desk_out(backend: Backend) {
    let server = TestServer::binary(backend).await;
    server.add_center("1234");
    server.add_center("5678");
    let desk = server.enrol("1234", 1).await;
    let spare = server.enrol_code("1234");
    assert_error(server.try_enrol(&spare, desk.device_id, 1).await, 409, ErrorCode::DeviceAlreadyEnrolled).await;
    // The real desk keeps working; the spare code stays usable by a new device.
    assert_eq!(server.try_pull(Some(&desk.token), "").await.status(), 200);
    assert_eq!(server.try_enrol(&spare, Uuid::now_v7(), 2).await.status(), 200);
    // A re-enrolment code is that device's only; one of another center is no code here.
    let other = server.enrol("5678", 1).await;
    let theirs = server.call(|s| s.create_reenrol_code("5678", other.device_id)).unwrap();
    assert_error(server.try_enrol(&theirs, desk.device_id, 1).await, 401, ErrorCode::EnrolCodeUnknown).await;
    assert!(server.call(|s| s.create_reenrol_code("1234", other.device_id)).is_err(), "not a device of 1234");
    assert_eq!(server.try_pull(Some(&desk.token), "").await.status(), 200);
    assert_eq!(server.call(|s| s.devices()).unwrap().len(), 3);
    other_center_still_syncs(&server, &other, &[]).await;
}

async fn an_expired_code_enrols_nobody(backend: Backend) {
    let server = TestServer::binary(backend).await;
    server.add_center("1234");
    server.add_center("5678");
    let b = server.enrol("5678", 1).await;
    let code = server.enrol_code("1234");
    // Stored keyed: not the plain SHA-256 of ten digits anyone could undo.
    assert_eq!(server.store.enrol_codes_with_hash(&kanoon_server::hash_secret(&code)), 0);
    server.store.expire_enrol_codes();
    assert_error(server.try_enrol(&code, Uuid::now_v7(), 1).await, 401, ErrorCode::EnrolCodeUnknown).await;
    assert_eq!(server.call(|s| s.devices()).unwrap().len(), 1, "only B's desk");
    other_center_still_syncs(&server, &b, &[]).await;
    // A fresh code works.
    assert_eq!(server.try_enrol(&server.enrol_code("1234"), Uuid::now_v7(), 1).await.status(), 200);
}

async fn a_revoked_device_is_refused_until_re_enrolled_with_a_code_made_for_it(backend: Backend) {
    let server = TestServer::binary(backend).await;
    server.add_center("1234");
    let desk = server.enrol("1234", 1).await;
    let other = server.enrol("1234", 2).await;
    assert!(server.call(|s| s.revoke_device(desk.device_id)).unwrap());
    assert!(!server.call(|s| s.revoke_device(desk.device_id)).unwrap(), "revoked already");
    assert_error(server.try_pull(Some(&desk.token), "").await, 401, ErrorCode::DeviceRevoked).await;
    let op = crate::support::loan_op(&desk, 1000);
    assert_error(server.try_push(&desk, &[op]).await, 401, ErrorCode::DeviceRevoked).await;
    assert_eq!(server.op_count(), 0);
    // The center's other desk keeps syncing.
    assert_eq!(server.push(&other, &[crate::support::loan_op(&other, 1000)]).await.accepted.len(), 1);
    // A spare code does not bring it back; one made for it does.
    let spare = server.enrol_code("1234");
    assert_error(server.try_enrol(&spare, desk.device_id, 1).await, 409, ErrorCode::DeviceAlreadyEnrolled).await;
    let code = server.call(|s| s.create_reenrol_code("1234", desk.device_id)).unwrap();
    let again: EnrolResponse = server.try_enrol(&code, desk.device_id, 1).await.json().await.unwrap();
    assert_eq!(server.try_pull(Some(&again.token), "").await.status(), 200);
    assert_error(server.try_pull(Some(&desk.token), "").await, 401, ErrorCode::Unauthorized).await;
    other_center_still_syncs(&server, &other, &[]).await;
}

async fn more_than_ten_wrong_codes_a_minute_from_one_address_are_429(backend: Backend) {
    let server = TestServer::binary(backend).await;
    server.add_center("1234");
    server.add_center("5678");
    let b = server.enrol("5678", 1).await;
    let code = server.enrol_code("1234");
    for i in 0..10 {
        let wrong = format!("{:010}", 1_000_000 + i);
        assert_error(server.try_enrol(&wrong, Uuid::now_v7(), 1).await, 401, ErrorCode::EnrolCodeUnknown).await;
    }
    // From the eleventh on — 200 tries in all — each is refused before any
    // code is looked at, a right one too.
    for i in 10..200 {
        let wrong = format!("{:010}", 1_000_000 + i);
        assert_error(server.try_enrol(&wrong, Uuid::now_v7(), 1).await, 429, ErrorCode::RateLimited).await;
    }
    let response = server.try_enrol(&code, Uuid::now_v7(), 1).await;
    assert_eq!(response.headers()["retry-after"], "60");
    assert_error(response, 429, ErrorCode::RateLimited).await;
    assert_eq!(server.call(|s| s.devices()).unwrap().len(), 1, "only B's desk");
    other_center_still_syncs(&server, &b, &[]).await;
    // Another address is not held back: the code still works from there.
    let elsewhere = reqwest::Client::builder().local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap()).build();
    let request = kanoon_protocol::wire::EnrolRequest {
        code,
        center_id: None,
        device_id: Uuid::now_v7(),
        desk_number: 1,
        device_name: "PC 1".into(),
    };
    let response = elsewhere.unwrap().post(server.api("/enrol")).json(&request).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

backend_tests!(
    more_than_ten_wrong_codes_a_minute_from_one_address_are_429,
    a_spare_code_does_not_take_an_enrolled_device_and_lock_the_real_desk_out,
    an_expired_code_enrols_nobody,
    a_revoked_device_is_refused_until_re_enrolled_with_a_code_made_for_it,
    a_code_enrols_one_device_once,
    a_code_typed_in_persian_digits_with_spaces_works,
    a_desk_number_in_use_is_refused_and_the_code_stays_unused,
    a_device_enrolling_again_gets_a_new_token_and_the_old_one_stops_working,
    bad_enrolment_requests_are_400_and_unknown_centers_get_no_code,
);
