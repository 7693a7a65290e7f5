//! Each change an operator makes to a connection, with its audit entry, in one function
//! that the admin API's handlers and the console's forms both call, so the two never
//! drift: the same operation, the same action name, the same audit detail. Callers check
//! first that the connection was not removed (each answers that in its own way).

use std::time::Duration;

use super::audit::audit;
use super::auth::Caller;
use super::connections::refused;
use crate::connections::{ConnectionInput, ConnectionPatch, ConnectionView, NewSecret};
use crate::http::ApiError;
use crate::http::AppState;
use crate::store::Connection;
use crate::verify::CheckView;

/// Creates a connection; `fields` names what the request set (never the values).
pub(crate) async fn create(
    state: &AppState,
    caller: &Caller,
    input: ConnectionInput,
    fields: Vec<String>,
) -> Result<ConnectionView, ApiError> {
    let view = state.connections().create(input).await.map_err(refused)?;
    let detail = serde_json::json!({ "fields": fields });
    audit(
        state,
        caller,
        "connection.create",
        Some(&view.id),
        None,
        detail,
    )
    .await?;
    Ok(view)
}

/// Changes what `patch` sets; `fields` names what the request set (never the values).
pub(crate) async fn update(
    state: &AppState,
    caller: &Caller,
    id: &str,
    patch: ConnectionPatch,
    fields: Vec<String>,
) -> Result<ConnectionView, ApiError> {
    let view = state
        .connections()
        .update(id, patch)
        .await
        .map_err(refused)?;
    let detail = serde_json::json!({ "fields": fields });
    audit(state, caller, "connection.update", Some(id), None, detail).await?;
    Ok(view)
}

/// Erases the connection's tokens and secrets; its events stay readable.
pub(crate) async fn remove(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<ConnectionView, ApiError> {
    let view = state.connections().remove(id).await.map_err(refused)?;
    let detail = serde_json::json!({});
    audit(state, caller, "connection.remove", Some(id), None, detail).await?;
    Ok(view)
}

/// Holds the connection's outbound work.
pub(crate) async fn pause(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<ConnectionView, ApiError> {
    let view = state.connections().pause(id).await.map_err(refused)?;
    let detail = serde_json::json!({});
    audit(state, caller, "connection.pause", Some(id), None, detail).await?;
    Ok(view)
}

/// Makes what waited during a pause due at once.
pub(crate) async fn resume(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<ConnectionView, ApiError> {
    let view = state.connections().resume(id).await.map_err(refused)?;
    let detail = serde_json::json!({});
    audit(state, caller, "connection.resume", Some(id), None, detail).await?;
    Ok(view)
}

/// An install link for connection `id`: GHL's authorize URL with a state bound to the
/// connection, and when it stops working (RFC 3339). Audited with that time, never the
/// link. The caller checks first that the connection was not removed.
pub(crate) async fn install_link(
    state: &AppState,
    caller: &Caller,
    connection: &Connection,
) -> Result<(url::Url, String), ApiError> {
    let id = connection.id.as_str();
    if connection.ghl_location_id.is_none() {
        return Err(ApiError::Conflict(format!(
            "connection {id} has no GHL location; set ghl_location_id first"
        )));
    }
    let (url, expires_at) = crate::http::routes::oauth::install_link(state, id).await?;
    let expires_at = crate::admin::rfc3339(expires_at);
    let detail = serde_json::json!({ "expires_at": expires_at });
    audit(
        state,
        caller,
        "connection.install_link",
        Some(id),
        None,
        detail,
    )
    .await?;
    Ok((url, expires_at))
}

/// The audit action of a check; the console's overview reads the latest one back.
pub(crate) const CHECK_ACTION: &str = "connection.check";

/// Runs the check against both platforms; audited with its verdict.
pub(crate) async fn check(
    state: &AppState,
    caller: &Caller,
    connection: &Connection,
) -> Result<CheckView, ApiError> {
    let view = super::check::run(state, connection).await?;
    let detail = serde_json::json!({ "passed": view.passed });
    let id = Some(connection.id.as_str());
    audit(state, caller, CHECK_ACTION, id, None, detail).await?;
    Ok(view)
}

/// A new Tovuti webhook secret; older ones keep verifying for `overlap_secs` (the
/// operations' default when `None`). Audited with its fingerprint, never the secret.
pub(crate) async fn add_tovuti_secret(
    state: &AppState,
    caller: &Caller,
    id: &str,
    overlap_secs: Option<u64>,
) -> Result<NewSecret, ApiError> {
    let overlap = overlap_secs.map(Duration::from_secs);
    let secret = state
        .connections()
        .add_tovuti_secret(id, overlap)
        .await
        .map_err(refused)?;
    let detail = serde_json::json!({
        "fingerprint": secret.view.fingerprint,
        "overlap_secs": overlap_secs,
    });
    let target = Some(secret.view.id.as_str());
    audit(
        state,
        caller,
        "tovuti_secret.create",
        Some(id),
        target,
        detail,
    )
    .await?;
    Ok(secret)
}

/// Stops one Tovuti webhook secret verifying now.
pub(crate) async fn revoke_tovuti_secret(
    state: &AppState,
    caller: &Caller,
    id: &str,
    secret_id: &str,
) -> Result<(), ApiError> {
    state
        .connections()
        .revoke_tovuti_secret(id, secret_id)
        .await
        .map_err(refused)?;
    let detail = serde_json::json!({});
    audit(
        state,
        caller,
        "tovuti_secret.revoke",
        Some(id),
        Some(secret_id),
        detail,
    )
    .await
}
