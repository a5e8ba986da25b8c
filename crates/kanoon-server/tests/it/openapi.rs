//! The OpenAPI document: served, parses, lists every route the router has
//! (and only those), describes the bearer scheme and every error, and its
//! schemas have the fields the real wire types have.

use std::collections::BTreeSet;

use kanoon_protocol::photos::{PhotoBody, PhotoOutcome, PhotoPage, PhotoPushResponse};
use kanoon_protocol::wire::{
    API_PREFIX, Cursor, EnrolRequest, EnrolResponse, PullResponse, PushRequest, PushResponse, RejectedOp,
    SnapshotResponse,
};
use kanoon_protocol::{FieldChange, FieldVersion, Hlc, OpBody};
use kanoon_server::{ErrorBody, ErrorCode, OPENAPI_PATH};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Backend, TestServer, loan_op, title_op};

/// Every route of the server: (method, path).
const ROUTES: &[(&str, &str)] = &[
    ("post", "/sync/v1/enrol"),
    ("post", "/sync/v1/push"),
    ("get", "/sync/v1/pull"),
    ("get", "/sync/v1/snapshot"),
    ("post", "/sync/v1/photos"),
    ("get", "/sync/v1/photos"),
    ("get", "/sync/v1/openapi.json"),
    ("get", "/health"),
    ("get", "/metrics"),
];

fn routes_of(doc: &Value) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            routes.insert((method.clone(), path.clone()));
        }
    }
    routes
}

fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    let s = &doc["components"]["schemas"][name];
    assert!(s.is_object(), "no schema {name}");
    s
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

/// The properties a schema lists must be the keys of the real value.
fn assert_same_fields(doc: &Value, name: &str, real: &impl serde::Serialize) {
    let real = serde_json::to_value(real).unwrap();
    assert_eq!(keys(&schema(doc, name)["properties"]), keys(&real), "schema {name} against the real type");
}

async fn the_document_is_served_and_lists_every_route_the_router_has(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.add_center("1234");
    let desk = server.enrol("1234", 1).await;
    let response = server.client.get(server.url(OPENAPI_PATH)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let doc: Value = response.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    // The document served is the one the crate builds.
    assert_eq!(doc, serde_json::to_value(kanoon_server::openapi_document()).unwrap());

    let expected: BTreeSet<_> = ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(routes_of(&doc), expected);

    // Every documented route is routed (not the fallback's 404) …
    for (method, path) in ROUTES {
        // `/metrics` is the admin address's, never the API port's.
        let url = if *path == "/metrics" { server.admin_url(path) } else { server.url(path) };
        let request = match *method {
            "get" => server.client.get(url),
            _ => server.client.post(url).header("content-type", "application/json").body("{}"),
        };
        let response = request.bearer_auth(&desk.token).send().await.unwrap();
        assert_ne!(response.status(), 404, "{method} {path}");
        assert_ne!(response.status(), 405, "{method} {path}");
    }
    // … and nothing else is.
    for path in [
        format!("{API_PREFIX}/bootstrap"),
        format!("{API_PREFIX}/metrics"),
        "/openapi.json".to_owned(),
        "/metrics".into(),
    ] {
        let response = server.client.get(server.url(&path)).bearer_auth(&desk.token).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
}

#[test]
fn every_operation_documents_its_errors_and_the_sync_ones_their_token() {
    let doc = serde_json::to_value(kanoon_server::openapi_document()).unwrap();
    let scheme = &doc["components"]["securitySchemes"]["device_token"];
    assert_eq!((scheme["type"].as_str(), scheme["scheme"].as_str()), (Some("http"), Some("bearer")));

    for (method, path) in ROUTES {
        let op = &doc["paths"][path][method];
        let responses = op["responses"].as_object().unwrap();
        assert!(responses.contains_key("200"), "{method} {path}");
        assert!(responses.contains_key("503"), "{method} {path}: the time limit");
        for (status, response) in responses {
            if status != "200" {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
            }
        }
        let authenticated = path.ends_with("/push")
            || path.ends_with("/pull")
            || path.ends_with("/snapshot")
            || path.ends_with("/photos");
        assert_eq!(op["security"] == json!([{ "device_token": [] }]), authenticated, "{method} {path}");
        if authenticated {
            for status in ["400", "401", "500"] {
                assert!(responses.contains_key(status), "{method} {path} {status}");
            }
        }
    }
    let push = doc["paths"]["/sync/v1/push"]["post"]["responses"].as_object().unwrap();
    for status in ["403", "413", "422"] {
        assert!(push.contains_key(status), "push {status}");
    }
    let pull = &doc["paths"]["/sync/v1/pull"]["get"];
    let params: BTreeSet<_> =
        pull["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(params, BTreeSet::from(["cursor".to_owned(), "limit".to_owned()]));
    assert!(pull["responses"].as_object().unwrap().contains_key("409"));

    // Every error code the server sends is in the document.
    let codes: BTreeSet<_> =
        schema(&doc, "ErrorCode")["enum"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    let real: BTreeSet<_> = ErrorCode::ALL.iter().map(|c| c.as_str().to_owned()).collect();
    assert_eq!(codes, real, "the document's codes are the protocol's");
    for code in [ErrorCode::BadRequest, ErrorCode::UnsupportedSchema, ErrorCode::Timeout, ErrorCode::Internal] {
        assert!(codes.contains(code.as_str()), "{code}");
    }
}

#[test]
fn the_schemas_have_the_fields_of_the_wire_types() {
    let doc = serde_json::to_value(kanoon_server::openapi_document()).unwrap();
    let desk = crate::support::Desk { device_id: Uuid::now_v7(), center_id: Uuid::now_v7(), token: String::new() };
    let (loan, title) = (loan_op(&desk, 1000), title_op(&desk, 1001, "t"));
    assert_same_fields(&doc, "Op", &loan);
    assert_same_fields(&doc, "Hlc", &Hlc::new(5, 1));
    let version = FieldVersion { hlc: Hlc::new(5, 1), device_id: Uuid::now_v7() };
    assert_same_fields(&doc, "FieldVersion", &version);
    assert_same_fields(&doc, "FieldChange", &FieldChange { value: json!(1), base: Some(version) });
    let enrol = EnrolRequest {
        code: "1".into(),
        center_id: Some(Uuid::now_v7()),
        device_id: Uuid::now_v7(),
        desk_number: 1,
        device_name: "n".into(),
    };
    assert_same_fields(&doc, "EnrolRequest", &enrol);
    let enrolled = EnrolResponse { token: "t".into(), center_id: Uuid::now_v7(), center_code: "1".into() };
    assert_same_fields(&doc, "EnrolResponse", &enrolled);
    assert_same_fields(&doc, "PushRequest", &PushRequest { ops: vec![] });
    assert_same_fields(&doc, "PushResponse", &PushResponse { server_time_ms: Some(1), ..Default::default() });
    assert_same_fields(&doc, "RejectedOp", &RejectedOp::new(Uuid::now_v7(), ErrorCode::NotOwner, "r"));
    let page = PullResponse { ops: vec![], cursor: Cursor { epoch: 1, seq: 2 }, more: false };
    assert_same_fields(&doc, "PullResponse", &page);
    let snapshot = SnapshotResponse { cursor: Cursor { epoch: 1, seq: 2 }, ops: vec![] };
    assert_same_fields(&doc, "SnapshotResponse", &snapshot);
    assert_same_fields(&doc, "ErrorBody", &ErrorBody { code: ErrorCode::Conflict, message: "m".into() });
    let photo = PhotoBody {
        member_id: Uuid::now_v7(),
        mime: "image/jpeg".into(),
        updated_at: "2026-11-25T09:30:00.000Z".into(),
        device_id: Uuid::now_v7(),
        data: "AA==".into(),
    };
    assert_same_fields(&doc, "PhotoBody", &photo);
    assert_same_fields(&doc, "PhotoPushResponse", &PhotoPushResponse { outcome: PhotoOutcome::NewerKept });
    assert_same_fields(&doc, "PhotoPage", &PhotoPage { photos: vec![photo], after: 3, more: false });
    assert_eq!(
        schema(&doc, "PhotoOutcome")["enum"],
        json!([
            serde_json::to_value(PhotoOutcome::Stored).unwrap(),
            serde_json::to_value(PhotoOutcome::NewerKept).unwrap()
        ])
    );

    // The op body: one object per `type`, with that variant's fields.
    let variants = schema(&doc, "OpBody")["oneOf"].as_array().unwrap();
    for body in [&loan.body, &title.body] {
        let real = serde_json::to_value(body).unwrap();
        let variant = variants
            .iter()
            .find(|v| v["properties"]["type"]["enum"] == json!([real["type"]]))
            .unwrap_or_else(|| panic!("no OpBody variant for {}", real["type"]));
        assert_eq!(keys(&variant["properties"]), keys(&real));
    }
    assert_eq!(variants.len(), 2);
    assert!(matches!(loan.body, OpBody::Event { .. }) && matches!(title.body, OpBody::Patch { .. }));
    // A cursor travels as a string.
    assert_eq!(schema(&doc, "Cursor")["type"], "string");
}

backend_tests!(the_document_is_served_and_lists_every_route_the_router_has);
