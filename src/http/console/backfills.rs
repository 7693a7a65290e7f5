//! `/console/connections/{id}/backfills`: start a backfill of the connection (from, dry
//! run, limit, since), its runs newest first, a live bar for a running one (the console's
//! script polls `/console/backfills/{run}/progress`), and Cancel. Starts and cancels run
//! the admin API's operations and are audited as it audits them.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use axum::{Extension, Json};

use super::Console;
use super::form::Form;
use super::manage::removed;
use super::render::{Me, refused};
use super::session::Session;
use crate::backfill::RunView;
use crate::http::AppState;
use crate::http::admin::backfills::{StartBody, cancel_run, find, start_run};
use crate::http::admin::connections::not_removed;
use crate::http::admin::store_failed;

/// Runs listed on the page.
const SHOWN: u32 = 20;

/// The page.
pub async fn show(
    State(state): State<AppState>,
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    page(&state, &console, &session, &id, StatusCode::OK, None).await
}

async fn page(
    state: &AppState,
    console: &Console,
    session: &Session,
    id: &str,
    status: StatusCode,
    problem: Option<String>,
) -> Response {
    if let Err(error) = not_removed(state, id).await {
        return refused(console, session, error);
    }
    let runs = match state.store.backfill_runs(id, None, SHOWN).await {
        Ok(runs) => runs,
        Err(error) => return refused(console, session, store_failed(error)),
    };
    let runs: Vec<RunView> = runs.iter().map(RunView::from).collect();
    let running = runs.iter().any(|r| r.state.as_str() == "running");
    let context = minijinja::context! {
        me => Me::of(session), title => format!("Backfill {id}"), nav => "overview",
        id, runs, running, problem,
    };
    console.pages.render(status, "backfills.html", context)
}

/// Starts a backfill the form describes; the page comes back with its bar.
pub async fn start(
    State(state): State<AppState>,
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<Form>,
    Path(id): Path<String>,
) -> Response {
    if let Some(gone) = removed(&state, &console, &session, &id).await {
        return gone;
    }
    let Ok(limit) = form.get("limit").map(str::parse::<u64>).transpose() else {
        let problem = "The limit must be a whole number.".to_owned();
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return page(&state, &console, &session, &id, status, Some(problem)).await;
    };
    let body = StartBody {
        from: form.text("from").unwrap_or_default(),
        dry_run: form.get("dry_run").is_some(),
        limit,
        since: form.text("since"),
    };
    match start_run(&state, &session.caller, &id, &body).await {
        Ok(_) => super::see_other(&format!("/console/connections/{id}/backfills")),
        Err(error) if error.status().is_client_error() => {
            let status = error.status();
            page(
                &state,
                &console,
                &session,
                &id,
                status,
                Some(error.to_string()),
            )
            .await
        }
        Err(error) => refused(&console, &session, error),
    }
}

/// Cancels a running run: it stops at its next page.
pub async fn cancel(
    State(state): State<AppState>,
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
    Path(run): Path<String>,
) -> Response {
    let connection = match find(&state, &run).await {
        Ok(found) => found.run.connection_id,
        Err(error) => return refused(&console, &session, error),
    };
    match cancel_run(&state, &session.caller, &run).await {
        Ok(_) => super::see_other(&format!("/console/connections/{connection}/backfills")),
        Err(error) if error.status() == StatusCode::CONFLICT => {
            let problem = Some(error.to_string());
            page(
                &state,
                &console,
                &session,
                &connection,
                error.status(),
                problem,
            )
            .await
        }
        Err(error) => refused(&console, &session, error),
    }
}

/// A run as JSON, for the page's script to move its bar.
pub async fn progress(State(state): State<AppState>, Path(run): Path<String>) -> Response {
    match find(&state, &run).await {
        Ok(found) => Json(RunView::from(&found)).into_response(),
        Err(error) => error.into_response(),
    }
}
