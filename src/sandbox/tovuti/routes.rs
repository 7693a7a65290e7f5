//! The fake's routes under `/api/v1`, as Tovuti's new API paths them: every request is
//! logged, then must carry the bearer token, then may meet a fault.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::FakeTovutiState;
use super::lists;
use super::state::Invalid;
use crate::sandbox::faults::{self, Fault};

/// Where the API lives on the fake, as `/api/v1` does on `api.tovuti.io`.
pub const PREFIX: &str = "/api/v1";

type S = State<Arc<FakeTovutiState>>;
type ListQuery = Query<HashMap<String, String>>;

pub fn router(shared: Arc<FakeTovutiState>) -> Router {
    let api = Router::new()
        .route("/user", post(create_user))
        .route("/user/{id}", get(get_user).patch(update_user))
        .route("/users", get(lists::users))
        .route("/users/courseProgress", get(lists::progress))
        .route("/users/awards", get(lists::awards))
        .route(
            "/customFields",
            get(|s: S, q: ListQuery| lists::catalog(s, q, "customFields")),
        )
        .route(
            "/userGroups",
            get(|s: S, q: ListQuery| lists::catalog(s, q, "userGroups")),
        )
        .route(
            "/courses",
            get(|s: S, q: ListQuery| lists::catalog(s, q, "courses")),
        )
        .layer(axum::middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared);
    Router::new().nest(PREFIX, api)
}

/// Logs the request (path relative to the API root), then checks the token and faults.
async fn gate(State(shared): S, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    shared.lock().log.push((method.clone(), path.clone()));
    if !authorized(request.headers(), &shared.token) {
        return message(StatusCode::UNAUTHORIZED, "Unauthenticated.");
    }
    // Targets may name query pairs, to fail one page of a list.
    let target = request
        .uri()
        .path_and_query()
        .map_or_else(|| path.clone(), |pq| pq.as_str().to_owned());
    let fault = shared.lock().faults.take(method.as_str(), &target);
    match fault {
        None => next.run(request).await,
        Some(Fault::Latency(delay)) => {
            tokio::time::sleep(delay).await;
            next.run(request).await
        }
        Some(Fault::Status(code)) => injected(code, 1),
        Some(Fault::RateLimited(after)) => injected(429, after.as_secs().max(1)),
        Some(Fault::Reset) => faults::cut_short(StatusCode::OK.into_response()),
        Some(Fault::Garbage) => faults::garbage(),
        Some(Fault::Hang) => {
            faults::hang().await;
            message(StatusCode::GATEWAY_TIMEOUT, "Hung")
        }
        Some(Fault::AppliedThenReset) => faults::cut_short(next.run(request).await),
        Some(Fault::AppliedThenHang) => {
            let response = next.run(request).await;
            faults::hang().await;
            response
        }
    }
}

fn authorized(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| given == token)
}

/// An injected status; 429 and 503 say when to come back, as Laravel's throttle does.
fn injected(code: u16, retry_after_secs: u64) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let text = status.canonical_reason().unwrap_or("Injected failure");
    let mut response = message(status, text);
    if matches!(code, 429 | 503) {
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(retry_after_secs));
    }
    response
}

fn message(status: StatusCode, text: &str) -> Response {
    (status, Json(json!({ "message": text }))).into_response()
}

/// Tovuti's documented answer to a read of a missing user: this wording, with a 404.
fn not_found(id: &str) -> Response {
    let body = json!({ "error": format!("User id = {id} not found") });
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

/// Laravel's validation answer: `{message, errors: {field: [text]}}` with a 422; the
/// message is the first error's, with how many more there are.
fn unprocessable(invalid: &Invalid) -> Response {
    let first = invalid.errors.first().map_or("", |(_, m)| m.as_str());
    let message = match invalid.errors.len() {
        0 | 1 => first.to_owned(),
        2 => format!("{first} (and 1 more error)"),
        n => format!("{first} (and {} more errors)", n - 1),
    };
    let errors: Map<String, Value> = invalid
        .errors
        .iter()
        .map(|(field, text)| (field.clone(), json!([text])))
        .collect();
    let body = json!({ "message": message, "errors": errors });
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

fn object(bytes: &Bytes) -> Result<Map<String, Value>, Box<Response>> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => {
            let invalid = Invalid::new("body", "The body must be a JSON object.");
            Err(Box::new(unprocessable(&invalid)))
        }
    }
}

async fn get_user(State(shared): S, Path(id): Path<String>) -> Response {
    let user = id
        .parse()
        .ok()
        .and_then(|n| shared.lock().users.get(&n).cloned());
    match user {
        Some(user) => Json(user).into_response(),
        None => not_found(&id),
    }
}

async fn create_user(State(shared): S, bytes: Bytes) -> Response {
    let body = match object(&bytes) {
        Ok(body) => body,
        Err(refusal) => return *refusal,
    };
    let created = shared.lock().create(body);
    match created {
        Ok(user) => (StatusCode::CREATED, Json(user)).into_response(),
        Err(invalid) => unprocessable(&invalid),
    }
}

async fn update_user(State(shared): S, Path(id): Path<String>, bytes: Bytes) -> Response {
    let body = match object(&bytes) {
        Ok(body) => body,
        Err(refusal) => return *refusal,
    };
    let updated = id.parse().ok().and_then(|n| shared.lock().update(n, body));
    match updated {
        Some(Ok(user)) => Json(user).into_response(),
        Some(Err(invalid)) => unprocessable(&invalid),
        None => not_found(&id),
    }
}
