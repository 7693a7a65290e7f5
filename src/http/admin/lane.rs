//! `GET /api/v1/connections/{id}/ghl-lane`: the outbound lane of the connection's GHL
//! location as the replica answering sees it. A route of its own rather than a field of
//! the connection: the connection is stored and the same on every replica, while a lane
//! lives in one process's memory, changes with every request and is only read on demand.

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;

use crate::admin::rfc3339;
use crate::http::ApiError;
use crate::http::AppState;
use crate::platforms::ghl::client::{LaneHolder, LaneStatus, RateLimitSnapshot};
use crate::store::Millis;

#[derive(Debug, Serialize)]
pub struct LaneView {
    pub connection_id: String,
    pub location_id: String,
    /// The quota the lane spaces requests to: configured, or as GHL last reported it.
    pub quota: QuotaView,
    /// Requests this replica sent for the location within the last quota interval.
    pub sent_in_window: usize,
    /// GHL's `X-RateLimit-*` headers on its last answer; null before any answer.
    pub reported: Option<ReportedView>,
    /// Until when the lane sends nothing (a 429's Retry-After, a spent day); null when
    /// it is not paused.
    pub paused_until: Option<String>,
    /// `only_replica` (SQLite: no lease needed), `this_replica` (it holds the
    /// location's lane lease) or `not_this_replica` (another replica does, or nobody
    /// has sent lately).
    pub holder: &'static str,
}

#[derive(Debug, Serialize)]
pub struct QuotaView {
    pub max_requests: u32,
    pub interval_ms: u64,
}

#[derive(Debug, Serialize)]
pub struct ReportedView {
    pub max: Option<u64>,
    pub remaining: Option<u64>,
    pub interval_ms: Option<u64>,
    pub daily_limit: Option<u64>,
    pub daily_remaining: Option<u64>,
}

pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<LaneView>, ApiError> {
    let connection = super::connections::live(&state, &id).await?;
    let Some(location) = connection.ghl_location_id else {
        return Err(ApiError::Conflict(format!(
            "connection {id} has no GHL location, so no lane"
        )));
    };
    Ok(Json(current(&state, id, location)))
}

/// The lane of `location` as this replica sees it now: what the route answers, and what
/// the console shows on a connection's page and (its daily quota) on the overview.
pub(crate) fn current(state: &AppState, connection_id: String, location: String) -> LaneView {
    let status = state.clients.ghl_lane(&location);
    view(connection_id, location, status, Millis::now())
}

/// How much of GHL's daily quota the location used, as GHL last reported it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct DailyUse {
    pub used: u64,
    pub limit: u64,
}

impl LaneView {
    /// `None` until GHL's answers to this replica carried both daily headers.
    pub fn used_today(&self) -> Option<DailyUse> {
        let reported = self.reported.as_ref()?;
        let limit = reported.daily_limit?;
        let remaining = reported.daily_remaining?;
        Some(DailyUse {
            used: limit.saturating_sub(remaining),
            limit,
        })
    }
}

fn view(connection_id: String, location_id: String, status: LaneStatus, now: Millis) -> LaneView {
    let millis = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    LaneView {
        connection_id,
        location_id,
        quota: QuotaView {
            max_requests: status.max_requests,
            interval_ms: millis(status.interval),
        },
        sent_in_window: status.sent_in_window,
        reported: status.reported.map(ReportedView::from),
        paused_until: status.paused_for.map(|pause| rfc3339(now.plus(pause))),
        holder: match status.holder {
            LaneHolder::OnlyReplica => "only_replica",
            LaneHolder::ThisReplica => "this_replica",
            LaneHolder::NotThisReplica => "not_this_replica",
        },
    }
}

impl From<RateLimitSnapshot> for ReportedView {
    fn from(seen: RateLimitSnapshot) -> Self {
        Self {
            max: seen.max,
            remaining: seen.remaining,
            interval_ms: seen.interval_ms,
            daily_limit: seen.daily_limit,
            daily_remaining: seen.daily_remaining,
        }
    }
}
