//! The durable store: one interface, two backends (SQLite for one replica, PostgreSQL
//! for several), chosen by the URL scheme. Methods are named for what the service does.

mod admin_types;
mod backfill_runs;
mod console_sessions;
mod crypto;
mod error;
mod grouped;
mod poll_sql;
mod postgres;
mod replay_sql;
pub mod row_statements;
pub mod row_writes;
mod rows;
mod settings;
mod shared;
mod sqlite;
mod types;
pub mod worker_sql;
mod writer;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;

pub use admin_types::*;
pub use backfill_runs::*;
pub use console_sessions::*;
pub use crypto::Cipher;
pub use error::StoreError;
pub use postgres::PgStore;
/// Public so that a test can check the plan both databases choose for it.
pub use rows::OPEN_EVENTS_SQL;
pub use settings::*;
pub use sqlite::SqliteStore;
pub use types::*;
pub use worker_sql::WorkerSql;

use crate::config::StoreConfig;

pub type StoreResult<T> = Result<T, StoreError>;

/// The inbox of events: durable intake, leased claims, outcomes.
#[async_trait]
pub trait Inbox: Send + Sync {
    /// Stores an event unless (source, external id) is already stored; concurrent
    /// duplicates yield exactly one row. Returns only after the row is committed.
    async fn record_event(&self, event: NewEvent) -> StoreResult<Recorded>;
    /// Leases due events, oldest first, skipping any entity that has an earlier
    /// unfinished event, so one entity is never processed concurrently or out of order.
    async fn claim_due_events(&self, claim: &Claim) -> StoreResult<Vec<StoredEvent>>;
    /// Ends a claimed event well.
    async fn complete_event(&self, id: EventId, owner: &str, how: Completion) -> StoreResult<()>;
    /// Gives a claimed event back to be tried again at `at`, recording why.
    async fn schedule_retry(
        &self,
        id: EventId,
        owner: &str,
        at: Millis,
        error: &str,
    ) -> StoreResult<()>;
    /// Gives a claimed event back until `until` without spending an attempt (rate limit,
    /// re-authorisation).
    async fn postpone_event(&self, id: EventId, owner: &str, until: Millis) -> StoreResult<()>;
    /// Parks a claimed event for an operator, keeping the error.
    async fn mark_dead(&self, id: EventId, owner: &str, error: &str) -> StoreResult<()>;
    /// Pushes the lease of an event `owner` is still processing out to `until`, so a slow
    /// attempt is not mistaken for a crashed one; `NotFound` when the lease was lost.
    async fn extend_lease(&self, id: EventId, owner: &str, until: Millis) -> StoreResult<()>;
    /// Hands back every lease `owner` holds (graceful shutdown); no attempt is spent.
    async fn release_leases(&self, owner: &str) -> StoreResult<u64>;
    /// Makes events whose lease expired (a crashed worker) claimable again.
    async fn reclaim_expired_leases(&self, now: Millis) -> StoreResult<u64>;
    async fn event(&self, id: EventId) -> StoreResult<Option<StoredEvent>>;
    /// How many events are in each status (a whole-table count: for tests and tools).
    async fn count_events_by_status(&self) -> StoreResult<Vec<(EventStatus, u64)>>;
    /// Count and oldest receive time of the events still needing attention (pending,
    /// processing, retrying, dead), read through the partial indexes so it stays cheap
    /// however many finished events are kept: for metrics and back-pressure.
    async fn open_events_summary(&self) -> StoreResult<Vec<OpenEvents>>;
    /// Coalesces a burst of state updates: when an event newer than `claimed` (which
    /// `owner` must hold) of the same entity and type is still open, marks `claimed` and
    /// every open one of them older than the newest as superseded, in one transaction.
    /// Returns how many became superseded (including `claimed`), or 0 if nothing is newer.
    async fn supersede_if_newer(
        &self,
        claimed: EventId,
        owner: &str,
        entity_key: &str,
        event_type: &str,
        now: Millis,
    ) -> StoreResult<u64>;
    /// Sends the events `filter` matches back to pending with a fresh attempt budget
    /// (never a `processing` one). Returns how many matched (`dry_run`) or changed.
    async fn replay_events(
        &self,
        filter: &ReplayFilter,
        now: Millis,
        dry_run: bool,
    ) -> StoreResult<u64>;
}

/// What happened to each event, attempt by attempt, and the pruning of old history.
#[async_trait]
pub trait EventLog: Send + Sync {
    async fn record_attempt(&self, attempt: &AttemptRecord) -> StoreResult<()>;
    /// The attempts at one event, in the order they were recorded.
    async fn event_attempts(&self, id: EventId) -> StoreResult<Vec<AttemptRecord>>;
    /// Deletes up to `limit` finished events (done, ignored, echo, superseded; never dead
    /// or open) received before the cutoff, with their attempts and action records.
    /// Returns how many events were deleted.
    async fn prune_finished_events(&self, received_before: Millis, limit: u32) -> StoreResult<u64>;
}

/// Connections and their encrypted credentials.
#[async_trait]
pub trait Connections: Send + Sync {
    /// Creates the connection or updates its location and tenant.
    async fn upsert_connection(&self, connection: &NewConnection) -> StoreResult<Connection>;
    async fn connection(&self, id: &str) -> StoreResult<Option<Connection>>;
    async fn connection_for_location(&self, location_id: &str) -> StoreResult<Option<Connection>>;
    async fn list_connections(&self) -> StoreResult<Vec<Connection>>;
    async fn set_connection_status(
        &self,
        id: &str,
        status: ConnectionStatus,
        reason: Option<&str>,
    ) -> StoreResult<()>;
    /// Encrypts and stores one kind of credential; refuses without an encryption key.
    async fn save_credentials(
        &self,
        connection_id: &str,
        kind: &str,
        secret: &SecretString,
        metadata: &serde_json::Value,
    ) -> StoreResult<()>;
    async fn load_credentials(
        &self,
        connection_id: &str,
        kind: &str,
    ) -> StoreResult<Option<Credentials>>;
    /// Erases every credential of a connection (uninstall).
    async fn erase_credentials(&self, connection_id: &str) -> StoreResult<u64>;
}

/// What the sync engine remembers between events: identity links, the fingerprints of
/// its own writes (echo suppression) and the action log (idempotency).
#[async_trait]
pub trait SyncState: Send + Sync {
    async fn link_identity(
        &self,
        connection_id: &str,
        tovuti_user_id: &str,
        ghl_contact_id: &str,
    ) -> StoreResult<()>;
    async fn ghl_contact_for_user(
        &self,
        connection_id: &str,
        tovuti_user_id: &str,
    ) -> StoreResult<Option<String>>;
    async fn tovuti_user_for_contact(
        &self,
        connection_id: &str,
        ghl_contact_id: &str,
    ) -> StoreResult<Option<String>>;
    async fn unlink_contact(&self, connection_id: &str, ghl_contact_id: &str) -> StoreResult<bool>;
    async fn remember_written_fingerprint(
        &self,
        connection_id: &str,
        entity_key: &str,
        direction: Direction,
        fingerprint: &str,
        at: Millis,
    ) -> StoreResult<()>;
    async fn last_written_fingerprint(
        &self,
        connection_id: &str,
        entity_key: &str,
        direction: Direction,
    ) -> StoreResult<Option<String>>;
    /// Records an action's outcome under its idempotency key (finishing a started record);
    /// false when a finished record was already there, which then stands.
    async fn record_action(&self, record: &ActionRecord) -> StoreResult<bool>;
    /// The finished record under the key; a started-only one is not an outcome yet.
    async fn recorded_action(&self, idempotency_key: &str) -> StoreResult<Option<ActionRecord>>;
    /// Records the intent to act before acting (a 'started' record, unless one exists)
    /// and reports what was there, so an attempt after a crash knows whether the effect
    /// may already have happened.
    async fn begin_action(
        &self,
        key: &str,
        event_id: EventId,
        action: &str,
        now: Millis,
    ) -> StoreResult<ActionBegin>;
    /// Records the action's outcome, with or without an earlier `begin_action`.
    async fn finish_action(
        &self,
        key: &str,
        outcome: &serde_json::Value,
        now: Millis,
    ) -> StoreResult<()>;
    /// Remembers the remote id of an object the service created under a stable key.
    async fn remember_object(
        &self,
        connection_id: &str,
        kind: &str,
        object_key: &str,
        remote_id: &str,
        now: Millis,
    ) -> StoreResult<()>;
    async fn object_id(
        &self,
        connection_id: &str,
        kind: &str,
        object_key: &str,
    ) -> StoreResult<Option<String>>;
    /// When the entity's whole-record state was last applied (the time of the update
    /// that carried it), if ever.
    async fn applied_at(&self, connection_id: &str, entity: &str) -> StoreResult<Option<Millis>>;
    /// Records that the entity's state as of `at` is applied; an earlier `at` than the
    /// one stored leaves it unchanged, so the stored time only moves forward.
    async fn remember_applied(
        &self,
        connection_id: &str,
        entity: &str,
        at: Millis,
    ) -> StoreResult<()>;
}

/// Poll cursors and snapshots, so a poller resumes where it left off and diffs states.
#[async_trait]
pub trait PollState: Send + Sync {
    async fn poll_cursor(&self, connection_id: &str, stream: &str) -> StoreResult<Option<String>>;
    async fn save_poll_cursor(
        &self,
        connection_id: &str,
        stream: &str,
        cursor: &str,
    ) -> StoreResult<()>;
    async fn poll_snapshot(
        &self,
        connection_id: &str,
        entity_key: &str,
    ) -> StoreResult<Option<Snapshot>>;
    async fn save_poll_snapshot(
        &self,
        connection_id: &str,
        entity_key: &str,
        snapshot: &Snapshot,
    ) -> StoreResult<()>;
    /// The stored snapshots among `entity_keys` (one page of a scan), in one query.
    async fn poll_snapshots(
        &self,
        connection_id: &str,
        entity_keys: &[String],
    ) -> StoreResult<HashMap<String, Snapshot>>;
    /// Saves every snapshot in one transaction: a page's changes land together or not
    /// at all.
    async fn save_poll_snapshots(
        &self,
        connection_id: &str,
        snapshots: &[(String, Snapshot)],
    ) -> StoreResult<()>;
}

/// Named leases: one holder at a time across replicas (e.g. a location's outbound lane).
#[async_trait]
pub trait Leases: Send + Sync {
    /// Takes the lease if free, expired or already ours (then renews it).
    async fn try_acquire_lease(
        &self,
        name: &str,
        owner: &str,
        now: Millis,
        ttl: Duration,
    ) -> StoreResult<bool>;
    async fn release_lease(&self, name: &str, owner: &str) -> StoreResult<()>;
}

/// OAuth install states, each good for one callback.
#[async_trait]
pub trait OauthStates: Send + Sync {
    /// Spends the state carrying `nonce`, remembering it until `keep_until`; false when a
    /// callback already spent it. Forgets states kept until before `now`.
    async fn spend_oauth_state(
        &self,
        nonce: &str,
        keep_until: Millis,
        now: Millis,
    ) -> StoreResult<bool>;
    /// Binds the install state carrying `nonce` to `connection_id` until `expires_at`
    /// (an install link), forgetting links that expired before `now`.
    async fn bind_oauth_state(
        &self,
        nonce: &str,
        connection_id: &str,
        expires_at: Millis,
        now: Millis,
    ) -> StoreResult<()>;
    /// The connection the install state carrying `nonce` is bound to, if any.
    async fn oauth_state_connection(&self, nonce: &str) -> StoreResult<Option<String>>;
}

/// Everything the service keeps, plus health.
#[async_trait]
pub trait Store:
    Inbox
    + EventLog
    + Connections
    + ConnectionSettings
    + SyncState
    + PollState
    + Leases
    + OauthStates
    + AdminQueries
    + ConsoleSessions
    + BackfillRuns
{
    /// Which backend this is, for logs and metrics.
    fn backend(&self) -> &'static str;
    /// Round trip to the database.
    async fn ping(&self) -> StoreResult<()>;
    /// Applies pending migrations.
    async fn migrate(&self) -> StoreResult<()>;
    /// Whether every embedded migration is applied (readiness).
    async fn migrations_applied(&self) -> StoreResult<bool>;
    /// Flushes pending writes and closes connections.
    async fn close(&self);
}

/// What an operator sets on a connection beyond its pairing: settings, pause, removal and
/// its Tovuti webhook secrets.
#[async_trait]
pub trait ConnectionSettings: Send + Sync {
    /// Creates a connection with its settings, active and running; `Conflict` when its id
    /// or its GHL location is taken.
    async fn insert_connection(&self, record: &ConnectionRecord) -> StoreResult<Connection>;
    /// Replaces a connection's settings (not its status or pause); `Conflict` when the GHL
    /// location is another connection's, `NotFound` when there is no such connection.
    async fn update_connection(&self, record: &ConnectionRecord) -> StoreResult<Connection>;
    /// Marks that a connection's credentials changed, so cached clients are rebuilt.
    async fn touch_connection(&self, id: &str, now: Millis) -> StoreResult<()>;
    /// Pauses or resumes a connection. A resume makes its waiting events (pending or
    /// retrying, due later) due at `now`.
    async fn set_connection_paused(&self, id: &str, paused: bool, now: Millis) -> StoreResult<()>;
    /// Disconnects a connection for good: erases its credentials and webhook secrets,
    /// frees its GHL location for another connection, ends a pause, and makes its waiting
    /// events due at `now` (they then end ignored).
    async fn remove_connection(&self, id: &str, now: Millis) -> StoreResult<()>;
    /// Stores a new webhook secret and, in the same transaction, makes every older secret
    /// of the connection expire by `older_expire_at` (an earlier expiry stands).
    async fn add_webhook_secret(
        &self,
        connection_id: &str,
        secret: &NewWebhookSecret,
        older_expire_at: Millis,
    ) -> StoreResult<()>;
    /// A connection's webhook secrets, expired ones included, oldest first.
    async fn webhook_secrets(&self, connection_id: &str) -> StoreResult<Vec<StoredWebhookSecret>>;
    /// Deletes one webhook secret; false when the connection has no such secret.
    async fn revoke_webhook_secret(
        &self,
        connection_id: &str,
        secret_id: &str,
    ) -> StoreResult<bool>;
}

/// Opens the backend the URL names. Connecting is lazy for PostgreSQL, so a stopped
/// server shows as "unavailable" on `/readyz` rather than failing startup.
pub async fn connect(
    config: &StoreConfig,
    cipher: Option<Cipher>,
) -> anyhow::Result<Arc<dyn Store>> {
    let url = config.url.expose();
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(config, cipher).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(PgStore::open(config, cipher)?))
    } else {
        anyhow::bail!(
            "unsupported store URL {}; use sqlite:// or postgres://",
            config.url
        )
    }
}

/// How long to wait for a pooled connection.
pub(crate) fn acquire_timeout(config: &StoreConfig) -> Duration {
    Duration::from_secs(config.acquire_timeout_secs)
}

/// Decides whether applied migrations cover every embedded one.
pub(crate) fn covers_all(applied: &[i64], migrator: &sqlx::migrate::Migrator) -> bool {
    migrator.iter().all(|m| applied.contains(&m.version))
}
