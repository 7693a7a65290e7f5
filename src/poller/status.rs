//! Where each resource's polling of one connection stands, from its stored cursors: for
//! the admin API and dashboards, readable on any replica (not only the one scanning).

use serde::Serialize;

use super::connections::apply;
use super::cursor::{Cursor, stream};
use super::{PollSettings, Resource, ScanMode};
use crate::config::PollerConfig;
use crate::store::{Connection, Millis, Store, StoreResult};

#[derive(Debug, Serialize)]
pub struct ResourceStatus {
    pub resource: &'static str,
    pub interval_secs: u64,
    /// A scan is under way (or was cut off and resumes at `next_page`).
    pub scanning: bool,
    pub next_page: Option<u32>,
    /// Start of the last scan that read every page; `None`: never completed.
    pub last_completed_at: Option<String>,
    /// Seconds since that start: how old the oldest change not yet seen may be.
    pub lag_secs: Option<i64>,
    /// When the next scan is due; `None`: now (one is under way or none completed).
    pub next_due_at: Option<String>,
}

/// Every resource's status for `connection`, as of `now`.
pub async fn status(
    store: &dyn Store,
    config: &PollerConfig,
    connection: &Connection,
    now: Millis,
) -> StoreResult<Vec<ResourceStatus>> {
    let mut settings = PollSettings::from_config(config, false);
    apply(&mut settings, &connection.poller);
    let mut out = Vec::with_capacity(Resource::ALL.len());
    for resource in Resource::ALL {
        let name = stream(resource, ScanMode::Poll);
        let cursor: Cursor = store
            .poll_cursor(&connection.id, &name)
            .await?
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default();
        let interval = settings.interval(resource);
        out.push(ResourceStatus {
            resource: resource.as_str(),
            interval_secs: interval.as_secs(),
            scanning: cursor.scan_started_at.is_some(),
            next_page: cursor.scan_started_at.map(|_| cursor.next_page),
            last_completed_at: cursor.last_completed_start.map(|ms| rfc3339(Millis(ms))),
            lag_secs: cursor
                .last_completed_start
                .map(|ms| now.0.saturating_sub(ms) / 1000),
            next_due_at: cursor.due_at(interval).map(rfc3339),
        });
    }
    Ok(out)
}

fn rfc3339(at: Millis) -> String {
    jiff::Timestamp::from_millisecond(at.0)
        .map(|t| t.to_string())
        .unwrap_or_default()
}
