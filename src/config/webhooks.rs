//! The `[webhooks]` section: how the two front doors verify, and when they push back.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::secret::{OptionalSecret, lenient_string};
use crate::platforms::ghl::GhlVerifier;
use crate::platforms::ghl::webhook::{GHL_ED25519_PUBLIC_KEY, GHL_RSA_PUBLIC_KEY};
use crate::platforms::tovuti::WebhookSecret;

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct WebhooksConfig {
    /// Longest wait for the store to commit a delivery before answering 429.
    pub store_timeout_ms: u64,
    /// `Retry-After` seconds sent with a 429.
    pub retry_after_secs: u64,
    /// Unfinished inbox events (pending, processing, retrying) beyond which deliveries get
    /// 429; 0 means no bound.
    pub max_backlog: u64,
    /// How often the backlog is counted; in between, each admitted delivery is added to
    /// the last count, so one replica holds the bound.
    pub backlog_check_ms: u64,
    /// How long a location's or connection's lookup is remembered.
    pub lookup_cache_secs: u64,
    pub ghl: GhlWebhookConfig,
    pub tovuti: TovutiWebhookConfig,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct GhlWebhookConfig {
    /// Ed25519 key for `X-GHL-Signature`, PEM or base64 SPKI.
    #[serde(deserialize_with = "lenient_string")]
    pub public_key: String,
    /// RSA key for the legacy `X-WH-Signature`, PEM or base64 SPKI.
    #[serde(deserialize_with = "lenient_string")]
    pub rsa_public_key: String,
    /// Accept `X-WH-Signature` when `X-GHL-Signature` is absent.
    pub legacy_rsa: bool,
    /// Largest distance between the payload `timestamp` and now, either way.
    pub timestamp_tolerance_secs: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct TovutiWebhookConfig {
    /// `whsec_` secrets of the default connection, separated by spaces or commas.
    pub secrets: OptionalSecret,
    /// Also accept `X-Signature: sha256=<hex>`.
    pub simple_signature: bool,
    /// Accept unsigned deliveries (trusted networks only; warned about at startup).
    pub unsigned: bool,
    /// Largest distance between `webhook-timestamp` and now, either way.
    pub timestamp_tolerance_secs: u64,
}

impl WebhooksConfig {
    pub fn store_timeout(&self) -> Duration {
        Duration::from_millis(self.store_timeout_ms)
    }

    pub fn retry_after(&self) -> Duration {
        Duration::from_secs(self.retry_after_secs)
    }
}

impl GhlWebhookConfig {
    /// The Ed25519 key; empty (as an empty `.env` line gives) means GHL's published key.
    pub fn ed25519_key(&self) -> &str {
        non_empty_or(&self.public_key, GHL_ED25519_PUBLIC_KEY)
    }

    /// The legacy RSA key; empty means GHL's published key.
    pub fn rsa_key(&self) -> &str {
        non_empty_or(&self.rsa_public_key, GHL_RSA_PUBLIC_KEY)
    }
}

fn non_empty_or<'a>(value: &'a str, default: &'a str) -> &'a str {
    if value.trim().is_empty() {
        default
    } else {
        value
    }
}

impl TovutiWebhookConfig {
    /// The configured secrets, one per entry of the list.
    pub fn secret_list(&self) -> Vec<&str> {
        split_secrets(self.secrets.expose().unwrap_or_default())
    }
}

/// Splits a list of secrets written with spaces, commas or newlines.
pub fn split_secrets(text: &str) -> Vec<&str> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Every problem of the section: unusable keys or secrets are reported at startup, naming
/// the key, rather than on the first delivery.
pub(super) fn problems(config: &WebhooksConfig) -> Vec<super::ConfigProblem> {
    let mut problems = Vec::new();
    let mut check = |ok: bool, key: &str, message: String| {
        if !ok {
            problems.push(super::ConfigProblem {
                key: key.to_owned(),
                message,
            });
        }
    };
    let at_least_one = || "must be at least 1".to_owned();
    check(
        config.store_timeout_ms > 0,
        "webhooks.store_timeout_ms",
        at_least_one(),
    );
    check(
        config.retry_after_secs > 0,
        "webhooks.retry_after_secs",
        at_least_one(),
    );
    let ghl = &config.ghl;
    let tolerance = Duration::from_secs(ghl.timestamp_tolerance_secs);
    if let Err(e) = GhlVerifier::new(ghl.ed25519_key(), None, tolerance) {
        check(false, "webhooks.ghl.public_key", e.to_string());
    }
    if ghl.legacy_rsa
        && let Err(e) = GhlVerifier::new(GHL_ED25519_PUBLIC_KEY, Some(ghl.rsa_key()), tolerance)
    {
        check(false, "webhooks.ghl.rsa_public_key", e.to_string());
    }
    check(
        ghl.timestamp_tolerance_secs > 0,
        "webhooks.ghl.timestamp_tolerance_secs",
        at_least_one(),
    );
    let tovuti = &config.tovuti;
    for secret in tovuti.secret_list() {
        if let Err(e) = WebhookSecret::parse(secret) {
            check(false, "webhooks.tovuti.secrets", e.to_string());
        }
    }
    check(
        tovuti.timestamp_tolerance_secs > 0,
        "webhooks.tovuti.timestamp_tolerance_secs",
        at_least_one(),
    );
    problems
}

#[cfg(test)]
mod tests {
    use super::super::load_from;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_are_ghl_published_keys_and_no_tovuti_secret() {
        let config = load_from(None, env(&[])).unwrap().config.webhooks;
        assert!(
            config
                .ghl
                .public_key
                .contains("MCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg=")
        );
        assert!(config.ghl.legacy_rsa);
        assert!(config.tovuti.secret_list().is_empty());
    }

    #[test]
    fn flat_environment_names_set_keys_and_secrets() {
        let secrets = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAAAAAAAAAAA=,whsec_c2Vjb25kIHNlY3JldCBmb3Igcm90YXRpb24gdGVzdHM=";
        let loaded = load_from(
            None,
            env(&[
                (
                    "BRIDGE_GHL_WEBHOOK_PUBLIC_KEY",
                    "MCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg=",
                ),
                ("BRIDGE_TOVUTI_WEBHOOK_SECRET", secrets),
            ]),
        )
        .unwrap();
        let config = loaded.config.webhooks;
        assert!(
            !config.ghl.public_key.contains("BEGIN"),
            "the bare base64 key replaced the default"
        );
        assert_eq!(config.tovuti.secret_list().len(), 2);
        assert!(
            !format!("{config:?}").contains("whsec_"),
            "secrets stay redacted in Debug"
        );
    }

    #[test]
    fn empty_keys_mean_the_published_ones() {
        let config = load_from(
            None,
            env(&[
                ("BRIDGE_GHL_WEBHOOK_PUBLIC_KEY", ""),
                ("BRIDGE_GHL_WEBHOOK_RSA_PUBLIC_KEY", ""),
            ]),
        )
        .unwrap()
        .config
        .webhooks;
        assert_eq!(config.ghl.ed25519_key(), super::GHL_ED25519_PUBLIC_KEY);
        assert_eq!(config.ghl.rsa_key(), super::GHL_RSA_PUBLIC_KEY);
    }

    #[test]
    fn unusable_keys_and_secrets_are_reported_by_key() {
        let errors = load_from(
            None,
            env(&[
                ("BRIDGE_GHL_WEBHOOK_PUBLIC_KEY", "not-a-key"),
                ("BRIDGE_TOVUTI_WEBHOOK_SECRET", "whsec_c2hvcnQ="),
            ]),
        )
        .unwrap_err();
        let keys: Vec<_> = errors.0.iter().map(|p| p.key.as_str()).collect();
        assert!(keys.contains(&"webhooks.ghl.public_key"), "{keys:?}");
        assert!(keys.contains(&"webhooks.tovuti.secrets"), "{keys:?}");
        assert!(
            !errors.to_string().contains("c2hvcnQ"),
            "the secret is not echoed"
        );
    }
}
