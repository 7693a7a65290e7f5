//! The fake's campaign and workflow lists (`GET /campaigns/`, `GET /workflows/`), each
//! for the caller's location only.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::FakeGhlState;
use super::gate::{CallerExt, envelope};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    location_id: Option<String>,
}

pub async fn campaigns(
    State(s): State<Arc<FakeGhlState>>,
    caller: CallerExt,
    Query(q): Query<ListQuery>,
) -> Response {
    list(&s, &caller, q, "campaigns", |i| &i.campaign_defs)
}

pub async fn workflows(
    State(s): State<Arc<FakeGhlState>>,
    caller: CallerExt,
    Query(q): Query<ListQuery>,
) -> Response {
    list(&s, &caller, q, "workflows", |i| &i.workflow_defs)
}

fn list(
    s: &FakeGhlState,
    caller: &CallerExt,
    q: ListQuery,
    name: &str,
    defs: impl Fn(&super::state::Inner) -> &BTreeMap<String, String>,
) -> Response {
    match q.location_id {
        None => {
            return envelope(
                StatusCode::UNPROCESSABLE_ENTITY,
                "locationId should not be empty",
            );
        }
        Some(l) if l != caller.location_id => {
            let message = "The token does not have access to this location.";
            return envelope(StatusCode::FORBIDDEN, message);
        }
        Some(_) => {}
    }
    let inner = s.lock();
    let items: Vec<_> = defs(&inner)
        .iter()
        .map(|(id, n)| json!({ "id": id, "name": n, "status": "published", "locationId": caller.location_id }))
        .collect();
    Json(json!({ name: items })).into_response()
}
