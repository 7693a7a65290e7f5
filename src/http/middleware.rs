//! The whole layer stack, in one place and in order. Requests pass the layers top to
//! bottom as listed in `apply`; responses pass them bottom to top.

use std::any::Any;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use super::error::{PROBLEM_JSON, problem};
use crate::http::AppState;
use crate::telemetry::HttpLabels;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Headers whose values never reach a log or a trace.
const SENSITIVE: [HeaderName; 6] = [
    header::AUTHORIZATION,
    header::COOKIE,
    HeaderName::from_static("x-ghl-signature"),
    HeaderName::from_static("x-wh-signature"),
    HeaderName::from_static("webhook-signature"),
    HeaderName::from_static("x-signature"),
];

/// Applies the stack. Listed outermost first: a request meets the layers in this order.
pub fn apply(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    let server = &state.config.server;
    let outer = ServiceBuilder::new()
        // A caller's id is echoed and logged, so one that is too long or carries other
        // characters is dropped here and a fresh one made in its place.
        .map_request(drop_unsafe_request_id)
        // First, so every later layer and the logs see the id; propagated to the response.
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        // Before tracing, so signature and auth headers are marked sensitive when logged.
        .layer(SetSensitiveRequestHeadersLayer::new(SENSITIVE))
        // 4xx are not failures; 503s are aggregated warnings; only 500s are errors.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(make_span)
                .on_failure(crate::telemetry::log_failure),
        );
    let inner = ServiceBuilder::new()
        // A panicking handler becomes one logged 500 problem, not a dropped connection.
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(RequestBodyLimitLayer::new(server.body_limit_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(server.request_timeout_secs),
        ));
    // Router::layer wraps what is already there, so the innermost layer comes first here.
    router
        .layer(inner)
        // Errors produced by the layers below (413, 408) get our problem+json envelope.
        .layer(middleware::map_response(problem_for_bare_errors))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record_metrics,
        ))
        .layer(outer)
        // axum's own 2 MiB default would otherwise apply on top of the configured limit.
        .layer(DefaultBodyLimit::disable())
}

/// Longest caller-supplied request id kept.
const MAX_REQUEST_ID: usize = 128;

fn drop_unsafe_request_id(mut request: Request) -> Request {
    let safe = request
        .headers()
        .get(REQUEST_ID)
        .is_none_or(|id| is_safe_request_id(id.as_bytes()));
    if !safe {
        request.headers_mut().remove(REQUEST_ID);
    }
    request
}

/// 1 to 128 characters of `A-Z a-z 0-9 . _ : -`: enough for UUIDs and the ids proxies
/// and tracers make, nothing that could forge a log line or bloat one.
fn is_safe_request_id(id: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

fn make_span(request: &Request) -> tracing::Span {
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    tracing::info_span!("request", method = %request.method(), route, request_id)
}

async fn record_metrics(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let response = next.run(request).await;
    let labels = HttpLabels {
        method,
        route,
        status: response.status().as_u16(),
    };
    state.metrics.http_requests.get_or_create(&labels).inc();
    state
        .metrics
        .http_duration
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    response
}

/// The method as a metric label. Clients may send any token as a method, and each new
/// label value would be a new series kept for the life of the process, so methods beyond
/// the standard ones share one label.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// Error responses not made by our handlers (404/405 from routing, 413 from the body
/// limit, 408 from the timeout, axum's extractor rejections) get the problem+json
/// envelope; a short plain-text explanation from a 4xx is kept as the detail.
async fn problem_for_bare_errors(response: Response) -> Response {
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
    let is_problem = content_type
        .as_ref()
        .is_some_and(|v| v.as_bytes() == PROBLEM_JSON.as_bytes());
    // The console's pages answer errors as HTML for a person; those stay as they are.
    let is_html = content_type
        .as_ref()
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if is_problem || is_html || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_text = content_type
        .as_ref()
        .is_some_and(|v| v.as_bytes().starts_with(b"text/plain"));
    let (parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, MAX_DETAIL_BYTES).await {
        Ok(bytes) if is_text && status.is_client_error() && !bytes.is_empty() => {
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        _ => None,
    };
    let detail = text.unwrap_or_else(|| default_detail(status).to_owned());
    let mut replaced = problem(status, detail);
    // Keep headers such as Allow (405) and Retry-After that the original carried.
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            replaced
                .headers_mut()
                .entry(name)
                .or_insert_with(|| value.clone());
        }
    }
    replaced
}

/// Longest plain-text explanation carried into a problem's detail.
const MAX_DETAIL_BYTES: usize = 1024;

fn default_detail(status: StatusCode) -> &'static str {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is larger than the limit",
        StatusCode::REQUEST_TIMEOUT => "the request took too long",
        StatusCode::NOT_FOUND => "no such route",
        StatusCode::METHOD_NOT_ALLOWED => "the route does not accept this method",
        _ => status.canonical_reason().unwrap_or("error"),
    }
}

#[expect(
    clippy::needless_pass_by_value,
    reason = "CatchPanicLayer hands the payload over by value"
)]
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = message, "a request handler panicked");
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "an internal error occurred",
    )
}
