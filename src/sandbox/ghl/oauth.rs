//! The fake's `POST /oauth/token` (form-encoded): authorization-code exchange and
//! refresh, where a refresh token works exactly once, as the service must assume of GHL.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::FakeGhlState;
use super::gate::{Refusal, refuse};
use super::state::Grant;

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = json!({ "error": error, "error_description": description });
    (status, Json(body)).into_response()
}

/// Handles every grant type the service uses; counts each call.
pub async fn token(State(s): State<Arc<FakeGhlState>>, bytes: Bytes) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    s.lock().token_endpoint_calls += 1;
    let client_ok = field("client_id") == s.client_id && field("client_secret") == s.client_secret;
    if !client_ok {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Invalid client credentials",
        );
    }
    let mut inner = s.lock();
    let grant = match field("grant_type") {
        "authorization_code" => inner.codes.remove(field("code")),
        "refresh_token" => inner.refresh_tokens.remove(field("refresh_token")),
        other => {
            let message = format!("Unsupported grant type {other}");
            return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", &message);
        }
    };
    let Some(mut grant) = grant else {
        let message = "Invalid grant: refresh token is invalid";
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", message);
    };
    if inner.inactive_locations.contains(&grant.location_id) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Location is not active",
        );
    }
    let access = inner.next_secret("fake-access");
    let refresh = inner.next_secret("fake-refresh");
    grant.expires_at = Some(tokio::time::Instant::now() + s.access_ttl);
    inner.tokens.insert(access.clone(), grant.clone());
    inner.refresh_tokens.insert(refresh.clone(), grant.clone());
    Json(token_response(
        &grant,
        &access,
        &refresh,
        s.access_ttl.as_secs(),
    ))
    .into_response()
}

fn token_response(
    grant: &Grant,
    access: &str,
    refresh: &str,
    expires_in: u64,
) -> serde_json::Value {
    let scope: Vec<&str> = grant.scopes.iter().map(String::as_str).collect();
    json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "refresh_token": refresh,
        "scope": scope.join(" "),
        "userType": grant.user_type,
        "locationId": grant.location_id,
        "companyId": grant.company_id,
        "userId": "fake-user",
    })
}

/// `POST /oauth/locationToken`: a Company token with `oauth.write` mints a location token
/// (no refresh token), for a location of its own company.
pub async fn location_token(
    State(s): State<Arc<FakeGhlState>>,
    headers: axum::http::HeaderMap,
    bytes: Bytes,
) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let mut inner = s.lock();
    inner.location_token_calls += 1;
    let agency = match agency_grant(&inner, bearer, &form) {
        Ok(grant) => grant,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(location) = form.get("locationId").filter(|l| !l.is_empty()) else {
        let message = "locationId should not be empty";
        return super::gate::envelope(StatusCode::UNPROCESSABLE_ENTITY, message);
    };
    let now = tokio::time::Instant::now();
    let mut grant = agency;
    grant.location_id = location.clone();
    grant.user_type = "Location".into();
    grant.expires_at = Some(now + s.access_ttl);
    let access = inner.next_secret("fake-location-access");
    inner.tokens.insert(access.clone(), grant.clone());
    let scope: Vec<&str> = grant.scopes.iter().map(String::as_str).collect();
    Json(json!({
        "access_token": access, "token_type": "Bearer", "expires_in": s.access_ttl.as_secs(),
        "scope": scope.join(" "), "locationId": location, "userId": "fake-user",
    }))
    .into_response()
}

/// The Company grant behind `bearer`, if it may mint tokens for the form's company.
fn agency_grant(
    inner: &super::state::Inner,
    bearer: &str,
    form: &HashMap<String, String>,
) -> Result<Grant, Refusal> {
    let now = tokio::time::Instant::now();
    let live = |g: &&Grant| !g.revoked && g.expires_at.is_none_or(|at| at > now);
    let Some(agency) = inner.tokens.get(bearer).filter(live).cloned() else {
        let message = "Invalid token: access token is invalid";
        return Err(refuse(StatusCode::UNAUTHORIZED, message));
    };
    let company = form.get("companyId").map(String::as_str);
    let allowed = agency.user_type == "Company"
        && agency.allows("oauth.write")
        && company == Some(agency.company_id.as_str());
    if !allowed {
        let message = "The token is not authorized for this scope.";
        return Err(refuse(StatusCode::FORBIDDEN, message));
    }
    Ok(agency)
}
