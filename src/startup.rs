//! Building the shared state and preparing the store, apart from serving, so tests can
//! build the same state the binary runs with.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::http::WebhookIntake;
use crate::platforms::tovuti::client::TovutiLists;
use crate::poller;
use crate::state::{AppState, Shared};
use crate::store::{self, Cipher, NewConnection};
use crate::sync::{Platforms, SyncEngine};
use crate::telemetry::Metrics;
use crate::worker::Worker;
use crate::{mapping, reconcile};

/// The id of the connection described by the flat `ghl.*` / `tovuti.*` settings.
pub const DEFAULT_CONNECTION: &str = "default";

/// Longest pause between attempts to prepare an unreachable store.
const MAX_PREPARE_BACKOFF: Duration = Duration::from_secs(30);

/// Opens the store (lazily for PostgreSQL) and assembles the state.
pub async fn build_state(config: Config, shutdown: CancellationToken) -> anyhow::Result<AppState> {
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
    let mut metrics = Metrics::new();
    let webhooks = WebhookIntake::from_config(&config, metrics.registry_mut())?;
    Ok(AppState::new(Shared {
        config: Arc::new(config),
        store,
        metrics: Arc::new(metrics),
        webhooks: Arc::new(webhooks),
        shutdown,
        instance_id: format!("bridge-{}", uuid::Uuid::now_v7().simple()),
    }))
}

/// Keeps trying `prepare_store` with backoff while the database is unreachable;
/// readiness stays 503 until it succeeds.
pub async fn prepare_store_until_ready(state: &AppState) {
    let mut backoff = Duration::from_millis(500);
    loop {
        match prepare_store(state).await {
            Ok(()) => {
                tracing::info!("store ready");
                return;
            }
            Err(error) => tracing::warn!(
                error = format!("{error:#}"),
                retry_in_ms = u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX),
                "store not ready"
            ),
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = state.shutdown.cancelled() => return,
        }
        backoff = (backoff * 2).min(MAX_PREPARE_BACKOFF);
    }
}

/// Applies migrations (unless turned off) and records the default connection.
pub async fn prepare_store(state: &AppState) -> anyhow::Result<()> {
    if state.config.store.run_migrations {
        state.store.migrate().await.context("applying migrations")?;
    }
    let ghl = &state.config.ghl;
    if !ghl.location_id.is_empty() {
        let tovuti = &state.config.tovuti.base_url;
        let connection = NewConnection {
            id: DEFAULT_CONNECTION.to_owned(),
            ghl_location_id: Some(ghl.location_id.clone()),
            tovuti_base_url: (!tovuti.is_empty()).then(|| tovuti.clone()),
        };
        state
            .store
            .upsert_connection(&connection)
            .await
            .context("recording the default connection")?;
    }
    Ok(())
}

/// Starts the sync worker, and beside it the GHL reconciliation sweep (sharing its GHL
/// lanes), unless `worker.enabled` is off (API-only replicas). The handle ends when both
/// have stopped after shutdown.
pub fn start_worker(state: &AppState) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    if !state.config.worker.enabled {
        tracing::info!("worker disabled: this process only receives webhooks");
        return Ok(None);
    }
    let engine = Arc::new(sync_engine(state)?);
    let sweep = reconcile::start(state, engine.clone());
    let worker = Worker::new(state.clone(), engine);
    Ok(Some(tokio::spawn(async move {
        worker.run().await;
        if let Some(sweep) = sweep
            && let Err(error) = sweep.await
        {
            tracing::warn!(%error, "the GHL sweep task ended abnormally");
        }
    })))
}

/// Starts the Tovuti poller of the default connection when `poller.enabled`, a Tovuti
/// API is configured and the default connection exists (a GHL location is configured).
/// Replicas with the worker off poll too: a store lease lets one replica at a time scan
/// each resource, and the events it queues wait in the shared inbox for any worker.
pub fn start_poller(
    state: &AppState,
    lists: Option<Arc<dyn TovutiLists>>,
) -> Option<tokio::task::JoinHandle<()>> {
    let config = &state.config;
    if !config.poller.enabled || config.ghl.location_id.is_empty() {
        return None;
    }
    let lists = lists?;
    tracing::info!(
        connection = DEFAULT_CONNECTION,
        "polling Tovuti for changes"
    );
    // Without a "changed since" parameter every scan reads the whole list.
    let changed_since = !config.tovuti.lists.changed_since_param.trim().is_empty();
    Some(poller::spawn_for(
        state,
        DEFAULT_CONNECTION,
        lists,
        changed_since,
    ))
}

/// The sync engine the worker runs, from the configured mapping and platforms.
pub fn sync_engine(state: &AppState) -> anyhow::Result<SyncEngine> {
    let mapping = mapping::file::load_configured(&state.config).map_err(anyhow::Error::msg)?;
    let platforms = Platforms::new(
        state.config.clone(),
        state.store.clone(),
        state.metrics.clone(),
        &state.instance_id,
    )?;
    Ok(SyncEngine::new(
        state.store.clone(),
        Arc::new(mapping),
        platforms,
        state.metrics.clone(),
        state.instance_id.clone(),
    ))
}

/// Hands back this process's leases and closes the store.
pub async fn release(state: &AppState) {
    match state.store.release_leases(&state.instance_id).await {
        Ok(0) => {}
        Ok(released) => tracing::info!(released, "released leased events"),
        Err(error) => {
            tracing::warn!(error = %error, "could not release leases; they expire on their own")
        }
    }
    state.store.close().await;
}
