//! The server as a process on the internet's edge: the accept loop under
//! the router. A connection whose request headers are not complete within
//! `header_read_timeout` is closed (a client that never finishes its
//! headers holds nothing for long); at most `max_connections` are served
//! at once (the rest wait in the kernel's backlog, so the process never
//! runs out of file descriptors); on shutdown idle connections are closed
//! at once and requests in flight get `shutdown_grace` to finish. With
//! TLS (`tls`), the handshake and the first request's headers together
//! must be done within the header timeout (tokio-rustls wraps the stream
//! inside this loop, so every limit above holds over TLS), and a client speaking plain HTTP to the TLS port is answered a JSON 400
//! in plain HTTP saying to use `https://`, then closed.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tower::ServiceExt as _;

use crate::error::{ErrorBody, ErrorCode};
use crate::tls::ServerTls;

/// How long a client may take to send a request's headers by default.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections served at once by default.
pub const MAX_CONNECTIONS: usize = 1024;
/// How long requests in flight may finish after shutdown is asked, by default.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What the accept loop allows a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: HEADER_READ_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
            shutdown_grace: SHUTDOWN_GRACE,
        }
    }
}

/// Serves `app` on `listener`, over TLS when `tls` is given, until
/// `shutdown` completes (see the module).
pub async fn serve_connections(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    tls: Option<ServerTls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    loop {
        // Finished connections' tasks are let go as the loop turns.
        while connections.try_join_next().is_some() {}
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.map_err(io::Error::other)?,
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors or a connection reset before it was
                    // taken: the loop goes on after a breath.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let tls = tls.clone();
        let mut stopping = stopping.clone();
        connections.spawn(async move {
            let _slot = slot;
            let Some(tls) = tls else {
                return serve_http(TokioIo::new(stream), app, peer, limits, stopping).await;
            };
            // The handshake counts against the header timeout (what it took
            // is taken off the time left for the first request's headers),
            // and is dropped at shutdown: a client that starts one and
            // stops holds nothing for long either.
            let accepted_at = tokio::time::Instant::now();
            let handshake = async {
                if !starts_tls(&stream).await? {
                    refuse_plain_http(stream).await;
                    return Ok(None);
                }
                tls.acceptor.accept(stream).await.map(Some)
            };
            let stream = tokio::select! {
                accepted = tokio::time::timeout(limits.header_read_timeout, handshake) => match accepted {
                    Ok(Ok(Some(stream))) => stream,
                    Ok(Ok(None)) => return,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "TLS handshake not finished in time");
                        return;
                    }
                },
                _ = stopping.changed() => return,
            };
            let left = limits.header_read_timeout.saturating_sub(accepted_at.elapsed()).max(Duration::from_millis(1));
            let limits = ConnectionLimits { header_read_timeout: left, ..limits };
            serve_http(TokioIo::new(stream), app, peer, limits, stopping).await;
        });
    }
    drop(listener);
    let _ = stop.send(true);
    let finished =
        tokio::time::timeout(limits.shutdown_grace, async { while connections.join_next().await.is_some() {} }).await;
    if finished.is_err() {
        tracing::warn!(left = connections.len(), "requests still running at shutdown were cut off");
        connections.abort_all();
    }
    Ok(())
}

/// Serves HTTP/1.1 on one accepted connection (plain, or after the TLS
/// handshake) until the client leaves, or shutdown closes it.
async fn serve_http<I>(
    io: I,
    app: Router,
    peer: SocketAddr,
    limits: ConnectionLimits,
    mut stopping: watch::Receiver<bool>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    // The peer's address travels with each request (`ConnectInfo`):
    // enrolment counts wrong codes per address.
    let service = hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        app.clone().oneshot(request)
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    let mut connection = pin!(http.serve_connection(io, service));
    let outcome = tokio::select! {
        outcome = connection.as_mut() => outcome,
        _ = stopping.changed() => {
            // Closes an idle connection now; one in a request ends after it.
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = outcome {
        tracing::debug!(%peer, error = %e, "connection closed");
    }
}

/// Whether the client's first byte opens a TLS handshake (a handshake
/// record, type 22). `false` for anything else, plain HTTP included.
async fn starts_tls(stream: &TcpStream) -> io::Result<bool> {
    let mut first = [0_u8; 1];
    let read = stream.peek(&mut first).await?;
    Ok(read == 1 && first[0] == 0x16)
}

/// Answers a plain-HTTP request on the TLS port with a JSON 400 (so a desk
/// configured with `http://` shows why), then closes the connection.
async fn refuse_plain_http(mut stream: TcpStream) {
    let body = serde_json::to_string(&ErrorBody {
        code: ErrorCode::BadRequest,
        message: "this port speaks HTTPS: use an https:// URL".to_owned(),
    })
    .unwrap_or_default();
    let response = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    // What the client sent is read first (one read, as much as arrived):
    // closing with unread bytes would reset the connection before the
    // client reads the answer.
    let mut request = [0_u8; 16 * 1024];
    let _ = stream.read(&mut request).await;
    if stream.write_all(response.as_bytes()).await.is_ok() {
        let _ = stream.shutdown().await;
    }
}
