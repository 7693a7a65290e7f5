//! `/console/connections/{id}/mapping`: which mapping the connection syncs with, whether
//! it is valid (its problems by line when not), and a preview that plans a pasted sample
//! event through it, as `POST /api/v1/connections/{id}/preview` does (nothing changes and
//! no request reaches a platform), and what the accounts lack (`provision.rs`).

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::Console;
use super::form::Form;
use super::provision::{Done, ProvisionResult, missing};
use super::render::{Me, refused};
use super::session::Session;
use crate::config::DEFAULT_CONNECTION;
use crate::http::admin::connections::live;
use crate::http::admin::mapping::{Preview, Validation, mapping_path, preview_of, validation};
use crate::http::{ApiError, AppState};
use crate::verify::LoadedMapping;

/// The sample and what the mapping made of it.
#[derive(Default, Serialize)]
struct Tried {
    sample: String,
    preview: Option<Preview>,
    /// Each planned action as indented JSON.
    actions: Vec<String>,
    problem: Option<String>,
}

/// The mapping page.
pub async fn show(
    State(state): State<AppState>,
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    Query(outcome): Query<ProvisionResult>,
) -> Response {
    let done = outcome.done();
    render(&state, &console, &session, &id, Tried::default(), done).await
}

/// Plans the pasted sample event and shows the page with the outcome.
pub async fn preview(
    State(state): State<AppState>,
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<Form>,
    Path(id): Path<String>,
) -> Response {
    let sample = form.raw("sample").unwrap_or_default();
    let mut tried = Tried {
        sample,
        ..Tried::default()
    };
    let is_object = serde_json::from_str::<serde_json::Value>(&tried.sample)
        .is_ok_and(|value| value.is_object());
    if !is_object {
        tried.problem = Some("Paste one sample event: a JSON object.".into());
        return render(&state, &console, &session, &id, tried, None).await;
    }
    let (path, _) = match mapping_of(&state, &id).await {
        Ok(found) => found,
        Err(error) => return refused(&console, &session, error),
    };
    match LoadedMapping::read(&path) {
        Ok(loaded) => {
            let preview = preview_of(&loaded, tried.sample.as_bytes());
            tried.actions = preview
                .plan
                .iter()
                .flat_map(|plan| &plan.actions)
                .map(|action| serde_json::to_string_pretty(action).unwrap_or_default())
                .collect();
            tried.preview = Some(preview);
        }
        Err(why) => {
            tried.problem = Some(format!("The connection's mapping does not load: {why}"));
        }
    }
    render(&state, &console, &session, &id, tried, None).await
}

async fn render(
    state: &AppState,
    console: &Console,
    session: &Session,
    id: &str,
    tried: Tried,
    done: Option<Done>,
) -> Response {
    let (path, own) = match mapping_of(state, id).await {
        Ok(found) => found,
        Err(error) => return refused(console, session, error),
    };
    let (source, checked) = examine(&path);
    let problem = tried.problem.clone();
    let missing = missing(state, id).await;
    let context = minijinja::context! {
        me => Me::of(session), title => format!("Mapping of {id}"), nav => "overview",
        id, own, path, source, checked,
        tried, problem, missing, done,
    };
    console
        .pages
        .render(StatusCode::OK, "mapping.html", context)
}

/// The mapping file connection `id` syncs with, and whether it is the connection's own.
/// The `default` connection may live in the configuration alone: it syncs with the
/// configured mapping.
async fn mapping_of(state: &AppState, id: &str) -> Result<(String, bool), ApiError> {
    match live(state, id).await {
        Ok(connection) => Ok((
            mapping_path(state, &connection).to_owned(),
            connection.mapping_path.is_some(),
        )),
        Err(ApiError::NotFound(_))
            if id == DEFAULT_CONNECTION && !state.config.ghl.location_id.is_empty() =>
        {
            Ok((state.config.mapping.file.clone(), false))
        }
        Err(error) => Err(error),
    }
}

/// The mapping's name (its file, or the shipped example's) and its validation; a file
/// that cannot be read is reported as the one problem.
fn examine(path: &str) -> (String, Validation) {
    let file = (!path.is_empty()).then(|| std::path::Path::new(path));
    match crate::mapping::file::read_source(file) {
        Ok((name, text)) => {
            let checked = validation(&name, &text);
            (name, checked)
        }
        Err(why) => (
            path.to_owned(),
            Validation {
                valid: false,
                field_pairs: None,
                problems: vec![crate::http::admin::mapping::ProblemView {
                    line: 0,
                    key: String::new(),
                    message: why,
                }],
            },
        ),
    }
}
