//! `backfill --from tovuti|ghl`: turns the data that existed before the service into inbox
//! events, page by page, so identity links, idempotency and echo suppression hold as for
//! live events. A second run queues nothing; an interrupted run resumes from its stored
//! cursor. Safe beside a live service: the scan takes the same lease the poller or the
//! sweep would, and the worker syncs the events in GHL's background lane.

use std::io::IsTerminal as _;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use jiff::Timestamp;

use super::backfill_progress::{Counts, Progress, QuotaEstimate};
use super::load_or_report;
use crate::config::Config;
use crate::config::DEFAULT_CONNECTION;
use crate::platforms::tovuti::client::{TovutiClient, TovutiLists};
use crate::poller::{self, PageCounts, PollError, Resource, ScanMode, ScanObserver};
use crate::reconcile::{BackfillOptions, BackfillPage, SweepError, Sweeper};
use crate::services::Services;
use crate::startup;
use crate::telemetry::Metrics;

/// GHL requests a backfilled event usually costs: the contact upsert and one tag or
/// field write; the estimate only shapes the time shown, never the pace.
const REQUESTS_PER_EVENT: f64 = 2.0;

/// Where a backfill reads the existing data from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum From {
    /// Every Tovuti user, enrollment, progress row and award becomes an event for GHL.
    Tovuti,
    /// Every GHL contact the mapping's GHL → Tovuti rules select (by tag) becomes an event.
    Ghl,
}

#[derive(Debug, clap::Args)]
pub struct BackfillArgs {
    /// The platform whose existing data is queued.
    #[arg(long, value_enum)]
    pub from: From,
    /// The connection to backfill.
    #[arg(long, default_value = DEFAULT_CONNECTION)]
    pub connection: String,
    /// Count what would be queued and the GHL time it implies; queue nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Stop after this many entities were selected (queued or already queued).
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Only what changed at or after this date (`2026-01-31`, UTC midnight) or instant
    /// (RFC 3339). From Tovuti it needs `tovuti.changed_since_param`: Tovuti documents no
    /// such filter, so without it there is nothing to ask with.
    #[arg(long, value_name = "DATE", value_parser = parse_since)]
    pub since: Option<Timestamp>,
}

/// A date (UTC midnight) or an RFC 3339 instant.
fn parse_since(text: &str) -> Result<Timestamp, String> {
    if let Ok(instant) = text.parse::<Timestamp>() {
        return Ok(instant);
    }
    text.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|date| date.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|zoned| zoned.timestamp())
        .ok_or_else(|| format!("`{text}` is neither a date (2026-01-31) nor an RFC 3339 instant"))
}

pub async fn run(file: Option<&Path>, args: &BackfillArgs) -> ExitCode {
    let loaded = match load_or_report(file) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let quota = quota(&loaded.config);
    let terminal = std::io::stderr().is_terminal();
    let mut progress = Progress::new(terminal, Box::new(std::io::stdout()), quota);
    match backfill(loaded.config, args, &mut progress).await {
        Ok(Ending::Finished) => {
            progress.finish(args.dry_run, false);
            ExitCode::SUCCESS
        }
        Ok(Ending::Interrupted) => {
            progress.finish(args.dry_run, true);
            ExitCode::from(130)
        }
        Err(error) => {
            progress.finish(args.dry_run, true);
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// How a run ended when nothing failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Finished,
    /// Ctrl-C or SIGTERM: the cursors keep the place for the next run.
    Interrupted,
}

fn quota(config: &Config) -> QuotaEstimate {
    let ghl = &config.ghl;
    QuotaEstimate::from_quota(
        ghl.rate_limit_max,
        Duration::from_millis(ghl.rate_limit_interval_ms),
        ghl.rate_limit_safety_margin,
        REQUESTS_PER_EVENT,
    )
}

async fn backfill(
    config: Config,
    args: &BackfillArgs,
    progress: &mut Progress,
) -> anyhow::Result<Ending> {
    let shutdown = tokio_util::sync::CancellationToken::new();
    crate::shutdown::cancel_on_signal(shutdown.clone());
    let services = Services::open(config, Metrics::new(), shutdown).await?;
    startup::prepare_store(&services).await?;
    let ending = match args.from {
        From::Tovuti => from_tovuti(&services, args, progress).await,
        From::Ghl => from_ghl(&services, args, progress).await,
    };
    services.store.close().await;
    ending
}

async fn from_tovuti(
    services: &Services,
    args: &BackfillArgs,
    progress: &mut Progress,
) -> anyhow::Result<Ending> {
    let lists = tovuti_lists(services, &args.connection)?;
    let changed_since = !services
        .config
        .tovuti
        .lists
        .changed_since_param
        .trim()
        .is_empty();
    anyhow::ensure!(
        args.since.is_none() || changed_since,
        "--since needs tovuti.changed_since_param: Tovuti documents no \"changed since\" filter, \
         so name your tenant's parameter (docs/tovuti-lists.md) or backfill everything"
    );
    let ctx = poller::context(services, &args.connection, lists, changed_since);
    let mut observer = Observer(progress);
    let mut left = args.limit;
    for resource in Resource::ALL {
        let mode = ScanMode::Backfill {
            limit: left,
            dry_run: args.dry_run,
            since: args.since,
        };
        match poller::scan(&ctx, resource, mode, &mut observer).await {
            Ok(summary) => {
                let selected = summary.queued + summary.already_queued;
                left = left.map(|l| l.saturating_sub(selected));
                if left == Some(0) {
                    break;
                }
            }
            Err(PollError::Stopped) => return Ok(Ending::Interrupted),
            Err(PollError::Busy) => anyhow::bail!(
                "another process is scanning Tovuti {} for this connection; try again when it ends",
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

/// The list API of a connection's tenant; only the default connection has one so far.
fn tovuti_lists(services: &Services, connection: &str) -> anyhow::Result<Arc<dyn TovutiLists>> {
    anyhow::ensure!(
        connection == DEFAULT_CONNECTION,
        "only the `{DEFAULT_CONNECTION}` connection has a Tovuti API so far"
    );
    let client = TovutiClient::from_config(&services.config.tovuti)
        .context("the Tovuti settings")?
        .context("no Tovuti API is configured: set tovuti.base_url and tovuti.token")?;
    Ok(Arc::new(client))
}

async fn from_ghl(
    services: &Services,
    args: &BackfillArgs,
    progress: &mut Progress,
) -> anyhow::Result<Ending> {
    let connection = services
        .store
        .connection(&args.connection)
        .await?
        .with_context(|| format!("no connection named {}", args.connection))?;
    let platforms = startup::platforms(services)?;
    let engine = Arc::new(startup::engine_over(services, platforms)?);
    let sweeper = Sweeper::new(services, engine);
    let options = BackfillOptions {
        dry_run: args.dry_run,
        limit: args.limit,
        since: args.since,
    };
    let mut observer = |page: &BackfillPage| {
        progress.page(Counts {
            scanned: page.scanned,
            queued: page.queued,
            already: page.already_queued,
            unreadable: 0,
        });
    };
    // Ctrl-C stops the run from inside, so it releases the location's lease and a rerun
    // can start at once.
    match sweeper
        .backfill_from_ghl(&connection, options, &mut observer)
        .await
    {
        Ok(Some(_)) => Ok(Ending::Finished),
        Ok(None) => anyhow::bail!(
            "another process is sweeping this connection's GHL location; try again when it ends"
        ),
        Err(SweepError::Stopped) => Ok(Ending::Interrupted),
        Err(error) => Err(error.into()),
    }
}

/// Hands a scan's page counts to the progress display.
struct Observer<'a>(&'a mut Progress);

impl ScanObserver for Observer<'_> {
    fn page(&mut self, counts: &PageCounts) {
        self.0.page(Counts {
            scanned: counts.scanned,
            queued: counts.queued,
            already: counts.already_queued,
            unreadable: counts.unreadable,
        });
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
