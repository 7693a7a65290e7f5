//! Backfill runs as the store keeps them: a job the service runs in the background, its
//! options, state and counters, so any replica can show and cancel it.

use async_trait::async_trait;

use super::{Millis, StoreResult};

/// The platform whose existing data a backfill queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackfillFrom {
    /// Every Tovuti user, enrollment, progress row and award becomes an event for GHL.
    Tovuti,
    /// Every GHL contact the mapping's GHL → Tovuti rules select (by tag) becomes an event.
    Ghl,
}

impl BackfillFrom {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tovuti => "tovuti",
            Self::Ghl => "ghl",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "tovuti" => Some(Self::Tovuti),
            "ghl" => Some(Self::Ghl),
            _ => None,
        }
    }
}

/// Where a run stands. Only `running` changes; the others are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackfillState {
    Running,
    Done,
    Cancelled,
    Failed,
}

impl BackfillState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Done => "done",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "running" => Some(Self::Running),
            "done" => Some(Self::Done),
            "cancelled" => Some(Self::Cancelled),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// What a backfill does besides reading everything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackfillOptions {
    /// Count what would be queued; record nothing and keep no cursor.
    pub dry_run: bool,
    /// Stop once this many entities were selected (queued or already queued).
    pub limit: Option<u64>,
    /// Only what changed at or after this instant.
    pub since: Option<jiff::Timestamp>,
}

/// A run's counters, summed over the pages read so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct BackfillCounts {
    pub pages: u64,
    /// Entities read from the source.
    pub scanned: u64,
    /// Events recorded for the worker (or, in a dry run, that would be).
    pub queued: u64,
    /// Entities whose current state an earlier run, the poller or the sweep queued.
    pub already_queued: u64,
    /// Items the source returned that could not be read (skipped, counted).
    pub unreadable: u64,
}

impl BackfillCounts {
    /// Adds one page's counts.
    pub fn add(&mut self, page: BackfillCounts) {
        self.pages += page.pages;
        self.scanned += page.scanned;
        self.queued += page.queued;
        self.already_queued += page.already_queued;
        self.unreadable += page.unreadable;
    }
}

/// Where a running run is: its counters, the list it reads and, when the source says,
/// how many entities that list holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackfillProgress {
    pub counts: BackfillCounts,
    /// The list being read (`users`, `progress`, `awards`, `contacts`).
    pub stage: Option<String>,
    /// Entities the source reports for the list (GHL's search total), if any.
    pub total: Option<u64>,
}

/// A run to record as `running`, held by `owner`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBackfillRun {
    pub id: String,
    pub connection_id: String,
    pub from: BackfillFrom,
    pub options: BackfillOptions,
    /// The token id of whoever started it.
    pub started_by: String,
    /// The instance id of the process running it.
    pub owner: String,
    pub started_at: Millis,
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillRun {
    /// The listing's order and cursor.
    pub seq: i64,
    pub run: NewBackfillRun,
    pub state: BackfillState,
    pub progress: BackfillProgress,
    /// Why it failed (no secret and no personal data).
    pub error: Option<String>,
    pub cancel_requested: bool,
    pub heartbeat_at: Millis,
    pub finished_at: Option<Millis>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillEnd {
    pub state: BackfillState,
    pub progress: BackfillProgress,
    pub error: Option<String>,
    pub at: Millis,
}

/// The runs of the backfill jobs.
#[async_trait]
pub trait BackfillRuns: Send + Sync {
    /// Records a new running run; `Conflict` when one of the same connection and platform
    /// is running (a unique index decides, so two replicas cannot both start one).
    async fn insert_backfill_run(&self, run: &NewBackfillRun) -> StoreResult<()>;
    async fn backfill_run(&self, id: &str) -> StoreResult<Option<BackfillRun>>;
    /// A connection's runs, newest first, before `before` (a `seq`), at most `limit`.
    async fn backfill_runs(
        &self,
        connection_id: &str,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<BackfillRun>>;
    /// Writes a running run's progress and renews its heartbeat. `Some(cancel_requested)`
    /// while `owner` still runs it; `None` when it is no longer running or not `owner`'s
    /// (it was reclaimed), so the run stops.
    async fn record_backfill_progress(
        &self,
        id: &str,
        owner: &str,
        progress: &BackfillProgress,
        now: Millis,
    ) -> StoreResult<Option<bool>>;
    /// Asks a running run to stop between pages; false when it is not running.
    async fn request_backfill_cancel(&self, id: &str) -> StoreResult<bool>;
    /// Ends `owner`'s running run; false when it was no longer running (reclaimed).
    async fn finish_backfill_run(
        &self,
        id: &str,
        owner: &str,
        end: &BackfillEnd,
    ) -> StoreResult<bool>;
    /// Marks failed, with `error`, every running run whose heartbeat is older than
    /// `stale_before`: its process stopped without ending it. Returns how many.
    async fn fail_stale_backfill_runs(
        &self,
        stale_before: Millis,
        now: Millis,
        error: &str,
    ) -> StoreResult<u64>;
}
