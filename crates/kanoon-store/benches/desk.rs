//! Desk benchmarks on the reference dataset (DESIGN §8), reporting the
//! percentiles the issue asks for beside the floor measured in the same
//! run: a WAL + synchronous=FULL commit of two small rows on the same disk.
//!
//!   cargo bench -p kanoon-store --bench desk                 # full reference size
//!   cargo bench -p kanoon-store --bench desk -- --fraction 0.1 --samples 500
//!
//! The dataset is generated once into target/bench-data/ and copied fresh
//! for every run, so runs start from the same state.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kanoon_store::catalog::CopyStatus;
use kanoon_store::circulation::{BookStatus, CheckOutRequest};
use kanoon_store::demo::{DemoSize, generate};
use kanoon_store::import::{ImportKind, suggest_mapping};
use kanoon_store::{Desk, SetupRequest};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

struct Args {
    fraction: f64,
    samples: usize,
}

fn args() -> Args {
    let mut a = Args { fraction: 1.0, samples: 2000 };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--fraction" => a.fraction = it.next().and_then(|v| v.parse().ok()).unwrap_or(1.0),
            "--samples" => a.samples = it.next().and_then(|v| v.parse().ok()).unwrap_or(2000),
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
        title_search.push(start.elapsed());
        assert!(!hits.is_empty(), "{q}");
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
