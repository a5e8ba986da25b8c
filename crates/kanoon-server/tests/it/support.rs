//! A server on 127.0.0.1:0 in this process over either backend, a client,
//! and ops built by hand. `backend_tests!` runs each test once per backend.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use kanoon_domain::entities::{Center, CenterKind};
use kanoon_protocol::wire::{API_PREFIX, EnrolRequest, EnrolResponse, PullResponse, PushRequest, PushResponse};
use kanoon_protocol::{EntityKind, FieldChange, Hlc, Op, OpBody, SCHEMA_VERSION};
use kanoon_server::testing::{TestPostgres, off_async};
use kanoon_server::{ErrorBody, ErrorCode, PostgresStorage, SqliteStorage, Storage};
use serde_json::json;
use tokio::sync::oneshot;
use uuid::Uuid;

/// Runs each named `async fn name(backend: Backend)` of the module as two
/// tests, `sqlite::name` and `postgres::name`. The PostgreSQL ones need
/// `KANOON_TEST_POSTGRES_URL` (see `kanoon_server::testing`).
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::support::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if kanoon_server::testing::postgres_skipped() {
                        return;
                    }
                    super::$name($crate::support::Backend::Postgres).await
                }
            )*
        }
    };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty database of one backend, removed with this value.
pub enum TestDatabase {
    Sqlite { path: PathBuf, _dir: tempfile::TempDir },
    Postgres(TestPostgres),
}

impl TestDatabase {
    pub fn create(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                TestDatabase::Sqlite { path: dir.path().join("province.sqlite"), _dir: dir }
            }
            Backend::Postgres => TestDatabase::Postgres(TestPostgres::create()),
        }
    }

    /// What `kanoon-server --database` takes.
    pub fn arg(&self) -> String {
        match self {
            TestDatabase::Sqlite { path, .. } => path.to_str().unwrap().to_owned(),
            TestDatabase::Postgres(pg) => pg.url().to_owned(),
        }
    }

    /// Opens the storage (creating and migrating the database the first time).
    pub fn open(&self) -> Store {
        match self {
            TestDatabase::Sqlite { path, .. } => Store::Sqlite(Arc::new(SqliteStorage::open(path).unwrap())),
            TestDatabase::Postgres(pg) => {
                Store::Postgres(Arc::new(off_async(|| PostgresStorage::open(pg.url())).unwrap()))
            }
        }
    }
}

/// An open storage, with what tests read behind the trait's back.
#[derive(Clone)]
pub enum Store {
    Sqlite(Arc<SqliteStorage>),
    Postgres(Arc<PostgresStorage>),
}

impl Store {
    pub fn storage(&self) -> Arc<dyn Storage> {
        match self {
            Store::Sqlite(s) => s.clone(),
            Store::Postgres(s) => s.clone(),
        }
    }

    /// Rows in the op log.
    pub fn op_count(&self) -> i64 {
        match self {
            Store::Sqlite(s) => {
                s.with_connection(|c| c.query_row("SELECT count(*) FROM ops", [], |r| r.get(0)).unwrap())
            }
            Store::Postgres(s) => {
                off_async(|| s.with_client(|c| c.query_one("SELECT count(*) FROM ops", &[]).unwrap().get(0)).unwrap())
            }
        }
    }

    /// An op's JSON as stored.
    pub fn stored_op_json(&self, op_id: Uuid) -> String {
        match self {
            Store::Sqlite(s) => s.with_connection(|c| {
                c.query_row("SELECT op FROM ops WHERE op_id = ?1", [op_id.to_string()], |r| r.get(0)).unwrap()
            }),
            Store::Postgres(s) => off_async(|| {
                s.with_client(|c| c.query_one("SELECT op FROM ops WHERE op_id = $1", &[&op_id]).unwrap().get(0))
                    .unwrap()
            }),
        }
    }

    /// Enrolment codes stored under this hash.
    pub fn enrol_codes_with_hash(&self, value: &str) -> i64 {
        match self {
            Store::Sqlite(s) => s.with_connection(|c| {
                c.query_row("SELECT count(*) FROM enrol_codes WHERE code_hash = ?1", [value], |r| r.get(0)).unwrap()
            }),
            Store::Postgres(s) => off_async(|| {
                s.with_client(|c| {
                    c.query_one("SELECT count(*) FROM enrol_codes WHERE code_hash = $1", &[&value]).unwrap().get(0)
                })
                .unwrap()
            }),
        }
    }

    /// Makes every stored enrolment code expired.
    pub fn expire_enrol_codes(&self) {
        match self {
            Store::Sqlite(s) => s.with_connection(|c| {
                c.execute("UPDATE enrol_codes SET expires_at = '2000-01-01T00:00:00.000Z'", []).unwrap();
            }),
            Store::Postgres(s) => off_async(|| {
                s.with_client(|c| {
                    c.execute("UPDATE enrol_codes SET expires_at = now() - interval '1 day'", &[]).unwrap()
                })
                .unwrap();
            }),
        }
    }

    /// Devices whose stored token hash is `value`.
    pub fn devices_with_token_hash(&self, value: &str) -> i64 {
        match self {
            Store::Sqlite(s) => s.with_connection(|c| {
                c.query_row("SELECT count(*) FROM devices WHERE token_hash = ?1", [value], |r| r.get(0)).unwrap()
            }),
            Store::Postgres(s) => off_async(|| {
                s.with_client(|c| {
                    c.query_one("SELECT count(*) FROM devices WHERE token_hash = $1", &[&value]).unwrap().get(0)
                })
                .unwrap()
            }),
        }
    }
}

pub struct TestServer {
    pub base: String,
    /// Where `/metrics` is served.
    pub admin_base: String,
    pub storage: Arc<dyn Storage>,
    pub store: Store,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    /// The real `kanoon-server serve` process, when started as one.
    process: Option<crate::binary::Running>,
    // Last: the database goes once the storage is closed.
    _db: TestDatabase,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Killed (and waited for) before the database is dropped.
        self.process.take();
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
    pub async fn start(backend: Backend) -> TestServer {
        let db = TestDatabase::create(backend);
        let store = db.open();
        let storage = store.storage();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let admin_base = format!("http://{}", admin.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let limits = kanoon_server::ConnectionLimits::default();
        tokio::spawn(kanoon_server::serve_with_admin(listener, Some(admin), storage.clone(), limits, async {
            let _ = stopped.await;
        }));
        TestServer {
            base,
            admin_base,
            storage,
            store,
            client: reqwest::Client::new(),
            stop: Some(stop),
            process: None,
            _db: db,
        }
    }

    /// The real binary, `kanoon-server serve`, as a process of its own on
    /// loopback over a fresh database; the test reads and administers the
    /// same database beside it, as the admin commands do.
    pub async fn binary(backend: Backend) -> TestServer {
        Self::binary_with(backend, &[]).await
    }

    /// `binary` with more `serve` options.
    pub async fn binary_with(backend: Backend, options: &[&str]) -> TestServer {
        let db = TestDatabase::create(backend);
        let store = db.open();
        let storage = store.storage();
        let (port, admin_port) = (crate::binary::free_port(), crate::binary::free_port());
        let mut process = crate::binary::start_with_admin(&db.arg(), port, admin_port, options);
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        crate::binary::wait_healthy(&client, &base, &mut process).await;
        TestServer {
            base,
            admin_base: format!("http://127.0.0.1:{admin_port}"),
            storage,
            store,
            client,
            stop: None,
            process: Some(process),
            _db: db,
        }
    }

    /// Runs a storage call as the HTTP layer does, off the async runtime.
    pub fn call<T: Send>(&self, f: impl FnOnce(&dyn Storage) -> T + Send) -> T {
        let storage = self.storage.clone();
        off_async(move || f(storage.as_ref()))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn admin_url(&self, path: &str) -> String {
        format!("{}{path}", self.admin_base)
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}{API_PREFIX}{path}", self.base)
    }

    /// Registers a center (as the admin command does); returns its id.
    pub fn add_center(&self, code: &str) -> Uuid {
        let center = self.call(|s| s.add_center(code, &format!("مرکز {code}"), CenterKind::Fixed)).unwrap();
        assert_eq!(center.id, Center::id_for_code(code));
        center.id
    }

    pub fn enrol_code(&self, center_code: &str) -> String {
        self.call(|s| s.create_enrol_code(center_code)).unwrap()
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

    /// `GET` of an API path by `desk`, asked gzip'd: it must come gzip'd;
    /// inflated and parsed.
    pub async fn get_gzipped<T: serde::de::DeserializeOwned>(&self, desk: &Desk, path: &str) -> T {
        let response =
            self.client.get(self.api(path)).bearer_auth(&desk.token).header("accept-encoding", "gzip").send().await;
        let response = response.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-encoding"], "gzip");
        let bytes = response.bytes().await.unwrap();
        let mut json = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut json).unwrap();
        serde_json::from_slice(&json).unwrap()
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
        self.store.op_count()
    }

    pub fn stored_op_json(&self, op_id: Uuid) -> String {
        self.store.stored_op_json(op_id)
    }
}

/// Two centers, a desk each: the hostile one (A, 1234) and B (5678).
pub async fn two_centers(backend: Backend) -> (TestServer, Desk, Desk) {
    let server = TestServer::binary(backend).await;
    server.add_center("1234");
    server.add_center("5678");
    let a = server.enrol("1234", 1).await;
    let b = server.enrol("5678", 1).await;
    (server, a, b)
}

/// B's desk still pushes and pulls: a loan of its own goes through and
/// comes back, and the refused ops are nowhere in its pull.
pub async fn other_center_still_syncs(server: &TestServer, b: &Desk, refused: &[Uuid]) {
    let loan = loan_op(b, 5000);
    assert_eq!(server.push(b, std::slice::from_ref(&loan)).await.accepted, vec![loan.op_id]);
    let page = server.pull(b, "").await;
    assert!(page.ops.iter().any(|o| o.op_id == loan.op_id));
    assert!(page.ops.iter().all(|o| !refused.contains(&o.op_id)), "a refused op reached B");
}

/// A desk of another center (5678, registered here) pushes and pulls
/// after a probe.
pub async fn a_center_still_syncs(server: &TestServer) {
    server.add_center("5678");
    let b = server.enrol("5678", 1).await;
    other_center_still_syncs(server, &b, &[]).await;
}

/// Asserts the status and the error code of an error response.
pub async fn assert_error(response: reqwest::Response, status: u16, code: ErrorCode) -> ErrorBody {
    assert_eq!(response.status(), status);
    let body: ErrorBody = response.json().await.unwrap();
    assert_eq!(body.code, code, "{body:?}");
    body
}

pub fn op(desk: &Desk, entity: &str, entity_id: Uuid, wall_ms: i64, body: OpBody) -> Op {
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
        extra: Default::default(),
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

/// A patch of `entity`'s record `entity_id` setting `field` to `value`.
pub fn patch_op(desk: &Desk, entity: &str, entity_id: Uuid, wall_ms: i64, field: &str, value: serde_json::Value) -> Op {
    let fields = BTreeMap::from([(field.to_owned(), FieldChange { value, base: None })]);
    op(desk, entity, entity_id, wall_ms, OpBody::Patch { fields })
}
