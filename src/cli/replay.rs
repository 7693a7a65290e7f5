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
    /// Only events from this source: ghl, tovuti, poller or sweep.
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
    Source::parse(text)
        .ok_or_else(|| format!("unknown source {text:?}; ghl, tovuti, poller or sweep"))
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::cli::{Cli, Command};

    fn parsed(args: &[&str]) -> ReplayArgs {
        let mut all = vec!["tovuti-ghl-bridge", "replay"];
        all.extend_from_slice(args);
        match Cli::try_parse_from(all).unwrap().command {
            Some(Command::Replay(args)) => args,
            other => panic!("not replay: {other:?}"),
        }
    }

    #[test]
    fn flags_become_the_store_filter() {
        let args = parsed(&[
            "--status",
            "dead",
            "--status",
            "done",
            "--source",
            "ghl",
            "--type",
            "ContactUpdate",
            "--since",
            "2026-11-28T00:00:00Z",
            "--until",
            "2026-11-29T00:00:00Z",
            "--dry-run",
        ]);
        assert!(args.dry_run);
        let filter = filter(&args);
        assert_eq!(filter.statuses, [EventStatus::Dead, EventStatus::Done]);
        assert_eq!(filter.source, Some(Source::Ghl));
        assert_eq!(filter.event_type.as_deref(), Some("ContactUpdate"));
        assert_eq!(filter.received_from, Some(Millis(1_795_824_000_000)));
        assert_eq!(filter.received_until, Some(Millis(1_795_910_400_000)));
        assert!(filter.ids.is_empty());
    }

    #[test]
    fn unknown_statuses_and_sources_are_refused_by_name() {
        let mut all = vec!["tovuti-ghl-bridge", "replay", "--status", "lost"];
        let error = Cli::try_parse_from(&all).unwrap_err().to_string();
        assert!(error.contains("unknown status \"lost\""), "{error}");
        all.truncate(2);
        all.extend(["--source", "hubspot"]);
        let error = Cli::try_parse_from(&all).unwrap_err().to_string();
        assert!(error.contains("ghl, tovuti, poller or sweep"), "{error}");
    }
}
