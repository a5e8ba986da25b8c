//! Desk benchmarks on the reference dataset (DESIGN §8), reporting the
//! percentiles the issue asks for beside the floor measured in the same
//! run: a WAL + synchronous=FULL commit of two small rows on the same disk.
//!
//!   cargo bench -p kanoon-store --bench desk                 # full reference size
//!   cargo bench -p kanoon-store --bench desk -- --fraction 0.1 --samples 500
//!   cargo bench -p kanoon-store --bench desk -- --sync-only      # the desk under sync only
//!
//! The desk under sync (issue 12): another desk of the same center records
//! `--sync-ops` ops (loans, returns, member and title edits; generated once
//! into target/bench-data/); each round applies them in pulled pages of
//! `PULL_PAGE` through the sync loop's apply path (`apply_pulled_shared`)
//! on a fresh copy of the dataset, once idle and once while this desk
//! records a loan or returns its two books every `--pace-ms`.
//!
//! The dataset is generated once into target/bench-data/ and copied fresh
//! for every run, so runs start from the same state.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kanoon_protocol::wire::Cursor;
use kanoon_store::catalog::CopyStatus;
use kanoon_store::circulation::{BookStatus, CheckOutRequest};
use kanoon_store::demo::{DemoSize, generate};
use kanoon_store::import::{ImportKind, suggest_mapping};
use kanoon_store::sync::apply_pulled_shared;
use kanoon_store::{Desk, SetupRequest, StaffWaiting, StoreError};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// The allocator the desk and server binaries use.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    fraction: f64,
    samples: usize,
    sync_only: bool,
    sync_ops: usize,
    sync_rounds: usize,
    pace_ms: u64,
}

fn args() -> Args {
    let mut a = Args { fraction: 1.0, samples: 2000, sync_only: false, sync_ops: 10_000, sync_rounds: 4, pace_ms: 3 };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--fraction" => a.fraction = it.next().and_then(|v| v.parse().ok()).unwrap_or(1.0),
            "--samples" => a.samples = it.next().and_then(|v| v.parse().ok()).unwrap_or(2000),
            "--sync-only" => a.sync_only = true,
            "--sync-ops" => a.sync_ops = it.next().and_then(|v| v.parse().ok()).unwrap_or(10_000),
            "--sync-rounds" => a.sync_rounds = it.next().and_then(|v| v.parse().ok()).unwrap_or(4),
            "--pace-ms" => a.pace_ms = it.next().and_then(|v| v.parse().ok()).unwrap_or(3),
            _ => {} // cargo passes --bench
        }
    }
    a
}

fn setup_request() -> SetupRequest {
    SetupRequest {
        center_code: "1234".into(),
        center_name: "مرکز فرهنگی هنری شماره ۱ اراک".into(),
        center_kind: kanoon_domain::entities::CenterKind::Fixed,
        desk_number: 1,
        manager_username: "manager".into(),
        manager_full_name: "مدیر نمونه".into(),
    }
}

struct Stats {
    name: &'static str,
    n: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

fn stats(name: &'static str, mut v: Vec<Duration>) -> Stats {
    if let Some((i, d)) = v.iter().enumerate().max_by_key(|(_, d)| **d) {
        eprintln!("{name}: slowest sample #{i} of {} took {d:?}", v.len());
    }
    v.sort();
    let at = |q: f64| v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1];
    Stats { name, n: v.len(), p50: at(0.50), p99: at(0.99), max: v[v.len() - 1] }
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

fn dataset(dir: &Path, fraction: f64) -> PathBuf {
    let path = dir.join(format!("reference-{fraction}.sqlite"));
    if !path.exists() {
        let tmp = dir.join(format!("reference-{fraction}.sqlite.partial"));
        let _ = std::fs::remove_file(&tmp);
        let started = Instant::now();
        let mut desk = Desk::open(&tmp).unwrap();
        desk.setup(setup_request(), "kanoon1404").unwrap();
        let summary = generate(&mut desk, DemoSize::fraction(fraction), 1404).unwrap();
        drop(desk);
        std::fs::rename(&tmp, &path).unwrap();
        eprintln!(
            "generated {}: {} titles, {} copies, {} members, {} loans in {:.1} s",
            path.display(),
            summary.titles,
            summary.copies,
            summary.members,
            summary.loans,
            started.elapsed().as_secs_f64()
        );
    }
    path
}

/// The floor: a commit of two small rows with the desk's pragmas.
fn floor(dir: &Path, samples: usize) -> Vec<Duration> {
    let path = dir.join("floor.sqlite");
    let _ = std::fs::remove_file(&path);
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    kanoon_store::db::configure(&conn).unwrap();
    conn.execute_batch("CREATE TABLE t (id TEXT PRIMARY KEY, v TEXT NOT NULL) STRICT").unwrap();
    let mut out = Vec::with_capacity(samples);
    for i in 0..samples {
        let (a, b) = (uuid::Uuid::now_v7().to_string(), uuid::Uuid::now_v7().to_string());
        let t = Instant::now();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).unwrap();
        tx.prepare_cached("INSERT INTO t VALUES (?1, ?2)").unwrap().execute([&a, &format!("x{i}")]).unwrap();
        tx.prepare_cached("INSERT INTO t VALUES (?1, ?2)").unwrap().execute([&b, &format!("y{i}")]).unwrap();
        tx.commit().unwrap();
        out.push(t.elapsed());
    }
    out
}

fn main() {
    let a = args();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let reference = dataset(&dir, a.fraction);
    if a.sync_only {
        let floor = stats("floor: commit of two small rows", floor(&dir, a.samples));
        desk_under_sync(&dir, &reference, &a, &floor);
        return;
    }
    let work = dir.join("work.sqlite");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", work.display()));
    }
    std::fs::copy(&reference, &work).unwrap();
    let mut desk = Desk::open(&work).unwrap();
    desk.sign_in("manager", "kanoon1404").unwrap();

    // Members free to borrow and books on the shelf.
    let members: Vec<uuid::Uuid> = desk
        .list_members(0, 100_000)
        .unwrap()
        .into_iter()
        .filter(|m| m.membership_ends_jalali.is_some())
        .map(|m| m.id)
        .filter(|id| desk.open_loans_of(*id).unwrap().is_empty() && desk.member(*id).unwrap().membership.active)
        .take(400)
        .collect();
    let mut shelf: Vec<String> = Vec::new();
    let mut n = 1;
    while shelf.len() < 2 * a.samples.min(10_000) {
        match desk.copy_by_registration_number(&n.to_string()) {
            Ok(c) if c.status == CopyStatus::Available && c.age_group.as_deref() != Some("+15") => {
                shelf.push(c.registration_number)
            }
            Ok(_) => {}
            Err(_) => break,
        }
        n += 1;
    }
    assert!(members.len() > 10 && shelf.len() >= 4, "not enough free members or books in the dataset");

    let floor = floor(&dir, a.samples);

    // The read-only part of a loan (lookups and checks), to see what the
    // commit adds.
    let mut preview = Vec::with_capacity(a.samples);
    for i in 0..a.samples {
        let pair = [shelf[(2 * i) % shelf.len()].clone(), shelf[(2 * i + 1) % shelf.len()].clone()];
        let t = Instant::now();
        desk.preview_check_out(members[i % members.len()], &pair).unwrap();
        preview.push(t.elapsed());
    }

    let mut check_out = Vec::with_capacity(a.samples);
    let mut check_in = Vec::with_capacity(a.samples * 2);
    for i in 0..a.samples {
        let pair = [shelf[(2 * i) % shelf.len()].clone(), shelf[(2 * i + 1) % shelf.len()].clone()];
        let req = CheckOutRequest::new(members[i % members.len()], pair.to_vec()).confirmed();
        let t = Instant::now();
        let out = desk.check_out(req).unwrap();
        check_out.push(t.elapsed());
        assert!(out.books.iter().all(|b| b.status == BookStatus::Lent), "{:?}", out.books);
        for number in &pair {
            let t = Instant::now();
            desk.check_in(number).unwrap();
            check_in.push(t.elapsed());
        }
    }

    let mut rng = StdRng::seed_from_u64(7);
    let people = desk.list_members(0, 100_000).unwrap();
    let mut member_search = Vec::with_capacity(a.samples);
    for _ in 0..a.samples {
        let m = &people[rng.random_range(0..people.len())];
        let q = match rng.random_range(0..4) {
            0 => m.member_number.clone(),
            1 => m.full_name.split(' ').next_back().unwrap_or("").chars().take(3).collect(),
            2 => m.full_name.clone(),
            _ => kanoon_domain::text::to_persian_digits(m.national_id.as_deref().unwrap_or("")),
        };
        let t = Instant::now();
        let hits = desk.find_members(&q, 20).unwrap();
        member_search.push(t.elapsed());
        assert!(!hits.is_empty(), "{q}");
    }
    let titles = desk.list_titles(0, 100_000).unwrap();
    let mut title_search = Vec::with_capacity(a.samples);
    let mut slowest_titles: Vec<(Duration, String)> = Vec::with_capacity(a.samples);
    for _ in 0..a.samples {
        let t = &titles[rng.random_range(0..titles.len())];
        let words: Vec<&str> = t.title.split(' ').collect();
        let q = match rng.random_range(0..3) {
            0 => words[0].chars().take(3).collect::<String>(),
            1 => t.title.clone(),
            _ => t.author.clone(),
        };
        let start = Instant::now();
        let hits = desk.find_titles(&q, 20).unwrap();
        let took = start.elapsed();
        title_search.push(took);
        assert!(!hits.is_empty(), "{q}");
        slowest_titles.push((took, q));
    }
    // Where the tail is: the slowest queries with their number of matches
    // (ranked by bm25 up to RANKED_MATCHES_MAX, newest first above).
    slowest_titles.sort_by_key(|s| std::cmp::Reverse(s.0));
    for (took, q) in slowest_titles.iter().take(12) {
        let total = desk.search_titles(q, 20).unwrap().total;
        eprintln!("title search {:>7} ms, {total:>5} matches: {q}", ms(*took));
    }

    let import = import_reference(&dir, &desk);

    let rows = [
        stats("floor: commit of two small rows", floor),
        stats("check_out of two books", check_out),
        stats("check_out checks only (no write)", preview),
        stats("check_in", check_in),
        stats("member search", member_search),
        stats("title search", title_search),
    ];
    println!("\nDataset: fraction {} of the reference size ({})", a.fraction, reference.display());
    println!("| measure | samples | p50 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|");
    for r in &rows {
        println!("| {} | {} | {} | {} | {} |", r.name, r.n, ms(r.p50), ms(r.p99), ms(r.max));
    }
    let ratio = rows[1].p99.as_secs_f64() / rows[0].p99.as_secs_f64();
    println!("\ncheck_out p99 / floor p99 = {ratio:.2}");
    println!("\n| migration import | rows | seconds |\n|---|---:|---:|");
    for (name, rows, secs) in import {
        println!("| {name} | {rows} | {secs:.2} |");
    }
    drop(desk);
    desk_under_sync(&dir, &reference, &a, &rows[0]);
}

/// Ops per pulled page, as the sync client asks (`kanoon-sync`'s PULL_PAGE).
const PULL_PAGE: usize = 500;

/// A fresh copy of the dataset at `name` in `dir`.
fn fresh_copy(dir: &Path, reference: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    std::fs::copy(reference, &path).unwrap();
    path
}

/// How many copies the database at `path` has (registration numbers
/// 1..=n in the dataset).
fn copies(path: &Path) -> u64 {
    let db = rusqlite::Connection::open(path).unwrap();
    let n: i64 = db.query_row("SELECT count(*) FROM copies", [], |r| r.get(0)).unwrap();
    n as u64
}

/// Members free to borrow, in list order.
fn free_members(desk: &Desk) -> Vec<uuid::Uuid> {
    desk.list_members(0, 100_000)
        .unwrap()
        .into_iter()
        .filter(|m| m.membership_ends_jalali.is_some())
        .map(|m| m.id)
        .filter(|id| desk.open_loans_of(*id).unwrap().is_empty() && desk.member(*id).unwrap().membership.active)
        .collect()
}

/// Up to `n` registration numbers of books on the shelf any member may
/// borrow, from `numbers`.
fn on_shelf(desk: &Desk, numbers: impl Iterator<Item = u64>, n: usize) -> Vec<String> {
    let mut shelf = Vec::new();
    for number in numbers {
        if shelf.len() == n {
            break;
        }
        match desk.copy_by_registration_number(&number.to_string()) {
            Ok(c) if c.status == CopyStatus::Available && c.age_group.as_deref() != Some("+15") => {
                shelf.push(c.registration_number)
            }
            _ => {}
        }
    }
    shelf
}

/// The ops another desk of the same center records in a busy stretch:
/// 40 % loans, 40 % returns, 10 % member edits, 10 % title edits, on the
/// members at the end of the list and the books with the highest numbers
/// (the bench's own desk uses the first ones). Made once into the data
/// dir by a copy of the dataset with another device id and desk number.
fn other_desks_ops(dir: &Path, reference: &Path, fraction: f64, n: usize) -> Vec<kanoon_protocol::Op> {
    let cached = dir.join(format!("sync-ops-{fraction}-{n}.json"));
    if let Ok(text) = std::fs::read_to_string(&cached) {
        return serde_json::from_str(&text).unwrap();
    }
    let started = Instant::now();
    let path = fresh_copy(dir, reference, "other-desk.sqlite");
    let first_new_seq: i64 = {
        let db = rusqlite::Connection::open(&path).unwrap();
        db.execute("UPDATE meta SET value = ?1 WHERE key = 'device_id'", [uuid::Uuid::now_v7().to_string()]).unwrap();
        db.execute("UPDATE meta SET value = '2' WHERE key = 'desk_number'", []).unwrap();
        db.query_row("SELECT coalesce(max(seq), 0) + 1 FROM outbox", [], |r| r.get(0)).unwrap()
    };
    let mut desk = Desk::open(&path).unwrap();
    desk.sign_in("manager", "kanoon1404").unwrap();
    let free = free_members(&desk);
    let members: Vec<uuid::Uuid> = free.iter().rev().take(200.min(free.len() / 2)).copied().collect();
    let shelf = on_shelf(&desk, (1..=copies(&path)).rev(), 400);
    assert!(members.len() > 10 && shelf.len() >= 4, "not enough free members or books for the other desk");
    let mut recorded = 0;
    let mut i = 0;
    while recorded < n {
        let pair = [shelf[(2 * i) % shelf.len()].clone(), shelf[(2 * i + 1) % shelf.len()].clone()];
        let member = members[i % members.len()];
        let out = desk.check_out(CheckOutRequest::new(member, pair.to_vec()).confirmed()).unwrap();
        assert!(out.books.iter().all(|b| b.status == BookStatus::Lent), "{:?}", out.books);
        for number in &pair {
            desk.check_in(number).unwrap();
        }
        recorded += 4;
        if i % 2 == 0 {
            let mut details = desk.member(member).unwrap().details;
            details.address = format!("اراک، خیابان {} پلاک {i}", ["شریعتی", "امام", "بهار"][i % 3]);
            desk.edit_member(member, details).unwrap();
            let title = desk.copy_by_registration_number(&pair[0]).unwrap().title_id;
            let mut details = desk.title(title).unwrap().details;
            details.translator = format!("مترجم {i}");
            desk.edit_title(title, details).unwrap();
            recorded += 2;
        }
        i += 1;
    }
    drop(desk);
    let db = rusqlite::Connection::open(&path).unwrap();
    let mut stmt = db.prepare("SELECT op FROM outbox WHERE seq >= ?1 ORDER BY seq LIMIT ?2").unwrap();
    let ops: Vec<kanoon_protocol::Op> = stmt
        .query_map(rusqlite::params![first_new_seq, n as i64], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|json| serde_json::from_str(&json.unwrap()).unwrap())
        .collect();
    assert_eq!(ops.len(), n);
    std::fs::write(&cached, serde_json::to_string(&ops).unwrap()).unwrap();
    eprintln!("recorded {n} ops of another desk into {} in {:.1} s", cached.display(), started.elapsed().as_secs_f64());
    ops
}

/// Applies `ops` to `desk` in pulled pages through the sync loop's path;
/// returns the time it took.
fn apply_pages(desk: &Mutex<Desk>, ops: &[kanoon_protocol::Op]) -> Duration {
    let started = Instant::now();
    let mut report = kanoon_store::sync::ApplyReport::default();
    for (k, page) in ops.chunks(PULL_PAGE).enumerate() {
        let cursor = Cursor { epoch: 1, seq: ((k + 1) * PULL_PAGE) as u64 };
        let r =
            apply_pulled_shared(|| desk.lock().map_err(|_| StoreError::Corrupt("poisoned".into())), page, &[], cursor)
                .unwrap();
        report.applied += r.applied;
        report.kept += r.kept;
        report.exceptions += r.exceptions;
    }
    let took = started.elapsed();
    assert_eq!(report.applied, ops.len(), "{report:?}");
    took
}

/// A fresh copy of the dataset open as this desk, shared with a sync
/// thread as the app shares it, with members and books to lend.
struct SharedDesk {
    desk: Arc<Mutex<Desk>>,
    waiting: StaffWaiting,
    members: Vec<uuid::Uuid>,
    shelf: Vec<String>,
    /// Loans recorded so far.
    i: usize,
}

impl SharedDesk {
    fn open(dir: &Path, reference: &Path, name: &str) -> SharedDesk {
        let path = fresh_copy(dir, reference, name);
        let mut d = Desk::open(&path).unwrap();
        d.sign_in("manager", "kanoon1404").unwrap();
        let free = free_members(&d);
        let members: Vec<uuid::Uuid> = free.iter().take(400.min(free.len() / 2)).copied().collect();
        let shelf = on_shelf(&d, 1..=copies(&path), 2_000);
        assert!(members.len() > 10 && shelf.len() >= 4, "not enough free members or books in the dataset");
        let waiting = d.staff_waiting();
        SharedDesk { desk: Arc::new(Mutex::new(d)), waiting, members, shelf, i: 0 }
    }

    /// One tick lends two books, the next returns them and commits the
    /// floor's two rows, every `pace`, until `until(ticks)`. Each call locks
    /// the desk as the window does (`StaffWaiting::lock`) and is timed from
    /// before it asks for the desk.
    fn desk_loop(
        &mut self,
        pace: Duration,
        floor_db: &mut rusqlite::Connection,
        until: &dyn Fn(usize) -> bool,
    ) -> Timings {
        let mut out = Timings::default();
        let mut next = Instant::now();
        let mut tick = 0;
        while !until(tick) {
            let i = self.i;
            let pair =
                [self.shelf[(2 * i) % self.shelf.len()].clone(), self.shelf[(2 * i + 1) % self.shelf.len()].clone()];
            let req = CheckOutRequest::new(self.members[i % self.members.len()], pair.to_vec()).confirmed();
            let t = Instant::now();
            let lent = self.waiting.lock(&self.desk).unwrap().check_out(req).unwrap();
            out.check_out.push(t.elapsed());
            assert!(lent.books.iter().all(|b| b.status == BookStatus::Lent), "{:?}", lent.books);
            next += pace;
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
            let t = Instant::now();
            {
                let mut d = self.waiting.lock(&self.desk).unwrap();
                for number in &pair {
                    d.check_in(number).unwrap();
                }
            }
            out.check_in.push(t.elapsed());
            let (x, y) = (uuid::Uuid::now_v7().to_string(), uuid::Uuid::now_v7().to_string());
            let t = Instant::now();
            let tx = floor_db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).unwrap();
            tx.prepare_cached("INSERT INTO t VALUES (?1, ?2)").unwrap().execute([&x, "x"]).unwrap();
            tx.prepare_cached("INSERT INTO t VALUES (?1, ?2)").unwrap().execute([&y, "y"]).unwrap();
            tx.commit().unwrap();
            out.floor.push(t.elapsed());
            next += pace;
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
            self.i += 1;
            tick += 1;
        }
        out
    }
}

#[derive(Default)]
struct Timings {
    check_out: Vec<Duration>,
    check_in: Vec<Duration>,
    floor: Vec<Duration>,
}

impl Timings {
    fn extend(&mut self, other: Timings) {
        self.check_out.extend(other.check_out);
        self.check_in.extend(other.check_in);
        self.floor.extend(other.floor);
    }
}

/// Loans (and their returns) each desk records, paced, before its pages
/// apply: the same start on the idle and the loaded copy, and the paced
/// figures without sync.
const WARM_LOANS: usize = 150;

/// The desk under sync (issue 12): check_out's percentiles while pulled
/// pages apply beside it, and the apply throughput idle and under load.
fn desk_under_sync(dir: &Path, reference: &Path, a: &Args, quiet_floor: &Stats) {
    // `--sync-rounds 0`: the desk part only.
    if a.sync_rounds == 0 {
        return;
    }
    let ops = other_desks_ops(dir, reference, a.fraction, a.sync_ops);
    let floor_path = dir.join("floor-under-sync.sqlite");
    let _ = std::fs::remove_file(&floor_path);
    let mut floor_db = rusqlite::Connection::open(&floor_path).unwrap();
    kanoon_store::db::configure(&floor_db).unwrap();
    floor_db.execute_batch("CREATE TABLE t (id TEXT PRIMARY KEY, v TEXT NOT NULL) STRICT").unwrap();
    let pace = Duration::from_millis(a.pace_ms);

    let (mut idle, mut loaded) = (Duration::ZERO, Duration::ZERO);
    let (mut quiet, mut under_sync) = (Timings::default(), Timings::default());
    for round in 0..a.sync_rounds {
        // Idle: nothing else touches the desk while its pages apply.
        let mut d = SharedDesk::open(dir, reference, "sync-idle.sqlite");
        quiet.extend(d.desk_loop(pace, &mut floor_db, &|tick: usize| tick >= WARM_LOANS));
        let took = apply_pages(&d.desk, &ops);
        idle += took;
        drop(d);

        // Under load: this desk records loans and returns meanwhile.
        let mut d = SharedDesk::open(dir, reference, "sync-load.sqlite");
        quiet.extend(d.desk_loop(pace, &mut floor_db, &|tick: usize| tick >= WARM_LOANS));
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let syncing = {
            let (desk, ops, done) = (Arc::clone(&d.desk), ops.clone(), Arc::clone(&done));
            std::thread::spawn(move || {
                let took = apply_pages(&desk, &ops);
                done.store(true, std::sync::atomic::Ordering::SeqCst);
                took
            })
        };
        let timings = d.desk_loop(pace, &mut floor_db, &|_: usize| done.load(std::sync::atomic::Ordering::SeqCst));
        let loans = timings.check_out.len();
        under_sync.extend(timings);
        let took_loaded = syncing.join().unwrap();
        loaded += took_loaded;
        eprintln!(
            "round {round}: {} ops applied idle in {:.2} s, under load in {:.2} s beside {loans} loans",
            ops.len(),
            took.as_secs_f64(),
            took_loaded.as_secs_f64(),
        );
    }
    let n = (ops.len() * a.sync_rounds) as f64;
    let (idle_rate, loaded_rate) = (n / idle.as_secs_f64(), n / loaded.as_secs_f64());
    let rows = [
        stats("floor: commit of two small rows, paced, no sync", quiet.floor),
        stats("floor: commit of two small rows, under sync", under_sync.floor),
        stats("check_out of two books, paced, no sync", quiet.check_out),
        stats("check_out of two books, under sync", under_sync.check_out),
        stats("check_in of the two books, paced, no sync", quiet.check_in),
        stats("check_in of the two books, under sync", under_sync.check_in),
    ];
    println!(
        "\nDesk under sync: {} ops of another desk of the center in pages of {PULL_PAGE}, {} rounds, a loan or its return every {} ms",
        ops.len(),
        a.sync_rounds,
        a.pace_ms
    );
    println!("| measure | samples | p50 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|");
    let q = quiet_floor;
    println!(
        "| floor: commit of two small rows, start of the run | {} | {} | {} | {} |",
        q.n,
        ms(q.p50),
        ms(q.p99),
        ms(q.max)
    );
    for r in &rows {
        println!("| {} | {} | {} | {} | {} |", r.name, r.n, ms(r.p50), ms(r.p99), ms(r.max));
    }
    let p99 = rows[3].p99.as_secs_f64();
    println!(
        "\ncheck_out p99 under sync / floor p99: {:.2} (floor under sync), {:.2} (floor paced, no sync), {:.2} (floor at the start)",
        p99 / rows[1].p99.as_secs_f64(),
        p99 / rows[0].p99.as_secs_f64(),
        p99 / q.p99.as_secs_f64()
    );
    println!(
        "apply: {idle_rate:.0} ops/s idle, {loaded_rate:.0} ops/s under load ({:.0} %)",
        100.0 * loaded_rate / idle_rate
    );
}

/// Exports the dataset's members, books and open loans as CSV files (as
/// the old software would) and times their import into a new database.
fn import_reference(dir: &Path, source: &Desk) -> Vec<(&'static str, usize, f64)> {
    let db = rusqlite::Connection::open(source.path().unwrap()).unwrap();
    let csv = |sql: &str, header: &str| -> (String, usize) {
        let mut out = String::from(header);
        out.push('\n');
        let mut stmt = db.prepare(sql).unwrap();
        let cols = stmt.column_count();
        let mut n = 0;
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            let cells: Vec<String> =
                (0..cols).map(|i| r.get::<_, Option<String>>(i).unwrap().unwrap_or_default()).collect();
            out.push_str(&cells.join(","));
            out.push('\n');
            n += 1;
        }
        (out, n)
    };
    let members = csv(
        "SELECT m.member_number, m.first_name, m.last_name, m.father_name,
                CASE m.gender WHEN 'female' THEN 'دختر' ELSE 'پسر' END, m.birth_date, m.national_id, m.guardian_phone,
                (SELECT max(ends_on) FROM memberships s WHERE s.member_id = m.id)
         FROM members m",
        "شماره عضویت,نام,نام خانوادگی,نام پدر,جنسیت,تاریخ تولد,کد ملی,تلفن همراه ولی,تاریخ انقضا",
    );
    let books = csv(
        "SELECT c.registration_number, t.title, t.author, t.publisher, t.age_group
         FROM copies c JOIN titles t ON t.id = c.title_id",
        "شماره ثبت,عنوان,نویسنده,ناشر,گروه سنی",
    );
    let loans = csv(
        "SELECT m.member_number, c.registration_number, o.lent_on, o.due_on
         FROM open_loans o JOIN members m ON m.id = o.member_id JOIN copies c ON c.id = o.copy_id",
        "شماره عضویت,شماره ثبت,تاریخ امانت,تاریخ بازگشت",
    );
    let target = dir.join("import.sqlite");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", target.display()));
    }
    let mut desk = Desk::open(&target).unwrap();
    desk.setup(SetupRequest { center_code: "4321".into(), ..setup_request() }, "kanoon1404").unwrap();
    let mut out = Vec::new();
    for (name, kind, (text, n)) in [
        ("members", ImportKind::Members, members),
        ("titles and copies", ImportKind::TitlesCopies, books),
        ("open loans", ImportKind::OpenLoans, loans),
    ] {
        let t = Instant::now();
        let preview = desk.import_preview(text.as_bytes()).unwrap();
        let mapping = suggest_mapping(kind, &preview.headers);
        let report = desk.import_commit(kind, text.as_bytes(), &mapping).unwrap();
        assert!(report.committed, "{name}: {:?}", &report.errors[..report.errors.len().min(5)]);
        out.push((name, n, t.elapsed().as_secs_f64()));
    }
    out
}
