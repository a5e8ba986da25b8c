//! The real binary: admin commands, then `serve` as a process on a free
//! port, a desk enrolling, pushing and pulling through it, then SIGTERM.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use kanoon_protocol::wire::{API_PREFIX, EnrolRequest, EnrolResponse, PullResponse, PushRequest, PushResponse};
use uuid::Uuid;

use crate::support::{Backend, Desk, TestDatabase, loan_op, title_op};

const BIN: &str = env!("CARGO_BIN_EXE_kanoon-server");

pub(crate) fn run(args: &[&str]) -> Output {
    let output = Command::new(BIN).args(args).output().unwrap();
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output
}

/// Kills the server if the test fails before stopping it.
pub(crate) struct Running(pub(crate) Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

pub(crate) fn start(database: &str, port: u16) -> Running {
    start_with_admin(database, port, 0, &[])
}

/// `serve` with the admin address (`/metrics`) on `admin_port` and more
/// options.
pub(crate) fn start_with_admin(database: &str, port: u16, admin_port: u16, more: &[&str]) -> Running {
    let child = Command::new(BIN)
        .args([
            "serve",
            "--database",
            database,
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--admin-listen",
            &format!("127.0.0.1:{admin_port}"),
        ])
        .args(more)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Running(child)
}

pub(crate) async fn wait_healthy(client: &reqwest::Client, base: &str, server: &mut Running) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(format!("{base}/health")).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(server.0.try_wait().unwrap().is_none(), "the server exited");
        assert!(Instant::now() < deadline, "the server did not answer /health in 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn the_binary_administers_serves_and_stops_on_sigterm(backend: Backend) {
    let db = TestDatabase::create(backend);
    let db_arg = db.arg();
    let db_arg = db_arg.as_str();

    let added =
        run(&["center", "add", "--database", db_arg, "--code", "1234", "--name", "کانون شماره ۱", "--kind", "fixed"]);
    assert!(String::from_utf8_lossy(&added.stdout).starts_with("1234\t"));
    let code = String::from_utf8(run(&["enrol-code", "--database", db_arg, "--center", "1234"]).stdout).unwrap();
    let code = code.trim().to_owned();
    assert!(code.len() == 10 && code.chars().all(|c| c.is_ascii_digit()), "{code}");
    // Refusals exit non-zero.
    let unknown = Command::new(BIN).args(["enrol-code", "--database", db_arg, "--center", "9"]).output().unwrap();
    assert!(!unknown.status.success());

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start(db_arg, port);
    let client = reqwest::Client::new();
    wait_healthy(&client, &base, &mut server).await;

    let device_id = Uuid::now_v7();
    let request = EnrolRequest {
        code,
        center_id: Some(kanoon_domain::entities::Center::id_for_code("1234")),
        device_id,
        desk_number: 1,
        device_name: "میز امانت".into(),
    };
    let response = client.post(format!("{base}{API_PREFIX}/enrol")).json(&request).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let enrolled: EnrolResponse = response.json().await.unwrap();
    let desk = Desk { device_id, center_id: enrolled.center_id, token: enrolled.token };

    let ops = vec![loan_op(&desk, 1000), title_op(&desk, 1001, "ماهی سیاه کوچولو")];
    let pushed: PushResponse = client
        .post(format!("{base}{API_PREFIX}/push"))
        .bearer_auth(&desk.token)
        .json(&PushRequest { ops: ops.clone() })
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pushed.accepted.len(), 2);
    let pulled: PullResponse = client
        .get(format!("{base}{API_PREFIX}/pull?cursor=0:0"))
        .bearer_auth(&desk.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pulled.ops, ops);
    assert!(!pulled.more);

    // SIGTERM: a graceful stop with exit status 0.
    let pid = server.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}");

    let devices = String::from_utf8(run(&["devices", "--database", db_arg]).stdout).unwrap();
    assert!(devices.contains(&device_id.to_string()), "{devices}");
    assert!(devices.contains("میز امانت"), "{devices}");
    // A re-enrolment code for it; then it is revoked, once.
    let device = device_id.to_string();
    let again = run(&["enrol-code", "--database", db_arg, "--center", "1234", "--device", &device]);
    assert_eq!(String::from_utf8(again.stdout).unwrap().trim().len(), 10);
    run(&["devices", "revoke", "--database", db_arg, "--device", &device]);
    let twice = Command::new(BIN).args(["devices", "revoke", "--database", db_arg, "--device", &device]).output();
    assert!(!twice.unwrap().status.success(), "revoked already");

    // The exception report runs on the same database (nothing to report:
    // the pushed ops are a loan and a title; the report's own test is
    // kanoon-sync's `province_exceptions`).
    let report = run(&["exceptions", "--database", db_arg, "--center", "1234"]);
    assert!(String::from_utf8(report.stdout).unwrap().starts_with("center\tstatus\tcode"));
    assert!(String::from_utf8(report.stderr).unwrap().contains("0 exceptions, 0 not resolved"));
}

/// Plain HTTP on a non-loopback address is refused with a clear message,
/// unless the flag says a proxy terminates TLS; SIGTERM does not wait for
/// idle clients.
async fn the_binary_refuses_clear_http_off_loopback_and_stops_with_idle_clients(backend: Backend) {
    let db = TestDatabase::create(backend);
    let db_arg = db.arg();
    let port = free_port();
    let everywhere = format!("0.0.0.0:{port}");
    let refused = Command::new(BIN).args(["serve", "--database", &db_arg, "--listen", &everywhere]).output().unwrap();
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("--behind-tls-proxy") && message.contains("TLS"), "{message}");

    let child = Command::new(BIN)
        .args([
            "serve",
            "--database",
            &db_arg,
            "--listen",
            &everywhere,
            "--behind-tls-proxy",
            "--admin-listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Running(child);
    let base = format!("http://127.0.0.1:{port}");
    wait_healthy(&reqwest::Client::new(), &base, &mut server).await;
    // Idle clients that never send a byte.
    let idle: Vec<_> = (0..20).map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(200));
    let pid = server.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "SIGTERM waited for idle clients");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}");
    drop(idle);
}

backend_tests!(
    the_binary_administers_serves_and_stops_on_sigterm,
    the_binary_refuses_clear_http_off_loopback_and_stops_with_idle_clients,
);
