//! Stores on scratch databases (see `common::database`), the default connection in them,
//! and poll contexts over a fake tenant; plus raw reads of what the poller wrote.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tovuti_ghl_bridge::config::{Config, InitialScan, StoreConfig};
use tovuti_ghl_bridge::poller::{Clock, PollContext, PollSettings, Throttle};
use tovuti_ghl_bridge::store::{self, NewConnection, Store};
use tovuti_ghl_bridge::telemetry::Metrics;

use crate::common::ScratchDb;
use crate::common::config::store_config;
use crate::tenant::Tenant;

pub const CONNECTION: &str = "default";

pub struct TestDb {
    pub store: Arc<dyn Store>,
    config: StoreConfig,
    db: ScratchDb,
}

impl TestDb {
    pub async fn sqlite() -> Self {
        Self::open(ScratchDb::sqlite()).await
    }

    /// None (and a note) when `TEST_DATABASE_URL` is unset.
    pub async fn postgres() -> Option<Self> {
        Some(Self::open(ScratchDb::postgres().await?).await)
    }

    async fn open(db: ScratchDb) -> Self {
        let config = store_config(db.url());
        let store = store::connect(&config, None).await.unwrap();
        store.migrate().await.unwrap();
        let connection = NewConnection {
            id: CONNECTION.to_owned(),
            ghl_location_id: Some("loc-1".to_owned()),
            tovuti_base_url: Some("https://tenant.example".to_owned()),
        };
        store.upsert_connection(&connection).await.unwrap();
        Self { store, config, db }
    }

    /// A second replica's handle on the same database.
    pub async fn another_replica(&self) -> Arc<dyn Store> {
        store::connect(&self.config, None).await.unwrap()
    }

    /// (event type, external id, body) of every polled event, in receive order.
    pub async fn polled_events(&self) -> Vec<(String, String, serde_json::Value)> {
        let sql = "SELECT event_type, external_id, body FROM inbox_events \
                   WHERE source = 'poller' ORDER BY received_at, id";
        let rows: Vec<(String, String, Vec<u8>)> = self.db.fetch_all(sql).await;
        rows.into_iter()
            .map(|(t, id, body)| (t, id, serde_json::from_slice(&body).unwrap()))
            .collect()
    }

    /// (rows, latest updated_at) of the snapshot table: any write moves one or the other.
    pub async fn snapshot_marks(&self) -> (i64, i64) {
        let sql = "SELECT COUNT(*), COALESCE(MAX(updated_at), 0) FROM poll_snapshots";
        self.db.fetch_one(sql).await
    }

    pub async fn finish(self) {
        self.store.close().await;
        self.db.remove().await;
    }
}

pub fn settings(initial_scan: InitialScan) -> PollSettings {
    let mut config = Config::defaults().poller;
    config.initial_scan = initial_scan;
    let mut settings = PollSettings::from_config(&config, false);
    // Retries wait a millisecond, not a second: the tests check what is retried, not how long.
    settings.first_backoff = Duration::from_millis(1);
    settings
}

pub fn context(
    store: Arc<dyn Store>,
    tenant: &Tenant,
    owner: &str,
    initial: InitialScan,
) -> PollContext {
    PollContext {
        store,
        lists: Arc::new(tenant.clone()),
        connection: CONNECTION.to_owned(),
        owner: owner.to_owned(),
        settings: settings(initial),
        metrics: Arc::new(Metrics::new()),
        throttle: Throttle::none(),
        clock: Clock::System,
        shutdown: CancellationToken::new(),
    }
}

/// How many polled events there are of each type, sorted by type.
pub fn by_type(events: &[(String, String, serde_json::Value)]) -> Vec<(String, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for (event_type, _, _) in events {
        *counts.entry(event_type.clone()).or_insert(0) += 1;
    }
    counts.into_iter().collect()
}
