//! Serves the router on a listener, hardened against slow and idle clients: HTTP/1.1 with
//! a header-read timeout, a cap on open connections, and a shutdown that closes at once
//! every connection with no request in progress.
//!
//! HTTP/1.1 only, no h2c: TLS and HTTP/2 towards clients end at the load balancer or
//! ingress, and the platforms post webhooks over HTTP/1.1. Serving cleartext HTTP/2 would
//! add a protocol-sniffing phase that no timeout covers and many streams per connection
//! that the connection cap does not see.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

use super::tracked::{InProgress, TrackedBody, TrackedCall};
use crate::config::ServerConfig;
use crate::telemetry::{HttpLabels, Metrics};

/// A pause after an accept error that is not about one connection (such as running out
/// of file descriptors), so the loop does not spin while nothing can be accepted.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_secs(1);

/// The router and the limits it is served with.
pub struct Server {
    app: Router,
    metrics: Arc<Metrics>,
    /// How long a connection may take to send a request's headers. hyper starts this
    /// clock whenever the connection waits for a request, so it also closes idle
    /// keep-alive connections.
    header_read_timeout: Duration,
    max_connections: usize,
}

impl Server {
    pub fn new(app: Router, config: &ServerConfig, metrics: Arc<Metrics>) -> Self {
        Self {
            app,
            metrics,
            header_read_timeout: Duration::from_secs(config.header_read_timeout_secs),
            max_connections: config.max_connections,
        }
    }

    /// Accepts connections until `shutdown` is cancelled, then waits for the connections
    /// still answering a request. Dropping the future closes every connection.
    pub async fn serve(self, listener: TcpListener, shutdown: CancellationToken) {
        let this = Arc::new(self);
        let slots = Arc::new(Semaphore::new(this.max_connections));
        // Owned here so that dropping this future (the grace period ran out) aborts them.
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                // Finished connections are reaped so the set does not grow.
                Some(_) = connections.join_next() => {}
                accepted = accept(&listener, &slots) => {
                    let Some((stream, peer, slot)) = accepted else { continue };
                    let this = Arc::clone(&this);
                    connections.spawn(this.connection(stream, peer, slot, shutdown.clone()));
                }
            }
        }
        drop(listener);
        while connections.join_next().await.is_some() {}
    }

    /// Serves one connection. On shutdown it is closed at once unless a request is in
    /// progress, in which case that request is finished and the connection then closed.
    async fn connection(
        self: Arc<Self>,
        stream: TcpStream,
        peer: SocketAddr,
        _slot: OwnedSemaphorePermit,
        shutdown: CancellationToken,
    ) {
        let in_progress = Arc::new(AtomicUsize::new(0));
        let service = ConnectionService {
            app: self.app.clone(),
            peer,
            in_progress: Arc::clone(&in_progress),
        };
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout);
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let mut connection = std::pin::pin!(connection);
        let result = tokio::select! {
            result = connection.as_mut() => result,
            () = shutdown.cancelled() => {
                connection.as_mut().graceful_shutdown();
                // Idle, or still sending headers: nothing was promised, close now rather
                // than let a slow client hold the shutdown.
                if in_progress.load(Ordering::Acquire) == 0 {
                    return;
                }
                connection.await
            }
        };
        if let Err(error) = result {
            self.count_protocol_error(&error);
        }
    }

    /// Requests hyper refused before they reached the router are counted like any other
    /// answered request, under the `unmatched` route and the method `other` (hyper did
    /// not parse one). hyper sends these answers itself, without a body, and offers no
    /// hook to change them. A connection closed for being too slow gets no answer and is
    /// not a request; it is only logged.
    fn count_protocol_error(&self, error: &hyper::Error) {
        let Some(status) = refusal_status(error) else {
            if error.is_timeout() {
                tracing::debug!("closed a connection that did not send its headers in time");
            }
            return;
        };
        let labels = HttpLabels {
            method: "other",
            route: "unmatched".to_owned(),
            status,
        };
        self.metrics.http_requests.get_or_create(&labels).inc();
    }
}

/// The status hyper answered a request it could not parse with, or None when it sent no
/// answer. hyper's error exposes no status: a URI too long and a head too large are
/// told apart by the error's description, the only place hyper names the difference.
fn refusal_status(error: &hyper::Error) -> Option<u16> {
    if !error.is_parse() || error.is_parse_version_h2() || error.is_parse_status() {
        return None;
    }
    if error.is_parse_too_large() {
        let uri = error.to_string().contains("URI");
        return Some(if uri { 414 } else { 431 });
    }
    Some(400)
}

/// Waits for a free connection slot, then for a connection and its peer's address. None
/// after an accept error, which is logged (and paused on when it is not about one
/// connection).
async fn accept(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
) -> Option<(TcpStream, SocketAddr, OwnedSemaphorePermit)> {
    // The semaphore is never closed, so acquiring only ever waits.
    let slot = Arc::clone(slots).acquire_owned().await.ok()?;
    match listener.accept().await {
        Ok((stream, peer)) => Some((stream, peer, slot)),
        Err(error) if is_connection_error(&error) => None,
        Err(error) => {
            tracing::warn!(%error, "accepting a connection failed; pausing");
            tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
            None
        }
    }
}

/// Errors about one connection that was reset before it was accepted.
fn is_connection_error(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        error.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// The router as hyper calls it, counting the requests of one connection that are in
/// progress: from the call until hyper has taken the whole response body. Each request
/// carries the peer's address as axum's `ConnectInfo` (the admin API limits failed
/// authentications per address).
#[derive(Clone)]
struct ConnectionService {
    app: Router,
    peer: SocketAddr,
    in_progress: Arc<AtomicUsize>,
}

impl hyper::service::Service<hyper::Request<Incoming>> for ConnectionService {
    type Response = Response<TrackedBody>;
    type Error = Infallible;
    type Future = TrackedCall;

    fn call(&self, mut request: hyper::Request<Incoming>) -> TrackedCall {
        request.extensions_mut().insert(ConnectInfo(self.peer));
        let in_progress = InProgress::start(&self.in_progress);
        TrackedCall::new(self.app.clone().oneshot(request), in_progress)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_reset_connection_is_an_error_about_one_connection() {
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        let no_files = std::io::Error::other("too many open files");

        assert!(is_connection_error(&reset));
        assert!(!is_connection_error(&no_files));
    }
}
