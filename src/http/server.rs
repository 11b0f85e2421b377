//! Accepting connections: at most `max_connections` at once, and none held by a slow client.
//!
//! `axum::serve` sets no timer, so hyper never times out a client that sends its headers a byte
//! at a time, or nothing at all; a few thousand such connections exhausted the process's file
//! descriptors and `/healthz` stopped answering. Here every connection reads its request headers
//! within `client_timeout` (an idle keep-alive connection waiting for its next request too), the
//! body within the same time (see `body.rs`), and connections past the cap are closed as they
//! arrive, so the process always keeps room to answer.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

/// How connections are accepted, configurable on `vaskem serve`.
#[derive(Clone, Copy, Debug, clap::Args)]
pub struct ConnectionLimits {
    /// Most client connections open at once (1 to 100000); further ones are closed on arrival.
    #[arg(
        long = "max-connections",
        env = "VASKEM_MAX_CONNECTIONS",
        default_value_t = ConnectionLimits::DEFAULT.max_connections,
        value_parser = clap::value_parser!(u32).range(1..=100_000)
    )]
    pub max_connections: u32,
    /// Seconds a client has to send a request's headers, and again its body (1 to 300); an idle
    /// connection is closed after the same time.
    #[arg(
        long = "client-timeout-seconds",
        env = "VASKEM_CLIENT_TIMEOUT_SECONDS",
        default_value_t = ConnectionLimits::DEFAULT.client_timeout_seconds,
        value_parser = clap::value_parser!(u64).range(1..=300)
    )]
    pub client_timeout_seconds: u64,
}

impl ConnectionLimits {
    /// What `vaskem serve` uses when neither flag nor environment variable says otherwise: the
    /// one place these numbers are written (clap's defaults and `Default` both read it).
    pub const DEFAULT: Self = Self {
        max_connections: 1000,
        client_timeout_seconds: 15,
    };
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl ConnectionLimits {
    pub fn client_timeout(&self) -> Duration {
        Duration::from_secs(self.client_timeout_seconds)
    }
}

/// How long open requests may finish after shutdown begins.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` completes, then lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    serve_maybe_tls(listener, app, limits, None, shutdown).await;
}

/// [`serve`], over TLS when `tls` is given: the handshake runs in the connection's own task,
/// within the client timeout, and a connection that fails it is dropped.
pub async fn serve_maybe_tls(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections as usize));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.client_timeout());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of descriptors or the like: say so, and let connections close.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "connection refused: at the connection limit");
            drop(stream);
            continue;
        };
        let router = app.clone();
        let https = tls.is_some();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            if https {
                request.extensions_mut().insert(super::OverHttps);
            }
            router.clone().oneshot(request)
        });
        // No upgrades: the service offers no WebSocket or other protocol switch.
        let Some(acceptor) = tls.clone() else {
            let connection =
                graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
            tokio::spawn(async move {
                // A client that goes away or times out is not an error worth a log line.
                let _ = connection.await;
                drop(slot);
            });
            continue;
        };
        let watcher = graceful.watcher();
        let builder = builder.clone();
        let handshake_timeout = limits.client_timeout();
        tokio::spawn(async move {
            let Ok(Ok(stream)) =
                tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await
            else {
                return;
            };
            let _ = watcher
                .watch(builder.serve_connection(TokioIo::new(stream), service))
                .await;
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still open at shutdown were cut off");
    }
}
