//! Configuration: one typed tree, loaded from the embedded defaults, an optional
//! file and `BRIDGE_*` environment variables, validated once at startup.

mod loader;
mod secret;
mod sections;
mod validate;
mod webhooks;

pub use loader::{ConfigErrors, ConfigProblem, Loaded, load, load_from};
pub use secret::{DatabaseUrl, OptionalSecret, split_tokens};
pub use sections::{
    AdminConfig, ConsoleConfig, GhlConfig, InitialScan, LogFormat, MappingConfig, PollerConfig,
    ReconcileConfig, SecurityConfig, ServerConfig, StoreConfig, TelemetryConfig, TovutiConfig,
    TovutiListsConfig, WorkerConfig,
};

pub use webhooks::{GhlWebhookConfig, TovutiWebhookConfig, WebhooksConfig, split_secrets};

use serde::{Deserialize, Serialize};

/// The id of the connection described by the flat `ghl.*` / `tovuti.*` settings.
pub const DEFAULT_CONNECTION: &str = "default";

/// The commented defaults, embedded so the binary runs with no file at all.
pub const DEFAULTS: &str = include_str!("../../config/default.toml");

/// The whole configuration of one process.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Config {
    /// HTTP server: bind address, limits, shutdown grace.
    pub server: ServerConfig,
    /// Durable store: URL (backend chosen by scheme), pool, migrations, group commit.
    pub store: StoreConfig,
    /// Logging.
    pub telemetry: TelemetryConfig,
    /// Admin tokens and the key encrypting credentials at rest.
    pub security: SecurityConfig,
    /// The admin API's own listener and its failed-authentication limit.
    pub admin: AdminConfig,
    /// The operator console at `/console`.
    pub console: ConsoleConfig,
    /// GoHighLevel API and the default connection's credentials.
    pub ghl: GhlConfig,
    /// Tovuti API and the default connection's credentials.
    pub tovuti: TovutiConfig,
    /// Field mapping and sync rules.
    pub mapping: MappingConfig,
    /// The sync worker.
    pub worker: WorkerConfig,
    /// The GHL reconciliation sweep.
    pub reconcile: ReconcileConfig,
    /// The Tovuti change poller.
    pub poller: PollerConfig,
    /// Webhook intake: verification keys and secrets, back-pressure.
    pub webhooks: WebhooksConfig,
}

impl Config {
    /// The defaults alone, as a test or a tool starts from.
    pub fn defaults() -> Self {
        load_from(None, std::iter::empty())
            .map(|loaded| loaded.config)
            .unwrap_or_else(|errors| unreachable!("embedded defaults are valid: {errors}"))
    }

    /// The effective configuration as TOML with every secret redacted, for `config check`.
    pub fn to_redacted_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }
}
