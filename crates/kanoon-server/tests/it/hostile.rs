//! Hostile and broken requests: each gets its status and a JSON error, and
//! nothing is stored.

use kanoon_protocol::wire::{API_PREFIX, MAX_PUSH_OPS};
use kanoon_server::{BODY_LIMIT, ErrorBody, ErrorCode};

use crate::support::{Backend, TestServer, assert_error, loan_op};

async fn a_batch_over_the_op_limit_is_413_and_nothing_is_stored(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.add_center("1234");
    let desk = server.enrol("1234", 1).await;
    let ops: Vec<_> = (0..=MAX_PUSH_OPS as i64).map(|i| loan_op(&desk, 1000 + i)).collect();
    assert_error(server.try_push(&desk, &ops).await, 413, ErrorCode::TooLarge).await;
    assert_eq!(server.op_count(), 0);
    // The limit itself is fine.
    assert_eq!(server.push(&desk, &ops[..MAX_PUSH_OPS]).await.accepted.len(), MAX_PUSH_OPS);
}

async fn a_body_over_the_size_limit_is_413(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.add_center("1234");
    let desk = server.enrol("1234", 1).await;
    let body = format!(r#"{{"ops":[],"padding":"{}"}}"#, "x".repeat(BODY_LIMIT));
    assert_error(server.push_raw(Some(&desk.token), body).await, 413, ErrorCode::TooLarge).await;
    assert_eq!(server.op_count(), 0);
}

async fn malformed_json_and_malformed_ops_are_400_and_nothing_is_stored(backend: Backend) {
    let server = TestServer::start(backend).await;
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
}

async fn a_missing_or_wrong_token_is_401(backend: Backend) {
    let server = TestServer::start(backend).await;
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
}

async fn an_unknown_api_version_or_path_is_a_json_404(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.add_center("1234");
    let desk = server.enrol("1234", 1).await;
    let v2 = API_PREFIX.replace("v1", "v2");
    for path in [format!("{v2}/push"), format!("{v2}/pull"), format!("{API_PREFIX}/nothing"), "/".to_owned()] {
        let response = server.client.post(server.url(&path)).bearer_auth(&desk.token).body("{}").send().await.unwrap();
        assert_error(response, 404, ErrorCode::NotFound).await;
    }
}

async fn health_answers_ok(backend: Backend) {
    let server = TestServer::start(backend).await;
    let response = server.client.get(server.url("/health")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap(), serde_json::json!({ "status": "ok" }));
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
);
