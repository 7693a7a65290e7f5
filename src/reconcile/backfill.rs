//! GHL backfill: every existing contact the mapping's tag rules select becomes one
//! synthesized `ContactTagUpdate` (its tags all new to the service), so the rules create,
//! enroll and group the learners through the inbox and the worker like a live event.
//! The external id is the sweep's scheme over (contact, `dateUpdated`, tag set): a rerun
//! queues nothing already queued. The search cursor is stored after each page, so an
//! interrupted backfill resumes where it stopped; requests use the sweep's quota share.

use std::collections::BTreeSet;

use serde_json::Value;

use super::synth::Synthesized;
use super::{SweepError, Sweeper};
use crate::mapping::Mapping;
use crate::platforms::ghl::client::{
    Contact, SearchQuery, SearchSort, SortDirection, updated_since_filter,
};
pub use crate::store::BackfillOptions;
use crate::store::Connection;
use crate::sync::seen;

/// The cursor stream of an unfinished backfill: the next page's `searchAfter` as JSON.
pub const BACKFILL_STREAM: &str = "ghl-backfill";

/// The counts of one page, handed to the observer as each page is done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackfillPage {
    /// Contacts on the page.
    pub scanned: u64,
    /// Events recorded (or, on a dry run, that would be).
    pub queued: u64,
    /// Selected contacts whose event an earlier run (or sweep) recorded.
    pub already_queued: u64,
    /// Contacts GHL reported matching the search, when it says (for a progress bar).
    pub total: Option<u64>,
}

/// The sums over every page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackfillTotals {
    pub pages: u64,
    pub scanned: u64,
    pub queued: u64,
    pub already_queued: u64,
}

impl BackfillTotals {
    fn add(&mut self, page: &BackfillPage) {
        self.pages += 1;
        self.scanned += page.scanned;
        self.queued += page.queued;
        self.already_queued += page.already_queued;
    }

    fn selected(&self) -> u64 {
        self.queued + self.already_queued
    }
}

/// The tags the mapping's GHL tag rules react to, as GHL compares them.
pub fn rule_tags(mapping: &Mapping) -> BTreeSet<String> {
    let rules = &mapping.file.ghl.tags;
    rules.iter().map(|r| r.tag.trim().to_lowercase()).collect()
}

impl Sweeper {
    /// Pages through a location's contacts (oldest first) and records one
    /// `ContactTagUpdate` per contact carrying a tag a rule reacts to; `observer` sees
    /// each page's counts. Holds the location's sweep lease meanwhile, so it never runs
    /// beside a sweep of the same location; `Ok(None)` when another replica holds it.
    pub async fn backfill_from_ghl(
        &self,
        connection: &Connection,
        options: BackfillOptions,
        observer: &mut (dyn FnMut(&BackfillPage) + Send),
    ) -> Result<Option<BackfillTotals>, SweepError> {
        let lease = super::sweep::lease_name(&connection.id);
        if !self.renew(&lease).await? {
            return Ok(None);
        }
        let result = self
            .until_shutdown(self.backfill_held(connection, options, observer, &lease))
            .await;
        if let Err(error) = self.store.release_lease(&lease, &self.owner).await {
            tracing::warn!(connection = %connection.id, %error, "backfill lease not released; it expires on its own");
        }
        result.map(Some)
    }

    async fn backfill_held(
        &self,
        connection: &Connection,
        options: BackfillOptions,
        observer: &mut (dyn FnMut(&BackfillPage) + Send),
        lease: &str,
    ) -> Result<BackfillTotals, SweepError> {
        let ghl = self.engine.clients().ghl(connection).await?;
        let mapping = self.mapping_of(connection)?;
        let tags = rule_tags(&mapping);
        let mut query = SearchQuery {
            page_limit: self.config.page_size,
            sort: vec![SearchSort {
                field: "dateAdded".into(),
                direction: SortDirection::Asc,
            }],
            filters: options
                .since
                .map(updated_since_filter)
                .into_iter()
                .collect(),
            ..SearchQuery::default()
        };
        if !options.dry_run {
            query.search_after = self.resume_cursor(&connection.id).await?;
        }
        let mut totals = BackfillTotals::default();
        while !tags.is_empty() {
            let page = self.page(&ghl, &query, lease).await?;
            let mut counts = BackfillPage {
                scanned: page.contacts.len() as u64,
                total: page.total,
                ..BackfillPage::default()
            };
            for contact in &page.contacts {
                if options
                    .limit
                    .is_some_and(|l| totals.selected() + counts.queued + counts.already_queued >= l)
                {
                    break;
                }
                self.backfill_one(
                    connection,
                    ghl.location_id(),
                    contact,
                    &tags,
                    options,
                    &mut counts,
                )
                .await?;
            }
            totals.add(&counts);
            observer(&counts);
            let next = page.next_cursor(query.page_limit);
            let limited = options.limit.is_some_and(|l| totals.selected() >= l);
            if !options.dry_run {
                self.save_resume_cursor(&connection.id, next.as_deref().filter(|_| !limited))
                    .await?;
            }
            match next {
                Some(cursor) if !limited => query.search_after = Some(cursor),
                _ => break,
            }
        }
        Ok(totals)
    }

    async fn backfill_one(
        &self,
        connection: &Connection,
        location: &str,
        contact: &Contact,
        rule_tags: &BTreeSet<String>,
        options: BackfillOptions,
        counts: &mut BackfillPage,
    ) -> Result<(), SweepError> {
        let tags = seen::tag_set(&contact.tags);
        if tags.is_disjoint(rule_tags) {
            return Ok(());
        }
        let Some(synthesized) = Synthesized::of(contact, location, "ContactTagUpdate") else {
            return Ok(());
        };
        if options.dry_run {
            counts.queued += 1;
            return Ok(());
        }
        let state = seen::tags_digest(&tags);
        let updated = contact.date_updated.as_deref();
        let event = synthesized.into_event(&connection.id, updated, &state);
        if self.record(event).await? {
            counts.queued += 1;
        } else {
            counts.already_queued += 1;
        }
        Ok(())
    }

    async fn resume_cursor(&self, connection: &str) -> Result<Option<Vec<Value>>, SweepError> {
        let cursor = self.store.poll_cursor(connection, BACKFILL_STREAM).await?;
        Ok(cursor.and_then(|c| serde_json::from_str(&c).ok()))
    }

    /// Keeps where the next page starts; an empty cursor once the backfill is complete,
    /// so the next run starts from the beginning again.
    async fn save_resume_cursor(
        &self,
        connection: &str,
        next: Option<&[Value]>,
    ) -> Result<(), SweepError> {
        let text = next
            .map(|c| serde_json::to_string(c).unwrap_or_default())
            .unwrap_or_default();
        self.store
            .save_poll_cursor(connection, BACKFILL_STREAM, &text)
            .await?;
        Ok(())
    }
}
