//! Crash durability: a child process (`kanoon-loan-loop`) records loans and
//! returns in a loop and prints each one only after it committed; it is
//! SIGKILLed at random moments 20 times on the same database. After every
//! kill the database must pass `PRAGMA integrity_check` and hold every loan
//! (and every return) that was printed, in this run or an earlier one.
//!
//! The kill delays come from a small PRNG whose seed is printed; set
//! `KANOON_CRASH_SEED` to replay the same schedule (the child's own timing
//! still varies, so the exact kill points do too).

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kanoon_store::Desk;
use kanoon_store::circulation::LoanHistoryRow;
use uuid::Uuid;

const KILLS: usize = 20;
/// The member the loop registers (see the binary).
const NATIONAL_ID: &str = "0012345679";
/// How long a start may take before its first loan (setup, migrations).
const FIRST_LOAN_TIMEOUT: Duration = Duration::from_secs(10);

/// SplitMix64: small, seedable, good enough for kill delays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-ish in `lo..=hi`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// Kills the loop (it never ends by itself) if the test panics midway.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Line {
    Loan(Uuid),
    Return(Uuid),
}

fn parse_line(line: &str) -> Line {
    let parsed = match line.split_once(' ') {
        Some(("LOAN", id)) => Uuid::parse_str(id).ok().map(Line::Loan),
        Some(("RETURN", id)) => Uuid::parse_str(id).ok().map(Line::Return),
        _ => None,
    };
    parsed.unwrap_or_else(|| panic!("unexpected output line from kanoon-loan-loop: {line:?}"))
}

struct Run {
    lines: Vec<Line>,
    status: ExitStatus,
    stderr: String,
    /// Milliseconds from spawn to the kill.
    killed_after_ms: u128,
}

/// Starts the loop on `db`, kills it with SIGKILL and collects what it
/// printed. An `early` kill lands at a random moment of the start-up
/// (opening, signing in, the first loans); otherwise the kill comes a random
/// while after the first loan was printed.
fn run_and_kill(db: &Path, rng: &mut Rng, early: bool) -> Run {
    let spawned = Instant::now();
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_kanoon-loan-loop"))
            .arg(db)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn kanoon-loan-loop"),
    );
    let stdout = child.0.stdout.take().expect("piped stdout");
    let mut stderr = child.0.stderr.take().expect("piped stderr");
    let (tx, rx) = mpsc::channel::<String>();
    let out_reader = thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let err_reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });

    let mut lines = Vec::new();
    if early {
        thread::sleep(Duration::from_millis(rng.between(0, 20)));
    } else {
        let deadline = spawned + FIRST_LOAN_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let line = parse_line(&line);
                    let first_loan = matches!(line, Line::Loan(_));
                    lines.push(line);
                    if first_loan {
                        break;
                    }
                }
                // Timed out, or the child ended on its own (checked below).
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        thread::sleep(Duration::from_millis(rng.between(20, 400)));
    }
    let killed_after_ms = spawned.elapsed().as_millis();
    child.0.kill().expect("kill kanoon-loan-loop");
    let status = child.0.wait().expect("wait for kanoon-loan-loop");
    out_reader.join().expect("stdout reader");
    lines.extend(rx.iter().map(|l| parse_line(&l)));
    let stderr = err_reader.join().expect("stderr reader");
    Run { lines, status, stderr, killed_after_ms }
}

fn assert_killed(run: &Run, round: usize, seed: u64) {
    assert!(
        run.stderr.trim().is_empty(),
        "round {round} (seed {seed}): kanoon-loan-loop failed before it was killed ({:?}):\n{}",
        run.status,
        run.stderr
    );
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            run.status.signal(),
            Some(9),
            "round {round} (seed {seed}): kanoon-loan-loop was not ended by SIGKILL: {:?}",
            run.status
        );
    }
    #[cfg(not(unix))]
    assert!(!run.status.success(), "round {round} (seed {seed}): kanoon-loan-loop ended by itself");
}

#[test]
fn crash_printed_loans_survive_sigkill() {
    let seed = std::env::var("KANOON_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
        nanos as u64
    });
    eprintln!("crash test seed {seed} (replay the kill schedule with KANOON_CRASH_SEED={seed})");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.sqlite");
    let started = Instant::now();

    // Everything printed so far, over all runs.
    let mut loans: Vec<Uuid> = Vec::new();
    let mut returns: BTreeSet<Uuid> = BTreeSet::new();
    for round in 0..KILLS {
        // The first start must get through setup; later ones are sometimes
        // killed while starting up.
        let early = round > 0 && rng.between(0, 4) == 0;
        let run = run_and_kill(&db, &mut rng, early);
        assert_killed(&run, round, seed);
        let (mut new_loans, mut new_returns) = (0, 0);
        for line in &run.lines {
            match *line {
                Line::Loan(id) => {
                    loans.push(id);
                    new_loans += 1;
                }
                Line::Return(id) => {
                    returns.insert(id);
                    new_returns += 1;
                }
            }
        }
        eprintln!(
            "round {round:2}: {} kill after {:4} ms, {new_loans:4} loans and {new_returns:4} returns printed",
            if early { "early" } else { "     " },
            run.killed_after_ms
        );

        let mut desk = Desk::open(&db).unwrap_or_else(|e| panic!("round {round} (seed {seed}): reopening failed: {e}"));
        assert_eq!(desk.integrity_check().unwrap(), "ok", "round {round} (seed {seed}): integrity_check");
        if loans.is_empty() && returns.is_empty() {
            continue;
        }
        desk.sign_in("manager", "kanoon1404").unwrap();
        let member = desk
            .find_members(NATIONAL_ID, 10)
            .unwrap()
            .first()
            .map(|m| m.id)
            .unwrap_or_else(|| panic!("round {round} (seed {seed}): loans were printed but the member is missing"));
        let history: HashMap<Uuid, LoanHistoryRow> =
            desk.loan_history(member, 1_000_000).unwrap().into_iter().map(|r| (r.loan_id, r)).collect();
        let missing: Vec<&Uuid> = loans.iter().filter(|id| !history.contains_key(id)).collect();
        assert!(
            missing.is_empty(),
            "round {round} (seed {seed}): {} of {} printed loans are missing after the kill: {missing:?}",
            missing.len(),
            loans.len()
        );
        let not_returned: Vec<&Uuid> = returns
            .iter()
            .filter(|id| !history.get(id).is_some_and(|r| r.returned_on_jalali.is_some() && !r.voided))
            .collect();
        assert!(
            not_returned.is_empty(),
            "round {round} (seed {seed}): {} of {} printed returns are missing after the kill: {not_returned:?}",
            not_returned.len(),
            returns.len()
        );
    }
    let elapsed = started.elapsed();
    eprintln!(
        "crash test: {KILLS} kills, {} loans and {} returns printed and found, {:.1} s",
        loans.len(),
        returns.len(),
        elapsed.as_secs_f64()
    );
    assert!(loans.len() > KILLS, "only {} loans were printed in {KILLS} runs; the test proved nothing", loans.len());
    let distinct: BTreeSet<&Uuid> = loans.iter().collect();
    assert_eq!(distinct.len(), loans.len(), "a loan id was printed twice");
}

/// Ops per pulled page in the chunked-apply case: pages of three chunks
/// (`CHUNK_OPS` = 100), the last one short.
const APPLY_PAGE: usize = 250;
/// Starts of `kanoon-apply-pages` killed at most before one runs to the end.
const APPLY_KILLS: usize = 40;

/// What another desk of the center records: members, books, loans,
/// returns, member and title edits (in its outbox's order, as the server
/// serves them).
fn another_desks_ops() -> Vec<kanoon_protocol::Op> {
    use crate::support::*;
    let mut f = desk();
    let d = &mut f.desk;
    let mut numbers = Vec::new();
    let mut titles = Vec::new();
    for t in 0..30 {
        let added = books(d, &format!("قصه شماره {t}"), 1 + 4 * t, 4);
        titles.push(d.copy_by_registration_number(&added[0]).unwrap().title_id);
        numbers.extend(added);
    }
    let members: Vec<_> = (0..60).map(|i| register(d, "سارا", &format!("کریمی {i}"), 100 + i)).collect();
    for i in 0..600 {
        f.clock.advance(chrono::Duration::minutes(1));
        let member = &members[i % members.len()];
        let number = numbers[(7 * i) % numbers.len()].as_str();
        lend(d, member.id, &[number]);
        d.check_in(number).unwrap();
        if i % 3 == 0 {
            let mut details = d.member(member.id).unwrap().details;
            details.address = format!("اراک، کوچه {i}");
            d.edit_member(member.id, details).unwrap();
            let title = titles[i % titles.len()];
            let mut details = d.title(title).unwrap().details;
            details.translator = format!("مترجم {i}");
            d.edit_title(title, details).unwrap();
        }
    }
    d.ops_to_push(100_000).unwrap()
}

/// Every row of the desk's tables (search indexes by their text; meta by
/// its cursor only; the receiving desk's own clock readings blanked):
/// equal for two desks that hold the same.
fn dump(db: &Path) -> Vec<(String, Vec<String>)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .filter(|t: &String| t != "meta" && !t.contains("_search"))
        .collect();
    let mut out = Vec::new();
    let mut read = |name: &str, sql: &str| {
        let mut stmt = conn.prepare(sql).unwrap();
        let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                let cells: Vec<String> = columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| match c.as_str() {
                        // When this desk received or found it: its own clock.
                        "received_at" | "created_at" => "-".to_owned(),
                        _ => format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap()),
                    })
                    .collect();
                Ok(cells.join("|"))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        rows.sort();
        out.push((name.to_owned(), rows));
    };
    for t in &tables {
        read(t, &format!("SELECT * FROM {t}"));
    }
    read("member_search", "SELECT text FROM member_search");
    read("title_search", "SELECT text FROM title_search");
    read("meta", "SELECT value FROM meta WHERE key = 'sync_cursor'");
    out
}

/// How many ops the desk received, and the `seq` of its cursor.
fn received_and_cursor(db: &Path) -> (u64, u64) {
    let desk = Desk::open(db).unwrap();
    assert_eq!(desk.integrity_check().unwrap(), "ok");
    let cursor = desk.sync_cursor().unwrap().map_or(0, |c| c.seq);
    drop(desk);
    let conn = rusqlite::Connection::open(db).unwrap();
    let received: i64 = conn.query_row("SELECT count(*) FROM inbox", [], |r| r.get(0)).unwrap();
    let received = received as u64;
    (received, cursor)
}

#[test]
fn crash_during_a_chunked_apply_loses_nothing_and_applies_nothing_twice() {
    let seed = std::env::var("KANOON_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
        nanos as u64
    });
    eprintln!("chunked apply crash test seed {seed} (replay the kill schedule with KANOON_CRASH_SEED={seed})");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let ops = another_desks_ops();
    let file = dir.path().join("ops.json");
    std::fs::write(&file, serde_json::to_string(&ops).unwrap()).unwrap();

    // One receiving desk (desk 2 of the center), copied: one copy applies
    // the pages once in this process, the other is killed while applying.
    let base = dir.path().join("base.sqlite");
    let mut desk = Desk::open(&base).unwrap();
    desk.setup(
        kanoon_store::SetupRequest {
            desk_number: 2,
            manager_username: "manager2".into(),
            ..crate::support::setup_request()
        },
        crate::support::PASSWORD,
    )
    .unwrap();
    drop(desk);
    let (fresh, crashed) = (dir.path().join("fresh.sqlite"), dir.path().join("crashed.sqlite"));
    for copy in [&fresh, &crashed] {
        std::fs::copy(&base, copy).unwrap();
    }
    let mut desk = Desk::open(&fresh).unwrap();
    for (k, page) in ops.chunks(APPLY_PAGE).enumerate() {
        let seq = (k * APPLY_PAGE + page.len()) as u64;
        desk.apply_pulled(page, kanoon_protocol::wire::Cursor { epoch: 1, seq }).unwrap();
    }
    drop(desk);

    let spawn = || {
        KillOnDrop(
            Command::new(env!("CARGO_BIN_EXE_kanoon-apply-pages"))
                .arg(&crashed)
                .arg(&file)
                .arg(APPLY_PAGE.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn kanoon-apply-pages"),
        )
    };
    // Kills that left a page partly received (chunks committed, the cursor
    // still before the page): what this case is about.
    let mut between_chunks = 0;
    let mut done = false;
    for round in 0..APPLY_KILLS {
        let mut child = spawn();
        thread::sleep(Duration::from_millis(rng.between(5, 150)));
        child.0.kill().expect("kill kanoon-apply-pages");
        let status = child.0.wait().expect("wait for kanoon-apply-pages");
        let mut stdout = String::new();
        child.0.stdout.take().expect("piped stdout").read_to_string(&mut stdout).unwrap();
        let mut stderr = String::new();
        child.0.stderr.take().expect("piped stderr").read_to_string(&mut stderr).unwrap();
        assert!(
            stderr.trim().is_empty(),
            "round {round} (seed {seed}): kanoon-apply-pages failed ({status:?}):\n{stderr}"
        );
        let (received, cursor) = received_and_cursor(&crashed);
        assert!(received >= cursor, "round {round} (seed {seed}): cursor {cursor} past the {received} ops received");
        if received > cursor {
            between_chunks += 1;
        }
        eprintln!("round {round:2}: {received:5} ops received, cursor at {cursor:5}");
        if stdout.lines().any(|l| l == "DONE") {
            done = true;
            break;
        }
    }
    if !done {
        // The rest, without a kill.
        let mut child = spawn();
        let mut stdout = String::new();
        child.0.stdout.take().expect("piped stdout").read_to_string(&mut stdout).unwrap();
        let status = child.0.wait().expect("wait for kanoon-apply-pages");
        assert!(
            status.success() && stdout.lines().any(|l| l == "DONE"),
            "seed {seed}: kanoon-apply-pages did not finish: {stdout}"
        );
    }
    assert!(between_chunks > 0, "seed {seed}: no kill landed between two chunks of a page; the test proved nothing");
    let (expected, got) = (dump(&fresh), dump(&crashed));
    for ((table, want), (_, have)) in expected.iter().zip(&got) {
        assert_eq!(
            want.len(),
            have.len(),
            "seed {seed}: {table} has {} rows, a fresh apply {}",
            have.len(),
            want.len()
        );
        for (w, h) in want.iter().zip(have) {
            assert_eq!(w, h, "seed {seed}: {table} differs from a fresh apply");
        }
    }
    assert_eq!(expected.len(), got.len());
    let received = received_and_cursor(&crashed);
    assert_eq!(received, (ops.len() as u64, ops.len() as u64), "seed {seed}");
}
