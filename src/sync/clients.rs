//! Which GHL credentials and which Tovuti API a connection syncs through: the flat
//! `ghl.*` / `tovuti.*` settings for the default connection; for the others a stored
//! Private Integration Token or OAuth tokens, and a Tovuti client from the stored base
//! URL and API token. OAuth sessions are kept per connection so refreshes are shared;
//! the other clients are kept per connection and rebuilt when its `updated_at` moves.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use secrecy::ExposeSecret as _;

use crate::config::Config;
use crate::config::DEFAULT_CONNECTION;
use crate::connections::runtime::{self, GHL_TOKEN_KIND};
use crate::platforms::ghl::client::{
    Auth, ClientSettings, GhlClient, GhlError, LaneOwnership, LaneStatus, LocationApi, OAuthApp,
    OAuthSession,
};
use crate::platforms::tovuti::TovutiApi;
use crate::platforms::tovuti::client::TovutiClient;
use crate::store::{Connection, Millis, Store, StoreError};
use crate::telemetry::Metrics;

/// How long a replica's lease on a location's outbound lane outlives its last use.
const LANE_LEASE: Duration = Duration::from_secs(30);

/// A value built for one version of a connection (its `updated_at`).
type Versioned<T> = Mutex<HashMap<String, (Millis, T)>>;

/// One per process, shared by the worker, the sweep and the HTTP handlers, so every
/// GHL request of a location goes through the same lane and quota.
pub struct Clients {
    config: Arc<Config>,
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    ghl: GhlClient,
    /// The Tovuti API of the default connection (none when not configured).
    tovuti: Option<Arc<dyn TovutiApi>>,
    sessions: Mutex<HashMap<String, Auth>>,
    /// Stored connections' Private Integration Tokens (`None`: the connection has none).
    tokens: Versioned<Option<Auth>>,
    /// Stored connections' Tovuti APIs (`None`: the connection has none).
    tovuti_apis: Versioned<Option<Arc<dyn TovutiApi>>>,
}

impl Clients {
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
            tokens: Mutex::new(HashMap::new()),
            tovuti_apis: Mutex::new(HashMap::new()),
        })
    }

    /// Replaces the Tovuti API of the default connection (the sandbox, tests).
    #[must_use]
    pub fn with_tovuti(mut self, tovuti: Arc<dyn TovutiApi>) -> Self {
        self.tovuti = Some(tovuti);
        self
    }

    /// The GHL side of a connection, in the background priority class.
    pub async fn ghl(&self, connection: &Connection) -> Result<LocationApi, GhlError> {
        let location = connection.ghl_location_id.as_deref().ok_or_else(|| {
            GhlError::Credentials(format!("connection {} has no GHL location", connection.id))
        })?;
        let auth = self.auth(connection).await?;
        Ok(self
            .ghl
            .location(location, auth)
            .for_connection(&connection.id))
    }

    /// The Tovuti API of a connection: the configured one for `default`, else one built
    /// from the connection's stored base URL and API token; `None` without them.
    pub async fn tovuti(
        &self,
        connection: &Connection,
    ) -> Result<Option<Arc<dyn TovutiApi>>, runtime::ClientError> {
        if connection.id == DEFAULT_CONNECTION {
            return Ok(self.tovuti.clone());
        }
        if let Some(api) = cached(&self.tovuti_apis, connection) {
            return Ok(api);
        }
        let client = runtime::tovuti_client(self.store.as_ref(), &self.config, connection).await?;
        let api = client.map(|c| Arc::new(c) as Arc<dyn TovutiApi>);
        remember(&self.tovuti_apis, connection, api.clone());
        Ok(api)
    }

    async fn auth(&self, connection: &Connection) -> Result<Auth, GhlError> {
        let connection_id = connection.id.as_str();
        if connection_id == DEFAULT_CONNECTION
            && let Some(token) = self.config.ghl.token.expose()
        {
            return Ok(Auth::private_token(token));
        }
        if let Some(token) = self.private_token(connection).await? {
            return Ok(token);
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

    /// A stored connection's Private Integration Token, if it has one.
    async fn private_token(&self, connection: &Connection) -> Result<Option<Auth>, GhlError> {
        if let Some(token) = cached(&self.tokens, connection) {
            return Ok(token);
        }
        let stored = match self
            .store
            .load_credentials(&connection.id, GHL_TOKEN_KIND)
            .await
        {
            Ok(stored) => stored,
            // Without a key only OAuth tokens could be stored either; let that path say so.
            Err(StoreError::EncryptionKeyMissing) => None,
            Err(error) => return Err(GhlError::Credentials(error.to_string())),
        };
        let token = stored.map(|c| Auth::private_token(c.secret.expose_secret()));
        remember(&self.tokens, connection, token.clone());
        Ok(token)
    }

    /// The configured OAuth app (to exchange an install's code); `None` without one.
    pub fn ghl_oauth_app(&self) -> Option<OAuthApp> {
        self.ghl.oauth_app(&self.config.ghl)
    }

    /// The outbound lane of a GHL location as this replica sees it.
    pub fn ghl_lane(&self, location: &str) -> LaneStatus {
        self.ghl.throttle().status(location)
    }

    /// Hands the lanes this replica holds to the others (graceful shutdown).
    pub async fn release_lanes(&self) {
        if let Some(ownership) = self.ghl.throttle().ownership() {
            ownership.release_all().await;
        }
    }

    /// Forgets a connection's cached session and clients (after uninstall).
    pub fn forget(&self, connection_id: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(connection_id);
        lock(&self.tokens).remove(connection_id);
        lock(&self.tovuti_apis).remove(connection_id);
    }
}

fn lock<T>(map: &Versioned<T>) -> std::sync::MutexGuard<'_, HashMap<String, (Millis, T)>> {
    map.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The value built for this version of the connection, if any.
fn cached<T: Clone>(map: &Versioned<T>, connection: &Connection) -> Option<T> {
    let map = lock(map);
    let (version, value) = map.get(&connection.id)?;
    (*version == connection.updated_at).then(|| value.clone())
}

fn remember<T>(map: &Versioned<T>, connection: &Connection, value: T) {
    lock(map).insert(connection.id.clone(), (connection.updated_at, value));
}
