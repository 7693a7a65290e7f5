//! The GHL reconciliation sweep. GHL drops a webhook after a non-429 failure and while
//! the service is unreachable beyond its retries, so a contact change can be missed for
//! good. Per location, a sweep asks GHL for the contacts changed since the previous sweep
//! began (minus an overlap), compares each with the last state the service saw or wrote
//! (`sync::seen`), and records a synthesized `ContactUpdate` — source `sweep`, the shape
//! of GHL's webhook — only for a real difference. The worker handles it like a webhook.
//!
//! One replica sweeps a location at a time (lease `sweep:{connection}`); the cursor is
//! the start of the last completed sweep; the requests spend at most `quota_share` of
//! the location's quota, in the background class of its lane. A GHL backfill
//! ([`Sweeper::backfill_from_ghl`]) pages through the contacts the tag rules select the
//! same way.

mod backfill;
mod quota;
mod sweep;
mod synth;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

pub use backfill::{BACKFILL_STREAM, BackfillOptions, BackfillPage, BackfillTotals, rule_tags};
pub use quota::SweepQuota;
pub use sweep::{SweepOutcome, SweepReport};

use crate::config::ReconcileConfig;
use crate::platforms::ghl::client::GhlError;
use crate::services::Services;
use crate::store::{Connection, ConnectionStatus, Millis, Store, StoreError};
use crate::sync::SyncEngine;
use crate::telemetry::Metrics;

/// The cursor stream of the sweep: the start of the last completed sweep, in ms.
pub const CURSOR_STREAM: &str = "ghl-contacts";

/// Longest pause between two looks at which locations are due.
const MAX_TICK: Duration = Duration::from_secs(60);

/// Why a sweep stopped early. Texts name no contact and no personal data.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Ghl(#[from] GhlError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The connection's own mapping file does not load.
    #[error("{0}")]
    Mapping(String),
    /// Another replica took the location's sweep over (this one was too slow to renew).
    #[error("the sweep lease was lost")]
    LeaseLost,
    /// The process is draining; the next sweep (or backfill run) resumes from the cursor.
    #[error("stopped by shutdown")]
    Stopped,
}

/// Sweeps the locations this process can reach through the sync engine's platforms.
pub struct Sweeper {
    store: Arc<dyn Store>,
    engine: Arc<SyncEngine>,
    config: ReconcileConfig,
    quota: SweepQuota,
    metrics: Arc<Metrics>,
    /// The owner name of the sweep leases this process takes.
    owner: String,
    /// Cancelled when the process drains: the sweep loop stops.
    shutdown: CancellationToken,
    /// When this process last tried each location, so a failing one (whose cursor does
    /// not move) is retried once per interval, not at every tick.
    tried: Mutex<HashMap<String, tokio::time::Instant>>,
}

impl Sweeper {
    /// Shares the engine's GHL lanes, so the location's quota is counted in one place.
    pub fn new(services: &Services, engine: Arc<SyncEngine>) -> Self {
        let ghl = &services.config.ghl;
        let quota = SweepQuota::new(
            services.config.reconcile.quota_share,
            ghl.rate_limit_max,
            Duration::from_millis(ghl.rate_limit_interval_ms),
        );
        Self {
            store: services.store.clone(),
            engine,
            config: services.config.reconcile.clone(),
            quota,
            metrics: services.metrics.clone(),
            owner: services.instance_id.clone(),
            shutdown: services.shutdown.clone(),
            tried: Mutex::new(HashMap::new()),
        }
    }

    /// Stops on `token` rather than the process's shutdown (a backfill job cancelled by
    /// an operator).
    #[must_use]
    pub fn with_shutdown(mut self, token: CancellationToken) -> Self {
        self.shutdown = token;
        self
    }

    /// Another lease owner name (tests play two replicas in one process).
    #[must_use]
    pub fn with_owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = owner.into();
        self
    }

    /// Sweeps every due location until `shutdown`; a failing location is logged and
    /// retried at its next turn, never holding up the others or the worker.
    pub async fn run(self) {
        let shutdown = self.shutdown.clone();
        let tick = Duration::from_secs(self.config.interval_secs).min(MAX_TICK);
        loop {
            // Not raced against shutdown: a sweep stops itself then and releases its
            // lease, which a dropped sweep would hold for minutes after a clean stop.
            self.sweep_due().await;
            tokio::select! {
                () = tokio::time::sleep(tick) => {}
                () = shutdown.cancelled() => return,
            }
        }
    }

    /// One look at every active connection with a GHL location and a Tovuti API: those
    /// whose last sweep began an interval ago or more are swept, concurrently. A sweep
    /// repairs the GHL → Tovuti direction, so without a Tovuti API there is nothing to
    /// repair into, and its synthesized events could only fail.
    pub async fn sweep_due(&self) {
        let connections = match self.store.list_connections().await {
            Ok(connections) => connections,
            Err(error) => {
                tracing::warn!(%error, "GHL sweep: connections could not be listed");
                return;
            }
        };
        let mut due = Vec::new();
        for c in connections {
            // A paused connection sends nothing, so nothing of it is repaired either.
            if c.status != ConnectionStatus::Active
                || c.ghl_location_id.is_none()
                || c.paused_at.is_some()
            {
                continue;
            }
            if matches!(self.engine.clients().tovuti(&c).await, Ok(Some(_))) {
                due.push(c);
            }
        }
        let due = due.into_iter();
        let sweeps = due.map(|connection| async move {
            match self.is_due(&connection.id).await {
                Ok(true) => self.sweep_logged(&connection).await,
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(connection = %connection.id, %error, "GHL sweep: cursor unreadable")
                }
            }
        });
        futures::future::join_all(sweeps).await;
    }

    async fn sweep_logged(&self, connection: &Connection) {
        if let Err(error) = self.sweep(connection).await
            && !matches!(error, SweepError::Stopped)
        {
            tracing::warn!(connection = %connection.id, %error, "GHL sweep failed; retried at its next turn");
        }
    }

    /// Due when neither this process tried it nor any replica swept it within an interval.
    async fn is_due(&self, connection: &str) -> Result<bool, StoreError> {
        let interval = Duration::from_secs(self.config.interval_secs);
        let now = tokio::time::Instant::now();
        let recently_tried = self
            .tried
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(connection)
            .is_some_and(|t| now.duration_since(*t) < interval);
        if recently_tried {
            return Ok(false);
        }
        let last = self.last_sweep_start(connection).await?;
        let interval_ms = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
        let due = last.is_none_or(|ms| Millis::now().0.saturating_sub(ms) >= interval_ms);
        if due {
            let mut tried = self.tried.lock().unwrap_or_else(PoisonError::into_inner);
            tried.insert(connection.to_owned(), now);
        }
        Ok(due)
    }

    async fn last_sweep_start(&self, connection: &str) -> Result<Option<i64>, StoreError> {
        let cursor = self.store.poll_cursor(connection, CURSOR_STREAM).await?;
        Ok(cursor.and_then(|c| c.parse().ok()))
    }
}

/// Starts the sweep beside the worker unless `reconcile.enabled` is off.
pub fn start(services: &Services, engine: Arc<SyncEngine>) -> Option<tokio::task::JoinHandle<()>> {
    if !services.config.reconcile.enabled {
        tracing::info!("GHL reconciliation sweep disabled");
        return None;
    }
    let sweeper = Sweeper::new(services, engine);
    Some(tokio::spawn(sweeper.run()))
}
