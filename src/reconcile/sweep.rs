//! One sweep of one location: take its lease, page through the contacts changed since
//! the last sweep began (minus the overlap), record a synthesized `ContactTagUpdate` for
//! each contact whose tags that the tag rules act on differ from the last ones seen, and a
//! synthesized `ContactUpdate` for each whose mapped fields differ from the last ones
//! seen or written, and move the cursor only once every page was examined.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::synth::Synthesized;
use super::{CURSOR_STREAM, SweepError, Sweeper};
use crate::mapping::Mapping;
use crate::platforms::ghl::client::{Contact, LocationApi, SearchPage, SearchQuery};
use crate::store::{Connection, Millis, NewEvent, Recorded};
use crate::sync::seen;

/// How long a sweep lease outlives its last renewal (renewed on every page).
pub(super) const LEASE_TTL: Duration = Duration::from_secs(300);

/// The counts of one sweep (never names or emails).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Search pages requested.
    pub pages: u64,
    /// Contacts compared with their last known state.
    pub scanned: u64,
    /// Events recorded for a real difference.
    pub repaired: u64,
    /// Differences whose event an earlier sweep already recorded.
    pub already_queued: u64,
    /// Contacts that did not read as GHL's webhook payload; left alone.
    pub unreadable: u64,
}

/// How a call to [`Sweeper::sweep`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepOutcome {
    Done(SweepReport),
    /// Another replica is sweeping this location; nothing was requested.
    Busy,
}

pub(super) fn lease_name(connection: &str) -> String {
    format!("sweep:{connection}")
}

impl Sweeper {
    /// Sweeps one location now (whether due or not), unless another replica is at it.
    pub async fn sweep(&self, connection: &Connection) -> Result<SweepOutcome, SweepError> {
        let lease = lease_name(&connection.id);
        let families = &self.metrics.reconcile;
        if !self.renew(&lease).await? {
            families.sweep(&connection.id, "busy");
            return Ok(SweepOutcome::Busy);
        }
        let started = Instant::now();
        let result = self
            .until_shutdown(self.sweep_held(connection, &lease))
            .await;
        if let Err(error) = self.store.release_lease(&lease, &self.owner).await {
            tracing::warn!(connection = %connection.id, %error, "sweep lease not released; it expires on its own");
        }
        let report = match result {
            Ok(report) => report,
            Err(SweepError::Stopped) => {
                families.sweep(&connection.id, "stopped");
                return Err(SweepError::Stopped);
            }
            Err(error) => {
                families.sweep(&connection.id, "failed");
                return Err(error);
            }
        };
        families.sweep(&connection.id, "done");
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        tracing::info!(
            connection = %connection.id,
            pages = report.pages,
            scanned = report.scanned,
            repaired = report.repaired,
            already_queued = report.already_queued,
            unreadable = report.unreadable,
            duration_ms,
            "GHL sweep finished"
        );
        Ok(SweepOutcome::Done(report))
    }

    async fn sweep_held(
        &self,
        connection: &Connection,
        lease: &str,
    ) -> Result<SweepReport, SweepError> {
        let start = Millis::now();
        let mapping = self.mapping_of(connection)?;
        let since = self.since(&connection.id, start).await?;
        let ghl = self.engine.clients().ghl(connection).await?;
        let mut query = SearchQuery::updated_since(since, self.config.page_size);
        let mut report = SweepReport::default();
        loop {
            let page = self.page(&ghl, &query, lease).await?;
            report.pages += 1;
            for contact in &page.contacts {
                self.examine(connection, &mapping, &ghl, contact, &mut report)
                    .await?;
            }
            let families = &self.metrics.reconcile;
            families.scanned(&connection.id, page.contacts.len() as u64);
            match page.next_cursor(query.page_limit) {
                Some(cursor) => query.search_after = Some(cursor),
                None => break,
            }
        }
        let cursor = start.0.to_string();
        self.store
            .save_poll_cursor(&connection.id, CURSOR_STREAM, &cursor)
            .await?;
        Ok(report)
    }

    /// One search page, within the sweep's share of the quota, the lease renewed first
    /// so a slow sweep is never mistaken for a crashed one.
    pub(super) async fn page(
        &self,
        ghl: &LocationApi,
        query: &SearchQuery,
        lease: &str,
    ) -> Result<SearchPage, SweepError> {
        self.quota.acquire(ghl.location_id()).await;
        if !self.renew(lease).await? {
            return Err(SweepError::LeaseLost);
        }
        Ok(ghl.search_contacts(query).await?)
    }

    /// Runs the part of a sweep (or GHL backfill) that holds the lease, unless the process
    /// drains first. Cut at any await it is as safe as a crash there (the cursor moves
    /// only past what was recorded), and returning lets the caller release the lease.
    pub(super) async fn until_shutdown<T>(
        &self,
        held: impl Future<Output = Result<T, SweepError>>,
    ) -> Result<T, SweepError> {
        tokio::select! {
            result = held => result,
            () = self.shutdown.cancelled() => Err(SweepError::Stopped),
        }
    }

    pub(super) async fn renew(&self, lease: &str) -> Result<bool, SweepError> {
        let taken = self
            .store
            .try_acquire_lease(lease, &self.owner, Millis::now(), LEASE_TTL)
            .await?;
        Ok(taken)
    }

    /// Where this sweep starts looking: the last sweep's start minus the overlap; the
    /// first sweep of a location looks back one interval (plus the overlap).
    async fn since(&self, connection: &str, now: Millis) -> Result<Timestamp, SweepError> {
        let overlap_ms = secs_to_ms(self.config.overlap_secs);
        let from = match self.last_sweep_start(connection).await? {
            Some(last) => last,
            None => now.0.saturating_sub(secs_to_ms(self.config.interval_secs)),
        };
        let ms = from.saturating_sub(overlap_ms);
        Ok(Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH))
    }

    /// The mapping `connection` syncs with, which decides what a missed change is.
    pub(super) fn mapping_of(&self, connection: &Connection) -> Result<Arc<Mapping>, SweepError> {
        self.engine
            .mapping_of(connection)
            .map_err(|e| SweepError::Mapping(e.to_string()))
    }

    async fn examine(
        &self,
        connection: &Connection,
        mapping: &Mapping,
        ghl: &LocationApi,
        contact: &Contact,
        report: &mut SweepReport,
    ) -> Result<(), SweepError> {
        report.scanned += 1;
        let Some(synthesized) = Synthesized::of(contact, ghl.location_id(), "ContactUpdate") else {
            report.unreadable += 1;
            return Ok(());
        };
        // Tags first: the worker handles one contact's events in order, and a contact
        // update handled before the tag update would record the new tags as known, so
        // the tag rules would then see nothing added or removed.
        if let Some(event) = self.tags_changed(connection, mapping, ghl, contact).await? {
            self.count(connection, event, report).await?;
        }
        let fingerprint = seen::contact_fingerprint(mapping, &synthesized.contact);
        let last = seen::last_fingerprint(self.store.as_ref(), &connection.id, &contact.id).await?;
        if last.as_deref() == Some(fingerprint.as_str()) {
            return Ok(());
        }
        let updated = contact.date_updated.as_deref();
        let event = synthesized.into_event(&connection.id, updated, &fingerprint);
        self.count(connection, event, report).await
    }

    /// A `ContactTagUpdate` carrying the contact's tags, when the tags the mapping's tag
    /// rules act on differ from those of the last contact event handled (none handled:
    /// no tags), so the rules grant or take back what the missed change meant.
    async fn tags_changed(
        &self,
        connection: &Connection,
        mapping: &Mapping,
        ghl: &LocationApi,
        contact: &Contact,
    ) -> Result<Option<NewEvent>, SweepError> {
        let now = seen::ruled_tags(mapping, &contact.tags);
        let before = seen::last_tags(self.store.as_ref(), &connection.id, &contact.id)
            .await?
            .unwrap_or_default();
        if seen::ruled_tags(mapping, &before) == now {
            return Ok(None);
        }
        let Some(synthesized) = Synthesized::of(contact, ghl.location_id(), "ContactTagUpdate")
        else {
            return Ok(None);
        };
        let state = seen::tags_digest(&now);
        let updated = contact.date_updated.as_deref();
        Ok(Some(synthesized.into_event(
            &connection.id,
            updated,
            &state,
        )))
    }

    async fn count(
        &self,
        connection: &Connection,
        event: NewEvent,
        report: &mut SweepReport,
    ) -> Result<(), SweepError> {
        if self.record(event).await? {
            report.repaired += 1;
            self.metrics.reconcile.repaired(&connection.id, 1);
        } else {
            report.already_queued += 1;
        }
        Ok(())
    }

    /// Records a synthesized event; false when the same one was recorded before.
    pub(super) async fn record(&self, event: NewEvent) -> Result<bool, SweepError> {
        Ok(matches!(
            self.store.record_event(event).await?,
            Recorded::New(_)
        ))
    }
}

fn secs_to_ms(secs: u64) -> i64 {
    i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}
