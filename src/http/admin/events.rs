//! `GET /api/v1/events` and `GET /api/v1/events/{id}`.

use axum::Json;
use axum::extract::{Extension, Path, RawQuery, State};

use super::audit::audit;
use super::auth::Caller;
use super::params::{EVENT_PARAMS, Params, bad, event_query};
use super::store_failed;
use crate::admin::Page;
use crate::admin::views::{EventDetailView, EventView};
use crate::http::ApiError;
use crate::http::AppState;
use crate::store::EventId;

/// A page of events, last received first.
pub async fn list(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<EventView>>, ApiError> {
    let params = Params::parse(raw.as_deref(), EVENT_PARAMS)?;
    let query = event_query(&params)?;
    let page = crate::admin::events::list(state.store.as_ref(), &query)
        .await
        .map_err(store_failed)?;
    Ok(Json(page.map(|event| EventView::from(&event))))
}

/// One event with its attempts, actions and skipped items; `?include=payload` adds the
/// stored delivery, and that read of personal data is audited.
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<EventDetailView>, ApiError> {
    let params = Params::parse(raw.as_deref(), &["include"])?;
    let with_payload = match params.one("include")? {
        None => false,
        Some("payload") => true,
        Some(_) => return Err(bad("include", "the only value is `payload`")),
    };
    let id = event_id(&id)?;
    let detail = crate::admin::events::detail(state.store.as_ref(), id)
        .await
        .map_err(store_failed)?
        .ok_or_else(|| ApiError::NotFound(format!("no event {id}")))?;
    if with_payload {
        let connection = detail.event.connection_id.as_deref();
        let target = id.to_string();
        let detail = serde_json::json!({ "include": "payload" });
        audit(
            &state,
            &caller,
            "event.payload.read",
            connection,
            Some(&target),
            detail,
        )
        .await?;
    }
    Ok(Json(EventDetailView::new(&detail, with_payload)))
}

/// An event id from the path: a UUID, else 400.
pub fn event_id(text: &str) -> Result<EventId, ApiError> {
    uuid::Uuid::parse_str(text)
        .map(EventId)
        .map_err(|_| bad("id", "not an event id (a UUID)"))
}
