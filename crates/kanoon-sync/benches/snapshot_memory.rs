//! The server's resident memory while it serves 8 snapshots of a large
//! center at once (issue 11: under its idle figure + 100 MB), the real
//! binary in a process of its own (docs/BENCHMARKS.md, "Server: snapshot
//! memory"):
//!
//!   1. desk 1 of center 1234 is filled by `kanoon_store::demo::generate`
//!      (default: the reference size) and its outbox pushed into a SQLite
//!      server database (setup, as in `bootstrap`);
//!   2. `target/release/kanoon-server serve --max-snapshots 8` is started on
//!      that file; its VmRSS is read from /proc once it answers (idle);
//!   3. 8 clients ask for the snapshot at once (gzip'd, read as it comes and
//!      dropped) while a thread samples the server's VmRSS every 5 ms; the
//!      peak of the samples and VmHWM are printed against the idle figure.
//!
//!   cargo build --release -p kanoon-server
//!   cargo bench -p kanoon-sync --bench snapshot_memory                     # reference size
//!   cargo bench -p kanoon-sync --bench snapshot_memory -- --fraction 0.05  # quicker
//!   bash scripts/with-postgres.sh cargo bench -p kanoon-sync --bench snapshot_memory -- --backend postgres
//!
//! With PostgreSQL the database is a fresh one of the private cluster
//! `with-postgres.sh` starts; only the server binary's own memory is read
//! (PostgreSQL's backends are processes of their own).
//!
//! Not run by tests or CI (the setup alone takes a minute or more).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kanoon_domain::entities::CenterKind;
use kanoon_server::testing::{TestPostgres, off_async};
use kanoon_server::{IncomingOp, PostgresStorage, SqliteStorage, Storage};
use kanoon_store::demo::{DemoSize, generate};
use kanoon_store::{Desk, SetupRequest};

mod real_server;
use real_server::RealServer;

/// The desk binary's allocator, for the generation; the server measured is
/// the real binary (the system allocator) in a process of its own.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BENCH_DATA: &str = env!("CARGO_TARGET_TMPDIR");
const CENTER: &str = "1234";
const CLIENTS: usize = 8;

/// The value after `--name` on the command line.
fn arg(name: &str) -> Option<String> {
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        if arg == name {
            return it.next();
        }
    }
    None
}

fn fraction() -> f64 {
    arg("--fraction").map_or(1.0, |f| f.parse().unwrap())
}

/// A field of /proc/<pid>/status, in KiB.
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    std::fs::create_dir_all(BENCH_DATA).unwrap();
    let dir = tempfile::tempdir_in(BENCH_DATA).unwrap();
    let size = if fraction() >= 1.0 { DemoSize::REFERENCE } else { DemoSize::fraction(fraction()) };
    let backend = arg("--backend").unwrap_or_else(|| "sqlite".into());
    // Kept until the end: dropping it drops the database.
    let mut _pg = None;
    let (database, storage): (std::ffi::OsString, Box<dyn Storage>) = match backend.as_str() {
        "sqlite" => {
            let path = dir.path().join("province.sqlite");
            let storage = Box::new(SqliteStorage::open(&path).unwrap());
            (path.into_os_string(), storage)
        }
        "postgres" => {
            let pg = TestPostgres::create();
            let storage = Box::new(off_async(|| PostgresStorage::open(pg.url())).unwrap());
            let url = pg.url().into();
            _pg = Some(pg);
            (url, storage)
        }
        other => panic!("unknown backend {other}"),
    };
    println!("backend: {backend}");

    // 1. The center's years of work, pushed.
    let token = {
        storage.add_center(CENTER, "مرکز شماره ۱ اراک", CenterKind::Fixed).unwrap();
        let mut desk = Desk::open(&dir.path().join("desk.sqlite")).unwrap();
        desk.setup(
            SetupRequest {
                center_code: CENTER.into(),
                center_name: "مرکز شماره ۱ اراک".into(),
                center_kind: CenterKind::Fixed,
                desk_number: 1,
                manager_username: "manager".into(),
                manager_full_name: "مدیر مرکز".into(),
            },
            "kanoon1404",
        )
        .unwrap();
        let started = Instant::now();
        let summary = generate(&mut desk, size, 1404).unwrap();
        println!("dataset: {summary}; generated in {:.1} s", started.elapsed().as_secs_f64());
        let id = desk.identity().unwrap().clone();
        let code = storage.create_enrol_code(CENTER).unwrap();
        let enrolled = storage
            .enrol(&kanoon_protocol::wire::EnrolRequest {
                code,
                center_id: Some(id.center.id),
                device_id: id.device_id,
                desk_number: 1,
                device_name: "میز ۱".into(),
            })
            .unwrap();
        let mut pushed = 0;
        loop {
            let ops = desk.ops_to_push(500).unwrap();
            if ops.is_empty() {
                break;
            }
            let ids: Vec<_> = ops.iter().map(|o| o.op_id).collect();
            let incoming: Vec<_> = ops.into_iter().map(|o| IncomingOp::from_op(o).unwrap()).collect();
            storage.push(id.center.id, id.device_id, &incoming).unwrap();
            desk.mark_pushed(&ids).unwrap();
            pushed += ids.len();
        }
        println!("pushed {pushed} ops");
        enrolled.token
    };
    // The server binary holds its own connections.
    drop(storage);

    // 2. The real server on that file, idle.
    let server = RealServer::start(BENCH_DATA, &database, CLIENTS);
    let pid = server.pid();
    let base = server.url.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    std::thread::sleep(Duration::from_secs(1));
    let idle = status_kib(pid, "VmRSS:").unwrap();
    println!("server idle: VmRSS {:.1} MiB", idle as f64 / 1024.0);

    // 3. Eight snapshots at once, the server's RSS sampled meanwhile.
    let peak = Arc::new(AtomicU64::new(idle));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                if let Some(rss) = status_kib(pid, "VmRSS:") {
                    peak.fetch_max(rss, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let started = Instant::now();
    let sizes = runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut tasks = Vec::new();
        for _ in 0..CLIENTS {
            let (client, url, token) = (client.clone(), format!("{base}/sync/v1/snapshot"), token.clone());
            tasks.push(tokio::spawn(async move {
                let mut response =
                    client.get(url).bearer_auth(token).header("accept-encoding", "gzip").send().await.unwrap();
                assert_eq!(response.status(), 200);
                let mut bytes = 0usize;
                while let Some(chunk) = response.chunk().await.unwrap() {
                    bytes += chunk.len();
                }
                bytes
            }));
        }
        let mut sizes = Vec::new();
        for t in tasks {
            sizes.push(t.await.unwrap());
        }
        sizes
    });
    let took = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let hwm = status_kib(pid, "VmHWM:").unwrap();
    let peak = peak.load(Ordering::Relaxed);
    let mib = |k: u64| k as f64 / 1024.0;
    println!("{CLIENTS} snapshots at once in {took:.2} s, {:.1} MiB gzip'd each", sizes[0] as f64 / (1024.0 * 1024.0));
    println!(
        "server VmRSS: idle {:.1} MiB, peak sampled {:.1} MiB (+{:.1}), VmHWM {:.1} MiB (+{:.1}); target: + 100 MB",
        mib(idle),
        mib(peak),
        mib(peak - idle),
        mib(hwm),
        mib(hwm.saturating_sub(idle))
    );
    drop(server);
}
