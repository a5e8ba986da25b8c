//! A server on 127.0.0.1:0 in this process, a client, and ops built by hand.

use std::collections::BTreeMap;
use std::sync::Arc;

use kanoon_domain::entities::{Center, CenterKind};
use kanoon_protocol::wire::{API_PREFIX, EnrolRequest, EnrolResponse, PullResponse, PushRequest, PushResponse};
use kanoon_protocol::{EntityKind, FieldChange, Hlc, Op, OpBody, SCHEMA_VERSION};
use kanoon_server::{ErrorBody, ErrorCode, SqliteStorage, Storage};
use serde_json::json;
use tokio::sync::oneshot;
use uuid::Uuid;

pub struct TestServer {
    pub base: String,
    pub storage: Arc<SqliteStorage>,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A device enrolled through the API.
#[derive(Clone, Debug)]
pub struct Desk {
    pub device_id: Uuid,
    pub center_id: Uuid,
    pub token: String,
}

impl TestServer {
    pub async fn start() -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(SqliteStorage::open(&dir.path().join("server.sqlite")).unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let dyn_storage: Arc<dyn Storage> = storage.clone();
        tokio::spawn(kanoon_server::serve_with_shutdown(listener, dyn_storage, async {
            let _ = stopped.await;
        }));
        TestServer { base, storage, client: reqwest::Client::new(), stop: Some(stop), _dir: dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}{API_PREFIX}{path}", self.base)
    }

    /// Registers a center (as the admin command does); returns its id.
    pub fn add_center(&self, code: &str) -> Uuid {
        let center = self.storage.add_center(code, &format!("مرکز {code}"), CenterKind::Fixed).unwrap();
        assert_eq!(center.id, Center::id_for_code(code));
        center.id
    }

    pub fn enrol_code(&self, center_code: &str) -> String {
        self.storage.create_enrol_code(center_code).unwrap()
    }

    pub async fn try_enrol(&self, code: &str, device_id: Uuid, desk_number: u8) -> reqwest::Response {
        let request = EnrolRequest {
            code: code.to_owned(),
            center_id: None,
            device_id,
            desk_number,
            device_name: format!("PC {desk_number}"),
        };
        self.client.post(self.api("/enrol")).json(&request).send().await.unwrap()
    }

    /// A new device of the center, enrolled with a fresh code.
    pub async fn enrol(&self, center_code: &str, desk_number: u8) -> Desk {
        let code = self.enrol_code(center_code);
        let device_id = Uuid::now_v7();
        let response = self.try_enrol(&code, device_id, desk_number).await;
        assert_eq!(response.status(), 200);
        let enrolled: EnrolResponse = response.json().await.unwrap();
        Desk { device_id, center_id: enrolled.center_id, token: enrolled.token }
    }

    pub async fn push_raw(&self, token: Option<&str>, body: impl Into<reqwest::Body>) -> reqwest::Response {
        let mut request =
            self.client.post(self.api("/push")).header("content-type", "application/json").body(body.into());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    pub async fn try_push(&self, desk: &Desk, ops: &[Op]) -> reqwest::Response {
        let body = serde_json::to_vec(&PushRequest { ops: ops.to_vec() }).unwrap();
        self.push_raw(Some(&desk.token), body).await
    }

    pub async fn push(&self, desk: &Desk, ops: &[Op]) -> PushResponse {
        let response = self.try_push(desk, ops).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    pub async fn try_pull(&self, token: Option<&str>, query: &str) -> reqwest::Response {
        let mut request = self.client.get(format!("{}{query}", self.api("/pull")));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    pub async fn pull(&self, desk: &Desk, query: &str) -> PullResponse {
        let response = self.try_pull(Some(&desk.token), query).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Rows in the op log.
    pub fn op_count(&self) -> i64 {
        self.storage.with_connection(|c| c.query_row("SELECT count(*) FROM ops", [], |r| r.get(0)).unwrap())
    }

    pub fn stored_op_json(&self, op_id: Uuid) -> String {
        self.storage.with_connection(|c| {
            c.query_row("SELECT op FROM ops WHERE op_id = ?1", [op_id.to_string()], |r| r.get(0)).unwrap()
        })
    }
}

/// Asserts the status and the error code of an error response.
pub async fn assert_error(response: reqwest::Response, status: u16, code: ErrorCode) -> ErrorBody {
    assert_eq!(response.status(), status);
    let body: ErrorBody = response.json().await.unwrap();
    assert_eq!(body.code, code, "{body:?}");
    body
}

fn op(desk: &Desk, entity: &str, entity_id: Uuid, wall_ms: i64, body: OpBody) -> Op {
    Op {
        op_id: Uuid::now_v7(),
        schema_version: SCHEMA_VERSION,
        hlc: Hlc::new(wall_ms, 0),
        device_id: desk.device_id,
        center_id: desk.center_id,
        entity: EntityKind::new(entity),
        entity_id,
        staff_id: Some(Uuid::now_v7()),
        body,
    }
}

/// A loan event of a new copy.
pub fn loan_op(desk: &Desk, wall_ms: i64) -> Op {
    let copy_id = Uuid::now_v7();
    op(
        desk,
        EntityKind::CIRCULATION,
        Uuid::now_v7(),
        wall_ms,
        OpBody::Event {
            kind: "loan".into(),
            data: json!({ "copy_id": copy_id, "member_id": Uuid::now_v7(), "due": "2025-01-15" }),
        },
    )
}

/// A title record created by a patch.
pub fn title_op(desk: &Desk, wall_ms: i64, title: &str) -> Op {
    let fields = BTreeMap::from([
        ("title".to_owned(), FieldChange { value: json!(title), base: None }),
        ("authors".to_owned(), FieldChange { value: json!(["هوشنگ مرادی کرمانی"]), base: None }),
    ]);
    op(desk, EntityKind::TITLE, Uuid::now_v7(), wall_ms, OpBody::Patch { fields })
}
