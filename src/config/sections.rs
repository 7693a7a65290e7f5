//! The sections of the configuration tree. Defaults live only in
//! `config/default.toml`; these types carry no `#[serde(default)]`.

use serde::{Deserialize, Serialize};

use super::secret::{DatabaseUrl, OptionalSecret, lenient_string};

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ServerConfig {
    /// Bind address, `host:port`.
    #[serde(deserialize_with = "lenient_string")]
    pub listen: String,
    /// Largest accepted request body in bytes (413 beyond).
    pub body_limit_bytes: usize,
    /// Per-request timeout.
    pub request_timeout_secs: u64,
    /// Time given to in-flight work after a shutdown signal.
    pub shutdown_grace_secs: u64,
    /// `/readyz` counts a store check slower than this as unreachable.
    pub readiness_timeout_ms: u64,
    /// Time a connection gets to send a request's headers, counted from when it starts
    /// waiting for a request: also the idle keep-alive timeout.
    pub header_read_timeout_secs: u64,
    /// Open connections beyond which new ones wait to be accepted.
    pub max_connections: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct StoreConfig {
    /// `sqlite://PATH` (a file, never in-memory) or `postgres://…`; the scheme picks the
    /// backend.
    pub url: DatabaseUrl,
    /// Pool size of this replica.
    pub max_connections: u32,
    /// Wait for a pooled connection before reporting the store unavailable.
    pub acquire_timeout_secs: u64,
    /// Apply migrations when `serve` starts.
    pub run_migrations: bool,
    /// SQLite group commit: most inserts per transaction.
    pub write_batch_max: usize,
    /// Inserts allowed to wait for the writer before new ones are refused.
    pub write_queue_capacity: usize,
    /// Transactions group-committing the worker's writes in parallel (PostgreSQL; SQLite
    /// has one writer, so one); 0 gives each write a transaction of its own.
    pub group_commit_lanes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// JSON when stdout is not a terminal, human-readable otherwise.
    Auto,
    Json,
    Pretty,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct TelemetryConfig {
    /// Filter used when `RUST_LOG` is unset.
    #[serde(deserialize_with = "lenient_string")]
    pub log_level: String,
    /// Log line format.
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SecurityConfig {
    /// Bearer tokens for `/api/v1/…` with every right, separated by spaces or commas
    /// (several while rotating).
    pub admin_token: OptionalSecret,
    /// Bearer tokens for `/api/v1/…` that may only read (dashboards), separated likewise.
    pub admin_read_tokens: OptionalSecret,
    /// Base64 of 32 bytes; encrypts stored credentials.
    pub encryption_key: OptionalSecret,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct GhlConfig {
    /// API base URL.
    #[serde(deserialize_with = "lenient_string")]
    pub base_url: String,
    /// Location (sub-account) of the default connection; empty when none.
    #[serde(deserialize_with = "lenient_string")]
    pub location_id: String,
    /// Private Integration Token of the default connection.
    pub token: OptionalSecret,
    /// OAuth client id.
    #[serde(deserialize_with = "lenient_string")]
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: OptionalSecret,
    /// GHL's chooselocation URL (configurable for white-label hosts).
    #[serde(deserialize_with = "lenient_string")]
    pub oauth_authorize_url: String,
    /// Our public OAuth callback URL; empty when OAuth is not used.
    #[serde(deserialize_with = "lenient_string")]
    pub oauth_redirect_url: String,
    /// Space-separated scopes an install asks for.
    #[serde(deserialize_with = "lenient_string")]
    pub oauth_scopes: String,
    /// Refresh an access token this long before it expires.
    pub token_refresh_margin_secs: u64,
    /// Connect timeout of GHL requests.
    pub connect_timeout_ms: u64,
    /// Total timeout of one GHL request.
    pub timeout_ms: u64,
    /// Attempts per call for retryable failures.
    pub retry_attempts: u32,
    /// First backoff ceiling; doubles per retry.
    pub retry_base_ms: u64,
    /// Largest backoff within one call.
    pub retry_max_ms: u64,
    /// Burst quota per location: requests ...
    pub rate_limit_max: u32,
    /// ... per this interval.
    pub rate_limit_interval_ms: u64,
    /// Share of the burst quota left unused.
    pub rate_limit_safety_margin: f64,
    /// 429s one call waits out before giving up.
    pub rate_limited_waits: u32,
    /// Daily remaining budget that triggers a warning.
    pub daily_warn_remaining: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct TovutiConfig {
    /// API base URL of the default connection; empty when none.
    #[serde(deserialize_with = "lenient_string")]
    pub base_url: String,
    /// API key of the default connection.
    pub token: OptionalSecret,
    /// Total timeout of one Tovuti request.
    pub timeout_ms: u64,
    /// List of custom profile-field definitions, relative to `base_url`.
    pub custom_fields_path: String,
    /// List of user groups, relative to `base_url`.
    pub groups_path: String,
    /// List of courses, relative to `base_url`.
    pub courses_path: String,
    /// How the paged lists (users, course progress, awards) are read.
    #[serde(flatten)]
    pub lists: TovutiListsConfig,
}

/// Paths, query parameters and item field names of Tovuti's paged lists; Tovuti
/// documents little, so every assumption is a key. Field names may be dotted paths
/// (`course.id`) into nested objects.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct TovutiListsConfig {
    /// List of users, relative to `base_url`.
    #[serde(deserialize_with = "lenient_string")]
    pub users_path: String,
    /// List of course progress rows (one per learner and course).
    #[serde(deserialize_with = "lenient_string")]
    pub progress_path: String,
    /// List of awards (certificates, badges) learners hold.
    #[serde(deserialize_with = "lenient_string")]
    pub awards_path: String,
    /// Key of the items array in a page's JSON object; empty: the body is the array.
    #[serde(deserialize_with = "lenient_string")]
    pub results_key: String,
    /// Query parameter carrying the 1-based page number.
    #[serde(deserialize_with = "lenient_string")]
    pub page_param: String,
    /// Query parameter carrying the page size.
    #[serde(deserialize_with = "lenient_string")]
    pub page_size_param: String,
    /// Query parameter asking only for what changed since an RFC 3339 instant; empty:
    /// never sent (full scans).
    #[serde(deserialize_with = "lenient_string")]
    pub changed_since_param: String,
    /// Progress item: the learner's id.
    #[serde(deserialize_with = "lenient_string")]
    pub progress_user_field: String,
    /// Progress item: the course id.
    #[serde(deserialize_with = "lenient_string")]
    pub progress_course_field: String,
    /// Progress item: the course title.
    #[serde(deserialize_with = "lenient_string")]
    pub progress_course_title_field: String,
    /// Progress item: percent done.
    #[serde(deserialize_with = "lenient_string")]
    pub progress_percent_field: String,
    /// Progress item: whether the course is completed.
    #[serde(deserialize_with = "lenient_string")]
    pub progress_completed_field: String,
    /// Progress item: when the course was completed.
    #[serde(deserialize_with = "lenient_string")]
    pub progress_completed_at_field: String,
    /// Progress item: when the learner was enrolled.
    #[serde(deserialize_with = "lenient_string")]
    pub progress_enrolled_at_field: String,
    /// Progress item: the final score.
    #[serde(deserialize_with = "lenient_string")]
    pub progress_score_field: String,
    /// Award item: the learner's id.
    #[serde(deserialize_with = "lenient_string")]
    pub award_user_field: String,
    /// Award item: the award's id.
    #[serde(deserialize_with = "lenient_string")]
    pub award_id_field: String,
    /// Award item: the title.
    #[serde(deserialize_with = "lenient_string")]
    pub award_title_field: String,
    /// Award item: when it was earned.
    #[serde(deserialize_with = "lenient_string")]
    pub award_earned_at_field: String,
    /// Award item: the course it was earned for.
    #[serde(deserialize_with = "lenient_string")]
    pub award_course_field: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MappingConfig {
    /// Mapping file; empty means the shipped example.
    #[serde(deserialize_with = "lenient_string")]
    pub file: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AdminConfig {
    /// A separate `host:port` serving `/api/v1/…` alone; empty serves it on
    /// `server.listen`.
    #[serde(deserialize_with = "lenient_string")]
    pub listen: String,
    /// Failed authentications one source address may make per minute before it is
    /// answered 429 without its token being checked.
    pub auth_failures_per_minute: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ConsoleConfig {
    /// Serve the operator console at `/console` (beside the admin API, on its listener).
    /// It is on only while an admin token is configured as well; else it answers 404.
    pub enabled: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct WorkerConfig {
    /// Run the worker in this process.
    pub enabled: bool,
    /// Lease length of a claimed event.
    pub lease_secs: u64,
    /// Events processed at once.
    pub concurrency: u32,
    /// Pause when nothing was due.
    pub poll_interval_ms: u64,
    /// Upper bound of each retry's delay; its length is the number of retries.
    pub retry_schedule_secs: Vec<u64>,
    /// Least delay before retrying an event whose last request may still be applied.
    pub settle_secs: u64,
    /// Finished events (and their event log) are kept this long; 0 keeps them forever.
    pub event_retention_days: u64,
    /// How often finished events past their retention are pruned.
    pub prune_interval_secs: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ReconcileConfig {
    /// Sweep GHL locations for changes whose webhook never arrived.
    pub enabled: bool,
    /// Time between the starts of two sweeps of one location.
    pub interval_secs: u64,
    /// How far before the previous sweep's start a sweep looks for changes.
    pub overlap_secs: u64,
    /// Largest share of a location's GHL quota a sweep may spend (0 < share <= 1).
    pub quota_share: f64,
    /// Contacts per search page (1..=500).
    pub page_size: u32,
}

/// How the first scan of a resource treats what it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InitialScan {
    /// Remember every entity, emit nothing (existing data arrives through backfill).
    Baseline,
    /// Emit an event for every entity, as if each were new.
    Sync,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PollerConfig {
    /// Poll Tovuti in this process when a Tovuti API is configured.
    pub enabled: bool,
    /// Seconds between scans of users.
    pub users_interval_secs: u64,
    /// Seconds between scans of course progress.
    pub progress_interval_secs: u64,
    /// Seconds between scans of awards.
    pub awards_interval_secs: u64,
    /// Tovuti requests per second per connection; 0 means unthrottled.
    pub requests_per_second: f64,
    /// Items asked for per page.
    pub page_size: u32,
    /// What the first scan of a resource does.
    pub initial_scan: InitialScan,
    /// How far before the last completed scan's start a "changed since" read begins.
    pub overlap_secs: u64,
    /// Retries of one failing page before the scan ends as failed.
    pub page_retries: u32,
    /// Lease on a (connection, resource) scan, renewed per page.
    pub lease_secs: u64,
}
