//! `/api/v1/connections/{id}/backfills` and `/api/v1/backfills/{run}`: start a backfill
//! as a job of the service (202; 409 while one of the same connection and platform runs),
//! list a connection's runs, read one, cancel one. Starts and cancels are audited.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::audit::audit;
use super::auth::Caller;
use super::body::json;
use super::connections::not_removed;
use super::params::{Params, bad};
use super::store_failed;
use crate::admin::cursor::Kind;
use crate::admin::{Page, page_of};
use crate::backfill::jobs::StartRequest;
use crate::backfill::{RunView, parse_since};
use crate::http::ApiError;
use crate::http::AppState;
use crate::store::{BackfillFrom, BackfillOptions, BackfillRun, StoreError};

/// The body of a start: the `backfill` command's options.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    pub from: String,
    #[serde(default)]
    pub dry_run: bool,
    /// A whole number, written as `500` or, as JSON allows, `500.0`.
    #[serde(default, deserialize_with = "crate::store::whole_seconds")]
    pub limit: Option<u64>,
    pub since: Option<String>,
}

/// The largest limit accepted: more entities than any tenant or location holds.
const MAX_LIMIT: u64 = 1_000_000_000;

impl StartBody {
    /// The platform and options, each bad value a 400 naming its field.
    pub fn parse(&self) -> Result<(BackfillFrom, BackfillOptions), ApiError> {
        let from =
            BackfillFrom::parse(&self.from).ok_or_else(|| bad("from", "one of tovuti, ghl"))?;
        if self.limit.is_some_and(|l| l == 0 || l > MAX_LIMIT) {
            return Err(bad(
                "limit",
                &format!("a whole number from 1 to {MAX_LIMIT}"),
            ));
        }
        let since = self
            .since
            .as_deref()
            .map(|text| {
                parse_since(text)
                    .map_err(|_| bad("since", "a date (2026-01-31) or an RFC 3339 instant"))
            })
            .transpose()?;
        let options = BackfillOptions {
            dry_run: self.dry_run,
            limit: self.limit,
            since,
        };
        Ok((from, options))
    }
}

/// Starts a run of `connection` for `caller` and audits it; the run as recorded.
pub async fn start_run(
    state: &AppState,
    caller: &Caller,
    connection: &str,
    body: &StartBody,
) -> Result<RunView, ApiError> {
    not_removed(state, connection).await?;
    let (from, options) = body.parse()?;
    let request = StartRequest {
        connection: connection.to_owned(),
        from,
        options,
        started_by: caller.token_id.clone(),
    };
    let run = state.backfills.start(request).await.map_err(|error| match error {
        StoreError::Conflict(_) => ApiError::Conflict(format!(
            "a backfill of connection {connection} from {} is running; cancel it or wait for it to end",
            from.as_str()
        )),
        other => store_failed(other),
    })?;
    let view = RunView::from(&run);
    let detail = serde_json::json!({ "from": view.from, "options": &view.options });
    audit(
        state,
        caller,
        "backfill.start",
        Some(connection),
        Some(&view.id),
        detail,
    )
    .await?;
    Ok(view)
}

/// `POST /api/v1/connections/{id}/backfills`: 202 with the run and its `Location`.
pub async fn start(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: StartBody = json(&body)?;
    let view = start_run(&state, &caller, &id, &body).await?;
    let location = format!("/api/v1/backfills/{}", view.id);
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(view),
    )
        .into_response())
}

/// `GET /api/v1/connections/{id}/backfills`: newest first, paged.
pub async fn list(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<RunView>>, ApiError> {
    not_removed(&state, &id).await?;
    let params = Params::parse(raw.as_deref(), &["limit", "cursor"])?;
    let limit = params.limit()?;
    let before = params.cursor(Kind::Backfills)?;
    let rows = state
        .store
        .backfill_runs(&id, before, limit.saturating_add(1))
        .await
        .map_err(store_failed)?;
    let page = page_of(rows, limit, Kind::Backfills, |run: &BackfillRun| run.seq);
    Ok(Json(page.map(|run| RunView::from(&run))))
}

/// The run `id`; 404 when there is none.
pub async fn find(state: &AppState, id: &str) -> Result<BackfillRun, ApiError> {
    // Run ids are UUIDs; anything else names no run (and never reaches the database).
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(ApiError::NotFound(format!("no backfill run {id}")));
    }
    state
        .store
        .backfill_run(id)
        .await
        .map_err(store_failed)?
        .ok_or_else(|| ApiError::NotFound(format!("no backfill run {id}")))
}

/// `GET /api/v1/backfills/{run}`.
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RunView>, ApiError> {
    Ok(Json(RunView::from(&find(&state, &id).await?)))
}

/// Asks the run to stop between pages and audits it; 409 when it is not running.
pub async fn cancel_run(state: &AppState, caller: &Caller, id: &str) -> Result<RunView, ApiError> {
    let run = find(state, id).await?;
    if !state.backfills.cancel(id).await.map_err(store_failed)? {
        return Err(ApiError::Conflict(format!(
            "backfill run {id} is {}, not running",
            run.state.as_str()
        )));
    }
    let detail = serde_json::json!({});
    let connection = run.run.connection_id.clone();
    audit(
        state,
        caller,
        "backfill.cancel",
        Some(&connection),
        Some(id),
        detail,
    )
    .await?;
    Ok(RunView::from(&find(state, id).await?))
}

/// `POST /api/v1/backfills/{run}/cancel`: 202 with the run, which stops at its next page.
pub async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let view = cancel_run(&state, &caller, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(view)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(body: &serde_json::Value) -> Result<(BackfillFrom, BackfillOptions), ApiError> {
        json::<StartBody>(&Bytes::from(body.to_string()))?.parse()
    }

    #[test]
    fn a_start_body_reads_whole_limits_dates_and_instants() {
        let (from, options) =
            parsed(&serde_json::json!({ "from": "ghl", "limit": 3.0, "since": "2026-01-31" }))
                .unwrap();
        assert_eq!(from, BackfillFrom::Ghl);
        assert_eq!(options.limit, Some(3));
        assert_eq!(
            options.since.map(|t| t.to_string()).as_deref(),
            Some("2026-01-31T00:00:00Z")
        );
        let (_, options) =
            parsed(&serde_json::json!({ "from": "tovuti", "dry_run": true })).unwrap();
        assert!(options.dry_run && options.limit.is_none() && options.since.is_none());
        for bad_body in [
            serde_json::json!({ "from": "ghl", "limit": 2.5 }),
            serde_json::json!({ "from": "ghl", "limit": 0 }),
            serde_json::json!({ "from": "ghl", "limit": 1e10 }),
            serde_json::json!({ "from": "ghl", "since": "" }),
            serde_json::json!({ "from": "both" }),
            serde_json::json!({ "limit": 1 }),
        ] {
            assert!(
                matches!(parsed(&bad_body), Err(ApiError::BadRequest(_))),
                "{bad_body}"
            );
        }
    }
}
