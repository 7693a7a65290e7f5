//! `/console`: every connection with its status and GHL authorisation, backlog, dead
//! events, last poll and its lag, GHL's daily quota used (as this replica last heard it)
//! and its last check; those with a problem first.

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
use crate::connections::GhlAuth;
use crate::http::ApiError;
use crate::http::AppState;
use crate::http::admin::connections::refused as connection_refused;
use crate::http::admin::lane::{self, DailyUse};
use crate::http::admin::operations::CHECK_ACTION;
use crate::http::admin::store_failed;
use crate::store::{AuditQuery, Millis};

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
    /// When the connection's latest completed poll finished.
    pub last_poll_at: Option<String>,
    pub ghl_auth: GhlAuth,
    pub has_ghl_location: bool,
    /// GHL's daily quota used, from its last answer to this replica; `None`: not heard.
    pub quota_today: Option<DailyUse>,
    /// The last check run against both platforms; `None`: never checked.
    pub last_check: Option<LastCheck>,
    pub problem: bool,
}

/// The latest check's verdict and time, as the audit log recorded it.
#[derive(Debug, Serialize)]
pub struct LastCheck {
    pub passed: bool,
    pub at: String,
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
        let (poll_lag_secs, last_poll_at) = polled(state, &view.id, now).await?;
        let last_check = last_check(state, &view.id).await?;
        let location = view.ghl.location_id.clone();
        let quota_today = location
            .clone()
            .and_then(|location| lane::current(state, view.id.clone(), location).used_today());
        rows.push(Row {
            problem: view.status != "active"
                || dead > 0
                || age.is_some_and(|a| a > SLOW_BACKLOG_SECS)
                || last_check.as_ref().is_some_and(|check| !check.passed)
                || quota_today.is_some_and(|quota| quota.used >= quota.limit),
            id: view.id,
            name: view.name,
            status: view.status,
            status_reason: view.status_reason,
            waiting,
            oldest_pending_at: backlog.and_then(|b| b.oldest_pending_at.clone()),
            oldest_pending_age_secs: age,
            dead,
            poll_lag_secs,
            last_poll_at,
            ghl_auth: view.ghl.auth,
            has_ghl_location: location.is_some(),
            quota_today,
            last_check,
        });
    }
    rows.sort_by(|a, b| b.problem.cmp(&a.problem).then_with(|| a.id.cmp(&b.id)));
    Ok(rows)
}

/// The largest lag among the connection's polled resources and when the latest poll
/// completed, from the stored cursors.
async fn polled(
    state: &AppState,
    id: &str,
    now: Millis,
) -> Result<(Option<i64>, Option<String>), ApiError> {
    let Some(connection) = state.store.connection(id).await.map_err(store_failed)? else {
        return Ok((None, None));
    };
    let resources =
        crate::poller::status(state.store.as_ref(), &state.config.poller, &connection, now)
            .await
            .map_err(store_failed)?;
    let lag = resources.iter().filter_map(|r| r.lag_secs).max();
    // The instants are written in one format, so the greatest string is the latest.
    let last = resources
        .iter()
        .filter_map(|r| r.last_completed_at.clone())
        .max();
    Ok((lag, last))
}

/// The connection's latest check, from the audit log, which records every check's
/// verdict (console and admin API alike): what the overview knows of whether GHL and
/// Tovuti answered as they should.
async fn last_check(state: &AppState, id: &str) -> Result<Option<LastCheck>, ApiError> {
    let query = AuditQuery {
        connection_id: Some(id.to_owned()),
        action: Some(CHECK_ACTION.to_owned()),
        limit: 1,
        ..AuditQuery::default()
    };
    let entries = state
        .store
        .audit_entries(&query)
        .await
        .map_err(store_failed)?;
    Ok(entries.into_iter().next().map(|found| LastCheck {
        passed: found.entry.detail["passed"].as_bool().unwrap_or(false),
        at: crate::admin::rfc3339(found.entry.at),
    }))
}
