//! TLS served by the binary itself: desks enrolling and syncing through
//! the real binary over HTTPS with a province CA made here; a client
//! without that CA, and plain HTTP to the TLS port, refused cleanly;
//! certificate files missing, not PEM or not matching their key refused
//! at start; the listener's guarantees (header timeout, shutdown) kept
//! over TLS. And PostgreSQL over TLS when the URL asks.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kanoon_server::testing::{TestPostgres, postgres_skipped};
use kanoon_server::{ConnectionLimits, PostgresStorage, ServerTls};
use kanoon_store::catalog::TitleInput;
use kanoon_sync::{Client, SyncError, enrol, sync_once};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::binary::{Running, free_port, run, wait_healthy};
use crate::desks::{desk, lend, register};
use crate::support::{Backend, TestDatabase};

const BIN: &str = env!("CARGO_BIN_EXE_kanoon-server");

/// A province CA and a server certificate for 127.0.0.1 and localhost it
/// signed, all PEM.
pub(crate) struct Pki {
    pub(crate) ca: String,
    pub(crate) cert: String,
    pub(crate) key: String,
}

pub(crate) fn pki() -> Pki {
    pki_for(&["127.0.0.1", "localhost"])
}

/// `pki` with a server certificate for these names and addresses.
pub(crate) fn pki_for(names: &[&str]) -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "Kanoon test province CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
        .unwrap()
        .signed_by(&key, &*ca)
        .unwrap();
    Pki { ca: ca.pem(), cert: cert.pem(), key: key.serialize_pem() }
}

pub(crate) fn write(dir: &Path, name: &str, contents: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.to_str().unwrap().to_owned()
}

fn https_client(ca: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .build()
        .unwrap()
}

/// The binary with `--tls-cert`/`--tls-key` on every address (allowed with
/// TLS): two desks enrol with the province CA and sync; a desk without it
/// is refused by its own TLS check; plain HTTP to the port gets a JSON 400
/// saying to use https; SIGTERM stops it.
async fn desks_enrol_and_sync_through_the_binary_over_tls(backend: Backend) {
    let db = TestDatabase::create(backend);
    let db_arg = db.arg();
    let db_arg = db_arg.as_str();
    run(&["center", "add", "--database", db_arg, "--code", "1234", "--name", "کانون شماره ۱", "--kind", "fixed"]);
    let enrol_code = || {
        let printed = run(&["enrol-code", "--database", db_arg, "--center", "1234"]).stdout;
        String::from_utf8(printed).unwrap().trim().to_owned()
    };
    let (code_a, code_b) = (enrol_code(), enrol_code());
    let files = tempfile::tempdir().unwrap();
    let pki = pki();
    let (cert, key, ca) = (
        write(files.path(), "cert.pem", &pki.cert),
        write(files.path(), "key.pem", &pki.key),
        write(files.path(), "ca.pem", &pki.ca),
    );
    let port = free_port();
    let child = Command::new(BIN)
        .args(["serve", "--database", db_arg, "--listen", &format!("0.0.0.0:{port}"), "--admin-listen", "127.0.0.1:0"])
        .args(["--tls-cert", &cert, "--tls-key", &key])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Running(child);
    let url = format!("https://127.0.0.1:{port}");
    wait_healthy(&https_client(&pki.ca), &url, &mut server).await;

    // A desk that does not trust the province CA stops at the handshake.
    let untrusting = Client::new(&url, None).unwrap();
    let stranger = Arc::new(desk(files.path(), 3));
    let refused = enrol(&stranger, &untrusting, &url, &code_b, "میز ۳").await.unwrap_err();
    assert!(matches!(refused, SyncError::Unreachable(_)), "{refused:?}");
    assert!(matches!(
        Client::with_ca_file(&url, Some(&files.path().join("missing.pem"))),
        Err(SyncError::Certificate(_))
    ));

    // Desks trusting it (the file `KANOON_SERVER_CA_FILE` names) enrol and sync.
    let client = Client::with_ca_file(&url, Some(Path::new(&ca))).unwrap();
    let (a, b) = (Arc::new(desk(files.path(), 1)), Arc::new(desk(files.path(), 2)));
    enrol(&a, &client, &url, &code_a, "میز ۱").await.unwrap();
    enrol(&b, &client, &url, &code_b, "میز ۲").await.unwrap();
    a.lock()
        .unwrap()
        .add_title_with_copies(
            TitleInput { title: "ماهی سیاه کوچولو".into(), ..TitleInput::default() },
            &["11".to_string()],
        )
        .unwrap();
    let sara = register(&a, "سارا", 71);
    lend(&a, &sara, "11");
    sync_once(&a, &client).await.unwrap();
    sync_once(&b, &client).await.unwrap();
    assert_eq!(b.lock().unwrap().open_loans_of(sara.id).unwrap().len(), 1);
    assert_eq!(a.lock().unwrap().outbox_len().unwrap(), 0);

    // Plain HTTP to the TLS port: a JSON 400 saying so, then closed.
    let plain = reqwest::Client::new().get(format!("http://127.0.0.1:{port}/health")).send().await.unwrap();
    assert_eq!(plain.status(), 400);
    let body: serde_json::Value = plain.json().await.unwrap();
    assert_eq!(body["code"], "bad_request", "{body}");
    assert!(body["message"].as_str().unwrap().contains("https://"), "{body}");
    let plain_desk = Client::new(&format!("http://127.0.0.1:{port}"), None).unwrap();
    assert!(matches!(sync_once(&a, &plain_desk).await, Err(SyncError::Refused { status: 400, .. })));
    // And HTTPS is still served.
    wait_healthy(&https_client(&pki.ca), &url, &mut server).await;

    let pid = server.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "SIGTERM did not stop the TLS server");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}");
}

backend_tests!(desks_enrol_and_sync_through_the_binary_over_tls);

/// Certificate and key files missing, not PEM, or not of one another:
/// refused at start with a message that names the problem, nothing served.
#[test]
fn the_binary_refuses_tls_files_missing_not_pem_or_not_matching() {
    let files = tempfile::tempdir().unwrap();
    let (one, other) = (pki(), pki());
    let cert = write(files.path(), "cert.pem", &one.cert);
    let key = write(files.path(), "key.pem", &one.key);
    let other_key = write(files.path(), "other-key.pem", &other.key);
    let garbage = write(files.path(), "garbage.pem", "not a certificate\n");
    let missing = files.path().join("missing.pem").to_str().unwrap().to_owned();
    let database = files.path().join("province.sqlite");
    let port = free_port().to_string();
    let cases = [
        (&missing, &key, "cannot read the TLS certificate"),
        (&cert, &missing, "cannot read the TLS key"),
        (&garbage, &key, "holds no certificate"),
        (&cert, &cert, "holds no private key"),
        (&cert, &other_key, "do not go together"),
    ];
    for (cert, key, expected) in cases {
        let started = Instant::now();
        let output = Command::new(BIN)
            .args(["serve", "--database", database.to_str().unwrap(), "--listen", &format!("0.0.0.0:{port}")])
            .args(["--admin-listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key])
            .output()
            .unwrap();
        let message = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{cert} {key}: started");
        assert!(message.contains("refusing to start") && message.contains(expected), "{expected}: {message}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
    // Refused before the database was opened.
    assert!(!database.exists());
    // `--tls-cert` alone is a usage error.
    let output = Command::new(BIN).args(["serve", "--database", "x.sqlite", "--tls-cert", &cert]).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--tls-key"));
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

/// Over TLS, a client that never sends a byte, one that stops inside its
/// handshake, and one that stops inside its headers are cut off by the
/// header timeout while others are served; shutdown does not wait for them.
#[tokio::test]
async fn over_tls_stalled_handshakes_and_headers_are_cut_off_and_shutdown_does_not_wait() {
    let db = TestDatabase::create(Backend::Sqlite);
    let storage = db.open().storage();
    let pki = pki();
    let tls = ServerTls::from_pem(pki.cert.as_bytes(), pki.key.as_bytes()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let limits = ConnectionLimits { header_read_timeout: Duration::from_millis(500), ..Default::default() };
    let task = tokio::spawn(kanoon_server::serve_with_tls(listener, None, storage, limits, Some(tls), async {
        let _ = stopped.await;
    }));
    let silent = TcpStream::connect(addr).await.unwrap();
    let mut in_handshake = TcpStream::connect(addr).await.unwrap();
    // The first bytes of a TLS record header, then nothing.
    in_handshake.write_all(&[0x16, 0x03, 0x01]).await.unwrap();
    // A TLS client that finishes its handshake but never its headers.
    let mut config = rustls_client(&pki.ca);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut in_headers = connector.connect(name, tcp).await.unwrap();
    in_headers.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.unwrap();

    let client = https_client(&pki.ca);
    let health = client.get(format!("https://{addr}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let mut silent = silent;
    assert!(closed_within(&mut silent, Duration::from_secs(5)).await, "a silent client was not cut off");
    assert!(closed_within(&mut in_handshake, Duration::from_secs(5)).await, "a stalled handshake was not cut off");
    let mut buf = [0u8; 256];
    let cut = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match in_headers.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    });
    assert!(cut.await.is_ok(), "a client stalled in its headers was not cut off");

    // Idle TLS clients do not hold shutdown.
    let _idle: Vec<_> = futures_idle(addr, 5).await;
    let started = Instant::now();
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(3), task).await.expect("shutdown waited").unwrap().unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
}

async fn futures_idle(addr: std::net::SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut idle = Vec::new();
    for _ in 0..n {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    idle
}

fn rustls_client(ca: &str) -> rustls::ClientConfig {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(ca.as_bytes()).unwrap()).unwrap();
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// The CA of the test PostgreSQL's certificate (`scripts/with-postgres.sh`
/// serves TLS when openssl is there), or `None`, said on stderr.
fn postgres_ca() -> Option<String> {
    if postgres_skipped() {
        return None;
    }
    let ca = std::env::var("KANOON_TEST_POSTGRES_CA").ok().filter(|v| !v.is_empty());
    if ca.is_none() {
        eprintln!("PostgreSQL TLS test skipped: no KANOON_TEST_POSTGRES_CA (a server without TLS)");
    }
    ca
}

fn with_params(url: &str, params: &str) -> String {
    format!("{url}{}{params}", if url.contains('?') { '&' } else { '?' })
}

fn connection_is_tls(storage: &PostgresStorage) -> bool {
    storage
        .with_client(|c| c.query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[]).unwrap().get(0))
        .unwrap()
}

/// `sslmode=require` connects over TLS (the certificate not checked, as
/// libpq), `verify-full` and `verify-ca` with the server's CA as
/// `sslrootcert` too, and a URL that asks nothing stays plain.
#[test]
fn postgres_over_tls_when_the_url_asks() {
    let Some(ca) = postgres_ca() else {
        return;
    };
    let db = TestPostgres::create();
    assert!(!connection_is_tls(&PostgresStorage::open(db.url()).unwrap()));
    let required = PostgresStorage::open(&with_params(db.url(), "sslmode=require")).unwrap();
    assert!(connection_is_tls(&required));
    let verified =
        PostgresStorage::open(&with_params(db.url(), &format!("sslmode=verify-full&sslrootcert={ca}"))).unwrap();
    assert!(connection_is_tls(&verified));
    let chained =
        PostgresStorage::open(&with_params(db.url(), &format!("sslmode=verify-ca&sslrootcert={ca}"))).unwrap();
    assert!(connection_is_tls(&chained));
}

/// `verify-full` refuses a server whose certificate an unknown CA signed
/// (another CA as `sslrootcert`, or the system's roots).
#[test]
fn postgres_verify_full_refuses_a_certificate_of_an_unknown_ca() {
    if postgres_ca().is_none() {
        return;
    }
    let db = TestPostgres::create();
    let files = tempfile::tempdir().unwrap();
    let other_ca = write(files.path(), "other-ca.pem", &pki().ca);
    let cases = [format!("sslmode=verify-full&sslrootcert={other_ca}"), "sslmode=verify-full".to_owned()];
    // At once: each waits out the pool's connection timeout before saying why.
    std::thread::scope(|scope| {
        for params in &cases {
            let url = with_params(db.url(), params);
            scope.spawn(move || {
                let started = Instant::now();
                let refused = PostgresStorage::open(&url).err();
                let refused = refused.unwrap_or_else(|| panic!("{params}: connected"));
                assert!(refused.message.contains("invalid peer certificate"), "{params}: {refused}");
                assert!(started.elapsed() < Duration::from_secs(30));
            });
        }
    });
}
