//! `/console`: every connection with its status, backlog, dead events and poll lag,
//! those with a problem first.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::Console;
use super::render::{Me, refused};
use super::session::Session;
use crate::admin::summary::{Backlog, DeadLetters};
use crate::http::ApiError;
use crate::http::AppState;
use crate::http::admin::connections::refused as connection_refused;
use crate::http::admin::store_failed;
use crate::store::Millis;

/// Waiting this long (seconds) for the oldest pending event counts as a problem.
const SLOW_BACKLOG_SECS: i64 = 300;

/// One connection's line on the overview.
#[derive(Debug, Serialize)]
pub struct Row {
    pub id: String,
    pub name: Option<String>,
    pub status: &'static str,
    pub status_reason: Option<String>,
    /// Pending and retrying events.
    pub waiting: u64,
    pub oldest_pending_at: Option<String>,
    pub oldest_pending_age_secs: Option<i64>,
    pub dead: u64,
    /// The largest lag of the connection's polled resources; `None`: none completed.
    pub poll_lag_secs: Option<i64>,
    pub problem: bool,
}

pub async fn show(
    State(state): State<AppState>,
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
) -> Response {
    match rows(&state).await {
        Ok(rows) => {
            let context = minijinja::context! {
                me => Me::of(&session), title => "Overview", nav => "overview", rows,
            };
            console
                .pages
                .render(StatusCode::OK, "overview.html", context)
        }
        Err(error) => refused(&console, &session, error),
    }
}

/// The overview's rows, problems first, then by id.
pub async fn rows(state: &AppState) -> Result<Vec<Row>, ApiError> {
    let now = Millis::now();
    let mut connections = state
        .connections()
        .list()
        .await
        .map_err(connection_refused)?;
    // A removed connection is gone to the operator, as in the admin API's listing.
    connections.retain(|view| !crate::http::admin::connections::is_removed(view));
    let store = state.store.as_ref();
    let backlog: HashMap<Option<String>, Backlog> = crate::admin::summary::backlog(store, now)
        .await
        .map_err(store_failed)?
        .into_iter()
        .map(|b| (b.connection.clone(), b))
        .collect();
    let dead: HashMap<Option<String>, DeadLetters> = crate::admin::summary::dead_letters(store)
        .await
        .map_err(store_failed)?
        .into_iter()
        .map(|d| (d.connection.clone(), d))
        .collect();
    let mut rows = Vec::with_capacity(connections.len());
    for view in connections {
        let key = Some(view.id.clone());
        let backlog = backlog.get(&key);
        let waiting = backlog.map_or(0, |b| {
            ["pending", "retrying"]
                .iter()
                .filter_map(|s| b.counts.get(s))
                .sum()
        });
        let age = backlog.and_then(|b| b.oldest_pending_age_secs);
        let dead = dead.get(&key).map_or(0, |d| d.dead);
        let poll_lag_secs = poll_lag(state, &view.id, now).await?;
        rows.push(Row {
            problem: view.status != "active"
                || dead > 0
                || age.is_some_and(|a| a > SLOW_BACKLOG_SECS),
            id: view.id,
            name: view.name,
            status: view.status,
            status_reason: view.status_reason,
            waiting,
            oldest_pending_at: backlog.and_then(|b| b.oldest_pending_at.clone()),
            oldest_pending_age_secs: age,
            dead,
            poll_lag_secs,
        });
    }
    rows.sort_by(|a, b| b.problem.cmp(&a.problem).then_with(|| a.id.cmp(&b.id)));
    Ok(rows)
}

/// The largest lag among the connection's polled resources, from the stored cursors.
async fn poll_lag(state: &AppState, id: &str, now: Millis) -> Result<Option<i64>, ApiError> {
    let Some(connection) = state.store.connection(id).await.map_err(store_failed)? else {
        return Ok(None);
    };
    let resources =
        crate::poller::status(state.store.as_ref(), &state.config.poller, &connection, now)
            .await
            .map_err(store_failed)?;
    Ok(resources.iter().filter_map(|r| r.lag_secs).max())
}
