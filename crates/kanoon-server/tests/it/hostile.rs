//! Hostile and broken requests: each gets its status and a JSON error, and
//! nothing is stored.

use std::io::Write;

use kanoon_protocol::wire::{API_PREFIX, MAX_PUSH_OPS, PushResponse};
use kanoon_server::{BODY_LIMIT, ErrorBody, ErrorCode};
use uuid::Uuid;

use crate::support::{Backend, TestServer, a_center_still_syncs, assert_error, loan_op};

async fn a_batch_over_the_op_limit_is_413_and_nothing_is_stored(backend: Backend) {
    let server = TestServer::binary(backend).await;
    server.add_center("1234");
    let desk = server.enrol("1234", 1).await;
    let ops: Vec<_> = (0..=MAX_PUSH_OPS as i64).map(|i| loan_op(&desk, 1000 + i)).collect();
    assert_error(server.try_push(&desk, &ops).await, 413, ErrorCode::BatchTooLarge).await;
    assert_eq!(server.op_count(), 0);
    // The limit itself is fine.
    assert_eq!(server.push(&desk, &ops[..MAX_PUSH_OPS]).await.accepted.len(), MAX_PUSH_OPS);
    a_center_still_syncs(&server).await;
}

async fn a_body_over_the_size_limit_is_413(backend: Backend) {
    let server = TestServer::binary(backend).await;
    server.add_center("1234");
    let desk = server.enrol("1234", 1).await;
    let body = format!(r#"{{"ops":[],"padding":"{}"}}"#, "x".repeat(BODY_LIMIT));
    assert_error(server.push_raw(Some(&desk.token), body).await, 413, ErrorCode::TooLarge).await;
    assert_eq!(server.op_count(), 0);
    a_center_still_syncs(&server).await;
}

async fn malformed_json_and_malformed_ops_are_400_and_nothing_is_stored(backend: Backend) {
    let server = TestServer::binary(backend).await;
    server.add_center("1234");
    let desk = server.enrol("1234", 1).await;
    let good = serde_json::to_string(&loan_op(&desk, 1000)).unwrap();
    for body in [
        "{".to_owned(),
        "not json".to_owned(),
        "[]".to_owned(),
        r#"{"operations":[]}"#.to_owned(),
        format!(r#"{{"ops":[{good}, {{"op_id":"not-a-uuid"}}]}}"#),
        format!(r#"{{"ops":[{good}, 42]}}"#),
    ] {
        let response = server.push_raw(Some(&desk.token), body.clone()).await;
        assert_error(response, 400, ErrorCode::BadRequest).await;
    }
    assert_eq!(server.op_count(), 0);
    a_center_still_syncs(&server).await;
}

async fn a_missing_or_wrong_token_is_401(backend: Backend) {
    let server = TestServer::binary(backend).await;
    server.add_center("1234");
    let desk = server.enrol("1234", 1).await;
    let body = serde_json::to_string(&serde_json::json!({ "ops": [loan_op(&desk, 1000)] })).unwrap();
    let wrong = "0".repeat(64);
    for token in [None, Some(wrong.as_str()), Some(""), Some("x")] {
        let response = server.push_raw(token, body.clone()).await;
        assert_eq!(response.headers().get("www-authenticate").map(|v| v.as_bytes()), Some(&b"Bearer"[..]));
        assert_error(response, 401, ErrorCode::Unauthorized).await;
        assert_error(server.try_pull(token, "").await, 401, ErrorCode::Unauthorized).await;
    }
    // Another scheme with the right token is no bearer token.
    let basic = server.client.get(server.api("/pull")).header("authorization", format!("Basic {}", desk.token));
    assert_error(basic.send().await.unwrap(), 401, ErrorCode::Unauthorized).await;
    assert_eq!(server.op_count(), 0);
    a_center_still_syncs(&server).await;
}

async fn an_unknown_api_version_or_path_is_a_json_404(backend: Backend) {
    let server = TestServer::binary(backend).await;
    server.add_center("1234");
    let desk = server.enrol("1234", 1).await;
    let v2 = API_PREFIX.replace("v1", "v2");
    for path in [format!("{v2}/push"), format!("{v2}/pull"), format!("{API_PREFIX}/nothing"), "/".to_owned()] {
        let response = server.client.post(server.url(&path)).bearer_auth(&desk.token).body("{}").send().await.unwrap();
        assert_error(response, 404, ErrorCode::NotFound).await;
    }
}

async fn a_wrong_method_is_a_json_405(backend: Backend) {
    let server = TestServer::binary(backend).await;
    for (method, path) in
        [("GET", server.api("/push")), ("DELETE", server.api("/pull")), ("POST", server.url("/health"))]
    {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = server.client.request(method, path).send().await.unwrap();
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_error(response, 405, ErrorCode::MethodNotAllowed).await;
    }
    a_center_still_syncs(&server).await;
}

async fn health_answers_ok(backend: Backend) {
    let server = TestServer::binary(backend).await;
    let response = server.client.get(server.url("/health")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap(), serde_json::json!({ "status": "ok" }));
}

async fn an_op_of_schema_version_0_is_422_and_nothing_is_stored(backend: Backend) {
    let server = TestServer::binary(backend).await;
    server.add_center("1234");
    let desk = server.enrol("1234", 1).await;
    let mut old = loan_op(&desk, 1001);
    old.schema_version = 0;
    let response = server.try_push(&desk, &[loan_op(&desk, 1000), old]).await;
    let body = assert_error(response, 422, ErrorCode::UnsupportedSchema).await;
    assert!(body.message.contains("nothing"), "{}", body.message);
    assert_eq!(server.op_count(), 0);
    // A newer schema version than this server's is a newer desk's: kept
    // (see push::an_op_is_stored_exactly_as_received_…).
    let mut newer = loan_op(&desk, 1002);
    newer.schema_version = kanoon_protocol::SCHEMA_VERSION + 1;
    assert_eq!(server.push(&desk, &[newer]).await.accepted.len(), 1);
    a_center_still_syncs(&server).await;
}

async fn a_nul_in_an_entity_or_a_device_name_is_400_and_nothing_is_stored(backend: Backend) {
    let server = TestServer::binary(backend).await;
    server.add_center("1234");
    let desk = server.enrol("1234", 1).await;
    let mut op = loan_op(&desk, 1000);
    op.entity = kanoon_protocol::EntityKind::new("circulation\0");
    assert_error(server.try_push(&desk, &[op]).await, 400, ErrorCode::BadRequest).await;
    assert_eq!(server.op_count(), 0);

    let code = server.enrol_code("1234");
    for name in [r"PC\u0000 1", "   ", r"\u0007"] {
        let body =
            format!(r#"{{"code":"{code}","device_id":"{}","desk_number":2,"device_name":"{name}"}}"#, Uuid::now_v7());
        let response = server
            .client
            .post(server.api("/enrol"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_error(response, 400, ErrorCode::BadRequest).await;
    }
    // The code stays usable.
    assert_eq!(server.try_enrol(&code, Uuid::now_v7(), 2).await.status(), 200);
    a_center_still_syncs(&server).await;
}

async fn a_malformed_enrolment_is_400_and_enrols_nobody(backend: Backend) {
    let server = TestServer::binary(backend).await;
    server.add_center("1234");
    let code = server.enrol_code("1234");
    for body in [
        "{".to_owned(),
        "[]".to_owned(),
        format!(r#"{{"code":"{code}"}}"#),
        format!(r#"{{"code":"{code}","device_id":"x","desk_number":1,"device_name":"n"}}"#),
        format!(r#"{{"code":"{code}","device_id":"{}","desk_number":300,"device_name":"n"}}"#, Uuid::now_v7()),
        format!(r#"{{"code":"{code}","device_id":"{}","desk_number":0,"device_name":"n"}}"#, Uuid::now_v7()),
    ] {
        let response = server
            .client
            .post(server.api("/enrol"))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        // axum answers a body that does not fit the type with 422; ours is 400.
        assert_error(response, 400, ErrorCode::BadRequest).await;
    }
    assert!(server.call(|s| s.devices()).unwrap().is_empty());
    assert_eq!(server.try_enrol(&code, Uuid::now_v7(), 1).await.status(), 200);
    a_center_still_syncs(&server).await;
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

async fn gzip_bodies_are_inflated_within_the_limit(backend: Backend) {
    let server = TestServer::binary(backend).await;
    server.add_center("1234");
    let desk = server.enrol("1234", 1).await;
    let push_gzip = |body: Vec<u8>| {
        server
            .client
            .post(server.api("/push"))
            .bearer_auth(&desk.token)
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .body(body)
            .send()
    };
    let ops: Vec<_> = (0..20).map(|i| loan_op(&desk, 1000 + i)).collect();
    let json = serde_json::to_vec(&serde_json::json!({ "ops": ops })).unwrap();
    let response = push_gzip(gzip(&json)).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<PushResponse>().await.unwrap().accepted.len(), 20);

    // A small gzip that inflates past the limit is refused, not inflated in full.
    let bomb = gzip(format!(r#"{{"ops":[],"padding":"{}"}}"#, " ".repeat(BODY_LIMIT * 2)).as_bytes());
    assert!(bomb.len() < BODY_LIMIT / 100);
    assert_error(push_gzip(bomb).await.unwrap(), 413, ErrorCode::TooLarge).await;
    // Bytes that are not gzip.
    assert_error(push_gzip(b"not gzip at all".to_vec()).await.unwrap(), 400, ErrorCode::BadRequest).await;
    assert_eq!(server.op_count(), 20);

    // A client that accepts gzip gets it.
    let page: kanoon_protocol::wire::PullResponse = server.get_gzipped(&desk, "/pull").await;
    assert_eq!(page.ops, ops);
}

#[test]
fn error_codes_are_snake_case_on_the_wire() {
    let body = ErrorBody { code: ErrorCode::TooLarge, message: "m".into() };
    assert_eq!(serde_json::to_value(&body).unwrap(), serde_json::json!({ "code": "too_large", "message": "m" }));
}

backend_tests!(
    a_batch_over_the_op_limit_is_413_and_nothing_is_stored,
    a_body_over_the_size_limit_is_413,
    malformed_json_and_malformed_ops_are_400_and_nothing_is_stored,
    a_missing_or_wrong_token_is_401,
    an_unknown_api_version_or_path_is_a_json_404,
    health_answers_ok,
    a_wrong_method_is_a_json_405,
    an_op_of_schema_version_0_is_422_and_nothing_is_stored,
    a_nul_in_an_entity_or_a_device_name_is_400_and_nothing_is_stored,
    a_malformed_enrolment_is_400_and_enrols_nobody,
    gzip_bodies_are_inflated_within_the_limit,
);
