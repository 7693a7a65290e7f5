//! Backfill: the data that existed before the service becomes inbox events, page by page,
//! so identity links, idempotency and echo suppression hold as for live events. From
//! Tovuti it drives the poller's scans in `ScanMode::Backfill`; from GHL the sweep's
//! contact search. [`run`] is the one procedure the `backfill` command and the service's
//! backfill jobs ([`jobs`]) both call; it stops between pages when its token is cancelled
//! and a later run resumes from the stored cursors.
//!
//! Sits with `poller` and `reconcile`, whose scans it drives; `http` starts its jobs.

pub mod jobs;
mod view;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use jiff::Timestamp;
use tokio_util::sync::CancellationToken;

pub use jobs::Jobs;
pub use view::RunView;

use crate::config::DEFAULT_CONNECTION;
use crate::platforms::tovuti::client::{TovutiClient, TovutiLists};
use crate::poller::{self, PageCounts, PollContext, PollError, Resource, ScanMode, ScanObserver};
use crate::reconcile::{BackfillPage, SweepError, Sweeper};
use crate::services::Services;
use crate::store::{BackfillCounts, BackfillFrom, BackfillOptions};
use crate::sync::{Clients, SyncEngine};

/// How long to wait before asking again for a lease the poller or the sweep holds: their
/// scans end within minutes, and the backfill reads other cursors than theirs.
const BUSY_RETRY: Duration = Duration::from_secs(2);

/// How a run ended when nothing failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Finished,
    /// Its token was cancelled (Ctrl-C, shutdown, an operator): the cursors keep the
    /// place for the next run.
    Interrupted,
}

/// Watches a run page by page (a terminal's bar, a job's record).
pub trait Observer: Send {
    /// One page of `stage` (`users`, `progress`, `awards`, `contacts`) was done; `total`
    /// is how many entities the source reports for the stage, when it says.
    fn page(&mut self, stage: &'static str, page: BackfillCounts, total: Option<u64>);
}

/// A date (UTC midnight) or an RFC 3339 instant.
pub fn parse_since(text: &str) -> Result<Timestamp, String> {
    if let Ok(instant) = text.parse::<Timestamp>() {
        return Ok(instant);
    }
    text.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|date| date.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|zoned| zoned.timestamp())
        .ok_or_else(|| format!("`{text}` is neither a date (2026-01-31) nor an RFC 3339 instant"))
}

/// Runs one backfill of `connection` from `from` until it ends or `stop` is cancelled.
pub async fn run(
    services: &Services,
    clients: Arc<Clients>,
    connection: &str,
    from: BackfillFrom,
    options: BackfillOptions,
    stop: &CancellationToken,
    observer: &mut dyn Observer,
) -> anyhow::Result<Ending> {
    match from {
        BackfillFrom::Tovuti => from_tovuti(services, connection, options, stop, observer).await,
        BackfillFrom::Ghl => from_ghl(services, clients, connection, options, stop, observer).await,
    }
}

async fn from_tovuti(
    services: &Services,
    connection: &str,
    options: BackfillOptions,
    stop: &CancellationToken,
    observer: &mut dyn Observer,
) -> anyhow::Result<Ending> {
    let lists = tovuti_lists(services, connection).await?;
    let changed_since = !services
        .config
        .tovuti
        .lists
        .changed_since_param
        .trim()
        .is_empty();
    anyhow::ensure!(
        options.since.is_none() || changed_since,
        "`since` needs tovuti.changed_since_param: Tovuti documents no \"changed since\" \
         filter, so name your tenant's parameter (docs/tovuti-lists.md) or backfill everything"
    );
    let mut ctx = poller::context(services, connection, lists, changed_since);
    ctx.shutdown = stop.clone();
    let mut left = options.limit;
    for resource in Resource::ALL {
        let mode = ScanMode::Backfill {
            limit: left,
            dry_run: options.dry_run,
            since: options.since,
        };
        let mut pages = Pages {
            observer: &mut *observer,
            stage: resource.as_str(),
        };
        match scan_when_free(&ctx, resource, mode, &mut pages).await {
            Ok(summary) => {
                let selected = summary.queued + summary.already_queued;
                left = left.map(|l| l.saturating_sub(selected));
                if left == Some(0) {
                    break;
                }
            }
            Err(PollError::Stopped) => return Ok(Ending::Interrupted),
            Err(PollError::Busy) => anyhow::bail!(
                "another process kept scanning Tovuti {} for this connection; try again when it ends",
                resource.as_str()
            ),
            Err(error) => {
                return Err(error)
                    .with_context(|| format!("scanning Tovuti {}", resource.as_str()));
            }
        }
    }
    Ok(Ending::Finished)
}

/// Scans `resource`, waiting while another process holds its lease (the poller's own
/// scan, usually), at most one lease long.
async fn scan_when_free(
    ctx: &PollContext,
    resource: Resource,
    mode: ScanMode,
    observer: &mut dyn ScanObserver,
) -> Result<poller::ScanSummary, PollError> {
    let deadline = tokio::time::Instant::now() + ctx.settings.lease;
    loop {
        match poller::scan(ctx, resource, mode, observer).await {
            Err(PollError::Busy) if tokio::time::Instant::now() < deadline => {}
            other => return other,
        }
        if !pause(&ctx.shutdown).await {
            return Err(PollError::Stopped);
        }
    }
}

/// Waits [`BUSY_RETRY`]; false when `stop` came first.
async fn pause(stop: &CancellationToken) -> bool {
    tokio::select! {
        () = tokio::time::sleep(BUSY_RETRY) => true,
        () = stop.cancelled() => false,
    }
}

/// The list API of a connection's tenant: the flat `tovuti.*` settings for `default`,
/// the stored base URL and API token for the others.
async fn tovuti_lists(
    services: &Services,
    connection: &str,
) -> anyhow::Result<Arc<dyn TovutiLists>> {
    let client = if connection == DEFAULT_CONNECTION {
        TovutiClient::from_config(&services.config.tovuti).context("the Tovuti settings")?
    } else {
        let stored = services
            .store
            .connection(connection)
            .await?
            .with_context(|| format!("no connection named {connection}"))?;
        crate::connections::runtime::tovuti_client(
            services.store.as_ref(),
            &services.config,
            &stored,
        )
        .await
        .context("the connection's Tovuti settings")?
    };
    let client = client.context(
        "no Tovuti API is configured for this connection: set its Tovuti base URL and token",
    )?;
    Ok(Arc::new(client))
}

async fn from_ghl(
    services: &Services,
    clients: Arc<Clients>,
    connection: &str,
    options: BackfillOptions,
    stop: &CancellationToken,
    observer: &mut dyn Observer,
) -> anyhow::Result<Ending> {
    let connection = services
        .store
        .connection(connection)
        .await?
        .with_context(|| format!("no connection named {connection}"))?;
    let engine = Arc::new(SyncEngine::from_services(services, clients)?);
    let sweeper = Sweeper::new(services, engine).with_shutdown(stop.clone());
    let deadline = tokio::time::Instant::now() + BUSY_WAIT_GHL;
    loop {
        let mut observe = |page: &BackfillPage| {
            let counts = BackfillCounts {
                pages: 1,
                scanned: page.scanned,
                queued: page.queued,
                already_queued: page.already_queued,
                unreadable: 0,
            };
            observer.page("contacts", counts, page.total);
        };
        // A stop ends the run from inside, so it releases the location's lease and a
        // rerun can start at once.
        match sweeper
            .backfill_from_ghl(&connection, options, &mut observe)
            .await
        {
            Ok(Some(_)) => return Ok(Ending::Finished),
            Ok(None) if tokio::time::Instant::now() < deadline => {}
            Ok(None) => anyhow::bail!(
                "another process kept sweeping this connection's GHL location; try again when it ends"
            ),
            Err(SweepError::Stopped) => return Ok(Ending::Interrupted),
            Err(error) => return Err(error.into()),
        }
        if !pause(stop).await {
            return Ok(Ending::Interrupted);
        }
    }
}

/// Longest wait for the GHL sweep of the location to end (a sweep reads the contacts
/// changed in one interval: seconds, rarely a minute).
const BUSY_WAIT_GHL: Duration = Duration::from_secs(120);

/// Hands a scan's page counts to the run's observer.
struct Pages<'a> {
    observer: &'a mut dyn Observer,
    stage: &'static str,
}

impl ScanObserver for Pages<'_> {
    fn page(&mut self, counts: &PageCounts) {
        let page = BackfillCounts {
            pages: 1,
            scanned: counts.scanned,
            queued: counts.queued,
            already_queued: counts.already_queued,
            unreadable: counts.unreadable,
        };
        self.observer.page(self.stage, page, None);
    }
}

#[cfg(test)]
mod tests {
    use super::parse_since;

    #[test]
    fn since_reads_a_date_as_utc_midnight_or_an_instant() {
        assert_eq!(
            parse_since("2026-01-31").map(|t| t.to_string()),
            Ok("2026-01-31T00:00:00Z".to_owned())
        );
        assert_eq!(
            parse_since("2026-01-31T10:00:00+02:00").map(|t| t.to_string()),
            Ok("2026-01-31T08:00:00Z".to_owned())
        );
        assert!(parse_since("last week").is_err());
    }
}
