//! `connections list|add|show|update|pause|resume|remove` and `connections secret
//! add|list|revoke`: manage connections in the store directly, through the same
//! operations the service uses. Output is JSON; secrets appear only once, when a webhook
//! secret is made. Run `migrate` first (or let `serve` migrate).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use secrecy::SecretString;

use super::load_or_report;
use crate::config::Config;
use crate::connections::{ConnectionError, ConnectionInput, ConnectionPatch, Connections};
use crate::store::{self, Cipher, PollerOverrides, TovutiAuthMode};

#[derive(Debug, Subcommand)]
pub enum ConnectionsCommand {
    /// Every connection, `default` (from the configuration) among them.
    List,
    /// Create a connection (tokens are stored encrypted: needs BRIDGE_ENCRYPTION_KEY).
    Add(AddArgs),
    /// One connection.
    Show { id: String },
    /// Change a connection: only the options given (as `PATCH /api/v1/connections/{id}`).
    Update(UpdateArgs),
    /// Hold the connection's outbound work; its webhooks are still stored.
    Pause { id: String },
    /// Send what waited during a pause.
    Resume { id: String },
    /// Erase the connection's credentials and secrets; it stays as `disconnected`.
    Remove { id: String },
    /// The connection's Tovuti webhook secrets.
    #[command(subcommand)]
    Secret(SecretCommand),
}

/// The tokens are `SecretString`s, so `Debug` never shows them.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// Lowercase letters, digits and '-'; the webhook URL is /webhooks/tovuti/{id}.
    #[arg(long)]
    pub id: String,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub ghl_location: String,
    /// GHL Private Integration Token (or set CONNECTION_GHL_TOKEN, kept out of `ps`).
    #[arg(long, env = "CONNECTION_GHL_TOKEN", hide_env_values = true, value_parser = token)]
    pub ghl_token: Option<SecretString>,
    /// The tenant's Tovuti API root, e.g. https://example.tovuti.io/api/v1.
    #[arg(long)]
    pub tovuti_url: Option<String>,
    /// Tovuti API key (or set CONNECTION_TOVUTI_TOKEN, kept out of `ps`).
    #[arg(long, env = "CONNECTION_TOVUTI_TOKEN", hide_env_values = true, value_parser = token)]
    pub tovuti_token: Option<SecretString>,
    /// A mapping file for this connection (validated now).
    #[arg(long)]
    pub mapping: Option<String>,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    pub id: String,
    /// An empty value clears it.
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub ghl_location: Option<String>,
    /// A new GHL Private Integration Token (or set CONNECTION_GHL_TOKEN).
    #[arg(long, env = "CONNECTION_GHL_TOKEN", hide_env_values = true, value_parser = token)]
    pub ghl_token: Option<SecretString>,
    /// The tenant's Tovuti API root; an empty value clears it.
    #[arg(long)]
    pub tovuti_url: Option<String>,
    /// A new Tovuti API key (or set CONNECTION_TOVUTI_TOKEN).
    #[arg(long, env = "CONNECTION_TOVUTI_TOKEN", hide_env_values = true, value_parser = token)]
    pub tovuti_token: Option<SecretString>,
    /// A mapping file for this connection (validated now); an empty value goes back to
    /// the configured mapping.
    #[arg(long)]
    pub mapping: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Make a new `whsec_` secret (printed once); older ones keep verifying for the overlap.
    Add {
        id: String,
        /// Hours older secrets keep verifying.
        #[arg(long, default_value_t = 24)]
        overlap_hours: u64,
    },
    /// The secrets' ids, fingerprints and expiry (never the secrets).
    List { id: String },
    /// Stop a secret verifying now.
    Revoke { id: String, secret_id: String },
}

pub async fn run(file: Option<&Path>, command: ConnectionsCommand) -> ExitCode {
    let loaded = match load_or_report(file) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let config = Arc::new(loaded.config);
    let outcome = async {
        let connections = open(config).await?;
        let mut out = std::io::stdout().lock();
        execute(&connections, command, &mut out).await
    };
    match outcome.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The connection operations over the configured store.
pub async fn open(config: Arc<Config>) -> anyhow::Result<Connections> {
    let cipher = config
        .security
        .encryption_key
        .expose()
        .map(Cipher::from_base64)
        .transpose()
        .map_err(anyhow::Error::msg)
        .context("security.encryption_key")?;
    let store = store::connect(&config.store, cipher)
        .await
        .context("opening the store")?;
    Ok(Connections::new(store, config))
}

/// Runs one command, writing its JSON answer to `out`.
pub async fn execute(
    connections: &Connections,
    command: ConnectionsCommand,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    use ConnectionsCommand as C;
    let answer = match command {
        C::List => json(connections.list().await)?,
        C::Add(args) => json(connections.create(input(args)).await)?,
        C::Show { id } => json(connections.get(&id).await)?,
        C::Update(args) => {
            let id = args.id.clone();
            json(connections.update(&id, patch(args)).await)?
        }
        C::Pause { id } => json(connections.pause(&id).await)?,
        C::Resume { id } => json(connections.resume(&id).await)?,
        C::Remove { id } => json(connections.remove(&id).await)?,
        C::Secret(command) => secret(connections, command).await?,
    };
    writeln!(out, "{answer}").context("writing the answer")
}

async fn secret(connections: &Connections, command: SecretCommand) -> anyhow::Result<String> {
    match command {
        SecretCommand::Add { id, overlap_hours } => {
            let overlap = Duration::from_secs(overlap_hours.saturating_mul(3600));
            json(connections.add_tovuti_secret(&id, Some(overlap)).await)
        }
        SecretCommand::List { id } => json(connections.tovuti_secrets(&id).await),
        SecretCommand::Revoke { id, secret_id } => {
            connections.revoke_tovuti_secret(&id, &secret_id).await?;
            Ok(serde_json::json!({ "revoked": secret_id }).to_string())
        }
    }
}

/// A token as the command line or the environment gives it, kept secret from then on.
fn token(value: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(value))
}

fn input(args: AddArgs) -> ConnectionInput {
    ConnectionInput {
        id: args.id,
        name: args.name,
        ghl_location_id: args.ghl_location,
        ghl_token: args.ghl_token,
        tovuti_base_url: args.tovuti_url,
        tovuti_token: args.tovuti_token,
        tovuti_auth_mode: TovutiAuthMode::Bearer,
        mapping_path: args.mapping,
        poller: PollerOverrides::default(),
    }
}

fn patch(args: UpdateArgs) -> ConnectionPatch {
    ConnectionPatch {
        name: args.name,
        ghl_location_id: args.ghl_location,
        ghl_token: args.ghl_token,
        tovuti_base_url: args.tovuti_url,
        tovuti_token: args.tovuti_token,
        tovuti_auth_mode: None,
        mapping_path: args.mapping,
        poller: None,
    }
}

fn json<T: serde::Serialize>(result: Result<T, ConnectionError>) -> anyhow::Result<String> {
    let value = result?;
    serde_json::to_string_pretty(&value).context("serializing the answer")
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use secrecy::ExposeSecret as _;

    use super::*;

    #[derive(Parser)]
    struct Add {
        #[command(flatten)]
        args: AddArgs,
    }

    #[test]
    fn tokens_given_on_the_command_line_never_show_in_debug() {
        let parsed = Add::try_parse_from([
            "add",
            "--id",
            "acme",
            "--ghl-location",
            "loc-1",
            "--ghl-token",
            "pit-given-on-the-command-line",
            "--tovuti-token",
            "7|tovuti-given-on-the-command-line",
        ])
        .unwrap();
        let shown = format!("{:?}", parsed.args);
        assert!(!shown.contains("given-on-the-command-line"), "{shown}");
        let token = parsed.args.ghl_token.as_ref().map(|t| t.expose_secret());
        assert_eq!(token, Some("pit-given-on-the-command-line"));
    }
}
