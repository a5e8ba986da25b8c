//! The server as a process on the internet's edge: a client that never
//! finishes its headers is cut off and connections are capped (the real
//! binary), and shutdown does not wait for idle clients.

use std::time::{Duration, Instant};

use kanoon_server::ConnectionLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

use crate::support::{Backend, TestDatabase, TestServer, other_center_still_syncs};

/// A server over a fresh database with these limits; its address, the
/// switch that stops it and its task.
async fn serve(
    backend: Backend,
    limits: ConnectionLimits,
) -> (String, oneshot::Sender<()>, tokio::task::JoinHandle<std::io::Result<()>>, TestDatabase) {
    let db = TestDatabase::create(backend);
    let storage = db.open().storage();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(kanoon_server::serve_with_limits(listener, storage, limits, async {
        let _ = stopped.await;
    }));
    (addr, stop, task, db)
}

/// Whether the server closed `stream` within `within` (reads until EOF).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    });
    read.await.is_ok()
}

async fn health(client: &reqwest::Client, addr: &str) -> u16 {
    client.get(format!("http://{addr}/health")).send().await.unwrap().status().as_u16()
}

/// The binary's address as `host:port`.
fn addr_of(server: &TestServer) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

async fn headers_never_finished_are_cut_off_and_others_are_served(backend: Backend) {
    let server = TestServer::binary_with(backend, &["--header-read-timeout-ms", "500"]).await;
    server.add_center("5678");
    let b = server.enrol("5678", 1).await;
    let addr = addr_of(&server);
    // 300 such connections once took every file the server could open.
    let mut slow = Vec::new();
    for _ in 0..300 {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.unwrap();
        slow.push(s);
    }
    // Meanwhile the server answers.
    assert_eq!(health(&reqwest::Client::new(), &addr).await, 200);
    let started = Instant::now();
    for s in &mut slow {
        assert!(closed_within(s, Duration::from_secs(5)).await, "a slow client was not cut off");
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    other_center_still_syncs(&server, &b, &[]).await;
}

async fn connections_over_the_cap_wait_and_are_served_when_a_slot_frees(backend: Backend) {
    let options = ["--max-connections", "2", "--header-read-timeout-ms", "800"];
    let server = TestServer::binary_with(backend, &options).await;
    let addr = addr_of(&server);
    // The start's health checks are done with: let their connections go.
    tokio::time::sleep(Duration::from_millis(900)).await;
    // Two silent clients take both slots.
    let _silent = [TcpStream::connect(&addr).await.unwrap(), TcpStream::connect(&addr).await.unwrap()];
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let client = reqwest::Client::new();
    assert_eq!(health(&client, &addr).await, 200);
    // Served only once the header timeout freed a slot.
    assert!(started.elapsed() >= Duration::from_millis(500), "{:?}", started.elapsed());
    drop(client);
    server.add_center("5678");
    let b = server.enrol("5678", 1).await;
    other_center_still_syncs(&server, &b, &[]).await;
}

async fn shutdown_does_not_wait_for_idle_clients(backend: Backend) {
    let (addr, stop, task, _db) = serve(backend, ConnectionLimits::default()).await;
    let client = reqwest::Client::new();
    assert_eq!(health(&client, &addr).await, 200);
    // Idle clients: silent ones, and a kept-alive one after its request.
    let mut idle = Vec::new();
    for _ in 0..10 {
        idle.push(TcpStream::connect(&addr).await.unwrap());
    }
    let mut kept = TcpStream::connect(&addr).await.unwrap();
    kept.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 512];
    assert!(kept.read(&mut buf).await.unwrap() > 0);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(3), task)
        .await
        .expect("shutdown waited for idle clients")
        .unwrap()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(closed_within(&mut kept, Duration::from_secs(1)).await);
}

backend_tests!(
    headers_never_finished_are_cut_off_and_others_are_served,
    connections_over_the_cap_wait_and_are_served_when_a_slot_frees,
    shutdown_does_not_wait_for_idle_clients,
);
