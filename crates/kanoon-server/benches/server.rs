//! Server benchmarks over real HTTP on loopback, per backend, printing the
//! figures of docs/BENCHMARKS.md ("Server"):
//!
//!   (a) ingest: 49 centers push concurrently, in batches of 500 loan and
//!       return ops, into one server (in this process, on a tokio runtime;
//!       clients are reqwest); beside it the floor: the same rows inserted
//!       by one client straight into a table of the same shape, 500 a
//!       transaction, in the same database;
//!   (b) one center's day: a desk pushes 500 ops, another desk of the same
//!       center pulls them back; round trip p50/p99;
//!   (c) bytes per op on the wire, JSON and gzip'd, push and pull.
//!
//!   cargo bench -p kanoon-server --bench server                      # SQLite (+ PostgreSQL if configured)
//!   bash scripts/with-postgres.sh cargo bench -p kanoon-server --bench server
//!   cargo bench -p kanoon-server --bench server -- --batches 4 --reps 10 --backend sqlite
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kanoon_domain::entities::CenterKind;
use kanoon_protocol::wire::{API_PREFIX, Cursor, EnrolRequest, EnrolResponse, PullResponse, PushResponse};
use kanoon_protocol::{EntityKind, Hlc, Op, OpBody, SCHEMA_VERSION};
use kanoon_server::testing::{TestPostgres, off_async};
use kanoon_server::{PostgresStorage, SqliteStorage, Storage};
use serde_json::json;
use uuid::Uuid;

/// Databases of the bench: in the workspace's target dir (cargo runs a
/// bench in its crate's dir), not the system's temp (often a small tmpfs).
const BENCH_DATA: &str = env!("CARGO_TARGET_TMPDIR");

const CENTERS: usize = 49;
const BATCH: usize = 500;

struct Args {
    batches: usize,
    reps: usize,
    backends: Vec<String>,
}

fn args() -> Args {
    let mut a = Args { batches: 10, reps: 30, backends: vec![] };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--batches" => a.batches = it.next().unwrap().parse().unwrap(),
            "--reps" => a.reps = it.next().unwrap().parse().unwrap(),
            "--backend" => a.backends.push(it.next().unwrap()),
            _ => {} // cargo bench passes --bench
        }
    }
    if a.backends.is_empty() {
        a.backends.push("sqlite".into());
        if std::env::var("KANOON_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()) {
            a.backends.push("postgres".into());
        } else {
            eprintln!("(no KANOON_TEST_POSTGRES_URL: PostgreSQL skipped; run under scripts/with-postgres.sh)");
        }
    }
    a
}

/// A fresh database of one backend, kept alive with its storage.
enum Db {
    Sqlite { storage: Arc<SqliteStorage>, _dir: tempfile::TempDir },
    // The storage closes before the database is dropped.
    Postgres { storage: Arc<PostgresStorage>, _pg: TestPostgres },
}

impl Db {
    fn create(backend: &str) -> Db {
        match backend {
            "sqlite" => {
                // Under target/ (a real disk), not tmpfs.
                std::fs::create_dir_all(BENCH_DATA).unwrap();
                let dir = tempfile::tempdir_in(BENCH_DATA).unwrap();
                let storage = SqliteStorage::open(&dir.path().join("province.sqlite")).unwrap();
                Db::Sqlite { storage: Arc::new(storage), _dir: dir }
            }
            "postgres" => {
                let pg = TestPostgres::create();
                let storage = off_async(|| PostgresStorage::open(pg.url())).unwrap();
                Db::Postgres { storage: Arc::new(storage), _pg: pg }
            }
            other => panic!("unknown backend {other}"),
        }
    }

    fn storage(&self) -> Arc<dyn Storage> {
        match self {
            Db::Sqlite { storage, .. } => storage.clone(),
            Db::Postgres { storage, .. } => storage.clone(),
        }
    }

    /// PostgreSQL only: the same rows, one `INSERT … SELECT unnest(…)` of
    /// 500 rows a transaction (what a push could do instead of 500 INSERTs).
    fn floor_unnest(&self, rows: &[Row], table: &str, tail: &str) -> Option<Duration> {
        let Db::Postgres { storage: s, .. } = self else { return None };
        Some(off_async(|| {
            s.with_client(|c| {
                c.batch_execute(&format!("CREATE TABLE {table} (LIKE floor_ops INCLUDING ALL)")).unwrap();
                // Every phase starts from a checkpoint: none lands in one
                // phase's seconds and not in another's.
                c.batch_execute("CHECKPOINT").unwrap();
                let now = chrono::Utc::now();
                let started = Instant::now();
                for chunk in rows.chunks(BATCH) {
                    let mut tx = c.transaction().unwrap();
                    let col = |f: &dyn Fn(&Row) -> Uuid| chunk.iter().map(f).collect::<Vec<Uuid>>();
                    let (op_ids, centers, entity_ids, devices) = (
                        col(&|r| r.op.op_id),
                        col(&|r| r.op.center_id),
                        col(&|r| r.op.entity_id),
                        col(&|r| r.op.device_id),
                    );
                    let scopes: Vec<String> = chunk.iter().map(|r| r.op.center_id.to_string()).collect();
                    let entities: Vec<&str> = chunk.iter().map(|r| r.op.entity.as_str()).collect();
                    let hlcs: Vec<String> = chunk.iter().map(|r| r.op.hlc.to_sortable()).collect();
                    let jsons: Vec<&str> = chunk.iter().map(|r| r.json.as_str()).collect();
                    tx.query(
                        &format!(
                            "INSERT INTO {table} (op_id, center_id, scope, entity, entity_id, device_id, pushed_by,
                                 hlc, op, received_at)
                             SELECT o, c, s, e, ei, d, d, h, j, $9
                             FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::uuid[], $6::uuid[],
                                         $7::text[], $8::text[]) AS t (o, c, s, e, ei, d, h, j) {tail}"
                        ),
                        &[&op_ids, &centers, &scopes, &entities, &entity_ids, &devices, &hlcs, &jsons, &now],
                    )
                    .unwrap();
                    tx.commit().unwrap();
                }
                started.elapsed()
            })
            .unwrap()
        }))
    }

    /// The floor: `rows` inserted by one client into a table shaped like
    /// `ops`, `BATCH` a transaction, each row by the same prepared INSERT.
    fn floor(&self, rows: &[Row]) -> Duration {
        match self {
            Db::Sqlite { storage: s, .. } => s.with_connection(|c| {
                c.execute_batch(
                    "CREATE TABLE floor_ops (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT, op_id TEXT NOT NULL UNIQUE, center_id TEXT NOT NULL,
                        scope TEXT NOT NULL, entity TEXT NOT NULL, entity_id TEXT NOT NULL, device_id TEXT NOT NULL,
                        pushed_by TEXT NOT NULL, hlc TEXT NOT NULL, op TEXT NOT NULL, received_at TEXT NOT NULL
                    ) STRICT;
                    CREATE INDEX floor_scope_seq ON floor_ops (scope, seq);
                    CREATE INDEX floor_entity ON floor_ops (entity, entity_id);",
                )
                .unwrap();
                let started = Instant::now();
                for chunk in rows.chunks(BATCH) {
                    c.execute_batch("BEGIN IMMEDIATE").unwrap();
                    {
                        let mut insert = c
                            .prepare_cached(
                                "INSERT INTO floor_ops (op_id, center_id, scope, entity, entity_id, device_id,
                                 pushed_by, hlc, op, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                            )
                            .unwrap();
                        for r in chunk {
                            insert
                                .execute(rusqlite::params![
                                    r.op.op_id.to_string(),
                                    r.op.center_id.to_string(),
                                    r.op.center_id.to_string(),
                                    r.op.entity.as_str(),
                                    r.op.entity_id.to_string(),
                                    r.op.device_id.to_string(),
                                    r.op.device_id.to_string(),
                                    r.op.hlc.to_sortable(),
                                    r.json,
                                    "2026-11-25T10:00:00.000Z",
                                ])
                                .unwrap();
                        }
                    }
                    c.execute_batch("COMMIT").unwrap();
                }
                started.elapsed()
            }),
            Db::Postgres { storage: s, .. } => off_async(|| {
                s.with_client(|c| {
                    c.batch_execute(
                        "CREATE TABLE floor_ops (
                            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, op_id uuid NOT NULL UNIQUE,
                            center_id uuid NOT NULL, scope text NOT NULL, entity text NOT NULL, entity_id uuid NOT NULL,
                            device_id uuid NOT NULL, pushed_by uuid NOT NULL, hlc text NOT NULL, op text NOT NULL,
                            received_at timestamptz NOT NULL);
                        CREATE INDEX floor_scope_seq ON floor_ops (scope, seq);
                        CREATE INDEX floor_entity ON floor_ops (entity, entity_id);
                        CHECKPOINT;",
                    )
                    .unwrap();
                    let now = chrono::Utc::now();
                    let started = Instant::now();
                    for chunk in rows.chunks(BATCH) {
                        let mut tx = c.transaction().unwrap();
                        let insert = tx
                            .prepare(
                                "INSERT INTO floor_ops (op_id, center_id, scope, entity, entity_id, device_id,
                                 pushed_by, hlc, op, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                            )
                            .unwrap();
                        for r in chunk {
                            let scope = r.op.center_id.to_string();
                            tx.execute(
                                &insert,
                                &[
                                    &r.op.op_id,
                                    &r.op.center_id,
                                    &scope,
                                    &r.op.entity.as_str(),
                                    &r.op.entity_id,
                                    &r.op.device_id,
                                    &r.op.device_id,
                                    &r.op.hlc.to_sortable(),
                                    &r.json,
                                    &now,
                                ],
                            )
                            .unwrap();
                        }
                        tx.commit().unwrap();
                    }
                    started.elapsed()
                })
                .unwrap()
            }),
        }
    }
}

/// An op with its JSON as a desk sends it.
struct Row {
    op: Op,
    json: String,
}

/// A desk enrolled through the API.
#[derive(Clone)]
struct Desk {
    device_id: Uuid,
    center_id: Uuid,
    token: String,
}

/// A UUIDv7 of `ms` with fresh random bits, as ids made over a day are
/// (`Uuid::now_v7` in a tight loop would count within one millisecond and
/// make the ops unrealistically compressible).
fn id(ms: i64) -> Uuid {
    let ms = u64::try_from(ms).unwrap();
    Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, ms / 1000, (ms % 1000) as u32 * 1_000_000))
}

/// `n` circulation ops of a desk as a real day makes them: loans of copies
/// to members registered earlier, and returns of earlier loans (about one
/// in three), one every few seconds.
fn day_ops(desk: &Desk, n: usize, start_ms: i64) -> Vec<Op> {
    let staff = id(start_ms - 90 * 86_400_000);
    let mut open: Vec<(Uuid, Uuid)> = Vec::new();
    (0..n)
        .map(|i| {
            let wall_ms = start_ms + i as i64 * 7_000;
            let (entity_id, kind, data) = if i % 3 == 2
                && let Some((loan_id, copy_id)) = open.pop()
            {
                (id(wall_ms), "return", json!({ "loan_id": loan_id, "copy_id": copy_id, "returned_on": "2026-11-25" }))
            } else {
                let (loan_id, copy_id) = (id(wall_ms), id(wall_ms - 400 * 86_400_000));
                open.push((loan_id, copy_id));
                let data = json!({
                    "copy_id": copy_id,
                    "member_id": id(wall_ms - 200 * 86_400_000),
                    "lent_on": "2026-11-25",
                    "due_on": "2026-12-09",
                    "overridden": null,
                });
                (loan_id, "loan", data)
            };
            Op {
                op_id: id(wall_ms),
                schema_version: SCHEMA_VERSION,
                hlc: Hlc::new(wall_ms, 0),
                device_id: desk.device_id,
                center_id: desk.center_id,
                entity: EntityKind::new(EntityKind::CIRCULATION),
                entity_id,
                staff_id: Some(staff),
                body: OpBody::Event { kind: kind.into(), data },
                extra: Default::default(),
            }
        })
        .collect()
}

fn push_body(ops: &[Op]) -> Vec<u8> {
    serde_json::to_vec(&json!({ "ops": ops })).unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

struct Server {
    base: String,
    client: reqwest::Client,
}

impl Server {
    fn api(&self, path: &str) -> String {
        format!("{}{API_PREFIX}{path}", self.base)
    }

    async fn enrol(&self, storage: &Arc<dyn Storage>, center: &str, desk_number: u8) -> Desk {
        let (storage, center_code) = (storage.clone(), center.to_owned());
        let code = off_async(move || storage.create_enrol_code(&center_code)).unwrap();
        let device_id = Uuid::now_v7();
        let request =
            EnrolRequest { code, center_id: None, device_id, desk_number, device_name: format!("bench {center}") };
        let r: EnrolResponse =
            self.client.post(self.api("/enrol")).json(&request).send().await.unwrap().json().await.unwrap();
        Desk { device_id, center_id: r.center_id, token: r.token }
    }

    async fn push(&self, desk: &Desk, body: Vec<u8>) -> PushResponse {
        let r = self
            .client
            .post(self.api("/push"))
            .bearer_auth(&desk.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    /// A pull page, and the bytes of the response on the wire.
    async fn pull(&self, desk: &Desk, cursor: Cursor, gzip: bool) -> (PullResponse, usize) {
        let mut request = self
            .client
            .get(self.api("/pull"))
            .bearer_auth(&desk.token)
            .query(&[("cursor", cursor.to_string()), ("limit", "2000".to_owned())]);
        if gzip {
            request = request.header("accept-encoding", "gzip");
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), 200);
        let compressed = r.headers().get("content-encoding").is_some_and(|v| v == "gzip");
        let bytes = r.bytes().await.unwrap();
        let wire = bytes.len();
        let json = if compressed {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut out).unwrap();
            out
        } else {
            bytes.to_vec()
        };
        (serde_json::from_slice(&json).unwrap(), wire)
    }
}

async fn bench(backend: &str, args: &Args) {
    let db = Db::create(backend);
    let storage = db.storage();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(kanoon_server::serve_with_shutdown(listener, storage.clone(), async {
        let _ = stopped.await;
    }));
    let server =
        Arc::new(Server { base, client: reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap() });

    let codes: Vec<String> = (0..CENTERS).map(|i| format!("{}", 1001 + i)).collect();
    for code in &codes {
        let (storage, code) = (storage.clone(), code.clone());
        off_async(move || storage.add_center(&code, &format!("مرکز {code}"), CenterKind::Fixed)).unwrap();
    }
    let mut desks = Vec::new();
    for code in &codes {
        desks.push(server.enrol(&storage, code, 1).await);
    }

    // (a) ingest.
    let per_center = args.batches * BATCH;
    let total = CENTERS * per_center;
    let mut bodies = Vec::new();
    let mut rows = Vec::with_capacity(total);
    for desk in &desks {
        let ops = day_ops(desk, per_center, 1_764_000_000_000);
        let batches: Vec<Vec<u8>> = ops.chunks(BATCH).map(push_body).collect();
        // Floor rows: the same shape, other ids (they go to another table).
        for op in day_ops(desk, per_center, 1_764_000_000_000) {
            let json = serde_json::to_string(&op).unwrap();
            rows.push(Row { op, json });
        }
        bodies.push(batches);
    }
    if let Db::Postgres { storage: s, .. } = &db {
        let s = s.clone();
        off_async(move || s.with_client(|c| c.batch_execute("CHECKPOINT")).unwrap().unwrap());
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (desk, batches) in desks.iter().cloned().zip(bodies) {
        let server = server.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut accepted = 0;
            for body in batches {
                let t = Instant::now();
                accepted += server.push(&desk, body).await.accepted.len();
                latencies.push(t.elapsed().as_secs_f64() * 1e3);
            }
            (accepted, latencies)
        }));
    }
    let mut accepted = 0;
    let mut latencies = Vec::new();
    for task in tasks {
        let (a, l) = task.await.unwrap();
        accepted += a;
        latencies.extend(l);
    }
    let ingest = started.elapsed();
    assert_eq!(accepted, total);
    latencies.sort_by(f64::total_cmp);
    let floor = off_async(|| db.floor(&rows));
    let floor_unnest = db.floor_unnest(&rows, "floor_unnest", "");
    // The push's own statement shape: duplicates skipped, seqs returned.
    let floor_conflict =
        db.floor_unnest(&rows, "floor_unnest_conflict", "ON CONFLICT (op_id) DO NOTHING RETURNING op_id, seq");
    println!("\n== {backend} ==");
    println!(
        "(a) ingest: {CENTERS} centers × {} batches × {BATCH} ops = {total} ops in {:.2} s = {:.0} ops/s \
         (push p50 {:.0} ms, p99 {:.0} ms)",
        args.batches,
        ingest.as_secs_f64(),
        total as f64 / ingest.as_secs_f64(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
    );
    println!(
        "    floor: {total} rows, one client, {BATCH} a transaction: {:.2} s = {:.0} rows/s (ingest = {:.0}% of floor)",
        floor.as_secs_f64(),
        total as f64 / floor.as_secs_f64(),
        100.0 * floor.as_secs_f64() / ingest.as_secs_f64()
    );

    if let Some(f) = floor_unnest {
        println!(
            "    floor, one INSERT … unnest of {BATCH} rows a transaction: {:.2} s = {:.0} rows/s (ingest = {:.0}% of it)",
            f.as_secs_f64(),
            total as f64 / f.as_secs_f64(),
            100.0 * f.as_secs_f64() / ingest.as_secs_f64()
        );
    }
    if let Some(f) = floor_conflict {
        println!(
            "    floor, the same with ON CONFLICT (op_id) DO NOTHING RETURNING: {:.2} s = {:.0} rows/s (ingest = {:.0}% of it)",
            f.as_secs_f64(),
            total as f64 / f.as_secs_f64(),
            100.0 * f.as_secs_f64() / ingest.as_secs_f64()
        );
    }

    // (b) one center's day: desk 1 pushes 500, desk 2 pulls them back.
    let a = desks[0].clone();
    let b = server.enrol(&storage, &codes[0], 2).await;
    let mut cursor = Cursor::default();
    loop {
        let (page, _) = server.pull(&b, cursor, false).await;
        cursor = page.cursor;
        if !page.more {
            break;
        }
    }
    let mut trips = Vec::new();
    let (mut push_json, mut push_gz, mut pull_json, mut pull_gz) = (0, 0, 0, 0);
    let (mut ops_json, mut ops_gz) = (0, 0);
    for rep in 0..args.reps {
        let ops = day_ops(&a, BATCH, 1_765_000_000_000 + rep as i64 * 1_000_000);
        let body = push_body(&ops);
        push_json += body.len();
        push_gz += gzip(&body).len();
        let t = Instant::now();
        assert_eq!(server.push(&a, body).await.accepted.len(), BATCH);
        let mut got = 0;
        loop {
            let (page, wire) = server.pull(&b, cursor, rep % 2 == 1).await;
            got += page.ops.len();
            cursor = page.cursor;
            if rep % 2 == 1 {
                pull_gz += wire;
            } else {
                pull_json += wire;
            }
            if !page.more {
                break;
            }
        }
        trips.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(got, BATCH);
        if rep % 2 == 1 {
            ops_gz += got;
        } else {
            ops_json += got;
        }
    }
    trips.sort_by(f64::total_cmp);
    println!(
        "(b) day of one center: push {BATCH} + pull them by another desk, {} reps over a log of {} ops: \
         p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        args.reps,
        total + args.reps * BATCH,
        percentile(&trips, 0.5),
        percentile(&trips, 0.99),
        trips[trips.len() - 1]
    );
    let reps = args.reps as f64;
    println!(
        "(c) bytes per op: push JSON {:.0}, push gzip {:.0} ({:.1}×); pull JSON {:.0}, pull gzip {:.0}",
        push_json as f64 / (reps * BATCH as f64),
        push_gz as f64 / (reps * BATCH as f64),
        push_json as f64 / push_gz as f64,
        pull_json as f64 / ops_json.max(1) as f64,
        pull_gz as f64 / ops_gz.max(1) as f64,
    );

    let _ = stop.send(());
    serving.await.unwrap().unwrap();
    drop(storage);
    drop(db);
}

fn main() {
    let args = args();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    println!(
        "server bench: {CENTERS} centers, batches of {BATCH}, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for backend in &args.backends {
        runtime.block_on(bench(backend, &args));
    }
}
