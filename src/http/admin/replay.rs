//! `POST /api/v1/events/{id}/replay` and `POST /api/v1/events/replay`: the store's replay
//! (the one the `replay` command runs), each change audited.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use serde::Deserialize;

use super::audit::audit;
use super::auth::Caller;
use super::events::event_id;
use super::params::{bad, instant, source, status, text};
use super::store_failed;
use crate::admin::events::{ReplayCount, ReplayOne};
use crate::http::ApiError;
use crate::http::AppState;
use crate::store::{Millis, ReplayFilter};

/// Replays one event: back to pending with a fresh attempt budget. 409 while a worker
/// holds it.
pub async fn one(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = event_id(&id)?;
    let outcome = crate::admin::events::replay_one(state.store.as_ref(), id, Millis::now())
        .await
        .map_err(store_failed)?;
    match outcome {
        ReplayOne::NotFound => Err(ApiError::NotFound(format!("no event {id}"))),
        ReplayOne::Processing => Err(ApiError::Conflict(format!(
            "event {id} is being processed; replay it once that attempt ends"
        ))),
        ReplayOne::Queued { connection_id } => {
            let target = id.to_string();
            let detail = serde_json::json!({});
            audit(
                &state,
                &caller,
                "event.replay",
                connection_id.as_deref(),
                Some(&target),
                detail,
            )
            .await?;
            Ok(Json(
                serde_json::json!({ "id": target, "status": "pending" }),
            ))
        }
    }
}

/// The body of a replay by filter: the `replay` command's filters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplayBody {
    #[serde(default)]
    ids: Vec<String>,
    /// Statuses to replay; none means dead ones.
    #[serde(default)]
    status: Vec<String>,
    source: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    since: Option<String>,
    until: Option<String>,
    #[serde(default)]
    dry_run: bool,
}

/// Replays every event the filter matches (dead ones by default); `dry_run` only counts.
pub async fn matching(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Json<ReplayCount>, ApiError> {
    let body: ReplayBody = if body.iter().all(u8::is_ascii_whitespace) {
        ReplayBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::BadRequest(format!(
                "the body is not a replay filter: {}",
                json_problem(&e)
            ))
        })?
    };
    let filter = filter(&body)?;
    let count = crate::admin::events::replay_matching(
        state.store.as_ref(),
        &filter,
        Millis::now(),
        body.dry_run,
    )
    .await
    .map_err(store_failed)?;
    if !body.dry_run {
        let detail = serde_json::json!({
            "filter": {
                "ids": body.ids, "status": body.status, "source": body.source,
                "type": body.event_type, "since": body.since, "until": body.until,
            },
            "replayed": count.replayed,
        });
        audit(&state, &caller, "events.replay", None, None, detail).await?;
    }
    Ok(Json(count))
}

/// Most event ids one replay names; more would outgrow a statement's bound parameters
/// (and the audit entry that repeats the filter).
const MAX_IDS: usize = 1000;

fn filter(body: &ReplayBody) -> Result<ReplayFilter, ApiError> {
    if body.ids.len() > MAX_IDS {
        return Err(bad("ids", &format!("at most {MAX_IDS} per replay")));
    }
    let mut statuses = body
        .status
        .iter()
        .map(|s| status("status", s))
        .collect::<Result<Vec<_>, _>>()?;
    // Each status is bound once however often it is named.
    statuses.sort_by_key(|s| s.as_str());
    statuses.dedup();
    Ok(ReplayFilter {
        ids: body
            .ids
            .iter()
            .map(|id| event_id(id).map_err(|_| bad("ids", "each must be an event id (a UUID)")))
            .collect::<Result<_, _>>()?,
        statuses,
        source: body
            .source
            .as_deref()
            .map(|s| source("source", s))
            .transpose()?,
        event_type: body
            .event_type
            .as_deref()
            .map(|t| text("type", t))
            .transpose()?,
        received_from: body
            .since
            .as_deref()
            .map(|t| instant("since", t))
            .transpose()?,
        received_until: body
            .until
            .as_deref()
            .map(|t| instant("until", t))
            .transpose()?,
    })
}

/// What is wrong with a body serde refused, without echoing the body (it may hold
/// anything).
fn json_problem(error: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match error.classify() {
        Category::Data => "a field is unknown or has the wrong type",
        Category::Syntax | Category::Eof => "not valid JSON",
        Category::Io => "unreadable",
    }
}
