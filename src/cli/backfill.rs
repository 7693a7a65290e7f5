//! `backfill --from tovuti|ghl`: turns the data that existed before the service into inbox
//! events, page by page, through `crate::backfill::run` (which the service's backfill jobs
//! run too), showing a progress bar. A second run queues nothing; an interrupted run
//! resumes from its stored cursor. Safe beside a live service: the scan takes the same
//! lease the poller or the sweep would, and the worker syncs the events in GHL's
//! background lane.

use std::io::IsTerminal as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use jiff::Timestamp;

use super::backfill_progress::{Counts, Progress, QuotaEstimate};
use super::load_or_report;
use crate::backfill::{self, Ending};
use crate::config::Config;
use crate::config::DEFAULT_CONNECTION;
use crate::services::Services;
use crate::startup;
use crate::store::{BackfillCounts, BackfillFrom, BackfillOptions};
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
    #[arg(long, value_name = "DATE", value_parser = backfill::parse_since)]
    pub since: Option<Timestamp>,
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
    let services = Services::open(config, Metrics::new(), shutdown.clone()).await?;
    startup::prepare_store(&services).await?;
    let options = BackfillOptions {
        dry_run: args.dry_run,
        limit: args.limit,
        since: args.since,
    };
    let from = match args.from {
        From::Tovuti => BackfillFrom::Tovuti,
        From::Ghl => BackfillFrom::Ghl,
    };
    let mut observer = Observer(progress);
    let clients = crate::startup::clients(&services)?;
    let ending = backfill::run(
        &services,
        clients,
        &args.connection,
        from,
        options,
        &shutdown,
        &mut observer,
    )
    .await;
    services.store.close().await;
    ending
}

/// Hands each page's counts to the progress display.
struct Observer<'a>(&'a mut Progress);

impl backfill::Observer for Observer<'_> {
    fn page(&mut self, _stage: &'static str, page: BackfillCounts, _total: Option<u64>) {
        self.0.page(Counts {
            scanned: page.scanned,
            queued: page.queued,
            already: page.already_queued,
            unreadable: page.unreadable,
        });
    }
}
