//! `events list` and `events show`: the admin API's event queries from the command line
//! (the same functions, so both always agree), as a plain table or as the API's JSON.

use std::path::Path;
use std::process::ExitCode;

use jiff::Timestamp;

use super::load_or_report;
use crate::admin::cursor::{Cursor, Kind};
use crate::admin::views::{EventDetailView, EventView};
use crate::admin::{MAX_LIMIT, Page};
use crate::store::{self, EventId, EventQuery, EventStatus, Millis, Source, Store};

#[derive(Debug, clap::Subcommand)]
pub enum EventsCommand {
    /// List stored events, last received first.
    List(ListArgs),
    /// Show one event with its attempts, actions and skipped items (never its payload).
    Show(ShowArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only these statuses (repeatable, or a comma list).
    #[arg(long = "status", value_delimiter = ',', value_parser = parse_status)]
    pub statuses: Vec<EventStatus>,
    /// Only events from this source: ghl, tovuti, poller or sweep.
    #[arg(long, value_parser = parse_source)]
    pub source: Option<Source>,
    /// Only events of this type.
    #[arg(long = "type", value_name = "TYPE")]
    pub event_type: Option<String>,
    /// Only events of this connection.
    #[arg(long)]
    pub connection: Option<String>,
    /// Only events of this entity key.
    #[arg(long)]
    pub entity: Option<String>,
    /// Only events received at or after this instant (RFC 3339).
    #[arg(long)]
    pub since: Option<Timestamp>,
    /// Only events received before this instant (RFC 3339).
    #[arg(long)]
    pub until: Option<Timestamp>,
    /// Only events whose last error contains this text.
    #[arg(long = "error", value_name = "TEXT")]
    pub error_text: Option<String>,
    /// Events per page (1 to 500).
    #[arg(long, default_value_t = crate::admin::DEFAULT_LIMIT,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_LIMIT)))]
    pub limit: u32,
    /// Continue after a page: the `next` cursor it printed.
    #[arg(long)]
    pub cursor: Option<String>,
    /// Print the admin API's JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The event id.
    pub id: uuid::Uuid,
    /// Print the admin API's JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(file: Option<&Path>, command: &EventsCommand) -> ExitCode {
    let loaded = match load_or_report(file) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let outcome = async {
        let store = store::connect(&loaded.config.store, None).await?;
        let printed = match command {
            EventsCommand::List(args) => list(store.as_ref(), args).await,
            EventsCommand::Show(args) => show(store.as_ref(), args).await,
        };
        store.close().await;
        printed
    };
    match outcome.await {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The query `args` ask for.
pub fn query(args: &ListArgs) -> anyhow::Result<EventQuery> {
    let millis = |t: Timestamp| Millis(t.as_millisecond());
    let before = args
        .cursor
        .as_deref()
        .map(|c| Cursor::decode(Kind::Events, c))
        .transpose()
        .map_err(|e| anyhow::anyhow!("--cursor: {e}"))?;
    Ok(EventQuery {
        statuses: args.statuses.clone(),
        source: args.source,
        event_type: args.event_type.clone(),
        connection_id: args.connection.clone(),
        entity_key: args.entity.clone(),
        received_from: args.since.map(millis),
        received_until: args.until.map(millis),
        error_text: args.error_text.clone(),
        before,
        limit: args.limit,
    })
}

async fn list(store: &dyn Store, args: &ListArgs) -> anyhow::Result<String> {
    let page = crate::admin::events::list(store, &query(args)?).await?;
    let page: Page<EventView> = page.map(|event| EventView::from(&event));
    if args.json {
        return Ok(format!("{}\n", serde_json::to_string_pretty(&page)?));
    }
    Ok(table(&page))
}

async fn show(store: &dyn Store, args: &ShowArgs) -> anyhow::Result<String> {
    let id = EventId(args.id);
    let Some(detail) = crate::admin::events::detail(store, id).await? else {
        anyhow::bail!("no event {id}");
    };
    let view = EventDetailView::new(&detail, false);
    if args.json {
        return Ok(format!("{}\n", serde_json::to_string_pretty(&view)?));
    }
    Ok(super::events_text::detail(&view))
}

/// A page as a plain table, one event per line, and the cursor of the next page.
pub fn table(page: &Page<EventView>) -> String {
    let mut out = format!(
        "{:<36}  {:<10}  {:<6}  {:<24}  {:<12}  {:>3}  {:<24}  {}\n",
        "ID", "STATUS", "SOURCE", "TYPE", "CONNECTION", "TRY", "RECEIVED", "LAST ERROR"
    );
    for e in &page.items {
        out.push_str(&format!(
            "{:<36}  {:<10}  {:<6}  {:<24}  {:<12}  {:>3}  {:<24}  {}\n",
            e.id,
            e.status,
            e.source,
            cut(&e.event_type, 24),
            cut(e.connection.as_deref().unwrap_or("-"), 12),
            e.attempts,
            e.received_at,
            cut(e.last_error.as_deref().unwrap_or(""), 60),
        ));
    }
    if let Some(next) = &page.next {
        out.push_str(&format!("more: --cursor {next}\n"));
    }
    out
}

/// At most `max` characters, the cut marked with `…`.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…")
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
