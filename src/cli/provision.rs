//! `mapping provision [FILE] [--apply]`: what the mapping needs that the accounts lack,
//! printed (`crate::verify::provision` finds it and, with `--apply`, creates the missing
//! GHL custom fields); for Tovuti it prints what the admin must create.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::check::connect;
use super::{EXIT_CONFIG, load_or_report};
use crate::config::Config;
use crate::mapping::source::Source;
use crate::mapping::{self, Mapping, file::read_source};
use crate::platforms::tovuti::client::TovutiClient;
use crate::verify::provision::{Provisioned, ghl_missing, provision_ghl, tovuti_missing};

#[derive(Debug, clap::Args)]
pub struct ProvisionArgs {
    /// The mapping file; default `mapping.file` from the configuration, else the built-in example.
    pub file: Option<PathBuf>,
    /// Create the missing GHL custom fields (without it, only list what is missing).
    #[arg(long)]
    pub apply: bool,
}

pub async fn run(config_file: Option<&Path>, args: &ProvisionArgs) -> ExitCode {
    let loaded = match load_or_report(config_file) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let config = &loaded.config;
    let path = args.file.clone().or_else(|| {
        Some(PathBuf::from(&config.mapping.file)).filter(|p| !p.as_os_str().is_empty())
    });
    let (name, text) = match read_source(path.as_deref()) {
        Ok(source) => source,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let m = match mapping::load(&name, &text) {
        Ok(m) => m,
        Err(errors) => {
            eprint!("{errors}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    match provision(&m, Source::new(&name, &text), config, args.apply).await {
        Ok(done) => {
            for line in &done.created {
                println!("created: {line}");
            }
            for line in &done.todo {
                println!("missing: {line}");
            }
            if done.todo.is_empty() {
                println!("nothing is missing");
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

/// Lists (and with `apply` creates) what GHL lacks, then lists what Tovuti lacks.
pub async fn provision(
    m: &Mapping,
    src: Source<'_>,
    config: &Config,
    apply: bool,
) -> anyhow::Result<Provisioned> {
    let ghl = connect(config).await?;
    let missing = ghl_missing(&ghl, m).await?;
    let mut done = Provisioned::default();
    provision_ghl(&ghl, &missing, apply, &mut done).await;
    if let Some(client) = TovutiClient::from_config(&config.tovuti)? {
        let lacking = tovuti_missing(&client, m, src).await;
        let problems = lacking.unread.into_iter();
        for problem in problems.chain(lacking.gaps.into_iter().map(|g| g.problem)) {
            done.todo.push(format!(
                "{problem}; Tovuti has no API to create it: an admin creates it in Tovuti, \
                 with exactly this name (or names it in the mapping as it is titled in Tovuti)"
            ));
        }
    } else {
        done.todo.push(
            "Tovuti was not checked: no Tovuti API is configured \
             (BRIDGE_TOVUTI_BASE_URL, BRIDGE_TOVUTI_TOKEN)"
                .into(),
        );
    }
    Ok(done)
}

#[cfg(test)]
#[path = "provision_tests.rs"]
mod tests;
