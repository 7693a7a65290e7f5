//! Which GHL credentials and which Tovuti API a connection syncs through: the flat
//! `ghl.*` / `tovuti.*` settings for the default connection, stored OAuth tokens for
//! installed ones. OAuth sessions are kept per connection so refreshes are shared.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::config::Config;
use crate::platforms::ghl::client::{
    Auth, ClientSettings, Connection as GhlConnection, GhlClient, GhlError, LaneOwnership,
    OAuthSession,
};
use crate::platforms::tovuti::TovutiApi;
use crate::platforms::tovuti::client::TovutiClient;
use crate::startup::DEFAULT_CONNECTION;
use crate::store::{Connection, Store};
use crate::telemetry::Metrics;

/// How long a replica's lease on a location's outbound lane outlives its last use.
const LANE_LEASE: Duration = Duration::from_secs(30);

pub struct Platforms {
    config: Arc<Config>,
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    ghl: GhlClient,
    /// The Tovuti API of the default connection (none when not configured).
    tovuti: Option<Arc<dyn TovutiApi>>,
    sessions: Mutex<HashMap<String, Auth>>,
}

impl Platforms {
    /// With several replicas (PostgreSQL), a location's requests go through one replica
    /// at a time so the location's quota is counted in one place.
    pub fn new(
        config: Arc<Config>,
        store: Arc<dyn Store>,
        metrics: Arc<Metrics>,
        instance_id: &str,
    ) -> anyhow::Result<Self> {
        let settings = ClientSettings::from_config(&config.ghl);
        let ghl = if store.backend() == "postgres" {
            let ownership = LaneOwnership::new(store.clone(), instance_id, LANE_LEASE);
            GhlClient::with_lane_ownership(settings, metrics.clone(), ownership)?
        } else {
            GhlClient::new(settings, metrics.clone())?
        };
        let tovuti =
            TovutiClient::from_config(&config.tovuti)?.map(|c| Arc::new(c) as Arc<dyn TovutiApi>);
        Ok(Self {
            config,
            store,
            metrics,
            ghl,
            tovuti,
            sessions: Mutex::new(HashMap::new()),
        })
    }

    /// Replaces the Tovuti API of the default connection (the sandbox, tests).
    #[must_use]
    pub fn with_tovuti(mut self, tovuti: Arc<dyn TovutiApi>) -> Self {
        self.tovuti = Some(tovuti);
        self
    }

    /// The GHL side of a connection, in the background priority class.
    pub fn ghl(&self, connection: &Connection) -> Result<GhlConnection, GhlError> {
        let location = connection.ghl_location_id.as_deref().ok_or_else(|| {
            GhlError::Credentials(format!("connection {} has no GHL location", connection.id))
        })?;
        let auth = self.auth(&connection.id)?;
        Ok(self.ghl.connection(location, auth))
    }

    /// The Tovuti API of a connection; only the default connection has one so far.
    pub fn tovuti(&self, connection: &Connection) -> Option<Arc<dyn TovutiApi>> {
        (connection.id == DEFAULT_CONNECTION)
            .then(|| self.tovuti.clone())
            .flatten()
    }

    fn auth(&self, connection_id: &str) -> Result<Auth, GhlError> {
        if connection_id == DEFAULT_CONNECTION
            && let Some(token) = self.config.ghl.token.expose()
        {
            return Ok(Auth::private_token(token));
        }
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(auth) = sessions.get(connection_id) {
            return Ok(auth.clone());
        }
        let app = self.ghl.oauth_app(&self.config.ghl).ok_or_else(|| {
            GhlError::Credentials(
                "no GHL credentials: set ghl.token, or ghl.client_id/client_secret and install the app"
                    .into(),
            )
        })?;
        let margin = Duration::from_secs(self.config.ghl.token_refresh_margin_secs);
        let session = OAuthSession::new(
            self.store.clone(),
            connection_id,
            app,
            margin,
            self.metrics.clone(),
        );
        let auth = Auth::OAuth(Arc::new(session));
        sessions.insert(connection_id.to_owned(), auth.clone());
        Ok(auth)
    }

    /// Forgets a connection's cached session (after uninstall).
    pub fn forget(&self, connection_id: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(connection_id);
    }
}
