//! `serve`: check both platforms against the mapping (`--strict`: refuse to start on a
//! problem), bind, run until SIGTERM/Ctrl-C, drain, exit 0; `--sandbox` first starts fake
//! platforms in-process and points the service at them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::load_or_report;
use crate::config::{Config, PollerConfig};
use crate::sandbox::wiring::{LOCATION, Sandbox, ScratchDir};
use crate::{shutdown, telemetry};

#[derive(Debug, Default, clap::Args)]
pub struct ServeArgs {
    /// Do not apply migrations at startup (run `migrate` as a job instead).
    #[arg(long)]
    pub skip_migrations: bool,
    /// For trying things out only: start fake GHL and Tovuti in this process (data in
    /// memory, lost at exit), point the service at them, and print how to send signed
    /// test events. Never use it with real data.
    #[arg(long)]
    pub sandbox: bool,
    /// Refuse to start (exit 78) when the startup preflight finds that the GHL location
    /// or the Tovuti tenant lacks something the mapping names; without it the service
    /// logs one warning and starts.
    #[arg(long)]
    pub strict: bool,
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
    // Held until the service stops: dropping it stops the fakes and deletes the key file.
    let sandbox = if args.sandbox {
        match SandboxRun::start(&mut loaded.config).await {
            Ok(sandbox) => Some(sandbox),
            Err(error) => {
                eprintln!("error: starting the sandbox: {error:#}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    telemetry::init(&loaded.config.telemetry);
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    if let Err(code) = super::preflight::run(&loaded.config, args.strict).await {
        return code;
    }
    let listen = loaded.config.server.listen.clone();
    let listener = match TcpListener::bind(&listen).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(%listen, %error, "cannot bind the listen address");
            return ExitCode::FAILURE;
        }
    };
    if let (Some(sandbox), Ok(address)) = (&sandbox, listener.local_addr()) {
        println!("{}", sandbox.banner(address, &loaded.config.poller));
    }
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

/// The fakes of a `--sandbox` run and the GHL signing key written for `send-test-event`.
struct SandboxRun {
    sandbox: Sandbox,
    key_file: PathBuf,
    _scratch: ScratchDir,
}

impl SandboxRun {
    async fn start(config: &mut Config) -> anyhow::Result<Self> {
        let sandbox = Sandbox::start().await?;
        sandbox.configure(config)?;
        let scratch = ScratchDir::create("tovuti-ghl-bridge-sandbox")?;
        let key_file = scratch.path().join("sandbox-ghl-key.pem");
        std::fs::write(&key_file, sandbox.ghl_private_key_pem()?)
            .with_context(|| format!("writing {}", key_file.display()))?;
        Ok(Self {
            sandbox,
            key_file,
            _scratch: scratch,
        })
    }

    /// Where everything runs and ready-to-paste commands that sign and send test events.
    fn banner(&self, address: SocketAddr, poller: &PollerConfig) -> String {
        // A wildcard bind is reached through loopback.
        let host = if address.ip().is_unspecified() {
            "127.0.0.1".to_owned()
        } else {
            address.ip().to_string()
        };
        let url = format!("http://{host}:{}", address.port());
        format!(
            "SANDBOX MODE, for trying things out only: GHL and Tovuti are fakes in this process,\n\
             their data lives in memory and is lost at exit.\n  \
             service  {url}\n  \
             GHL      {} (location {LOCATION})\n  \
             Tovuti   {}\n  \
             GHL signing key (Ed25519, PEM)  {}\n  \
             Tovuti webhook secret           {}\n  \
             {}\n\
             Send signed test events from another terminal:\n  \
             tovuti-ghl-bridge send-test-event tovuti enrollment.created --url {url} --secret '{}'\n  \
             tovuti-ghl-bridge send-test-event ghl ContactUpdate --url {url} --key {} --location {LOCATION}\n",
            self.sandbox.ghl.base_url(),
            self.sandbox.tovuti.base_url(),
            self.key_file.display(),
            self.sandbox.tovuti_secret,
            polling(poller),
            self.sandbox.tovuti_secret,
            self.key_file.display(),
        )
    }
}

/// How the service reads the fake Tovuti: by polling, as it reads a real one.
fn polling(poller: &PollerConfig) -> String {
    if !poller.enabled {
        return "Tovuti is not polled (poller.enabled = false): only pushed events arrive".into();
    }
    format!(
        "Tovuti is polled as a real tenant is: users every {} s, course progress every {} s, \
         awards every {} s (poller.*_interval_secs); the first scan only remembers what it finds",
        poller.users_interval_secs, poller.progress_interval_secs, poller.awards_interval_secs
    )
}
