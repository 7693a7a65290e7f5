//! The poller's schedule: per connection, one loop per resource that waits until the
//! stored cursor says a scan is due, scans (if no other replica is), and repeats until
//! shutdown. A failing tenant only delays its own loops.

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use tokio::task::JoinHandle;

use super::cursor;
use super::scan::set_lag;
use super::{
    Clock, PollContext, PollError, PollSettings, Resource, ScanMode, Throttle, Unobserved, scan,
};
use crate::config::Config;
use crate::platforms::tovuti::client::{TovutiClient, TovutiLists};
use crate::services::Services;
use crate::store::Millis;

/// The list API of the default connection's tenant, when `tovuti.base_url` and
/// `tovuti.token` are set.
pub fn default_lists(config: &Config) -> anyhow::Result<Option<Arc<dyn TovutiLists>>> {
    let client = TovutiClient::from_config(&config.tovuti)?;
    Ok(client.map(|c| Arc::new(c) as Arc<dyn TovutiLists>))
}

/// Starts polling `connection` through `lists` with the state's store, settings and
/// shutdown token.
pub fn spawn_for(
    services: &Services,
    connection: &str,
    lists: Arc<dyn TovutiLists>,
    changed_since: bool,
) -> JoinHandle<()> {
    spawn(context(services, connection, lists, changed_since))
}

/// What a scan of `connection` needs, from the state (the poller's schedule and backfill).
pub fn context(
    services: &Services,
    connection: &str,
    lists: Arc<dyn TovutiLists>,
    changed_since: bool,
) -> PollContext {
    let config = &services.config.poller;
    PollContext {
        store: services.store.clone(),
        lists,
        connection: connection.to_owned(),
        owner: services.instance_id.clone(),
        settings: PollSettings::from_config(config, changed_since),
        metrics: services.metrics.clone(),
        throttle: Throttle::per_second(config.requests_per_second),
        clock: Clock::System,
        shutdown: services.shutdown.clone(),
    }
}

/// Runs the three resources' loops of one connection until its shutdown token fires.
pub fn spawn(ctx: PollContext) -> JoinHandle<()> {
    tokio::spawn(async move {
        join_all(Resource::ALL.map(|resource| poll_resource(ctx.clone(), resource))).await;
    })
}

async fn poll_resource(ctx: PollContext, resource: Resource) {
    let interval = ctx.settings.interval(resource);
    loop {
        let wait = match until_due(&ctx, resource).await {
            Ok(wait) => wait,
            Err(error) => {
                tracing::warn!(connection = %ctx.connection, resource = resource.as_str(), error = %error, "cannot read the poll cursor");
                interval
            }
        };
        if !pause(&ctx, wait).await {
            return;
        }
        let pause_after = match scan(&ctx, resource, ScanMode::Poll, &mut Unobserved).await {
            Ok(_) => Duration::ZERO,
            Err(PollError::Stopped) => return,
            // Another replica scans; look again when its scan may have ended.
            Err(PollError::Busy) => interval.min(ctx.settings.lease),
            // Logged and counted by the scan; the cursor keeps its place for the retry.
            Err(_) => interval,
        };
        if !pause(&ctx, pause_after).await {
            return;
        }
    }
}

/// How long until the resource's next scan is due, by its stored cursor.
async fn until_due(ctx: &PollContext, resource: Resource) -> Result<Duration, PollError> {
    let cursor = cursor::load(ctx, &cursor::stream(resource, ScanMode::Poll)).await?;
    set_lag(ctx, resource, &cursor);
    let now = ctx.clock.now();
    let due = cursor
        .due_at(ctx.settings.interval(resource))
        .unwrap_or(now);
    Ok(wait_between(now, due))
}

fn wait_between(now: Millis, due: Millis) -> Duration {
    Duration::from_millis(u64::try_from(due.0.saturating_sub(now.0)).unwrap_or(0))
}

/// Sleeps unless shutdown comes first (then false).
async fn pause(ctx: &PollContext, wait: Duration) -> bool {
    if wait.is_zero() {
        return !ctx.shutdown.is_cancelled();
    }
    tokio::select! {
        () = tokio::time::sleep(wait) => true,
        () = ctx.shutdown.cancelled() => false,
    }
}
