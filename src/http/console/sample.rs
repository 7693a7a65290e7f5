//! `POST /console/connections/{id}/sample`: the sample contact round trip of
//! `check --sample` for one connection: a marked test contact (and, with a Tovuti API, a
//! test user) made from a made-up sample through the mapping, read back, compared field
//! by field, then removed. It writes to both platforms, so it needs a full session and
//! is audited.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::Console;
use super::connection::{Extra, page};
use super::manage::removed;
use super::render::refused;
use super::session::Session;
use crate::http::ApiError;
use crate::http::AppState;
use crate::http::admin::audit;
use crate::http::admin::check::clients;
use crate::http::admin::store_failed;
use crate::verify::{SampleView, round_trips};

/// Runs both round trips and shows each field sent beside what was read back.
pub async fn run(
    State(state): State<AppState>,
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(gone) = removed(&state, &console, &session, &id).await {
        return gone;
    }
    let sample = match round_trip(&state, &id).await {
        Ok(sample) => sample,
        Err(error) if error.status().is_client_error() => {
            let extra = Extra {
                problem: Some(error.to_string()),
                ..Extra::default()
            };
            return page(&state, &console, &session, &id, &headers, extra).await;
        }
        Err(error) => return refused(&console, &session, error),
    };
    let detail = serde_json::json!({ "passed": sample.passed });
    if let Err(error) = audit(
        &state,
        &session.caller,
        "connection.sample",
        Some(&id),
        None,
        detail,
    )
    .await
    {
        return refused(&console, &session, error);
    }
    let extra = Extra {
        sample: Some(sample),
        ..Extra::default()
    };
    page(&state, &console, &session, &id, &headers, extra).await
}

async fn round_trip(state: &AppState, id: &str) -> Result<SampleView, ApiError> {
    let connection = state
        .store
        .connection(id)
        .await
        .map_err(store_failed)?
        .ok_or_else(|| ApiError::NotFound(format!("no connection {id}")))?;
    let clients = clients(state, &connection).await?;
    let tovuti = clients.tovuti.as_deref();
    let now = jiff::Timestamp::now();
    let samples = round_trips(&clients.ghl, tovuti, &clients.mapping.mapping, now).await;
    Ok(SampleView::from(&samples))
}
