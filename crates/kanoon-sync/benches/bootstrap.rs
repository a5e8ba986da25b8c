//! Bootstrap of a reinstalled desk of a large center over real HTTP on
//! loopback (docs/BENCHMARKS.md, "Server: bootstrap"):
//!
//!   1. desk 1 of center 1234 is filled by `kanoon_store::demo::generate`
//!      (default: the reference size, 60,000 copies / 40,000 titles / 6,000
//!      members / 300,000 past loans) and its whole outbox is pushed into
//!      the server's storage (setup: straight through `Storage::push`, 500
//!      ops a batch, not timed as bootstrap);
//!   2. a fresh desk (file database, same center, same desk number: a
//!      reinstalled PC, given the old PC's token) bootstraps over HTTP with
//!      `kanoon_sync::bootstrap`: `GET /snapshot` streamed (the server's
//!      consistent read and selection, gzip'd transfer, inflate + parse on
//!      the desk) and applied as its ops arrive; timed whole, with the time
//!      until the last op was read, three runs on fresh desks;
//!   3. checks: the same open loans and members as desk 1, and the next
//!      member number after desk 1's highest.
//!
//!   cargo bench -p kanoon-sync --bench bootstrap                        # reference size, SQLite server
//!   cargo bench -p kanoon-sync --bench bootstrap -- --fraction 0.05     # quicker
//!   bash scripts/with-postgres.sh cargo bench -p kanoon-sync --bench bootstrap -- --backend postgres
//!   ... -- --server-process   # the real kanoon-server binary serves (cargo build --release -p kanoon-server)
//!
//! Not run by tests or CI (the setup alone takes a minute or more).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use kanoon_domain::entities::CenterKind;
use kanoon_domain::ids::MemberNumber;
use kanoon_server::testing::{TestPostgres, off_async};
use kanoon_server::{IncomingOp, PostgresStorage, SqliteStorage, Storage};
use kanoon_store::demo::{DemoSize, generate};
use kanoon_store::members::{FeeInput, MemberDetails, RegisterMember};
use kanoon_store::sync::SyncSettings;
use kanoon_store::{Desk, SetupRequest};
use kanoon_sync::Client;

mod real_server;
use real_server::RealServer;

/// The desk binary's allocator. The server binary keeps the system's
/// (mimalloc held more memory under 8 snapshots); the desk's apply is the
/// critical path. `--features bench-system-allocator` runs both sides on
/// the system's, to bound the server's share (docs/BENCHMARKS.md).
#[cfg(not(feature = "bench-system-allocator"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Databases of the bench: in the workspace's target dir (cargo runs a
/// bench in its crate's dir), not the system's temp (often a small tmpfs).
const BENCH_DATA: &str = env!("CARGO_TARGET_TMPDIR");

const CENTER: &str = "1234";
const RUNS: usize = 3;

struct Args {
    fraction: f64,
    backend: String,
    /// Serve the snapshots from the real `kanoon-server` binary in a
    /// process of its own (its allocator, as a province runs it) instead of
    /// `kanoon_server::serve` in this process.
    server_process: bool,
}

fn args() -> Args {
    let mut a = Args { fraction: 1.0, backend: "sqlite".into(), server_process: false };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--fraction" => a.fraction = it.next().unwrap().parse().unwrap(),
            "--backend" => a.backend = it.next().unwrap(),
            "--server-process" => a.server_process = true,
            _ => {} // cargo bench passes --bench
        }
    }
    a
}

fn setup(path: &Path, desk_number: u8) -> Desk {
    let mut desk = Desk::open(path).unwrap();
    desk.setup(
        SetupRequest {
            center_code: CENTER.into(),
            center_name: "کانون پرورش فکری کودکان و نوجوانان، مرکز شماره ۱ اراک".into(),
            center_kind: CenterKind::Fixed,
            desk_number,
            manager_username: "manager".into(),
            manager_full_name: "مدیر مرکز".into(),
        },
        "kanoon1404",
    )
    .unwrap();
    desk
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Peak resident memory of this process so far, from /proc (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let args = args();
    std::fs::create_dir_all(BENCH_DATA).unwrap();
    let dir = tempfile::tempdir_in(BENCH_DATA).unwrap();

    // The server.
    let mut _pg = None;
    let mut pg_storage = None;
    let mut database = dir.path().join("province.sqlite").into_os_string();
    let storage: Arc<dyn Storage> = match args.backend.as_str() {
        "sqlite" => Arc::new(SqliteStorage::open(&dir.path().join("province.sqlite")).unwrap()),
        "postgres" => {
            let pg = TestPostgres::create();
            let s = Arc::new(off_async(|| PostgresStorage::open(pg.url())).unwrap());
            database = pg.url().into();
            _pg = Some(pg);
            pg_storage = Some(s.clone());
            s
        }
        other => panic!("unknown backend {other}"),
    };
    storage.add_center(CENTER, "مرکز شماره ۱ اراک", CenterKind::Fixed).unwrap();

    // 1. Desk 1's years of work, pushed.
    let size = if args.fraction >= 1.0 { DemoSize::REFERENCE } else { DemoSize::fraction(args.fraction) };
    let started = Instant::now();
    let mut old = setup(&dir.path().join("desk-old.sqlite"), 1);
    let summary = generate(&mut old, size, 1404).unwrap();
    println!("dataset: {summary}; generated in {:.1} s", started.elapsed().as_secs_f64());
    let started = Instant::now();
    let (center_id, device_id) = {
        let id = old.identity().unwrap();
        (id.center.id, id.device_id)
    };
    // Desk 1's old PC is enrolled (a push names an enrolled device).
    let code = storage.create_enrol_code(CENTER).unwrap();
    let enrolled = storage
        .enrol(&kanoon_protocol::wire::EnrolRequest {
            code,
            center_id: Some(center_id),
            device_id,
            desk_number: 1,
            device_name: "میز ۱".into(),
        })
        .unwrap();
    let mut pushed = 0usize;
    loop {
        let ops = old.ops_to_push(500).unwrap();
        if ops.is_empty() {
            break;
        }
        let ids: Vec<_> = ops.iter().map(|o| o.op_id).collect();
        let incoming: Vec<_> = ops.into_iter().map(|o| IncomingOp::from_op(o).unwrap()).collect();
        let answer = storage.push(center_id, device_id, &incoming).unwrap();
        assert_eq!(answer.accepted.len(), ids.len());
        old.mark_pushed(&ids).unwrap();
        pushed += ids.len();
    }
    println!("pushed {pushed} ops in {:.1} s", started.elapsed().as_secs_f64());
    // A server whose log grew over years has had it vacuumed and analyzed
    // by autovacuum long ago; right after a bulk load the runs would
    // measure autovacuum's first pass and the hint bits set by the first
    // reads instead.
    if let Some(pg) = &pg_storage {
        let started = Instant::now();
        off_async(|| pg.with_client(|c| c.batch_execute("VACUUM (ANALYZE) ops")).unwrap().unwrap());
        println!("vacuumed and analyzed in {:.1} s", started.elapsed().as_secs_f64());
    }
    let old_loans = old.all_open_loans().unwrap();
    let old_members = old.list_members(0, 1_000_000).unwrap();
    let highest = summary.member_numbers.iter().max().cloned().unwrap_or_default();

    // The server's part alone: the consistent read and the selection.
    let t = Instant::now();
    let alone = storage.snapshot(center_id).unwrap();
    println!(
        "server: Storage::snapshot alone {:.2} s ({} ops, {:.1} MiB of JSON as stored)",
        t.elapsed().as_secs_f64(),
        alone.ops.len(),
        mib(alone.ops_bytes())
    );
    drop(alone);

    // 2. Reinstalled desks bootstrap over HTTP.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut _process = None;
    let url = if args.server_process {
        let server = RealServer::start(BENCH_DATA, &database, 1);
        println!("server: the real binary, pid {}", server.pid());
        let url = server.url.clone();
        _process = Some(server);
        url
    } else {
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        runtime.spawn(kanoon_server::serve(listener, storage.clone()));
        url
    };
    let client = Client::new(&url, None).unwrap();
    let mut rows = Vec::new();
    for run in 0..RUNS {
        // The new PC is desk 1 again; it is given the old PC's token (the
        // server has no command yet to give a desk number to a new device,
        // and the snapshot depends only on the center).
        let path = dir.path().join(format!("desk-new-{run}.sqlite"));
        let desk = Mutex::new(setup(&path, 1));
        let settings = SyncSettings { server: url.clone(), token: enrolled.token.clone() };
        desk.lock().unwrap().set_sync_settings(&settings).unwrap();
        let token = settings.token.clone();

        let t0 = Instant::now();
        let done = runtime.block_on(kanoon_sync::bootstrap(&desk, &client)).unwrap();
        let total = t0.elapsed().as_secs_f64();
        let (read, report) = (done.read_in.as_secs_f64(), &done.applied);
        // The apply overlaps the read: what is left of it once the last op is read.
        let (fetched, applied) = (read, total - read);
        println!(
            "run {}: {} ops; read (request + transfer + inflate + parse, applying meanwhile) {:.2} s \
             + apply after the last op {:.2} s = {:.2} s (the apply waited {:.2} s for the read); \
             applied {}, kept {}, exceptions {}",
            run + 1,
            done.received,
            fetched,
            applied,
            total,
            done.waited.as_secs_f64(),
            report.applied,
            report.kept,
            report.exceptions
        );
        rows.push((fetched, applied, total));

        // 3. The same center as desk 1 had it.
        let d = desk.lock().unwrap();
        assert_eq!(d.all_open_loans().unwrap(), old_loans);
        assert_eq!(d.list_members(0, 1_000_000).unwrap().len(), old_members.len());
        drop(d);
        if run == 0 {
            let gz = gzipped_body(&runtime, &url, &token);
            println!("snapshot on the wire: {:.1} MiB gzip'd", mib(gz.len()));
            // The inbox now keeps each op's text as served instead of the op
            // written again: the same text, byte for byte.
            #[derive(serde::Deserialize)]
            struct Texts {
                ops: Vec<Box<serde_json::value::RawValue>>,
            }
            let mut json = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut json).unwrap();
            let texts: Texts = serde_json::from_slice(&json).unwrap();
            for text in &texts.ops {
                let op: kanoon_protocol::Op = serde_json::from_str(text.get()).unwrap();
                assert_eq!(serde_json::to_string(&op).unwrap(), text.get());
            }
            println!(
                "{} ops ({:.1} MiB of JSON), each served as the op written again",
                texts.ops.len(),
                mib(json.len())
            );
        }
        let next = {
            let mut d = desk.lock().unwrap();
            d.sign_in("manager", "kanoon1404").unwrap();
            let member = RegisterMember {
                confirm_duplicate_national_id: true,
                ..RegisterMember::new(
                    MemberDetails {
                        father_name: "علی".into(),
                        birth_date: Some(kanoon_domain::jalali::JalaliDate::new(1395, 1, 1).unwrap()),
                        national_id: Some(
                            kanoon_domain::ids::NationalId::from_body(&format!("{:09}", 900_000_000 + run))
                                .unwrap()
                                .as_str()
                                .to_owned(),
                        ),
                        ..MemberDetails::named("تازه", "وارد", kanoon_domain::entities::Gender::Female)
                    },
                    FeeInput::Paid { amount_rials: 350_000, receipt_number: "1".into() },
                )
            };
            match d.register_member(member).unwrap() {
                kanoon_store::members::RegisterOutcome::Registered { member } => member.member_number,
                other => panic!("{other:?}"),
            }
        };
        let counter = |n: &str| -> u64 { n[CENTER.len() + 2..n.len() - 1].parse().unwrap() };
        assert!(MemberNumber::parse(&next).is_ok());
        assert_eq!(counter(&next), counter(&highest) + 1, "{next} after {highest}");
    }
    // The split, unstreamed: the snapshot read whole, then applied alone
    // (what the streamed runs overlap), on one more fresh desk.
    {
        let t = Instant::now();
        let snapshot = runtime.block_on(client.snapshot(&enrolled.token)).unwrap();
        let request = t.elapsed().as_secs_f64();
        let mut d = setup(&dir.path().join("desk-split.sqlite"), 1);
        let (cpu, t) = (thread_cpu(), Instant::now());
        d.apply_snapshot(&snapshot.ops, snapshot.cursor).unwrap();
        println!(
            "split, unstreamed: request {request:.2} s, then apply alone {:.2} s ({:.2} s of CPU)",
            t.elapsed().as_secs_f64(),
            thread_cpu() - cpu
        );
    }
    let best = rows.iter().map(|r| r.2).fold(f64::INFINITY, f64::min);
    let median = {
        let mut t: Vec<f64> = rows.iter().map(|r| r.2).collect();
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    };
    let mid = |i: usize| {
        let mut t: Vec<f64> = rows.iter().map(|r: &(f64, f64, f64)| [r.0, r.1][i]).collect();
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    };
    println!(
        "bootstrap ({} backend, streamed): median {median:.2} s (read {:.2} s, apply after it {:.2} s), best {best:.2} s",
        args.backend,
        mid(0),
        mid(1)
    );
    if let Some(peak) = peak_rss_mib() {
        println!("peak RSS of the bench process (generation, server and desks together): {peak:.0} MiB");
    }
}

/// The snapshot gzip'd, as the server sends it.
fn gzipped_body(runtime: &tokio::runtime::Runtime, url: &str, token: &str) -> Vec<u8> {
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .get(format!("{url}/sync/v1/snapshot"))
            .bearer_auth(token)
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["content-encoding"], "gzip");
        response.bytes().await.unwrap().to_vec()
    })
}

/// CPU time of this thread so far, in seconds (Linux).
fn thread_cpu() -> f64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    s.split_whitespace().next().unwrap().parse::<f64>().unwrap() / 1e9
}
