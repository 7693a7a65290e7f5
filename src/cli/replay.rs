//! `replay`: puts events back in the queue — by id, or by status, source, type and
//! receive time — after an operator fixed what made them fail. `--dry-run` counts only.
//! Replaying is safe: actions an earlier attempt finished are skipped, not repeated.

use std::path::Path;
use std::process::ExitCode;

use jiff::Timestamp;

use super::load_or_report;
use crate::store::{self, EventId, EventStatus, Millis, ReplayFilter, Source};

#[derive(Debug, Default, clap::Args)]
pub struct ReplayArgs {
    /// An event id (repeatable); other filters still apply.
    #[arg(long = "id", value_name = "EVENT_ID")]
    pub ids: Vec<uuid::Uuid>,
    /// Statuses to replay (repeatable): dead (the default), done, echo, ignored,
    /// superseded, retrying, pending. Events being processed are never touched.
    #[arg(long = "status", value_parser = parse_status)]
    pub statuses: Vec<EventStatus>,
    /// Only events from this source: ghl, tovuti or poller.
    #[arg(long, value_parser = parse_source)]
    pub source: Option<Source>,
    /// Only events of this type (e.g. ContactUpdate, user.created).
    #[arg(long = "type", value_name = "TYPE")]
    pub event_type: Option<String>,
    /// Only events received at or after this instant (RFC 3339).
    #[arg(long)]
    pub since: Option<Timestamp>,
    /// Only events received before this instant (RFC 3339).
    #[arg(long)]
    pub until: Option<Timestamp>,
    /// Count the matching events; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub async fn run(file: Option<&Path>, args: &ReplayArgs) -> ExitCode {
    let loaded = match load_or_report(file) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let filter = filter(args);
    let outcome = async {
        let store = store::connect(&loaded.config.store, None).await?;
        let count = store
            .replay_events(&filter, Millis::now(), args.dry_run)
            .await?;
        store.close().await;
        anyhow::Ok(count)
    };
    match outcome.await {
        Ok(count) if args.dry_run => {
            println!("{count} events match; nothing changed (dry run)");
            ExitCode::SUCCESS
        }
        Ok(count) => {
            println!("{count} events queued again");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: replay failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

pub fn filter(args: &ReplayArgs) -> ReplayFilter {
    let millis = |t: Timestamp| Millis(t.as_millisecond());
    ReplayFilter {
        ids: args.ids.iter().copied().map(EventId).collect(),
        statuses: args.statuses.clone(),
        source: args.source,
        event_type: args.event_type.clone(),
        received_from: args.since.map(millis),
        received_until: args.until.map(millis),
    }
}

fn parse_status(text: &str) -> Result<EventStatus, String> {
    EventStatus::parse(text).ok_or_else(|| {
        let all: Vec<&str> = EventStatus::ALL.iter().map(|s| s.as_str()).collect();
        format!("unknown status {text:?}; one of {}", all.join(", "))
    })
}

fn parse_source(text: &str) -> Result<Source, String> {
    Source::parse(text).ok_or_else(|| format!("unknown source {text:?}; ghl, tovuti or poller"))
}
