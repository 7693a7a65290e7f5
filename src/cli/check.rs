//! `check`: verifies the configured credentials against the live APIs (or the sandboxes)
//! for exactly what the mapping needs: each GHL capability its rules use, the rate-limit
//! headers, a sample contact; the Tovuti token, users and every custom field, group and
//! course the mapping names; with `--sample`, a test contact's and a Tovuti test user's
//! round trips through the mapping. Exits 0 only when all of it was verified and works.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use super::load_or_report;
use crate::config::Config;
use crate::config::DEFAULT_CONNECTION;
use crate::mapping::source::Source;
use crate::mapping::{self, file::read_source};
use crate::platforms::ghl::client::{Auth, ClientSettings, GhlClient, LocationApi, OAuthSession};
use crate::platforms::tovuti::client::{TovutiApi, TovutiClient};
use crate::store::{self, Cipher};
use crate::telemetry::Metrics;
use crate::verify::report::{Report, render};
use crate::verify::round_trips;
use crate::verify::sample;
use crate::verify::sample_tovuti;

#[derive(Debug, Default, clap::Args)]
pub struct CheckArgs {
    /// A contact id to sample (default: the first contact a search finds).
    #[arg(long)]
    pub contact: Option<String>,
    /// Exit 0 although some capabilities could not be verified (e.g. an empty location).
    #[arg(long)]
    pub allow_untested: bool,
    /// Also create a test contact from a sample Tovuti user through the mapping, read it
    /// back field by field, and delete it; with a Tovuti API, also a Tovuti test user from
    /// a sample GHL contact, read back and deactivated.
    #[arg(long)]
    pub sample: bool,
}

pub async fn run(file: Option<&Path>, args: &CheckArgs) -> ExitCode {
    let loaded = match load_or_report(file) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let passed = match check(&loaded.config, args.contact.as_deref()).await {
        Ok(report) => {
            print!("{}", render(&report, args.allow_untested));
            report.passed(args.allow_untested)
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    let sampled = !args.sample || sample(&loaded.config).await;
    if passed && sampled {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `--sample`: prints the round-trip table of a test contact and, when a Tovuti API is
/// configured, of a Tovuti test user; true when every field came back equal.
async fn sample(config: &Config) -> bool {
    let prepared = async {
        let (_, _, m) = load_mapping(config)?;
        anyhow::Ok((connect(config).await?, m))
    };
    let (ghl, m) = match prepared.await {
        Ok(prepared) => prepared,
        Err(error) => {
            eprintln!("error: {error:#}");
            return false;
        }
    };
    let tovuti = match TovutiClient::from_config(&config.tovuti) {
        Ok(client) => client,
        Err(error) => {
            eprintln!("error: {error:#}");
            return false;
        }
    };
    let tovuti = tovuti.as_ref().map(|c| c as &dyn TovutiApi);
    let trips = round_trips(&ghl, tovuti, &m, jiff::Timestamp::now()).await;
    print!("{}", sample::render(&trips.ghl));
    if let Some(trip) = &trips.tovuti {
        let passed = format!(
            "sample Tovuti user: every field round-trips; test user {}",
            sample_tovuti::DEACTIVATED
        );
        let failed = "sample Tovuti user: some fields do NOT round-trip";
        print!("\n{}", sample::render_with(trip, &passed, failed));
    }
    trips.passed()
}

/// The configured mapping with its file name and text (for line numbers).
fn load_mapping(config: &Config) -> anyhow::Result<(String, String, mapping::Mapping)> {
    let file = &config.mapping.file;
    let (name, text) =
        read_source((!file.is_empty()).then(|| Path::new(file))).map_err(anyhow::Error::msg)?;
    let m = mapping::load(&name, &text).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((name, text, m))
}

/// Checks both platforms for what the configured mapping needs.
pub async fn check(config: &Config, contact: Option<&str>) -> anyhow::Result<Report> {
    let (name, text, m) = load_mapping(config)?;
    let ghl = connect(config).await?;
    let tovuti = TovutiClient::from_config(&config.tovuti)?;
    let tovuti = tovuti.as_ref().map(|c| c as &dyn TovutiApi);
    Ok(crate::verify::check(&ghl, tovuti, &m, Source::new(&name, &text), contact).await)
}

/// The default connection: the Private Integration Token when one is configured,
/// otherwise the OAuth tokens in the store.
pub async fn connect(config: &Config) -> anyhow::Result<LocationApi> {
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
    Ok(client.location(&ghl.location_id, auth).interactive())
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

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
