//! The command line: `serve` (the default), `demo`, `migrate`, `check`, `config check`,
//! `keys generate`, `mapping validate|preview|provision`, `send-test-event`, `replay`,
//! `backfill`, `events list|show`, `connections ...`.

mod backfill;
mod backfill_progress;
mod check;
mod config_check;
pub mod connections;
pub mod demo;
pub mod events;
mod events_text;
pub mod keys;
pub mod mapping;
mod mapping_online;
mod migrate;
mod preflight;
mod provision;
pub mod replay;
pub mod send_test_event;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{self, Loaded};

/// Exit code for a configuration that does not load (sysexits EX_CONFIG); clap uses 2
/// for bad arguments.
pub const EXIT_CONFIG: u8 = 78;

#[derive(Debug, Parser)]
#[command(
    name = "tovuti-ghl-bridge",
    version,
    about = "Keeps Tovuti LMS and GoHighLevel in sync, both ways."
)]
pub struct Cli {
    /// A TOML file overriding the embedded defaults (environment variables override both).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service and the worker (the default).
    Serve(serve::ServeArgs),
    /// Try it out: run the service against in-process sandbox GHL and Tovuti, send a
    /// scripted series of signed events and print what each platform then holds (built-in
    /// defaults and the shipped mapping; --config is not read).
    Demo(demo::DemoArgs),
    /// Apply pending database migrations and exit (e.g. as a Kubernetes Job).
    Migrate,
    /// Verify GHL and Tovuti for what the mapping needs; exit 0 only when all of it works.
    Check(check::CheckArgs),
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Generate secrets.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Sign a sample webhook event and post it to the service.
    SendTestEvent(send_test_event::SendTestEventArgs),
    /// Validate the field mapping, or preview what an event would do.
    #[command(subcommand)]
    Mapping(mapping::MappingCommand),
    /// Queue stored events again (dead ones by default), by id or by filter.
    Replay(replay::ReplayArgs),
    /// Queue the data that existed before the service (Tovuti users and learning, or GHL
    /// contacts the mapping selects) as events; a second run queues nothing.
    Backfill(backfill::BackfillArgs),
    /// Inspect stored events: list them by filter, or show one with its history (what
    /// the admin API's /api/v1/events answers).
    #[command(subcommand)]
    Events(events::EventsCommand),
    /// Manage connections (GHL location + Tovuti tenant pairs) and their webhook secrets.
    #[command(subcommand)]
    Connections(connections::ConnectionsCommand),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Load and validate the configuration, print it with secrets redacted.
    Check,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Print a fresh encryption key and a fresh `whsec_` webhook secret.
    Generate,
}

/// Parses the arguments (exit code 2 on bad ones) and runs the command.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = cli.config.as_deref();
    match cli
        .command
        .unwrap_or(Command::Serve(serve::ServeArgs::default()))
    {
        Command::Serve(args) => serve::run(config, &args).await,
        Command::Demo(args) => demo::main(args).await,
        Command::Migrate => migrate::run(config).await,
        Command::Check(args) => check::run(config, &args).await,
        Command::Config(ConfigCommand::Check) => config_check::run(config),
        Command::Keys(KeysCommand::Generate) => keys::run(),
        Command::SendTestEvent(args) => send_test_event::main(args).await,
        Command::Mapping(command) => mapping::run(config, command).await,
        Command::Replay(args) => replay::run(config, &args).await,
        Command::Backfill(args) => backfill::run(config, &args).await,
        Command::Events(command) => events::run(config, &command).await,
        Command::Connections(command) => connections::run(config, command).await,
    }
}

/// Loads the configuration or prints every problem and says which exit code to use.
fn load_or_report(file: Option<&std::path::Path>) -> Result<Loaded, ExitCode> {
    config::load(file).map_err(|errors| {
        eprintln!("error: {errors}");
        ExitCode::from(EXIT_CONFIG)
    })
}
