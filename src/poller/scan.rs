//! One scan of one resource, start to end (or to a failure the next scan resumes from):
//! under the resource's lease, page by page, saving the cursor after each page.

use std::time::Instant;

use super::cursor::{self, Cursor};
use super::detect::{Policy, Polled};
use super::page::{self, Applied};
use super::{PollContext, PollError, Resource, ScanMode, ScanObserver, ScanSummary, fetch};
use crate::config::InitialScan;
use crate::platforms::tovuti::client::{Award, CourseProgress, PageRequest};
use crate::platforms::tovuti::payloads::User;
use crate::store::Millis;
use crate::telemetry::{PollLabels, PollScanLabels};

/// Scans `resource` of the context's connection once. `Busy` when another process holds
/// the resource's lease; the public entry point the poller's schedule and backfill share.
pub async fn scan(
    ctx: &PollContext,
    resource: Resource,
    mode: ScanMode,
    observer: &mut dyn ScanObserver,
) -> Result<ScanSummary, PollError> {
    let lease = lease_name(ctx, resource);
    let now = ctx.clock.now();
    if !ctx
        .store
        .try_acquire_lease(&lease, &ctx.owner, now, ctx.settings.lease)
        .await?
    {
        return Err(PollError::Busy);
    }
    let started = Instant::now();
    let result = match resource {
        Resource::Users => Scan::<User>::new(ctx, mode).run(observer).await,
        Resource::Progress => Scan::<CourseProgress>::new(ctx, mode).run(observer).await,
        Resource::Awards => Scan::<Award>::new(ctx, mode).run(observer).await,
    };
    if let Err(error) = ctx.store.release_lease(&lease, &ctx.owner).await {
        tracing::warn!(connection = %ctx.connection, resource = resource.as_str(), error = %error, "could not release the scan lease; it expires on its own");
    }
    report(ctx, resource, mode, &result, started);
    result
}

/// How often a scan saves its cursor while its pages change nothing.
const CURSOR_SAVE_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

fn lease_name(ctx: &PollContext, resource: Resource) -> String {
    format!("poll:{}:{}", ctx.connection, resource.as_str())
}

struct Scan<'a, T> {
    ctx: &'a PollContext,
    mode: ScanMode,
    stream: String,
    /// When the lease was last renewed.
    renewed_at: Millis,
    /// When the cursor was last saved.
    saved_at: Millis,
    summary: ScanSummary,
    _items: std::marker::PhantomData<T>,
}

impl<'a, T: Polled> Scan<'a, T> {
    fn new(ctx: &'a PollContext, mode: ScanMode) -> Self {
        Self {
            ctx,
            mode,
            stream: cursor::stream(T::RESOURCE, mode),
            renewed_at: ctx.clock.now(),
            saved_at: ctx.clock.now(),
            summary: ScanSummary::default(),
            _items: std::marker::PhantomData,
        }
    }

    async fn run(mut self, observer: &mut dyn ScanObserver) -> Result<ScanSummary, PollError> {
        let dry_run = matches!(self.mode, ScanMode::Backfill { dry_run: true, .. });
        // A dry run counts everything from the start and writes nothing.
        let mut cursor = if dry_run {
            Cursor::default()
        } else {
            cursor::load(self.ctx, &self.stream).await?
        };
        let policy = self.policy(&cursor);
        cursor.begin(self.ctx.clock.now());
        let changed_since = self.changed_since(&cursor);
        loop {
            if self.ctx.shutdown.is_cancelled() {
                if !dry_run {
                    cursor::save(self.ctx, &self.stream, &cursor).await?;
                }
                return Err(PollError::Stopped);
            }
            self.renew_lease().await?;
            let request = PageRequest {
                page: cursor.next_page,
                page_size: self.ctx.settings.page_size,
                changed_since,
            };
            let page = fetch::page::<T>(self.ctx, request).await?;
            let room = self.room();
            let applied = page::apply(self.ctx, &page.items, policy, dry_run, room).await?;
            let counts = self.count(&applied, page.unreadable, request.page);
            observer.page(&counts);
            if applied.limit_reached {
                return Ok(self.summary);
            }
            if page.last {
                cursor.complete();
            } else {
                cursor.advance();
            }
            if !dry_run && (page.last || applied.snapshots_saved > 0 || self.save_due()) {
                cursor::save(self.ctx, &self.stream, &cursor).await?;
                self.saved_at = self.ctx.clock.now();
            }
            if page.last {
                self.summary.finished = true;
                self.set_lag(&cursor);
                return Ok(self.summary);
            }
        }
    }

    /// The poller's first scan is a baseline when so configured; backfill always emits.
    fn policy(&self, cursor: &Cursor) -> Policy {
        match self.mode {
            ScanMode::Backfill { .. } => Policy::Backfill,
            ScanMode::Poll => Policy::Poll {
                baseline: cursor.is_first_scan()
                    && self.ctx.settings.initial_scan == InitialScan::Baseline,
            },
        }
    }

    /// A poll asks for changes since its last completed scan (minus the overlap) when the
    /// tenant supports it; a backfill reads everything, or what changed from its `since`.
    fn changed_since(&self, cursor: &Cursor) -> Option<jiff::Timestamp> {
        match self.mode {
            ScanMode::Poll => self
                .ctx
                .settings
                .changed_since
                .then(|| cursor.changed_since(self.ctx.settings.overlap))
                .flatten(),
            ScanMode::Backfill { since, .. } => since,
        }
    }

    /// How many more entities a backfill may queue.
    fn room(&self) -> Option<u64> {
        match self.mode {
            ScanMode::Backfill {
                limit: Some(limit), ..
            } => Some(limit.saturating_sub(self.summary.queued)),
            _ => None,
        }
    }

    /// Whether an unchanged page's cursor is due to be saved. A page that saved snapshots
    /// always saves its cursor; unchanged pages only every [`CURSOR_SAVE_EVERY`], since a
    /// resume that re-reads them finds nothing new, and a commit per page is most of an
    /// unchanged scan's time on PostgreSQL (about 90 s of fsyncs for 100,000 users).
    fn save_due(&self) -> bool {
        self.ctx.clock.now() >= self.saved_at.plus(CURSOR_SAVE_EVERY)
    }

    /// Renews the lease once a third of it has passed (not per page, so an unchanged
    /// tenant's scan writes little besides its cursor).
    async fn renew_lease(&mut self) -> Result<(), PollError> {
        let now = self.ctx.clock.now();
        let lease = self.ctx.settings.lease;
        if now < self.renewed_at.plus(lease / 3) {
            return Ok(());
        }
        let name = lease_name(self.ctx, T::RESOURCE);
        if !self
            .ctx
            .store
            .try_acquire_lease(&name, &self.ctx.owner, now, lease)
            .await?
        {
            return Err(PollError::LeaseLost);
        }
        self.renewed_at = now;
        Ok(())
    }

    fn count(&mut self, applied: &Applied, unreadable: u32, page: u32) -> super::PageCounts {
        let mut counts = applied.counts;
        counts.page = page;
        counts.unreadable = u64::from(unreadable);
        self.summary.add(&counts);
        self.summary.events += applied.events;
        self.summary.snapshots_saved += applied.snapshots_saved;
        let labels = PollLabels {
            connection: self.ctx.connection.clone(),
            resource: T::RESOURCE.as_str().to_owned(),
        };
        let read = counts.scanned + counts.unreadable;
        self.ctx
            .metrics
            .poll
            .items_scanned
            .get_or_create(&labels)
            .inc_by(read);
        counts
    }

    fn set_lag(&self, cursor: &Cursor) {
        if self.mode != ScanMode::Poll {
            return;
        }
        set_lag(self.ctx, T::RESOURCE, cursor);
    }
}

/// `bridge_poll_lag_seconds`: now minus the start of the last completed scan.
pub fn set_lag(ctx: &PollContext, resource: Resource, cursor: &Cursor) {
    let Some(start) = cursor.last_completed_start else {
        return;
    };
    let labels = PollLabels {
        connection: ctx.connection.clone(),
        resource: resource.as_str().to_owned(),
    };
    let age_ms = ctx.clock.now().0.saturating_sub(start).max(0);
    ctx.metrics
        .poll
        .lag
        .get_or_create(&labels)
        .set(age_ms as f64 / 1000.0);
}

/// One info line per scan (counts and duration only), and the scan counter.
fn report(
    ctx: &PollContext,
    resource: Resource,
    mode: ScanMode,
    result: &Result<ScanSummary, PollError>,
    started: Instant,
) {
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let kind = if mode == ScanMode::Poll {
        "poll"
    } else {
        "backfill"
    };
    let outcome = match result {
        Ok(s) => {
            tracing::info!(connection = %ctx.connection, resource = resource.as_str(), kind, pages = s.pages, scanned = s.scanned, queued = s.queued, already_queued = s.already_queued, unreadable = s.unreadable, events = s.events, snapshots_saved = s.snapshots_saved, finished = s.finished, duration_ms, "scan ended");
            "completed"
        }
        Err(PollError::Stopped) => "stopped",
        Err(error) => {
            tracing::warn!(connection = %ctx.connection, resource = resource.as_str(), kind, reason = error.reason(), error = %error, duration_ms, "scan failed; the next one resumes from its cursor");
            // Failed page reads were counted attempt by attempt as they happened.
            if !matches!(error, PollError::Tovuti { .. }) {
                fetch::count_error(ctx, resource.as_str(), error.reason());
            }
            "failed"
        }
    };
    let labels = PollScanLabels {
        connection: ctx.connection.clone(),
        resource: resource.as_str().to_owned(),
        result: outcome.to_owned(),
    };
    ctx.metrics.poll.scans.get_or_create(&labels).inc();
}
