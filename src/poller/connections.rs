//! Polling the stored connections beside `default`: each one that is not removed, has a
//! Tovuti API (base URL and token) and does not switch polling off, on the configured
//! schedule with its own overrides. The list is read once, at startup; a connection
//! added later is polled from the next start.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use super::PollSettings;
use super::run::{context, spawn};
use crate::connections::runtime::tovuti_client;
use crate::platforms::tovuti::client::TovutiLists;
use crate::startup::DEFAULT_CONNECTION;
use crate::state::AppState;
use crate::store::{Connection, ConnectionStatus, PollerOverrides};

/// [`spawn_for_connections`] in a task of its own, so the listing never delays startup
/// (or holds up a shutdown that comes first); the task ends when every poller has.
pub fn start_for_connections(state: &AppState) -> JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        let shutdown = state.shutdown.clone();
        let pollers = tokio::select! {
            pollers = spawn_for_connections(&state) => pollers,
            () = shutdown.cancelled() => return,
        };
        futures::future::join_all(pollers).await;
    })
}

/// Starts one poller per stored connection that should be polled (none when
/// `poller.enabled` is off). A connection whose client cannot be built is logged and
/// skipped; the others still start.
pub async fn spawn_for_connections(state: &AppState) -> Vec<JoinHandle<()>> {
    if !state.config.poller.enabled {
        return Vec::new();
    }
    let connections = match state.store.list_connections().await {
        Ok(connections) => connections,
        Err(error) => {
            tracing::warn!(%error, "connections could not be listed; only the default connection is polled");
            return Vec::new();
        }
    };
    let mut handles = Vec::new();
    for connection in connections.iter().filter(|c| is_polled(c)) {
        match tovuti_client(state.store.as_ref(), &state.config, connection).await {
            Ok(Some(client)) => {
                tracing::info!(connection = %connection.id, "polling Tovuti for changes");
                let lists = Arc::new(client) as Arc<dyn TovutiLists>;
                let changed_since = !state
                    .config
                    .tovuti
                    .lists
                    .changed_since_param
                    .trim()
                    .is_empty();
                let mut ctx = context(state, &connection.id, lists, changed_since);
                apply(&mut ctx.settings, &connection.poller);
                handles.push(spawn(ctx));
            }
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(connection = %connection.id, %error, "not polled: its Tovuti client cannot be built");
            }
        }
    }
    handles
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
