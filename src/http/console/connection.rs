//! `/console/connections/…`: add a connection, read one (its webhook URLs, its secrets,
//! its GHL lane as this replica sees it), edit it, verify it against the platforms, rotate its Tovuti webhook secret (shown
//! once), pause and resume it. Every change is audited as the admin API audits it.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use secrecy::SecretString;
use serde::Serialize;

use super::Console;
use super::form::Form;
use super::manage::removed;
use super::render::{Me, refused};
use super::session::{Session, base_url};
use crate::connections::{
    ConnectionError, ConnectionInput, ConnectionPatch, NewSecret, webhook_path,
};
use crate::http::ApiError;
use crate::http::AppState;
use crate::http::admin::connections::{not_removed, refused as connection_refused};
use crate::http::admin::lane;
use crate::http::admin::operations;
use crate::http::admin::store_failed;
use crate::verify::{CheckView, SampleView};

/// What a connection page shows beyond the connection itself.
#[derive(Default, Serialize)]
pub(super) struct Extra {
    pub check: Option<CheckView>,
    pub sample: Option<SampleView>,
    pub new_secret: Option<NewSecret>,
    pub notice: Option<String>,
    pub problem: Option<String>,
}

/// The form to add a connection.
pub async fn new(
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
) -> Response {
    new_page(&console, &session, StatusCode::OK, &Form::default(), None)
}

fn new_page(
    console: &Console,
    session: &Session,
    status: StatusCode,
    values: &Form,
    problem: Option<&str>,
) -> Response {
    let fields = ["id", "name", "ghl_location_id", "tovuti_base_url"];
    let values: std::collections::BTreeMap<&str, String> = fields
        .iter()
        .map(|f| (*f, values.text(f).unwrap_or_default()))
        .collect();
    let context = minijinja::context! {
        me => Me::of(session), title => "Add a connection", nav => "overview", values, problem,
    };
    console.pages.render(status, "new_connection.html", context)
}

/// Adds the connection the form describes; its page comes next.
pub async fn create(
    State(state): State<AppState>,
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<Form>,
) -> Response {
    let input = ConnectionInput {
        id: form.text("id").unwrap_or_default(),
        name: form.text("name"),
        ghl_location_id: form.text("ghl_location_id").unwrap_or_default(),
        ghl_token: form.text("ghl_token").map(SecretString::from),
        tovuti_base_url: form.text("tovuti_base_url"),
        tovuti_token: form.text("tovuti_token").map(SecretString::from),
        tovuti_auth_mode: Default::default(),
        mapping_path: None,
        poller: Default::default(),
    };
    let fields = form.present(&[
        "id",
        "name",
        "ghl_location_id",
        "ghl_token",
        "tovuti_base_url",
        "tovuti_token",
    ]);
    let view = match operations::create(&state, &session.caller, input, fields).await {
        Ok(view) => view,
        Err(error) => {
            if error.status().is_client_error() {
                return new_page(
                    &console,
                    &session,
                    error.status(),
                    &form,
                    Some(&error.to_string()),
                );
            }
            return refused(&console, &session, error);
        }
    };
    super::see_other(&format!("/console/connections/{}", view.id))
}

/// A connection's page.
pub async fn show(
    State(state): State<AppState>,
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    page(&state, &console, &session, &id, &headers, Extra::default()).await
}

pub(super) async fn page(
    state: &AppState,
    console: &Console,
    session: &Session,
    id: &str,
    headers: &HeaderMap,
    extra: Extra,
) -> Response {
    if let Err(error) = not_removed(state, id).await {
        return refused(console, session, error);
    }
    let connections = state.connections();
    let view = match connections.get(id).await {
        Ok(view) => view,
        Err(error) => return refused(console, session, connection_refused(error)),
    };
    let secrets = match connections.tovuti_secrets(id).await {
        Ok(secrets) => secrets,
        // The configured connection's secret is in the configuration, not the store.
        Err(ConnectionError::ReadOnly) => Vec::new(),
        Err(error) => return refused(console, session, connection_refused(error)),
    };
    let base = base_url(headers);
    let lane = view
        .ghl
        .location_id
        .clone()
        .map(|location| lane::current(state, id.to_owned(), location));
    let used_today = lane.as_ref().and_then(lane::LaneView::used_today);
    let context = minijinja::context! {
        me => Me::of(session),
        title => format!("Connection {id}"),
        nav => "overview",
        connection => view,
        secrets,
        tovuti_webhook => format!("{base}{}", webhook_path(id)),
        ghl_webhook => format!("{base}/webhooks/ghl"),
        lane,
        used_today,
        oauth_configured => crate::http::routes::oauth::configured(state),
        check => extra.check,
        sample => extra.sample,
        new_secret => extra.new_secret,
        notice => extra.notice,
        problem => extra.problem,
    };
    console
        .pages
        .render(StatusCode::OK, "connection.html", context)
}

/// Changes the fields the edit form sent: a blank name or Tovuti URL clears it; a blank
/// token keeps the stored one.
pub async fn edit(
    State(state): State<AppState>,
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<Form>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(gone) = removed(&state, &console, &session, &id).await {
        return gone;
    }
    let patch = ConnectionPatch {
        name: form.raw("name"),
        ghl_location_id: form.text("ghl_location_id"),
        ghl_token: form.text("ghl_token").map(SecretString::from),
        tovuti_base_url: form.raw("tovuti_base_url"),
        tovuti_token: form.text("tovuti_token").map(SecretString::from),
        ..ConnectionPatch::default()
    };
    let fields = form.present(&[
        "name",
        "ghl_location_id",
        "ghl_token",
        "tovuti_base_url",
        "tovuti_token",
    ]);
    if let Err(error) = operations::update(&state, &session.caller, &id, patch, fields).await {
        if error.status() == StatusCode::UNPROCESSABLE_ENTITY
            || error.status() == StatusCode::CONFLICT
        {
            let extra = Extra {
                problem: Some(error.to_string()),
                ..Extra::default()
            };
            return page(&state, &console, &session, &id, &headers, extra).await;
        }
        return refused(&console, &session, error);
    }
    let extra = Extra {
        notice: Some("Saved.".into()),
        ..Extra::default()
    };
    page(&state, &console, &session, &id, &headers, extra).await
}

/// Runs the check against both platforms and shows each capability's outcome.
pub async fn verify(
    State(state): State<AppState>,
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(gone) = removed(&state, &console, &session, &id).await {
        return gone;
    }
    let check = match run_check(&state, &session, &id).await {
        Ok(check) => check,
        Err(error) if error.status().is_client_error() => {
            let extra = Extra {
                problem: Some(error.to_string()),
                ..Extra::default()
            };
            return page(&state, &console, &session, &id, &headers, extra).await;
        }
        Err(error) => return refused(&console, &session, error),
    };
    let extra = Extra {
        check: Some(check),
        ..Extra::default()
    };
    page(&state, &console, &session, &id, &headers, extra).await
}

async fn run_check(state: &AppState, session: &Session, id: &str) -> Result<CheckView, ApiError> {
    let connection = state
        .store
        .connection(id)
        .await
        .map_err(store_failed)?
        .ok_or_else(|| ApiError::NotFound(format!("no connection {id}")))?;
    operations::check(state, &session.caller, &connection).await
}

/// Makes a new Tovuti webhook secret (the older ones keep verifying for a day) and
/// shows it, this once.
pub async fn rotate(
    State(state): State<AppState>,
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(gone) = removed(&state, &console, &session, &id).await {
        return gone;
    }
    let secret = match operations::add_tovuti_secret(&state, &session.caller, &id, None).await {
        Ok(secret) => secret,
        Err(error) => return refused(&console, &session, error),
    };
    let extra = Extra {
        new_secret: Some(secret),
        ..Extra::default()
    };
    page(&state, &console, &session, &id, &headers, extra).await
}

/// Pauses the connection: outbound work waits; inbound events are stored as usual.
pub async fn pause(
    State(state): State<AppState>,
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    if let Some(gone) = removed(&state, &console, &session, &id).await {
        return gone;
    }
    let result = operations::pause(&state, &session.caller, &id).await;
    switched(&console, &session, &id, result.map(drop))
}

/// Resumes the connection: the events that waited are due at once.
pub async fn resume(
    State(state): State<AppState>,
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    if let Some(gone) = removed(&state, &console, &session, &id).await {
        return gone;
    }
    let result = operations::resume(&state, &session.caller, &id).await;
    switched(&console, &session, &id, result.map(drop))
}

fn switched(
    console: &Console,
    session: &Session,
    id: &str,
    result: Result<(), ApiError>,
) -> Response {
    if let Err(error) = result {
        return refused(console, session, error);
    }
    super::see_other(&format!("/console/connections/{id}"))
}
