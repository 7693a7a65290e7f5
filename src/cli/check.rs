//! `check`: verifies the configured GHL credentials against the live API (or the
//! sandbox): each capability, the rate-limit headers, a sample contact. Exits 0 only
//! when everything the service needs works.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use super::load_or_report;
use crate::config::Config;
use crate::platforms::ghl::client::{Auth, ClientSettings, GhlClient, OAuthSession, Verification};
use crate::startup::DEFAULT_CONNECTION;
use crate::store::{self, Cipher};
use crate::telemetry::Metrics;

#[derive(Debug, Default, clap::Args)]
pub struct CheckArgs {
    /// A contact id to sample (default: the first contact a search finds).
    #[arg(long)]
    pub contact: Option<String>,
}

pub async fn run(file: Option<&Path>, args: &CheckArgs) -> ExitCode {
    let loaded = match load_or_report(file) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    match verify_configured(&loaded.config, args.contact.as_deref()).await {
        Ok(report) => {
            print!("{}", render(&report));
            if report.all_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Verifies the default connection: the Private Integration Token when one is
/// configured, otherwise the OAuth tokens in the store.
pub async fn verify_configured(
    config: &Config,
    contact: Option<&str>,
) -> anyhow::Result<Verification> {
    let ghl = &config.ghl;
    anyhow::ensure!(
        !ghl.location_id.is_empty(),
        "ghl.location_id is not set (BRIDGE_GHL_LOCATION_ID)"
    );
    let metrics = Arc::new(Metrics::new());
    let client = GhlClient::new(ClientSettings::from_config(ghl), metrics.clone())?;
    let auth = match ghl.token.expose() {
        Some(token) => Auth::private_token(token),
        None => oauth(config, &client, metrics).await?,
    };
    let connection = client.connection(&ghl.location_id, auth).interactive();
    Ok(connection.verify(contact).await)
}

async fn oauth(config: &Config, client: &GhlClient, metrics: Arc<Metrics>) -> anyhow::Result<Auth> {
    let app = client.oauth_app(&config.ghl).context(
        "no credentials: set ghl.token, or ghl.client_id/client_secret and install the app",
    )?;
    let key = config
        .security
        .encryption_key
        .expose()
        .context("security.encryption_key is needed to read stored tokens")?;
    let cipher = Cipher::from_base64(key).map_err(anyhow::Error::msg)?;
    let store = store::connect(&config.store, Some(cipher)).await?;
    let id = store
        .connection_for_location(&config.ghl.location_id)
        .await?
        .map_or_else(|| DEFAULT_CONNECTION.to_owned(), |c| c.id);
    let margin = Duration::from_secs(config.ghl.token_refresh_margin_secs);
    Ok(Auth::OAuth(Arc::new(OAuthSession::new(
        store, id, app, margin, metrics,
    ))))
}

/// The report as printed: one line per capability, the limits, the sample contact.
pub fn render(report: &Verification) -> String {
    let mut out = String::new();
    for c in &report.capabilities {
        let _ = writeln!(out, "{:<26} {:<32} {}", c.name, c.scope, c.outcome);
    }
    match &report.rate_limits {
        Some(l) => {
            let show = |v: Option<u64>| v.map_or_else(|| "?".to_owned(), |n| n.to_string());
            let _ = writeln!(
                out,
                "rate limit: {}/{} left per {} ms; daily {}/{} left",
                show(l.remaining),
                show(l.max),
                show(l.interval_ms),
                show(l.daily_remaining),
                show(l.daily_limit)
            );
        }
        None => out.push_str("rate limit: no X-RateLimit-* headers seen\n"),
    }
    if let Some(contact) = &report.sample {
        let shown = serde_json::to_string_pretty(contact).unwrap_or_default();
        let _ = writeln!(out, "sample contact {}:\n{shown}", contact.id);
    }
    let verdict = if report.all_ok() {
        "all needed capabilities work"
    } else {
        "some capabilities do not work"
    };
    let _ = writeln!(out, "{verdict}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::OptionalSecret;
    use crate::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings};

    fn config(fake: &FakeGhl, token: String) -> Config {
        let mut config = Config::defaults();
        config.ghl.base_url = fake.base_url();
        config.ghl.location_id = "loc-1".into();
        config.ghl.token = OptionalSecret::new(token);
        config
    }

    #[tokio::test]
    async fn check_reports_each_capability_and_the_limits_it_saw() {
        let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
        let token = fake.issue_token("loc-1", &["contacts.readonly"]);
        let report = verify_configured(&config(&fake, token), None)
            .await
            .unwrap();
        let text = render(&report);
        assert!(!report.all_ok());
        assert!(text.contains("contacts.search"), "{text}");
        assert!(
            text.contains("forbidden (missing scope contacts.write)"),
            "{text}"
        );
        assert!(
            text.contains("forbidden (missing scope locations/customFields.readonly)"),
            "{text}"
        );
        assert!(text.contains("rate limit: "), "{text}");
        assert!(text.ends_with("some capabilities do not work\n"), "{text}");
    }

    #[tokio::test]
    async fn check_passes_with_a_full_token() {
        let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
        let token = fake.issue_token("loc-1", ALL_SCOPES);
        let report = verify_configured(&config(&fake, token), None)
            .await
            .unwrap();
        assert!(report.all_ok(), "{}", render(&report));
    }

    #[tokio::test]
    async fn check_without_a_location_says_which_setting_is_missing() {
        let error = verify_configured(&Config::defaults(), None)
            .await
            .unwrap_err();
        assert!(error.to_string().contains("ghl.location_id"));
    }
}
