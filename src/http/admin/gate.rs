//! The guard in front of every admin route: off (404) without a configured token, then
//! the failed-authentication limit per source address, then the bearer token, then the
//! token's kind against the method. The caller it finds travels in the request's
//! extensions to the handler and the audit log.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

use super::auth::{Access, Tokens, bearer};
use super::throttle::FailedAuth;
use crate::config::Config;
use crate::http::ApiError;
use crate::http::error::problem;

/// The source address requests without a TCP peer share (a router driven in-process).
const NO_PEER: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

/// The address a request came from, for the failed-authentication limit.
pub fn source_address(request: &Request) -> IpAddr {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(NO_PEER, |peer| peer.0.ip())
}

pub struct Gate {
    tokens: Tokens,
    failures: Arc<FailedAuth>,
}

impl Gate {
    /// The gate over the configured tokens, counting failures in `failures` (shared with
    /// the console's sign-in, so both draw on one quota per address).
    pub fn new(config: &Config, failures: Arc<FailedAuth>) -> Self {
        Self {
            tokens: Tokens::from_config(&config.security),
            failures,
        }
    }
}

pub async fn check(State(gate): State<Arc<Gate>>, mut request: Request, next: Next) -> Response {
    if !gate.tokens.any() {
        return ApiError::NotFound("the admin API is not enabled on this service".into())
            .into_response();
    }
    let address = source_address(&request);
    if let Some(wait) = gate.failures.blocked_for(address) {
        return throttled(wait);
    }
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(bearer);
    let Some(caller) = presented.and_then(|token| gate.tokens.caller(token)) else {
        tracing::debug!("admin API: authentication failed");
        if gate.failures.failed(address) {
            tracing::warn!(%address, "admin API: too many failed authentications; address blocked for a while");
        }
        return unauthorized();
    };
    if caller.access == Access::ReadOnly && !is_read(request.method()) {
        return ApiError::Forbidden("this token may only read; use a full admin token".into())
            .into_response();
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

fn is_read(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn unauthorized() -> Response {
    let mut response = problem(
        StatusCode::UNAUTHORIZED,
        "a valid admin token is required: Authorization: Bearer <token>",
    );
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// Seconds to tell a blocked client to wait, rounded up so one waiting as told is admitted.
pub fn retry_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

fn throttled(wait: Duration) -> Response {
    ApiError::Throttled {
        detail: "too many failed authentications from this address; try again later".into(),
        retry_after: Duration::from_secs(retry_secs(wait)),
    }
    .into_response()
}
