//! What every fake API request passes first, in GHL's order: bearer token, `Version`
//! header, scope, queued faults, then the per-location rate window. It also stamps the
//! `X-RateLimit-*` headers and writes the request log.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{Value, json};

use super::FakeGhlState;
use super::state::{LoggedRequest, Window};
use crate::sandbox::faults::{self, Fault};

/// The `Version` the contacts family (and everything but calendars) requires.
pub const VERSION_CONTACTS: &str = "2021-07-28";
/// The `Version` the calendars family requires.
pub const VERSION_CALENDARS: &str = "2021-04-15";

/// The caller as the gate resolved it, for handlers.
#[derive(Debug, Clone)]
pub struct Caller {
    pub location_id: String,
}

/// GHL's error envelope: `{statusCode, message, error}`; 422 carries a message array.
pub fn envelope(status: StatusCode, message: &str) -> Response {
    let error = status.canonical_reason().unwrap_or("Error");
    let message = if status == StatusCode::UNPROCESSABLE_ENTITY {
        json!([message])
    } else {
        json!(message)
    };
    let body = json!({ "statusCode": status.as_u16(), "message": message, "error": error });
    (status, Json(body)).into_response()
}

/// A refusal in GHL's envelope, boxed so that results carrying it stay small.
pub struct Refusal(Box<Response>);

impl From<Response> for Refusal {
    fn from(response: Response) -> Self {
        Self(Box::new(response))
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// GHL's envelope as an `Err`.
pub fn refuse(status: StatusCode, message: &str) -> Refusal {
    envelope(status, message).into()
}

/// The scope an operation needs, from GHL's Scopes table.
fn required_scope(method: &Method, path: &str) -> &'static str {
    if path.starts_with("/locations/") && path.ends_with("/customFields") {
        return match *method {
            Method::GET => "locations/customFields.readonly",
            _ => "locations/customFields.write",
        };
    }
    for list in ["campaigns", "workflows"] {
        if path.trim_end_matches('/') == format!("/{list}") {
            return if list == "campaigns" {
                "campaigns.readonly"
            } else {
                "workflows.readonly"
            };
        }
    }
    let reads = *method == Method::GET || path == "/contacts/search";
    match (path.starts_with("/calendars"), reads) {
        (true, true) => "calendars/events.readonly",
        (true, false) => "calendars/events.write",
        (false, true) => "contacts.readonly",
        (false, false) => "contacts.write",
    }
}

fn required_version(path: &str) -> &'static str {
    if path.starts_with("/calendars") {
        VERSION_CALENDARS
    } else {
        VERSION_CONTACTS
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Middleware over every API route (not `/oauth/token`, which has no bearer).
pub async fn gate(
    State(shared): State<Arc<FakeGhlState>>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let mut entry = LoggedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        location_id: None,
        status: 0,
        at: tokio::time::Instant::now(),
        version: header(&parts.headers, "version"),
        user_agent: header(&parts.headers, "user-agent"),
        body: serde_json::from_slice(&bytes).ok(),
    };
    let (response, after) = match admit(&shared, &parts.method, &parts.headers, &mut entry).await {
        Err(refusal) => (refusal.into_response(), None),
        Ok((caller, window, after)) => {
            let mut request = Request::from_parts(parts, Body::from(bytes));
            request.extensions_mut().insert(caller);
            let mut response = next.run(request).await;
            stamp(response.headers_mut(), &shared, &window);
            (response, after)
        }
    };
    entry.status = response.status().as_u16();
    shared.lock().log.push(entry);
    match after {
        Some(Fault::AppliedThenHang) => {
            faults::hang().await;
            response
        }
        Some(_) => faults::cut_short(response),
        None => response,
    }
}

async fn admit(
    shared: &FakeGhlState,
    method: &Method,
    headers: &HeaderMap,
    entry: &mut LoggedRequest,
) -> Result<(Caller, Window, Option<Fault>), Refusal> {
    let token = header(headers, "authorization")
        .and_then(|v| v.strip_prefix("Bearer ").map(str::to_owned))
        .unwrap_or_default();
    let now = tokio::time::Instant::now();
    let grant = shared.lock().tokens.get(&token).cloned();
    let grant = match grant {
        Some(g) if !g.revoked && g.expires_at.is_none_or(|at| at > now) => g,
        Some(g) if !g.revoked => {
            return Err(refuse(StatusCode::UNAUTHORIZED, "Invalid JWT"));
        }
        _ => {
            let message = "Invalid token: access token is invalid";
            return Err(refuse(StatusCode::UNAUTHORIZED, message));
        }
    };
    entry.location_id = Some(grant.location_id.clone());
    let version = required_version(&entry.path);
    if entry.version.as_deref() != Some(version) {
        let message = format!("version must be one of the following values: {version}");
        return Err(refuse(StatusCode::UNPROCESSABLE_ENTITY, &message));
    }
    if !grant.allows(required_scope(method, &entry.path)) {
        let message = "The token is not authorized for this scope.";
        let status = if shared.lock().scope_refusal_401 {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::FORBIDDEN
        };
        return Err(refuse(status, message));
    }
    let fault = shared.lock().faults.take(method.as_str(), &entry.path);
    let after = match fault {
        Some(fault) if fault.after_handling() => Some(fault),
        Some(fault) => {
            apply_fault(shared, fault).await?;
            None
        }
        None => None,
    };
    let window = shared
        .lock()
        .take_window(&grant.location_id, &shared.limits, now);
    if !window.allowed {
        // GHL never says "come back in 0 s" for its own window.
        let secs = window.retry_after.as_millis().div_ceil(1000).max(1);
        return Err(too_many(shared, &window, secs).into());
    }
    let caller = Caller {
        location_id: grant.location_id,
    };
    Ok((caller, window, after))
}

/// A fault that strikes before the request is handled.
async fn apply_fault(shared: &FakeGhlState, fault: Fault) -> Result<(), Refusal> {
    match fault {
        Fault::Latency(delay) => {
            tokio::time::sleep(delay).await;
            Ok(())
        }
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Err(refuse(status, "Injected failure"))
        }
        Fault::RateLimited(retry_after) => {
            let window = Window {
                allowed: false,
                remaining: 0,
                daily_remaining: shared.limits.daily_max,
                retry_after,
            };
            // An injected zero is kept, so a test can have 429s without pauses.
            let secs = retry_after.as_millis().div_ceil(1000);
            Err(too_many(shared, &window, secs).into())
        }
        Fault::Reset => Err(faults::cut_short(StatusCode::OK.into_response()).into()),
        Fault::Garbage => Err(faults::garbage().into()),
        Fault::Hang | Fault::AppliedThenHang | Fault::AppliedThenReset => {
            faults::hang().await;
            Err(refuse(StatusCode::GATEWAY_TIMEOUT, "Hung"))
        }
    }
}

fn too_many(shared: &FakeGhlState, window: &Window, retry_after_secs: u128) -> Response {
    let mut response = envelope(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many requests, please try again later.",
    );
    let headers = response.headers_mut();
    headers.insert(
        "retry-after",
        HeaderValue::from(u64::try_from(retry_after_secs).unwrap_or(1)),
    );
    stamp(headers, shared, window);
    response
}

/// The five headers GHL documents, on every answer that went through the window.
fn stamp(headers: &mut HeaderMap, shared: &FakeGhlState, window: &Window) {
    let limits = &shared.limits;
    let interval = u64::try_from(limits.interval.as_millis()).unwrap_or(u64::MAX);
    headers.insert("x-ratelimit-max", HeaderValue::from(limits.burst_max));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(window.remaining));
    headers.insert(
        "x-ratelimit-interval-milliseconds",
        HeaderValue::from(interval),
    );
    headers.insert(
        "x-ratelimit-limit-daily",
        HeaderValue::from(limits.daily_max),
    );
    headers.insert(
        "x-ratelimit-daily-remaining",
        HeaderValue::from(window.daily_remaining),
    );
}

/// Parses a JSON body, answering GHL's 422 envelope when it is not a JSON object.
pub fn json_body(bytes: &Bytes) -> Result<Value, Refusal> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value) if value.is_object() => Ok(value),
        Ok(_) | Err(_) if bytes.is_empty() => Ok(json!({})),
        _ => Err(refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "body must be a JSON object",
        )),
    }
}

/// The caller extension every gated handler receives.
pub type CallerExt = Extension<Caller>;
