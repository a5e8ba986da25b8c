//! `/metrics`: Prometheus text with the server's counters after real traffic.

use std::collections::BTreeMap;

use kanoon_server::ErrorCode;
use serde_json::json;

use crate::support::{Backend, TestServer, assert_error, loan_op};

/// The samples of a scrape: `name{labels}` → value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (key, value) = l.rsplit_once(' ').unwrap();
            (key.to_owned(), value.parse().unwrap())
        })
        .collect()
}

async fn a_scrape_after_a_push_counts_ops_requests_and_the_log(backend: Backend) {
    let server = TestServer::binary(backend).await;
    server.add_center("1234");
    let desk = server.enrol("1234", 1).await;
    let ops: Vec<_> = (0..3).map(|i| loan_op(&desk, 1000 + i)).collect();
    server.push(&desk, &ops).await;
    server.push(&desk, &ops[..2]).await;
    let mut forged = ops[0].clone();
    forged.body = kanoon_protocol::OpBody::Event { kind: "return".into(), data: json!({}) };
    server.push(&desk, &[forged]).await;
    server.pull(&desk, "").await;
    assert_error(server.try_pull(Some("wrong"), "").await, 401, ErrorCode::Unauthorized).await;

    let response = server.client.get(server.admin_url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.unwrap();
    let s = samples(&text);
    let get = |k: &str| *s.get(k).unwrap_or_else(|| panic!("no sample {k} in\n{text}"));
    assert_eq!(get(r#"kanoon_ops_total{outcome="accepted"}"#), 3.0);
    assert_eq!(get(r#"kanoon_ops_total{outcome="duplicate"}"#), 2.0);
    assert_eq!(get(r#"kanoon_ops_total{outcome="rejected"}"#), 1.0);
    assert_eq!(get("kanoon_pushes_total"), 3.0);
    assert_eq!(get("kanoon_pulls_total"), 1.0);
    assert_eq!(get("kanoon_pulled_ops_total"), 3.0);
    assert_eq!(get("kanoon_enrolments_total"), 1.0);
    assert_eq!(get("kanoon_op_log_length"), 3.0);
    let push = r#"kanoon_http_request_duration_seconds_count{method="POST",route="/sync/v1/push",status="200"}"#;
    assert_eq!(get(push), 3.0);
    let refused = r#"kanoon_http_request_duration_seconds_count{method="GET",route="/sync/v1/pull",status="401"}"#;
    assert_eq!(get(refused), 1.0);
    assert!(text.contains(
        r#"kanoon_http_request_duration_seconds_bucket{method="POST",route="/sync/v1/push",status="200",le="0.1"}"#
    ));

    // Unknown paths share one label value, whatever they are.
    for path in ["/a", "/b/c"] {
        server.client.get(server.url(path)).send().await.unwrap();
    }
    let text = server.client.get(server.admin_url("/metrics")).send().await.unwrap().text().await.unwrap();
    let s = samples(&text);
    let unmatched = r#"kanoon_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"}"#;
    assert_eq!(s.get(unmatched), Some(&2.0), "{text}");
    assert!(!text.contains("/b/c"));
}

async fn metrics_are_served_on_the_admin_address_only(backend: Backend) {
    let server = TestServer::binary(backend).await;
    assert_error(server.client.get(server.url("/metrics")).send().await.unwrap(), 404, ErrorCode::NotFound).await;
    assert_eq!(server.client.get(server.admin_url("/metrics")).send().await.unwrap().status(), 200);
    // The admin address serves nothing of the API.
    let push = server.client.post(server.admin_url("/sync/v1/push")).body("{}").send().await.unwrap();
    assert_error(push, 404, ErrorCode::NotFound).await;
    crate::support::a_center_still_syncs(&server).await;
}

backend_tests!(a_scrape_after_a_push_counts_ops_requests_and_the_log, metrics_are_served_on_the_admin_address_only);
