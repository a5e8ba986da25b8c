//! The real `kanoon-server` binary (target/release, built with
//! `cargo build --release -p kanoon-server`) in a process of its own,
//! serving a database a bench filled: its own allocator and threads, as a
//! province runs it. Killed when dropped.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct RealServer {
    child: Child,
    /// `http://127.0.0.1:<port>`, answering `/health`.
    pub url: String,
}

impl RealServer {
    /// Starts `kanoon-server serve` on `database` (a SQLite path or a
    /// PostgreSQL URL) on loopback and waits until it answers.
    pub fn start(bench_data: &str, database: &OsStr, max_snapshots: usize) -> RealServer {
        let (port, admin) = (free_port(), free_port());
        let child = Command::new(binary(bench_data))
            .args(["serve", "--database"])
            .arg(database)
            .args(["--listen", &format!("127.0.0.1:{port}"), "--admin-listen", &format!("127.0.0.1:{admin}")])
            .args(["--max-snapshots", &max_snapshots.to_string()])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let server = RealServer { child, url: format!("http://127.0.0.1:{port}") };
        let health = format!("{}/health", server.url);
        for _ in 0..400 {
            if answers(&health) {
                return server;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the server did not answer at {health}");
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for RealServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary(bench_data: &str) -> PathBuf {
    // Benches run in their crate's dir; the workspace's target is the
    // parent of CARGO_TARGET_TMPDIR.
    let target = Path::new(bench_data).parent().unwrap().to_owned();
    let binary = target.join("release").join("kanoon-server");
    assert!(binary.exists(), "{} missing: cargo build --release -p kanoon-server first", binary.display());
    binary
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Whether `url` answers 200 (reqwest's async client on a runtime of its
/// own: the benches do not enable reqwest's blocking feature).
fn answers(url: &str) -> bool {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async { reqwest::get(url).await.is_ok_and(|r| r.status().is_success()) })
}
