//! Where a resource's scanning stands, stored per (connection, stream): the scan in
//! progress (its start and the next page to read) and the start of the last completed
//! one, from which the next scan is due — so restarts and other replicas keep the
//! interval.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{PollContext, PollError, Resource, ScanMode};
use crate::store::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Cursor {
    /// Start of the scan in progress, if one is.
    pub scan_started_at: Option<i64>,
    /// The next page of the scan in progress (1-based).
    pub next_page: u32,
    /// Start of the last scan that read every page.
    pub last_completed_start: Option<i64>,
}

impl Cursor {
    /// No scan of this resource has ever completed.
    pub fn is_first_scan(&self) -> bool {
        self.last_completed_start.is_none()
    }

    /// Begins a scan unless one is in progress (then it resumes at its stored page).
    pub fn begin(&mut self, now: Millis) {
        if self.scan_started_at.is_none() {
            self.scan_started_at = Some(now.0);
            self.next_page = 1;
        }
    }

    pub fn advance(&mut self) {
        self.next_page = self.next_page.saturating_add(1);
    }

    pub fn complete(&mut self) {
        self.last_completed_start = self.scan_started_at.take();
        self.next_page = 1;
    }

    /// When the next scan should start: now if one is in progress or none completed,
    /// else an interval after the last completed one started.
    pub fn due_at(&self, interval: Duration) -> Option<Millis> {
        match (self.scan_started_at, self.last_completed_start) {
            (None, Some(last)) => Some(Millis(last).plus(interval)),
            _ => None,
        }
    }

    /// The "changed since" instant of an incremental scan: the last completed scan's
    /// start minus the overlap.
    pub fn changed_since(&self, overlap: Duration) -> Option<jiff::Timestamp> {
        let overlap = i64::try_from(overlap.as_millis()).unwrap_or(i64::MAX);
        let since = self.last_completed_start?.saturating_sub(overlap);
        jiff::Timestamp::from_millisecond(since).ok()
    }
}

/// The cursor's stream name: the poller and backfill keep separate places.
pub fn stream(resource: Resource, mode: ScanMode) -> String {
    match mode {
        ScanMode::Poll => resource.as_str().to_owned(),
        ScanMode::Backfill { .. } => format!("backfill-{}", resource.as_str()),
    }
}

pub async fn load(ctx: &PollContext, stream: &str) -> Result<Cursor, PollError> {
    let stored = ctx.store.poll_cursor(&ctx.connection, stream).await?;
    // An unreadable cursor starts over: a full scan, which only re-finds what it knows.
    Ok(stored
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default())
}

pub async fn save(ctx: &PollContext, stream: &str, cursor: &Cursor) -> Result<(), PollError> {
    let text = serde_json::to_string(cursor).unwrap_or_default();
    ctx.store
        .save_poll_cursor(&ctx.connection, stream, &text)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_resumes_at_its_page_and_the_next_is_due_an_interval_after_its_start() {
        let mut cursor = Cursor::default();
        assert!(cursor.is_first_scan());
        assert_eq!(cursor.due_at(Duration::from_secs(60)), None);
        cursor.begin(Millis(1_000));
        cursor.advance();
        cursor.begin(Millis(5_000));
        assert_eq!((cursor.scan_started_at, cursor.next_page), (Some(1_000), 2));
        cursor.complete();
        assert!(!cursor.is_first_scan());
        assert_eq!(cursor.due_at(Duration::from_secs(60)), Some(Millis(61_000)));
        assert_eq!(
            cursor.changed_since(Duration::from_secs(1)),
            jiff::Timestamp::from_millisecond(0).ok()
        );
    }
}
