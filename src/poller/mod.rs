//! The Tovuti change poller: scans users, course progress and awards page by page, diffs
//! each entity against its stored snapshot and queues an inbox event (the same envelope a
//! pushed Tovuti webhook has) for what is new or changed. Backfill drives the same scan.
//!
//! Sits below `startup` and above `store` and `platforms`; it never imports `http`.

mod connections;
mod cursor;
mod detect;
mod fetch;
mod page;
mod run;
mod scan;
mod status;

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

pub use connections::{RESYNC, start_for_connections};
pub use cursor::Cursor;
pub use fetch::Throttle;
pub use run::{context, default_lists, spawn, spawn_for};
pub use scan::scan;
pub use status::{ResourceStatus, status};

use crate::config::{InitialScan, PollerConfig};
use crate::platforms::tovuti::TovutiError;
use crate::platforms::tovuti::client::TovutiLists;
use crate::store::{Millis, Store, StoreError};
use crate::telemetry::Metrics;

/// What a scan reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    Users,
    Progress,
    Awards,
}

impl Resource {
    pub const ALL: [Self; 3] = [Self::Users, Self::Progress, Self::Awards];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Users => "users",
            Self::Progress => "progress",
            Self::Awards => "awards",
        }
    }
}

/// Why a scan runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanMode {
    /// The poller's periodic scan: events for what changed since the last one.
    Poll,
    /// An event for every entity whose current state was never queued (baselines
    /// included), under the poller's external ids, so a second run queues nothing.
    /// `limit` caps the entities queued; `dry_run` only counts; `since` asks the tenant
    /// for what changed from that instant (sent only when `tovuti.changed_since_param`
    /// names the tenant's parameter).
    Backfill {
        limit: Option<u64>,
        dry_run: bool,
        since: Option<jiff::Timestamp>,
    },
}

/// One page's counts, handed to the observer as the scan goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageCounts {
    pub page: u32,
    /// Items read (unreadable ones not included).
    pub scanned: u64,
    /// Entities whose events were newly queued (or would be, in a dry run).
    pub queued: u64,
    /// Entities whose current state was queued before.
    pub already_queued: u64,
    /// Items Tovuti returned that could not be read.
    pub unreadable: u64,
}

/// Watches a scan page by page (a progress bar, a test).
pub trait ScanObserver: Send {
    fn page(&mut self, counts: &PageCounts);
}

/// An observer that ignores everything.
pub struct Unobserved;

impl ScanObserver for Unobserved {
    fn page(&mut self, _counts: &PageCounts) {}
}

/// What a scan did, summed over its pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanSummary {
    pub pages: u32,
    pub scanned: u64,
    pub queued: u64,
    pub already_queued: u64,
    pub unreadable: u64,
    /// Events recorded in the inbox (one entity may need two).
    pub events: u64,
    /// Snapshots written.
    pub snapshots_saved: u64,
    /// False when a backfill stopped at its limit before the last page.
    pub finished: bool,
}

impl ScanSummary {
    fn add(&mut self, counts: &PageCounts) {
        self.pages += 1;
        self.scanned += counts.scanned;
        self.queued += counts.queued;
        self.already_queued += counts.already_queued;
        self.unreadable += counts.unreadable;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    /// Another replica (or a backfill) holds this scan's lease.
    #[error("another process is scanning this resource")]
    Busy,
    /// The lease expired mid-scan and another holder took it; the scan stopped.
    #[error("the scan lease was lost")]
    LeaseLost,
    /// Shutdown was asked for; the cursor keeps the scan's place.
    #[error("stopped by shutdown")]
    Stopped,
    #[error("page {page} could not be read: {source}")]
    Tovuti {
        page: u32,
        #[source]
        source: TovutiError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl PollError {
    /// A bounded label for `bridge_poll_errors_total{reason}`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Busy => "busy",
            Self::LeaseLost => "lease_lost",
            Self::Stopped => "stopped",
            Self::Store(_) => "store",
            Self::Tovuti { source, .. } => fetch::reason(source),
        }
    }
}

/// The poller's settings, from `[poller]`.
#[derive(Debug, Clone)]
pub struct PollSettings {
    pub page_size: u32,
    pub initial_scan: InitialScan,
    pub overlap: Duration,
    pub page_retries: u32,
    /// Wait before the first retry of a failed page without `Retry-After`; doubled per
    /// retry up to a minute.
    pub first_backoff: Duration,
    pub lease: Duration,
    pub users_interval: Duration,
    pub progress_interval: Duration,
    pub awards_interval: Duration,
    /// Whether the tenant's list endpoints take a "changed since" parameter; without one
    /// every scan is a full scan.
    pub changed_since: bool,
}

impl PollSettings {
    pub fn from_config(config: &PollerConfig, changed_since: bool) -> Self {
        Self {
            page_size: config.page_size,
            initial_scan: config.initial_scan,
            overlap: Duration::from_secs(config.overlap_secs),
            page_retries: config.page_retries,
            first_backoff: Duration::from_secs(1),
            lease: Duration::from_secs(config.lease_secs),
            users_interval: Duration::from_secs(config.users_interval_secs),
            progress_interval: Duration::from_secs(config.progress_interval_secs),
            awards_interval: Duration::from_secs(config.awards_interval_secs),
            changed_since,
        }
    }

    pub fn interval(&self, resource: Resource) -> Duration {
        match resource {
            Resource::Users => self.users_interval,
            Resource::Progress => self.progress_interval,
            Resource::Awards => self.awards_interval,
        }
    }
}

/// Wall-clock time for cursors and leases. Tests run on tokio's paused clock, so the
/// schedule is checked without sleeping: `Tokio` is the wall time at its creation plus
/// the tokio time passed since.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    System,
    Tokio {
        base: Millis,
        start: tokio::time::Instant,
    },
}

impl Clock {
    pub fn tokio() -> Self {
        Self::Tokio {
            base: Millis::now(),
            start: tokio::time::Instant::now(),
        }
    }

    pub fn now(&self) -> Millis {
        match self {
            Self::System => Millis::now(),
            Self::Tokio { base, start } => base.plus(start.elapsed()),
        }
    }
}

/// Everything a scan of one connection needs.
#[derive(Clone)]
pub struct PollContext {
    pub store: Arc<dyn Store>,
    pub lists: Arc<dyn TovutiLists>,
    /// The connection whose tenant is scanned.
    pub connection: String,
    /// This process's lease owner name.
    pub owner: String,
    pub settings: PollSettings,
    pub metrics: Arc<Metrics>,
    pub throttle: Throttle,
    pub clock: Clock,
    pub shutdown: CancellationToken,
}
