//! GHL's OAuth install: `/oauth/ghl/install` sends the admin to GHL's chooselocation
//! page; `/oauth/ghl/callback` checks the CSRF state, exchanges the code and stores the
//! tokens encrypted, which also lifts a connection out of `needs_reauth`. A state works
//! once: the callback spends it in the store before the code is exchanged, and clears
//! the browser's state cookie whatever the outcome. An install link (made by the admin
//! API for one connection) carries a state bound to that connection in the store
//! instead of a cookie; its grant goes into that connection or nowhere.

use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::Route;
use crate::config::DEFAULT_CONNECTION;
use crate::http::ApiError;
use crate::http::AppState;
use crate::platforms::ghl::client::install::{
    self, InstallRequest, STATE_COOKIE, StateError, ValidState,
};
use crate::platforms::ghl::client::{GhlError, TokenGrant, save_grant};
use crate::store::{ConnectionStatus, Millis, NewConnection, StoreError};

/// How long a spent state is remembered beyond its expiry: replicas' clocks may differ,
/// and a replica running behind would still accept the state for that long.
const SPENT_STATE_GRACE: Duration = Duration::from_secs(10 * 60);

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/oauth/ghl/install", install_app),
        Route::new(Method::GET, "/oauth/ghl/callback", finish_install),
    ]
}

const NOT_CONFIGURED: &str = "OAuth is not configured (ghl.client_id, ghl.client_secret, \
                              ghl.oauth_redirect_url, security.encryption_key)";

/// The client secret, or 503 when OAuth is not configured. Without an encryption key the
/// tokens could not be stored, so the install is refused before GHL is involved.
fn oauth_secret(state: &AppState) -> Result<&str, ApiError> {
    configured_secret(state).ok_or_else(|| ApiError::Unavailable(NOT_CONFIGURED.into()))
}

/// Whether an install can be started: the OAuth client and an encryption key are set.
pub(crate) fn configured(state: &AppState) -> bool {
    configured_secret(state).is_some()
}

fn configured_secret(state: &AppState) -> Option<&str> {
    let ghl = &state.config.ghl;
    let can_store = state.config.security.encryption_key.is_set();
    ghl.client_secret
        .expose()
        .filter(|_| !ghl.client_id.is_empty() && !ghl.oauth_redirect_url.is_empty() && can_store)
}

/// GHL's authorize URL carrying `csrf` as its state.
fn authorize_url(state: &AppState, csrf: &str) -> Result<url::Url, ApiError> {
    let ghl = &state.config.ghl;
    let request = InstallRequest {
        authorize_url: &ghl.oauth_authorize_url,
        client_id: &ghl.client_id,
        redirect_uri: &ghl.oauth_redirect_url,
        scopes: &ghl.oauth_scopes,
    };
    install::authorize_url(&request, csrf).map_err(|e| ApiError::Internal(e.into()))
}

/// An install link for connection `connection_id`: GHL's authorize URL whose state is
/// bound to the connection in the store, and when it stops working. Without OAuth
/// configured it answers 409, as the admin API does for any setting the operator must
/// add first (the browser routes above answer 503 for it, as before).
pub(crate) async fn install_link(
    state: &AppState,
    connection_id: &str,
) -> Result<(url::Url, Millis), ApiError> {
    let secret =
        configured_secret(state).ok_or_else(|| ApiError::Conflict(NOT_CONFIGURED.into()))?;
    let now = Millis::now();
    let (csrf, nonce) = install::issue_state(secret, now);
    let expires_at = install::expires_at(now);
    state
        .store
        .bind_oauth_state(&nonce, connection_id, expires_at, now)
        .await
        .map_err(|e| store_unavailable(&e))?;
    Ok((authorize_url(state, &csrf)?, expires_at))
}

fn store_unavailable(error: &StoreError) -> ApiError {
    tracing::warn!(%error, "could not read or write an OAuth install state");
    ApiError::Unavailable("cannot record the install right now; start again".into())
}

async fn install_app(State(state): State<AppState>) -> Result<Response, ApiError> {
    let secret = oauth_secret(&state)?;
    let (csrf, nonce) = install::issue_state(secret, Millis::now());
    let url = authorize_url(&state, &csrf)?;
    let cookie = format!(
        "{STATE_COOKIE}={nonce}; Path=/oauth/ghl; Max-Age=600; HttpOnly; Secure; SameSite=Lax"
    );
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(url.as_str())).into_response())
}

#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
}

fn cookie_nonce(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(STATE_COOKIE)?.strip_prefix('='))
}

/// The callback's answer, whatever it is, clears the state cookie: the state is spent.
async fn finish_install(
    State(state): State<AppState>,
    Query(callback): Query<Callback>,
    headers: HeaderMap,
) -> Response {
    let mut response = connect_location(&state, callback, &headers)
        .await
        .into_response();
    let expired =
        format!("{STATE_COOKIE}=; Path=/oauth/ghl; Max-Age=0; HttpOnly; Secure; SameSite=Lax");
    if let Ok(cookie) = HeaderValue::from_str(&expired) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

async fn connect_location(
    state: &AppState,
    callback: Callback,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let secret = oauth_secret(state)?;
    let (Some(code), Some(csrf)) = (callback.code, callback.state) else {
        return Err(ApiError::BadRequest(
            "the callback needs `code` and `state`".into(),
        ));
    };
    let now = Millis::now();
    let bad_state = |e: StateError| ApiError::BadRequest(e.to_string());
    let valid = install::verify_signed(secret, &csrf, now).map_err(bad_state)?;
    // A state bound to a connection is an install link: no cookie takes part.
    let linked = state
        .store
        .oauth_state_connection(&valid.nonce)
        .await
        .map_err(|e| store_unavailable(&e))?;
    if linked.is_none() && cookie_nonce(headers) != Some(valid.nonce.as_str()) {
        return Err(bad_state(StateError::Mismatch));
    }
    spend_state(state, &valid, now).await?;
    let grant = exchange(state, &code).await?;
    let Some(location) = grant.location_id.clone() else {
        return Err(ApiError::BadRequest(
            "install the app on a sub-account (location)".into(),
        ));
    };
    let connection = match linked {
        Some(id) => linked_connection(state, &id, &location).await?,
        None => connection_for(state, &location).await?,
    };
    save_grant(state.store.as_ref(), &connection, &grant, None)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    state
        .store
        .set_connection_status(&connection, ConnectionStatus::Active, None)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    // Cached sessions of the connection hold the tokens this grant replaces.
    state.clients.forget(&connection);
    tracing::info!(connection.id = %connection, ghl.location_id = %location, "GHL OAuth install completed");
    Ok(Html("<p>Connected to GoHighLevel. You can close this window.</p>").into_response())
}

/// Marks the state used, atomically across replicas; a second use is refused.
async fn spend_state(state: &AppState, valid: &ValidState, now: Millis) -> Result<(), ApiError> {
    let keep_until = valid.expires_at.plus(SPENT_STATE_GRACE);
    let fresh = state
        .store
        .spend_oauth_state(&valid.nonce, keep_until, now)
        .await
        .map_err(|error| {
            tracing::warn!(%error, "could not spend an OAuth install state");
            ApiError::Unavailable("cannot record the install right now; start again".into())
        })?;
    if fresh {
        Ok(())
    } else {
        Err(ApiError::BadRequest(
            "this install state was already used; start the install again".into(),
        ))
    }
}

async fn exchange(state: &AppState, code: &str) -> Result<TokenGrant, ApiError> {
    let ghl = &state.config.ghl;
    let app = state
        .clients
        .ghl_oauth_app()
        .ok_or_else(|| ApiError::Unavailable("OAuth is not configured".into()))?;
    app.exchange_code(code, &ghl.oauth_redirect_url)
        .await
        .map_err(|e| match e {
            GhlError::NeedsReauth(_) => {
                ApiError::BadRequest("GHL refused the authorization code; start again".into())
            }
            other => ApiError::Unavailable(format!(
                "could not reach GHL to finish the install: {other}"
            )),
        })
}

/// The connection of `location`: the existing one, the configured default, or a new one.
async fn connection_for(state: &AppState, location: &str) -> Result<String, ApiError> {
    let store = &state.store;
    let existing = store
        .connection_for_location(location)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    if let Some(connection) = existing {
        return Ok(connection.id);
    }
    let id = if state.config.ghl.location_id == location {
        DEFAULT_CONNECTION.to_owned()
    } else {
        format!("ghl-{location}")
    };
    let connection = NewConnection {
        id: id.clone(),
        ghl_location_id: Some(location.to_owned()),
        tovuti_base_url: None,
    };
    store
        .upsert_connection(&connection)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(id)
}

/// The connection an install link was made for, when the location that granted access
/// is its own; otherwise nothing is saved and the answer says why.
async fn linked_connection(state: &AppState, id: &str, location: &str) -> Result<String, ApiError> {
    let store = &state.store;
    let connection = store
        .connection(id)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .filter(|c| !c.is_removed())
        .ok_or_else(|| {
            ApiError::Conflict(format!(
                "connection {id} was removed after the install link was made; nothing was saved"
            ))
        })?;
    if connection.ghl_location_id.as_deref() == Some(location) {
        return Ok(connection.id);
    }
    let owner = store
        .connection_for_location(location)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    let why = match (owner, connection.ghl_location_id) {
        (Some(other), _) => format!(
            "access was granted for GHL location {location}, which is connection {}'s, \
             not {id}'s; nothing was saved",
            other.id
        ),
        (None, Some(own)) => format!(
            "connection {id} syncs GHL location {own}, but access was granted for \
             {location}; choose {own} on GHL's page with a new install link"
        ),
        (None, None) => format!(
            "connection {id} has no GHL location; set ghl_location_id, then make a new \
             install link"
        ),
    };
    Err(ApiError::Conflict(why))
}
