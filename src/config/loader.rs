//! Assembles the configuration from the embedded defaults, an optional file and
//! `BRIDGE_*` variables, collecting every problem instead of stopping at the first.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Value};
use figment::{Figment, Profile, Provider};

use super::{Config, DEFAULTS, validate};

/// Prefix of every environment variable the service reads.
pub const ENV_PREFIX: &str = "BRIDGE_";

/// The essentials that also have flat names (listed in `.env.example`), and the key each sets.
pub const FLAT_ENV: &[(&str, &str)] = &[
    ("BRIDGE_DATABASE_URL", "store.url"),
    ("BRIDGE_LISTEN", "server.listen"),
    ("BRIDGE_ADMIN_TOKEN", "security.admin_token"),
    ("BRIDGE_ADMIN_READ_TOKENS", "security.admin_read_tokens"),
    ("BRIDGE_ADMIN_LISTEN", "admin.listen"),
    ("BRIDGE_ENCRYPTION_KEY", "security.encryption_key"),
    ("BRIDGE_GHL_BASE_URL", "ghl.base_url"),
    ("BRIDGE_GHL_LOCATION_ID", "ghl.location_id"),
    ("BRIDGE_GHL_TOKEN", "ghl.token"),
    ("BRIDGE_GHL_CLIENT_ID", "ghl.client_id"),
    ("BRIDGE_GHL_CLIENT_SECRET", "ghl.client_secret"),
    ("BRIDGE_TOVUTI_BASE_URL", "tovuti.base_url"),
    ("BRIDGE_TOVUTI_TOKEN", "tovuti.token"),
    ("BRIDGE_MAPPING_FILE", "mapping.file"),
    ("BRIDGE_GHL_WEBHOOK_PUBLIC_KEY", "webhooks.ghl.public_key"),
    (
        "BRIDGE_GHL_WEBHOOK_RSA_PUBLIC_KEY",
        "webhooks.ghl.rsa_public_key",
    ),
    ("BRIDGE_TOVUTI_WEBHOOK_SECRET", "webhooks.tovuti.secrets"),
];

/// One thing wrong with the configuration, naming the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub key: String,
    pub message: String,
}

/// Every problem found, reported together.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<ConfigProblem>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the configuration has {} problem(s):", self.0.len())?;
        for p in &self.0 {
            writeln!(f, "  - {}: {}", p.key, p.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// A valid configuration and the warnings met while loading it.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    /// Things worth a log line that do not stop startup (e.g. unknown `BRIDGE_*` variables).
    pub warnings: Vec<String>,
}

/// Loads from the process environment.
pub fn load(file: Option<&Path>) -> Result<Loaded, ConfigErrors> {
    load_from(file, std::env::vars())
}

/// Loads from an explicit environment, so tests need not touch the process's.
pub fn load_from(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Loaded, ConfigErrors> {
    let defaults = Figment::from(Toml::string(DEFAULTS));
    let known = leaf_keys(&defaults).unwrap_or_default();
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let mut figment = defaults.clone();
    if let Some(path) = file {
        figment = merge_file(figment, path, &known, &mut problems);
    }
    for (name, value) in env {
        let Some(key) = env_key(&name) else { continue };
        if known.contains(&key) {
            figment = figment.merge(Serialized::default(&key, env_value(&value)));
        } else {
            // Kubernetes injects BRIDGE_PORT and friends for a Service named "bridge":
            // warn rather than refuse to start.
            warnings.push(format!("{name} is not a configuration variable; ignored"));
        }
    }
    let config = extract(figment, &defaults, &mut problems);
    if let Some(config) = &config {
        problems.extend(validate::validate(config));
    }
    match config {
        Some(config) if problems.is_empty() => Ok(Loaded { config, warnings }),
        _ => Err(ConfigErrors(problems)),
    }
}

/// An environment value as figment reads one (`10` a number, `true` a bool, `"…"` a
/// quoted string). Figment's unescaping slices by character index where it needs a byte
/// index, so it panics on a quoted value with a backslash after a non-ASCII character;
/// a value with both is taken as the text it is, quotes and backslashes included.
fn env_value(raw: &str) -> Value {
    if raw.contains('\\') && !raw.is_ascii() {
        return Value::from(raw.to_owned());
    }
    raw.parse().unwrap_or_else(|never| match never {})
}

/// The configuration key an environment variable sets, if it is one of ours.
fn env_key(name: &str) -> Option<String> {
    if let Some((_, key)) = FLAT_ENV.iter().find(|(flat, _)| *flat == name) {
        return Some((*key).to_owned());
    }
    let rest = name.strip_prefix(ENV_PREFIX)?;
    Some(rest.to_ascii_lowercase().replace("__", "."))
}

fn merge_file(
    figment: Figment,
    path: &Path,
    known: &BTreeSet<String>,
    problems: &mut Vec<ConfigProblem>,
) -> Figment {
    let key = "--config".to_owned();
    if !path.is_file() {
        let message = format!("{} is not a readable file", path.display());
        problems.push(ConfigProblem { key, message });
        return figment;
    }
    let file = Figment::from(Toml::file_exact(path));
    match leaf_keys(&file) {
        Ok(keys) => {
            for unknown in keys.difference(known) {
                let message = format!("unknown key in {}", path.display());
                problems.push(ConfigProblem {
                    key: unknown.clone(),
                    message,
                });
            }
            figment.merge(Toml::file_exact(path))
        }
        Err(e) => {
            problems.push(ConfigProblem { key, message: e });
            figment
        }
    }
}

/// Extracts the typed tree; a key that does not deserialize is reported and replaced by
/// its default so the keys after it are still checked.
fn extract(
    mut figment: Figment,
    defaults: &Figment,
    problems: &mut Vec<ConfigProblem>,
) -> Option<Config> {
    let mut reported = BTreeSet::new();
    loop {
        let errors = match figment.extract::<Config>() {
            Ok(config) => return Some(config),
            Err(errors) => errors,
        };
        let mut progressed = false;
        for error in errors {
            let key = error.path.join(".");
            let message = error.kind.to_string();
            problems.push(ConfigProblem {
                key: key.clone(),
                message,
            });
            let default = defaults.find_value(&key).ok();
            if let Some(default) = default.filter(|_| reported.insert(key.clone())) {
                figment = figment.merge(Serialized::default(&key, default));
                progressed = true;
            }
        }
        if !progressed {
            return None;
        }
    }
}

/// Every leaf key (`section.key`) a provider defines.
fn leaf_keys(figment: &Figment) -> Result<BTreeSet<String>, String> {
    let data = figment.data().map_err(|e| e.to_string())?;
    let mut keys = BTreeSet::new();
    if let Some(dict) = data.get(&Profile::Default) {
        collect(dict, "", &mut keys);
    }
    Ok(keys)
}

fn collect(dict: &Dict, prefix: &str, keys: &mut BTreeSet<String>) {
    for (name, value) in dict {
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        match value {
            Value::Dict(_, inner) => collect(inner, &key, keys),
            _ => {
                keys.insert(key);
            }
        }
    }
}

#[cfg(test)]
#[path = "loader_tests.rs"]
mod tests;
