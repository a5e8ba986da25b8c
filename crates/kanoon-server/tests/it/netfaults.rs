//! Real desks and the real server binary in network namespaces this test
//! makes (iproute2, veth): first 30 % random packet loss each way from
//! nftables `numgen` rules, then a 1 s delay and a partition that heals
//! from a fault proxy the test owns (this kernel has no `netem`). The
//! desks of two centers lend and take back books all along and sync; once
//! the network heals, every loan and return either desk recorded is on
//! the server exactly once and both outboxes are empty.
//!
//! Needs root, `ip` and `nft`: skipped without them, unless
//! `KANOON_NETNS_TESTS=1` (as `scripts/test.sh` sets) makes that a failure.

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kanoon_domain::entities::CenterKind;
use kanoon_store::catalog::TitleInput;
use kanoon_store::circulation::{BookStatus, CheckOutRequest};
use kanoon_store::{Desk, SetupRequest};
use kanoon_sync::{Client, enrol, sync_once};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;

use crate::binary::{Running, run};
use crate::desks::register;
use crate::tls::{pki_for, write};

const BIN: &str = env!("CARGO_BIN_EXE_kanoon-server");
/// Where the server listens inside its namespace, and the proxy in front.
const SERVER_PORT: u16 = 8440;
const PROXY_PORT: u16 = 7000;

fn sh(program: &str, args: &[&str]) {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn works(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// The namespaces of one run (named after the process), deleted on drop
/// with their veth links.
struct Lab {
    tag: String,
    namespaces: Vec<String>,
}

impl Lab {
    /// `None` when this machine cannot make namespaces and nftables rules.
    fn new() -> Option<Lab> {
        let tag = format!("k{}", std::process::id() % 100_000);
        let probe = format!("{tag}probe");
        let possible = works("nft", &["--version"])
            && works("ip", &["netns", "add", &probe])
            && works("ip", &["netns", "exec", &probe, "nft", "list", "ruleset"]);
        let _ = works("ip", &["netns", "del", &probe]);
        possible.then(|| Lab { tag, namespaces: Vec::new() })
    }

    fn namespace(&mut self, role: &str) -> String {
        let name = format!("{}{role}", self.tag);
        sh("ip", &["netns", "add", &name]);
        self.namespaces.push(name.clone());
        sh("ip", &["-n", &name, "link", "set", "lo", "up"]);
        name
    }

    /// A veth link from `desk` to `server` on 10.250.`net`.0/24 (the
    /// server's end .1, the desk's .2); the server end's name.
    fn link(&self, desk: &str, server: &str, net: u8) -> String {
        let (d, s) = (format!("{}d{net}", self.tag), format!("{}s{net}", self.tag));
        sh("ip", &["link", "add", &d, "type", "veth", "peer", "name", &s]);
        sh("ip", &["link", "set", &d, "netns", desk]);
        sh("ip", &["link", "set", &s, "netns", server]);
        sh("ip", &["-n", desk, "addr", "add", &format!("10.250.{net}.2/24"), "dev", &d]);
        sh("ip", &["-n", server, "addr", "add", &format!("10.250.{net}.1/24"), "dev", &s]);
        sh("ip", &["-n", desk, "link", "set", &d, "up"]);
        sh("ip", &["-n", server, "link", "set", &s, "up"]);
        s
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for name in &self.namespaces {
            let _ = works("ip", &["netns", "del", name]);
        }
    }
}

/// `nft` in a namespace.
fn nft(namespace: &str, args: &[&str]) {
    let mut all = vec!["netns", "exec", namespace, "nft"];
    all.extend_from_slice(args);
    sh("ip", &all);
}

/// Runs `f` on a thread of its own inside `namespace`, on a runtime of
/// that thread: every socket it opens is the namespace's.
fn in_namespace<T, F>(namespace: &str, f: impl FnOnce() -> F + Send + 'static) -> std::thread::JoinHandle<T>
where
    T: Send + 'static,
    F: std::future::Future<Output = T>,
{
    let path = format!("/run/netns/{namespace}");
    std::thread::spawn(move || {
        let file = File::open(&path).unwrap();
        nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f())
    })
}

/// What the fault proxy does to the bytes it forwards, set by the test.
#[derive(Default)]
struct Faults {
    delay_ms: AtomicU64,
    partitioned: AtomicBool,
    stop: AtomicBool,
}

/// Forwards connections to `upstream`; each chunk waits `delay_ms`; while
/// partitioned, open connections are cut and new ones closed at once.
async fn proxy(listener: TcpListener, upstream: SocketAddr, faults: Arc<Faults>) {
    while !faults.stop.load(SeqCst) {
        let Ok(Ok((down, _))) = tokio::time::timeout(Duration::from_millis(100), listener.accept()).await else {
            continue;
        };
        if faults.partitioned.load(SeqCst) {
            continue;
        }
        let faults = faults.clone();
        tokio::spawn(async move {
            let Ok(up) = TcpStream::connect(upstream).await else { return };
            let ((dr, dw), (ur, uw)) = (down.into_split(), up.into_split());
            let _ = tokio::join!(pump(dr, uw, faults.clone()), pump(ur, dw, faults));
        });
    }
}

async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, faults: Arc<Faults>) {
    let mut buf = vec![0; 64 * 1024];
    while !faults.partitioned.load(SeqCst) {
        let n = match tokio::time::timeout(Duration::from_millis(100), from.read(&mut buf)).await {
            Err(_) => continue,
            Ok(Ok(0) | Err(_)) => return,
            Ok(Ok(n)) => n,
        };
        let delay = faults.delay_ms.load(SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        if faults.partitioned.load(SeqCst) || to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// The network's state, as the desks see it in their round log.
/// "healed" is set before the partition lifts; a round that began in one
/// phase and ended in another (one that waited out the partition and got
/// through after the heal) is counted under "across a change", never as the
/// partition's.
const PHASES: [&str; 6] = ["clean", "30 % loss", "1 s delay", "partition", "healed", "across a change"];

/// What a desk recorded and whether it got everything to the server.
struct DeskRun {
    /// Per phase: sync rounds that completed, and that failed or timed out.
    rounds: [(u32, u32); 6],
    /// Loans recorded while partitioned: they wait in the outbox.
    loans_while_partitioned: usize,
    device_id: Uuid,
    /// Loan ids: each is one loan op.
    loans: Vec<Uuid>,
    /// Circulation ops in all (loans and returns).
    circulation_ops: usize,
    outbox_left: i64,
}

fn open_desk(dir: &Path, center_code: &str) -> Mutex<Desk> {
    let mut desk = Desk::open(&dir.join(format!("desk-{center_code}.sqlite"))).unwrap();
    let request = SetupRequest {
        center_code: center_code.into(),
        center_name: format!("کانون شماره {center_code}"),
        center_kind: CenterKind::Fixed,
        desk_number: 1,
        manager_username: "manager".into(),
        manager_full_name: "مدیر".into(),
    };
    desk.setup(request, "kanoon1404").unwrap();
    Mutex::new(desk)
}

/// A desk of `center_code`: enrols, then lends and takes back books round
/// after round, syncing after each (a round may time out), until `drain`;
/// then syncs until its outbox is empty.
async fn desk_at_work(
    dir: PathBuf,
    center_code: String,
    code: String,
    (url, ca): (String, String),
    drain: Arc<AtomicBool>,
    phase: Arc<AtomicU64>,
) -> DeskRun {
    let desk = open_desk(&dir, &center_code);
    let numbers: Vec<String> = (1..=6).map(|i| format!("{center_code}{i:02}")).collect();
    desk.lock()
        .unwrap()
        .add_title_with_copies(TitleInput { title: "ماهی سیاه کوچولو".into(), ..Default::default() }, &numbers)
        .unwrap();
    let body = center_code.parse::<u64>().unwrap() * 100;
    let members: Vec<_> = (0..3).map(|i| register(&desk, &format!("عضو {i}"), body + i)).collect();
    let client = Client::new(&url, Some(ca.as_bytes())).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Err(e) = enrol(&desk, &client, &url, &code, "میز ۱").await {
        assert!(Instant::now() < deadline, "the desk of {center_code} could not enrol: {e:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let device_id = desk.lock().unwrap().identity().unwrap().device_id;
    let (mut loans, mut circulation_ops) = (Vec::new(), 0);
    let (mut rounds, mut loans_while_partitioned) = ([(0, 0); 6], 0);
    let mut round = 0usize;
    while !drain.load(SeqCst) {
        // Copy i goes to member i mod 3: nobody holds more than two books.
        let number = &numbers[round % numbers.len()];
        let member = &members[round % members.len()];
        if desk.lock().unwrap().check_in(number).is_ok() {
            circulation_ops += 1;
        }
        let lent = desk.lock().unwrap().check_out(CheckOutRequest::new(member.id, [number.as_str()]).confirmed());
        let book = &lent.unwrap().books[0];
        assert_eq!(book.status, BookStatus::Lent, "{book:?}");
        loans.push(book.loan_id.unwrap());
        circulation_ops += 1;
        round += 1;
        let now = phase.load(SeqCst) as usize;
        if now == 3 {
            loans_while_partitioned += 1;
        }
        let synced = tokio::time::timeout(Duration::from_secs(15), sync_once(&desk, &client)).await;
        let bucket = if phase.load(SeqCst) as usize == now { now } else { 5 };
        match synced {
            Ok(Ok(_)) => rounds[bucket].0 += 1,
            _ => rounds[bucket].1 += 1,
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let synced = tokio::time::timeout(Duration::from_secs(15), sync_once(&desk, &client)).await;
        let left = desk.lock().unwrap().outbox_len().unwrap();
        if matches!(synced, Ok(Ok(_))) && left == 0 {
            break;
        }
        if Instant::now() > deadline {
            return DeskRun { rounds, loans_while_partitioned, device_id, loans, circulation_ops, outbox_left: left };
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    DeskRun { rounds, loans_while_partitioned, device_id, loans, circulation_ops, outbox_left: 0 }
}

#[test]
fn loans_recorded_through_loss_delay_and_a_partition_are_on_the_server_exactly_once() {
    let Some(mut lab) = Lab::new() else {
        assert!(
            std::env::var("KANOON_NETNS_TESTS").as_deref() != Ok("1"),
            "KANOON_NETNS_TESTS=1 but this machine cannot make network namespaces and nftables rules (root, ip, nft)"
        );
        eprintln!("skipped: needs root, iproute2 and nftables (KANOON_NETNS_TESTS=1 makes this a failure)");
        return;
    };
    let started = Instant::now();
    let server_ns = lab.namespace("srv");
    let desk_ns = [lab.namespace("a"), lab.namespace("b")];
    for (i, ns) in desk_ns.iter().enumerate() {
        lab.link(ns, &server_ns, i as u8 + 1);
    }
    // 30 % of the packets from and to the desks' links dropped, each way.
    nft(&server_ns, &["add", "table", "inet", "faults"]);
    for (chain, hook) in [("lossin", "input"), ("lossout", "output")] {
        let spec = format!("{{ type filter hook {hook} priority 0; }}");
        nft(&server_ns, &["add", "chain", "inet", "faults", chain, &spec]);
    }
    let loss = |on: bool| {
        for (chain, iface) in [("lossin", "iifname"), ("lossout", "oifname")] {
            nft(&server_ns, &["flush", "chain", "inet", "faults", chain]);
            if on {
                let name = format!("{}s*", lab.tag);
                let rule = [iface, &name, "numgen", "random", "mod", "100", "<", "30", "counter", "drop"];
                let mut args = vec!["add", "rule", "inet", "faults", chain];
                args.extend_from_slice(&rule);
                nft(&server_ns, &args);
            }
        }
    };

    let files = tempfile::tempdir().unwrap();
    let database = files.path().join("province.sqlite");
    let db = database.to_str().unwrap();
    let mut codes = Vec::new();
    for center in ["1234", "5678"] {
        run(&[
            "center",
            "add",
            "--database",
            db,
            "--code",
            center,
            "--name",
            &format!("کانون {center}"),
            "--kind",
            "fixed",
        ]);
        let printed = run(&["enrol-code", "--database", db, "--center", center]).stdout;
        codes.push(String::from_utf8(printed).unwrap().trim().to_owned());
    }
    // HTTPS, as a desk asks of any server off its own machine; the proxy
    // forwards the TLS bytes as they are.
    let pki = pki_for(&["10.250.1.1", "10.250.2.1"]);
    let (cert, key) = (write(files.path(), "cert.pem", &pki.cert), write(files.path(), "key.pem", &pki.key));
    let listen = format!("127.0.0.1:{SERVER_PORT}");
    let child = Command::new("ip")
        .args(["netns", "exec", &server_ns, BIN, "serve", "--database", db, "--listen", &listen])
        .args(["--admin-listen", "127.0.0.1:0", "--tls-cert", &cert, "--tls-key", &key])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _server = Running(child);
    let faults = Arc::new(Faults::default());
    let proxy_faults = faults.clone();
    let proxy_thread = in_namespace(&server_ns, move || async move {
        let listener = TcpListener::bind(("0.0.0.0", PROXY_PORT)).await.unwrap();
        let upstream: SocketAddr = format!("127.0.0.1:{SERVER_PORT}").parse().unwrap();
        // The server is up once it answers through the proxy's upstream.
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(upstream).await.is_err() {
            assert!(Instant::now() < deadline, "the server did not listen in 30 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        proxy(listener, upstream, proxy_faults).await;
    });

    let drain = Arc::new(AtomicBool::new(false));
    let phase = Arc::new(AtomicU64::new(0));
    let desks: Vec<_> = ["1234", "5678"]
        .into_iter()
        .zip(codes)
        .enumerate()
        .map(|(i, (center, code))| {
            let (dir, center, drain, phase) =
                (files.path().to_owned(), center.to_owned(), drain.clone(), phase.clone());
            let server = (format!("https://10.250.{}.1:{PROXY_PORT}", i + 1), pki.ca.clone());
            in_namespace(&desk_ns[i], move || desk_at_work(dir, center, code, server, drain, phase))
        })
        .collect();

    let hold = |now: usize, seconds: u64| {
        phase.store(now as u64, SeqCst);
        eprintln!("netfaults: {} for {seconds} s (at {:.1} s)", PHASES[now], started.elapsed().as_secs_f64());
        std::thread::sleep(Duration::from_secs(seconds));
    };
    hold(0, 4);
    loss(true);
    hold(1, 15);
    let listed = ["netns", "exec", &server_ns, "nft", "list", "table", "inet", "faults"];
    let dropped = String::from_utf8(Command::new("ip").args(listed).output().unwrap().stdout).unwrap();
    loss(false);
    faults.delay_ms.store(1000, SeqCst);
    hold(2, 8);
    faults.delay_ms.store(0, SeqCst);
    faults.partitioned.store(true, SeqCst);
    hold(3, 6);
    phase.store(4, SeqCst);
    faults.partitioned.store(false, SeqCst);
    drain.store(true, SeqCst);
    let runs: Vec<DeskRun> = desks.into_iter().map(|d| d.join().unwrap()).collect();
    faults.stop.store(true, SeqCst);
    proxy_thread.join().unwrap();
    eprintln!("netfaults: healed and drained at {:.1} s", started.elapsed().as_secs_f64());

    // The loss rules did drop packets.
    let packets: Vec<u64> = dropped
        .split("counter packets ")
        .skip(1)
        .map(|rest| rest.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    eprintln!("netfaults: packets dropped by the loss rules (in, out): {packets:?}");
    assert!(packets.len() == 2 && packets.iter().all(|&n| n > 0), "{dropped}");

    let storage = kanoon_server::SqliteStorage::open(&database).unwrap();
    for run in &runs {
        assert_eq!(run.outbox_left, 0, "a desk could not push everything within 40 s of the heal");
        assert!(run.loans.len() >= 10, "too few loans to mean anything: {}", run.loans.len());
        storage.with_connection(|c| {
            for loan in &run.loans {
                let n: i64 = c
                    .query_row(
                        "SELECT count(*) FROM ops WHERE entity = 'circulation' AND entity_id = ?1",
                        [loan.to_string()],
                        |r| r.get(0),
                    )
                    .unwrap();
                assert_eq!(n, 1, "loan {loan} is on the server {n} times");
            }
            let total: i64 = c
                .query_row(
                    "SELECT count(*) FROM ops WHERE entity = 'circulation' AND device_id = ?1",
                    [run.device_id.to_string()],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(total, run.circulation_ops as i64, "loans and returns of {} on the server", run.device_id);
        });
        eprintln!(
            "netfaults: desk {}: {} loans ({} while partitioned), {} circulation ops; rounds (ok, failed) per phase {:?}",
            run.device_id,
            run.loans.len(),
            run.loans_while_partitioned,
            run.circulation_ops,
            PHASES.iter().zip(run.rounds).collect::<Vec<_>>()
        );
        // The faults were felt: no round got through the partition, and
        // loans recorded meanwhile waited in the outbox and still arrived.
        assert!(run.loans_while_partitioned > 0 && run.rounds[3].0 == 0, "{:?}", run.rounds);
    }
}
