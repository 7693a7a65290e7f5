//! `/console/connections/{id}/…` changes that end something: revoking one Tovuti webhook
//! secret, and removing a connection after a confirmation that names it. Both run the
//! admin API's operations and are audited as it audits them.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::Console;
use super::connection::{Extra, page};
use super::form::Form;
use super::render::{Me, refused};
use super::session::Session;
use crate::http::AppState;
use crate::http::admin::connections::not_removed;
use crate::http::admin::operations;

/// Revokes one Tovuti webhook secret: it stops verifying now.
pub async fn revoke(
    State(state): State<AppState>,
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
    Path((id, secret_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(error) = not_removed(&state, &id).await {
        return refused(&console, &session, error);
    }
    let revoked = operations::revoke_tovuti_secret(&state, &session.caller, &id, &secret_id);
    if let Err(error) = revoked.await {
        return refused(&console, &session, error);
    }
    let extra = Extra {
        notice: Some("The secret was revoked: it no longer verifies.".into()),
        ..Extra::default()
    };
    page(&state, &console, &session, &id, &headers, extra).await
}

/// The confirmation page: removing is asked for by typing the connection's id.
pub async fn confirm(
    State(state): State<AppState>,
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    confirm_page(&state, &console, &session, &id, StatusCode::OK, None).await
}

async fn confirm_page(
    state: &AppState,
    console: &Console,
    session: &Session,
    id: &str,
    status: StatusCode,
    problem: Option<&str>,
) -> Response {
    if let Err(error) = not_removed(state, id).await {
        return refused(console, session, error);
    }
    let context = minijinja::context! {
        me => Me::of(session), title => format!("Remove connection {id}"), nav => "overview",
        id, problem,
    };
    console.pages.render(status, "remove.html", context)
}

/// Removes the connection once the form names it: its tokens and secrets are erased,
/// its stored events stay readable, and it leaves the overview.
pub async fn remove(
    State(state): State<AppState>,
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<Form>,
    Path(id): Path<String>,
) -> Response {
    if form.get("confirm") != Some(id.as_str()) {
        let problem = "Type the connection's id exactly to remove it.";
        return confirm_page(
            &state,
            &console,
            &session,
            &id,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(problem),
        )
        .await;
    }
    if let Err(error) = not_removed(&state, &id).await {
        return refused(&console, &session, error);
    }
    if let Err(error) = operations::remove(&state, &session.caller, &id).await {
        return refused(&console, &session, error);
    }
    super::see_other("/console")
}

/// The answer when `id` was removed (or never was): a form left open on its page
/// changes nothing, as the admin API answers 404 for it.
pub(super) async fn removed(
    state: &AppState,
    console: &Console,
    session: &Session,
    id: &str,
) -> Option<Response> {
    let error = not_removed(state, id).await.err()?;
    Some(refused(console, session, error))
}
