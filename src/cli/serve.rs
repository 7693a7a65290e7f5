//! `serve`: bind, run until SIGTERM/Ctrl-C, drain, exit 0.

use std::path::Path;
use std::process::ExitCode;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::load_or_report;
use crate::{shutdown, telemetry};

#[derive(Debug, Default, clap::Args)]
pub struct ServeArgs {
    /// Do not apply migrations at startup (run `migrate` as a job instead).
    #[arg(long)]
    pub skip_migrations: bool,
}

pub async fn run(file: Option<&Path>, args: &ServeArgs) -> ExitCode {
    let mut loaded = match load_or_report(file) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    // A broken mapping must stop startup, with every problem listed, not fail each event later.
    if let Err(errors) = crate::mapping::file::load_configured(&loaded.config) {
        eprint!("error: {errors}");
        return ExitCode::from(super::EXIT_CONFIG);
    }
    if args.skip_migrations {
        loaded.config.store.run_migrations = false;
    }
    telemetry::init(&loaded.config.telemetry);
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    let listen = loaded.config.server.listen.clone();
    let listener = match TcpListener::bind(&listen).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(%listen, %error, "cannot bind the listen address");
            return ExitCode::FAILURE;
        }
    };
    let token = CancellationToken::new();
    shutdown::cancel_on_signal(token.clone());
    match crate::run(loaded.config, listener, token).await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(
                error = format!("{error:#}"),
                "the service stopped on an error"
            );
            ExitCode::FAILURE
        }
    }
}
