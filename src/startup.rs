//! Building the shared state and preparing the store, apart from serving, so tests can
//! build the same state the binary runs with.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, DEFAULT_CONNECTION};
use crate::http::{AppState, WebhookIntake};
use crate::platforms::tovuti::client::TovutiLists;
use crate::poller;
use crate::reconcile;
use crate::services::Services;
use crate::store::NewConnection;
use crate::sync::Clients;
use crate::sync::SyncEngine;
use crate::telemetry::Metrics;
use crate::worker::Worker;

/// Longest pause between attempts to prepare an unreachable store.
const MAX_PREPARE_BACKOFF: Duration = Duration::from_secs(30);

/// Opens the store (lazily for PostgreSQL) and assembles the state.
pub async fn build_state(config: Config, shutdown: CancellationToken) -> anyhow::Result<AppState> {
    let mut metrics = Metrics::new();
    let webhooks = WebhookIntake::from_config(&config, metrics.registry_mut())?;
    let services = Services::open(config, metrics, shutdown).await?;
    let clients = clients(&services)?;
    Ok(AppState::new(services, webhooks, clients))
}

/// The process's clients: the GHL client with its lanes and the Tovuti clients. Built
/// once per process; everything that talks to GHL shares them, so a location's quota
/// is counted in one place.
pub fn clients(services: &Services) -> anyhow::Result<Arc<Clients>> {
    let clients = Clients::new(
        services.config.clone(),
        services.store.clone(),
        services.metrics.clone(),
        &services.instance_id,
    )?;
    Ok(Arc::new(clients))
}

/// Keeps trying `prepare_store` with backoff while the database is unreachable;
/// readiness stays 503 until it succeeds.
pub async fn prepare_store_until_ready(services: &Services) {
    let mut backoff = Duration::from_millis(500);
    loop {
        match prepare_store(services).await {
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
            () = services.shutdown.cancelled() => return,
        }
        backoff = (backoff * 2).min(MAX_PREPARE_BACKOFF);
    }
}

/// Applies migrations (unless turned off) and records the default connection.
pub async fn prepare_store(services: &Services) -> anyhow::Result<()> {
    if services.config.store.run_migrations {
        services
            .store
            .migrate()
            .await
            .context("applying migrations")?;
    }
    let ghl = &services.config.ghl;
    if !ghl.location_id.is_empty() {
        let tovuti = &services.config.tovuti.base_url;
        let connection = NewConnection {
            id: DEFAULT_CONNECTION.to_owned(),
            ghl_location_id: Some(ghl.location_id.clone()),
            tovuti_base_url: (!tovuti.is_empty()).then(|| tovuti.clone()),
        };
        services
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
    let worker = Worker::new(state.services.clone(), engine);
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
    services: &Services,
    lists: Option<Arc<dyn TovutiLists>>,
) -> Option<tokio::task::JoinHandle<()>> {
    let config = &services.config;
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
        services,
        DEFAULT_CONNECTION,
        lists,
        changed_since,
    ))
}

/// The sync engine the worker runs, from the configured mapping and the state's
/// platforms.
pub fn sync_engine(state: &AppState) -> anyhow::Result<SyncEngine> {
    engine_over(state, Arc::clone(&state.clients))
}

/// The sync engine over `platforms`, for processes without an `AppState` (`backfill`).
pub fn engine_over(services: &Services, clients: Arc<Clients>) -> anyhow::Result<SyncEngine> {
    SyncEngine::from_services(services, clients)
}

/// Hands back this process's leases (events and GHL lanes) and closes the store.
pub async fn release(state: &AppState) {
    state.clients.release_lanes().await;
    let services = &state.services;
    match services.store.release_leases(&services.instance_id).await {
        Ok(0) => {}
        Ok(released) => tracing::info!(released, "released leased events"),
        Err(error) => {
            tracing::warn!(error = %error, "could not release leases; they expire on their own")
        }
    }
    services.store.close().await;
}
