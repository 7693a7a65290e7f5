//! Cross-replica ownership of a location's lane: only the replica holding the store
//! lease `ghl-lane:{location}` sends for that location, so several replicas never spend
//! several times GHL's quota. The lease is renewed while in use and lapses when idle.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::lock;
use crate::store::{Millis, Store, StoreError};

/// How often a replica that does not own a lane asks again.
const OWNER_POLL: Duration = Duration::from_millis(250);

/// This replica's lane leases.
pub struct LaneOwnership {
    store: Arc<dyn Store>,
    owner: String,
    ttl: Duration,
    /// When each held lease was last renewed.
    held: Mutex<HashMap<String, Instant>>,
}

fn lease_name(location: &str) -> String {
    format!("ghl-lane:{location}")
}

impl LaneOwnership {
    /// `owner` names this replica; `ttl` is how long a lease outlives its last renewal.
    pub fn new(store: Arc<dyn Store>, owner: impl Into<String>, ttl: Duration) -> Self {
        Self {
            store,
            owner: owner.into(),
            ttl,
            held: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until this replica owns `location`'s lane, renewing at half the ttl. If
    /// the store cannot answer, sending goes on under the local throttle alone: a store
    /// outage must not stop the sync, and GHL's 429 still guards the quota.
    pub(crate) async fn hold(&self, location: &str) {
        loop {
            match self.try_hold(location).await {
                Ok(true) => return,
                Ok(false) => tokio::time::sleep(OWNER_POLL).await,
                Err(error) => {
                    tracing::warn!(error = %error, ghl.location_id = %location, "cannot check the lane lease; sending under the local throttle");
                    return;
                }
            }
        }
    }

    /// One attempt: true when this replica owns the lane (renewing the lease if due).
    pub async fn try_hold(&self, location: &str) -> Result<bool, StoreError> {
        let renewed = lock(&self.held).get(location).copied();
        if renewed.is_some_and(|at| at.elapsed() < self.ttl / 2) {
            return Ok(true);
        }
        let name = lease_name(location);
        let taken = self
            .store
            .try_acquire_lease(&name, &self.owner, Millis::now(), self.ttl)
            .await?;
        let mut held = lock(&self.held);
        if taken {
            held.insert(location.to_owned(), Instant::now());
        } else {
            held.remove(location);
        }
        Ok(taken)
    }

    /// Whether this replica holds `location`'s lease now (renewed within the ttl).
    pub fn holds(&self, location: &str) -> bool {
        lock(&self.held)
            .get(location)
            .is_some_and(|renewed| renewed.elapsed() < self.ttl)
    }

    /// Hands every held lane to the other replicas (graceful shutdown).
    pub async fn release_all(&self) {
        let locations: Vec<String> = lock(&self.held).drain().map(|(l, _)| l).collect();
        for location in locations {
            if let Err(error) = self
                .store
                .release_lease(&lease_name(&location), &self.owner)
                .await
            {
                tracing::warn!(error = %error, "could not release a lane lease; it expires on its own");
            }
        }
    }
}
