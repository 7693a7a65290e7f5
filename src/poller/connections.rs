//! Polling the stored connections beside `default`: each one that is not removed, has a
//! Tovuti API (base URL and token) and does not switch polling off, on the configured
//! schedule with its own overrides. The list is read again every [`RESYNC`]: a new
//! connection starts being polled, a changed one is restarted with its new settings, and a
//! removed or switched-off one stops.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::run::{context, spawn};
use super::{PollSettings, Throttle};
use crate::config::DEFAULT_CONNECTION;
use crate::connections::runtime::tovuti_client;
use crate::platforms::tovuti::client::TovutiLists;
use crate::services::Services;
use crate::store::{Connection, ConnectionStatus, Millis, PollerOverrides};

/// How often the stored connections are read again.
pub const RESYNC: Duration = Duration::from_secs(60);

/// A connection's running poller, started from one version of the connection.
struct Running {
    version: Millis,
    stop: CancellationToken,
    handle: JoinHandle<()>,
}

/// Keeps one poller per stored connection that should be polled (none when
/// `poller.enabled` is off), reading the list every `every`, in a task of its own so a
/// slow store never delays startup or shutdown. The task ends after shutdown, once the
/// running pollers have stopped.
pub fn start_for_connections(services: &Services, every: Duration) -> JoinHandle<()> {
    let services = services.clone();
    tokio::spawn(async move {
        if !services.config.poller.enabled {
            return;
        }
        let shutdown = services.shutdown.clone();
        let mut running = HashMap::new();
        loop {
            tokio::select! {
                () = resync(&services, &mut running) => {}
                () = shutdown.cancelled() => break,
            }
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = shutdown.cancelled() => break,
            }
        }
        futures::future::join_all(running.into_values().map(|r| r.handle)).await;
    })
}

/// Stops the pollers of connections that went away or changed, starts the missing ones.
async fn resync(services: &Services, running: &mut HashMap<String, Running>) {
    let connections = match services.store.list_connections().await {
        Ok(connections) => connections,
        Err(error) => {
            tracing::warn!(%error, "connections could not be listed; their pollers stay as they are");
            return;
        }
    };
    let wanted: HashMap<&str, &Connection> = connections
        .iter()
        .filter(|c| is_polled(c))
        .map(|c| (c.id.as_str(), c))
        .collect();
    running.retain(|id, poller| {
        let keep = wanted
            .get(id.as_str())
            .is_some_and(|c| c.updated_at == poller.version);
        if !keep {
            // It stops between pages; its cursor keeps its place for a restart.
            poller.stop.cancel();
        }
        keep
    });
    for connection in wanted.into_values() {
        if running.contains_key(&connection.id) {
            continue;
        }
        if let Some(poller) = start(services, connection).await {
            running.insert(connection.id.clone(), poller);
        }
    }
}

async fn start(services: &Services, connection: &Connection) -> Option<Running> {
    let client = match tovuti_client(services.store.as_ref(), &services.config, connection).await {
        Ok(client) => client?,
        Err(error) => {
            tracing::warn!(connection = %connection.id, %error, "not polled: its Tovuti client cannot be built");
            return None;
        }
    };
    tracing::info!(connection = %connection.id, "polling Tovuti for changes");
    let lists = Arc::new(client) as Arc<dyn TovutiLists>;
    let changed_since = !services
        .config
        .tovuti
        .lists
        .changed_since_param
        .trim()
        .is_empty();
    let mut ctx = context(services, &connection.id, lists, changed_since);
    apply(&mut ctx.settings, &connection.poller);
    if let Some(per_second) = connection.poller.requests_per_second {
        ctx.throttle = Throttle::per_second(per_second);
    }
    let stop = services.shutdown.child_token();
    ctx.shutdown = stop.clone();
    Some(Running {
        version: connection.updated_at,
        stop,
        handle: spawn(ctx),
    })
}

/// Whether a stored connection (not `default`, which the flat settings poll) is polled.
fn is_polled(connection: &Connection) -> bool {
    connection.id != DEFAULT_CONNECTION
        && connection.status != ConnectionStatus::Disconnected
        && connection.poller.enabled != Some(false)
}

/// A connection's overrides of the configured intervals.
pub fn apply(settings: &mut PollSettings, overrides: &PollerOverrides) {
    let secs = |value: Option<u64>, current: Duration| value.map_or(current, Duration::from_secs);
    settings.users_interval = secs(overrides.users_interval_secs, settings.users_interval);
    settings.progress_interval = secs(overrides.progress_interval_secs, settings.progress_interval);
    settings.awards_interval = secs(overrides.awards_interval_secs, settings.awards_interval);
}
