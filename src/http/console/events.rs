//! `/console/events`: the filtered, paginated list (never a payload), one event with
//! its attempts, actions, skipped items and last error, a replay of one, and a replay
//! of the filtered set after a dry run has shown how many it would send back.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::Console;
use super::form::Form;
use super::render::{Me, refused};
use super::session::Session;
use super::when;
use crate::admin::MAX_LIMIT;
use crate::admin::events::ReplayOne;
use crate::admin::views::{EventDetailView, EventView};
use crate::http::ApiError;
use crate::http::AppState;
use crate::http::admin::audit;
use crate::http::admin::params::{EVENT_PARAMS, Params, event_query};
use crate::http::admin::store_failed;
use crate::store::{EventId, EventStatus, Millis, ReplayFilter};

/// The filter fields of the list and of a replay by filter.
const FILTERS: &[&str] = &[
    "status",
    "source",
    "type",
    "connection",
    "entity",
    "since",
    "until",
    "q",
];
/// Most events one replay by filter sends back; a larger set is narrowed first.
const REPLAY_MAX: usize = 1000;

/// The filter as the form shows it again.
#[derive(Debug, Default, Serialize)]
struct Filter {
    status: String,
    source: String,
    r#type: String,
    connection: String,
    entity: String,
    since: String,
    until: String,
    q: String,
}

impl Filter {
    fn of(form: &Form) -> Self {
        let v = |name: &str| form.text(name).unwrap_or_default();
        Self {
            status: v("status"),
            source: v("source"),
            r#type: v("type"),
            connection: v("connection"),
            entity: v("entity"),
            since: v("since"),
            until: v("until"),
            q: v("q"),
        }
    }
}

/// The list page.
pub async fn list(
    State(state): State<AppState>,
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
    RawQuery(raw): RawQuery,
) -> Response {
    let form = when::normalized(&Form::parse(raw.unwrap_or_default().as_bytes()));
    let filter = Filter::of(&form);
    let (since, until) = (when::field(&form, "since"), when::field(&form, "until"));
    let mut names = FILTERS.to_vec();
    names.push("cursor");
    let query = form.query(&names);
    let page = match events_page(&state, &query).await {
        Ok(page) => page,
        Err(error) if error.status().is_client_error() => {
            let context = minijinja::context! {
                me => Me::of(&session), title => "Events", nav => "events", filter, since, until,
                statuses => statuses(), problem => error.to_string(), items => Vec::<EventView>::new(),
            };
            return console.pages.render(error.status(), "events.html", context);
        }
        Err(error) => return refused(&console, &session, error),
    };
    let next = page.next.map(|cursor| {
        let mut pairs: Vec<(&str, String)> = FILTERS
            .iter()
            .filter_map(|name| form.text(name).map(|v| (*name, v)))
            .collect();
        pairs.push(("cursor", cursor));
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    });
    let context = minijinja::context! {
        me => Me::of(&session), title => "Events", nav => "events", filter, since, until,
        statuses => statuses(), items => page.items, next, filter_query => form.query(FILTERS),
    };
    console.pages.render(StatusCode::OK, "events.html", context)
}

fn statuses() -> Vec<&'static str> {
    EventStatus::ALL.iter().map(|s| s.as_str()).collect()
}

async fn events_page(
    state: &AppState,
    query: &str,
) -> Result<crate::admin::Page<EventView>, ApiError> {
    let params = Params::parse(Some(query), EVENT_PARAMS)?;
    let query = event_query(&params)?;
    let page = crate::admin::events::list(state.store.as_ref(), &query)
        .await
        .map_err(store_failed)?;
    Ok(page.map(|event| EventView::from(&event)))
}

/// One event.
pub async fn show(
    State(state): State<AppState>,
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    detail_page(&state, &console, &session, &id, None).await
}

async fn detail_page(
    state: &AppState,
    console: &Console,
    session: &Session,
    id: &str,
    notice: Option<String>,
) -> Response {
    let detail = match load(state, id).await {
        Ok(detail) => detail,
        Err(error) => return refused(console, session, error),
    };
    let context = minijinja::context! {
        me => Me::of(session), title => "Event", nav => "events", event => detail, notice,
    };
    console.pages.render(StatusCode::OK, "event.html", context)
}

async fn load(state: &AppState, id: &str) -> Result<EventDetailView, ApiError> {
    let id = event_id(id)?;
    let detail = crate::admin::events::detail(state.store.as_ref(), id)
        .await
        .map_err(store_failed)?
        .ok_or_else(|| ApiError::NotFound(format!("no event {id}")))?;
    Ok(EventDetailView::new(&detail, false))
}

fn event_id(text: &str) -> Result<EventId, ApiError> {
    uuid::Uuid::parse_str(text)
        .map(EventId)
        .map_err(|_| ApiError::NotFound("no such event".into()))
}

/// Sends one event back to pending with a fresh attempt budget.
pub async fn replay_one(
    State(state): State<AppState>,
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    let outcome = match event_id(&id) {
        Ok(event) => crate::admin::events::replay_one(state.store.as_ref(), event, Millis::now())
            .await
            .map_err(store_failed),
        Err(error) => Err(error),
    };
    let connection = match outcome {
        Ok(ReplayOne::Queued { connection_id }) => connection_id,
        Ok(ReplayOne::NotFound) => {
            return refused(
                &console,
                &session,
                ApiError::NotFound("no such event".into()),
            );
        }
        Ok(ReplayOne::Processing) => {
            let error = ApiError::Conflict(
                "A worker is processing this event; replay it once that attempt ends.".into(),
            );
            return refused(&console, &session, error);
        }
        Err(error) => return refused(&console, &session, error),
    };
    let detail = serde_json::json!({});
    if let Err(error) = audit(
        &state,
        &session.caller,
        "event.replay",
        connection.as_deref(),
        Some(&id),
        detail,
    )
    .await
    {
        return refused(&console, &session, error);
    }
    let notice = "Replayed: the event is pending again and will be processed shortly.";
    detail_page(&state, &console, &session, &id, Some(notice.into())).await
}

/// A replay of every event the filter matches: without `confirm`, a dry run that shows
/// the count and asks; with it (and the count the dry run showed), the replay.
pub async fn replay_matching(
    State(state): State<AppState>,
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<Form>,
) -> Response {
    let form = when::normalized(&form);
    let filter = Filter::of(&form);
    let ids = match matching_ids(&state, &form.query(FILTERS)).await {
        Ok(ids) => ids,
        Err(error) => return refused(&console, &session, error),
    };
    let expected = form.get("expected").and_then(|n| n.parse::<usize>().ok());
    let confirmed = form.get("confirm").is_some() && expected == Some(ids.len());
    let changed = form.get("confirm").is_some() && !confirmed;
    if !confirmed || ids.is_empty() {
        let context = minijinja::context! {
            me => Me::of(&session), title => "Replay events", nav => "events", filter,
            count => ids.len(), changed, done => false,
        };
        return console.pages.render(StatusCode::OK, "replay.html", context);
    }
    let statuses = match Params::parse(Some(&form.query(&["status"])), EVENT_PARAMS)
        .and_then(|p| event_query(&p))
    {
        Ok(query) if !query.statuses.is_empty() => query.statuses,
        // The ids pin the set; any status but processing (never touched) may be in it.
        _ => EventStatus::ALL
            .iter()
            .copied()
            .filter(|s| *s != EventStatus::Processing)
            .collect(),
    };
    let replay = ReplayFilter {
        ids,
        statuses,
        ..ReplayFilter::default()
    };
    let count = match crate::admin::events::replay_matching(
        state.store.as_ref(),
        &replay,
        Millis::now(),
        false,
    )
    .await
    {
        Ok(count) => count,
        Err(error) => return refused(&console, &session, store_failed(error)),
    };
    let detail = serde_json::json!({ "filter": &filter, "replayed": count.replayed });
    if let Err(error) = audit(&state, &session.caller, "events.replay", None, None, detail).await {
        return refused(&console, &session, error);
    }
    let context = minijinja::context! {
        me => Me::of(&session), title => "Replay events", nav => "events", filter,
        count => count.replayed, changed => false, done => true,
    };
    console.pages.render(StatusCode::OK, "replay.html", context)
}

/// The ids of the events the filter matches (at most `REPLAY_MAX`; more is a 409 asking
/// for a narrower filter).
async fn matching_ids(state: &AppState, filter_query: &str) -> Result<Vec<EventId>, ApiError> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = filter_query.to_owned();
        let limit = format!("limit={MAX_LIMIT}");
        for part in [Some(limit), cursor.take().map(|c| format!("cursor={c}"))]
            .into_iter()
            .flatten()
        {
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(&part);
        }
        let page = events_page(state, &query).await?;
        for event in &page.items {
            if let Ok(id) = uuid::Uuid::parse_str(&event.id) {
                ids.push(EventId(id));
            }
        }
        if ids.len() > REPLAY_MAX {
            return Err(ApiError::Conflict(format!(
                "More than {REPLAY_MAX} events match; narrow the filter (by connection, type or time) and try again."
            )));
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(ids),
        }
    }
}
