//! tovuti-ghl-bridge keeps a Tovuti LMS and a GoHighLevel sub-account in sync.
//!
//! # Layout
//!
//! Modules in layers, top first; a module uses modules in its own layer or below, never
//! above (`tests/layers.rs` checks it):
//!
//! 1. `cli`: the binary's commands; `main.rs` only calls into it.
//! 2. `startup`: building the state, preparing the store, starting the background tasks;
//!    shared by the binary and the tests. (`run` in this file serves it.)
//! 3. `http`: routes, middleware, the problem+json error envelope, the admin API and the
//!    operator console; `http::AppState` is what handlers share.
//! 4. `worker`: claims inbox events and records outcomes. `poller`: scans Tovuti for
//!    changes and queues them as inbox events. `reconcile`: the GHL reconciliation sweep
//!    (missed contact changes → synthesized events) and the GHL backfill. `backfill`:
//!    existing data queued through those scans, for the command and the service's jobs.
//! 5. `sync`: what one event does (the worker's `Processor`): plan, execute, remember.
//!    `admin`: the event and audit queries the admin API and the `events` command share.
//!    `verify`: checking a connection's platforms for what its mapping needs (`check`).
//!    `connections`: connections an operator manages (settings, tokens, webhook secrets,
//!    pause), beside the read-only `default` one from the configuration.
//! 6. `mapping`: the field mapping and sync rules (pure: event + known state → planned
//!    actions). `platforms`: GHL and Tovuti: payload types, webhook verification, the
//!    clients (auth, throttling, retries, typed calls) and the one classification of
//!    their failures (`ErrorClass`). `sandbox`: in-process fakes of the
//!    platforms and sample webhook bodies, for tests and `--sandbox` runs.
//! 7. `services`: the handles everything below `http` shares (configuration, store,
//!    metrics, shutdown, instance id).
//! 8. `store`: the durable store (inbox, connections, sync state) on SQLite or PostgreSQL.
//!
//! Foundations any module may use: `config` (the typed configuration, loaded and
//! validated once), `telemetry` (logs and metrics), `shutdown` (signals).

pub mod admin;
pub mod backfill;
pub mod cli;
pub mod config;
pub mod connections;
pub mod http;
pub mod mapping;
pub mod platforms;
pub mod poller;
pub mod reconcile;
pub mod sandbox;
pub mod services;
pub mod shutdown;
pub mod startup;
pub mod store;
pub mod sync;
pub mod telemetry;
pub mod verify;
pub mod worker;

use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::http::AppState;

/// Runs the service on `listener` until `shutdown` is cancelled, then drains: readiness
/// fails at once, in-flight requests get `server.shutdown_grace_secs`, leases are released.
/// When `admin.listen` is set, the admin API is served on a listener bound to it.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let admin = if config.admin.listen.is_empty() {
        None
    } else {
        let address = &config.admin.listen;
        let bound = TcpListener::bind(address)
            .await
            .with_context(|| format!("binding admin.listen {address}"))?;
        Some(bound)
    };
    run_with_admin(config, listener, admin, shutdown).await
}

/// `run` with the admin API's own listener already bound (`admin.listen` must be set for
/// it to be served there; tests bind port 0 and pass it).
pub async fn run_with_admin(
    config: Config,
    listener: TcpListener,
    admin: Option<TcpListener>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    http::admin::log_status(&config);
    let state = startup::build_state(config, shutdown).await?;
    // Prepared before listening when the database is up; otherwise serve anyway (readiness
    // says 503) and keep trying in the background, so a database outage never crash-loops.
    let prepare = match startup::prepare_store(&state).await {
        Ok(()) => None,
        Err(error) => {
            tracing::warn!(
                error = format!("{error:#}"),
                "store not ready at startup; retrying in the background"
            );
            let state = state.clone();
            Some(tokio::spawn(async move {
                startup::prepare_store_until_ready(&state).await
            }))
        }
    };
    let worker = startup::start_worker(&state)?;
    let poller = startup::start_poller(&state, poller::default_lists(&state.config)?);
    // Reads the stored connections in the background; an unready store only delays it.
    let pollers = poller::start_for_connections(&state, poller::RESYNC);
    let reclaim = state.backfills.spawn_reclaim();
    let served = match admin {
        Some(admin) => {
            let public = serve(&state, listener, http::router(state.clone()), "listening");
            let admin = serve(
                &state,
                admin,
                http::admin_router(state.clone()),
                "admin API listening",
            );
            tokio::try_join!(public, admin).map(|_| ())
        }
        None => serve(&state, listener, http::router(state.clone()), "listening").await,
    };
    if let Some(task) = prepare {
        task.abort();
    }
    if let Some(task) = worker {
        // The worker stops after its current step; leases it still holds are released
        // below, so a slow downstream call never delays exit past the grace period.
        let grace = Duration::from_secs(state.config.server.shutdown_grace_secs);
        if tokio::time::timeout(grace, task).await.is_err() {
            tracing::warn!("the worker did not finish its step within the grace period");
        }
    }
    // A scan stops between pages; its cursor keeps its place for the next start. A
    // backfill job records how it ended before the store closes.
    let pollers = futures::future::join_all(poller.into_iter().chain([pollers, reclaim]));
    let stopped = futures::future::join(pollers, state.backfills.wait_all());
    let grace = Duration::from_secs(state.config.server.shutdown_grace_secs);
    if tokio::time::timeout(grace, stopped).await.is_err() {
        tracing::warn!("the poller did not stop within the grace period");
    }
    startup::release(&state).await;
    served
}

/// Serves `app` on `listener` until shutdown, then drains it; `what` is the log line
/// naming the bound address.
async fn serve(
    state: &AppState,
    listener: TcpListener,
    app: axum::Router,
    what: &'static str,
) -> anyhow::Result<()> {
    let address = listener.local_addr().context("reading the bound address")?;
    tracing::info!(%address, store = state.store.backend(), "{what}");
    let shutdown = state.shutdown.clone();
    let server = http::Server::new(app, &state.config.server, state.metrics.clone());
    let mut server = tokio::spawn(server.serve(listener, shutdown.clone()));
    tokio::select! {
        result = &mut server => return result.context("the server task failed"),
        () = shutdown.cancelled() => {}
    }
    let grace = Duration::from_secs(state.config.server.shutdown_grace_secs);
    tracing::info!(
        grace_secs = grace.as_secs(),
        "draining: finishing in-flight requests"
    );
    match tokio::time::timeout(grace, &mut server).await {
        Ok(result) => result.context("the server task failed"),
        Err(_) => {
            tracing::warn!("shutdown grace period elapsed; abandoning the remaining requests");
            server.abort();
            Ok(())
        }
    }
}
