//! Connections as records an operator manages: each pairs one GHL location with one
//! Tovuti tenant, with its tokens, webhook secrets, mapping, poller overrides and a pause
//! flag. The connection the flat settings describe stays, read-only, as `default`. The
//! CLI and (later) the admin API call these operations; the store does the SQL.

mod error;
mod input;
mod lifecycle;
pub mod runtime;
mod secrets;
mod views;

use std::sync::Arc;

use secrecy::SecretString;

pub use error::{ConnectionError, ConnectionResult};
pub use input::{ConnectionInput, ConnectionPatch};
pub use secrets::{DEFAULT_OVERLAP, LEGACY_SECRET_KIND, LiveSecrets, live_secrets};
pub use views::{
    ConnectionView, CredentialView, GhlAuth, GhlView, NewSecret, SecretView, TovutiView,
    fingerprint,
};

use self::runtime::{GHL_TOKEN_KIND, TOVUTI_TOKEN_KIND};
use crate::config::Config;
use crate::config::DEFAULT_CONNECTION;
use crate::platforms::ghl::client::CREDENTIAL_KIND as GHL_OAUTH_KIND;
use crate::store::{Connection, ConnectionStatus, Store, StoreError, StoreResult};

/// Path of a connection's Tovuti webhook URL.
pub fn webhook_path(id: &str) -> String {
    format!("/webhooks/tovuti/{id}")
}

/// Told the id of a connection whose settings, tokens or secrets changed, so a cache
/// in the same process (webhook verifiers) can drop what it holds for it.
pub type OnChange = Arc<dyn Fn(&str) + Send + Sync>;

/// The connection operations, over one store and the configuration (for `default`).
#[derive(Clone)]
pub struct Connections {
    store: Arc<dyn Store>,
    config: Arc<Config>,
    on_change: Option<OnChange>,
}

impl Connections {
    pub fn new(store: Arc<dyn Store>, config: Arc<Config>) -> Self {
        Self {
            store,
            config,
            on_change: None,
        }
    }

    /// The same operations, calling `on_change` after each change.
    #[must_use]
    pub fn with_on_change(mut self, on_change: OnChange) -> Self {
        self.on_change = Some(on_change);
        self
    }

    fn changed(&self, id: &str) {
        if let Some(on_change) = &self.on_change {
            on_change(id);
        }
    }

    /// Every connection, `default` (from the configuration) among them, by id.
    pub async fn list(&self) -> ConnectionResult<Vec<ConnectionView>> {
        let stored = self.store.list_connections().await?;
        let mut views = Vec::with_capacity(stored.len() + 1);
        let mut default_seen = false;
        for connection in &stored {
            if connection.id == DEFAULT_CONNECTION {
                default_seen = true;
                views.push(self.default_view(Some(connection)).await?);
            } else {
                views.push(self.view(connection).await?);
            }
        }
        if !default_seen && !self.config.ghl.location_id.is_empty() {
            views.push(self.default_view(None).await?);
            views.sort_by(|a, b| a.id.cmp(&b.id));
        }
        Ok(views)
    }

    /// One connection; `NotFound` when there is none by that id.
    pub async fn get(&self, id: &str) -> ConnectionResult<ConnectionView> {
        let stored = self.store.connection(id).await?;
        if id == DEFAULT_CONNECTION && (stored.is_some() || !self.config.ghl.location_id.is_empty())
        {
            return self.default_view(stored.as_ref()).await;
        }
        let connection = stored.ok_or_else(|| not_found(id))?;
        self.view(&connection).await
    }

    /// The stored connection, for operations that change it; `ReadOnly` for `default`.
    async fn writable(&self, id: &str) -> ConnectionResult<Connection> {
        if id == DEFAULT_CONNECTION {
            return Err(ConnectionError::ReadOnly);
        }
        self.store
            .connection(id)
            .await?
            .ok_or_else(|| not_found(id))
    }

    async fn view(&self, c: &Connection) -> ConnectionResult<ConnectionView> {
        let ghl_token = self.secret(&c.id, GHL_TOKEN_KIND).await?;
        let oauth = self.secret(&c.id, GHL_OAUTH_KIND).await?.is_some();
        let tovuti_token = self.secret(&c.id, TOVUTI_TOKEN_KIND).await?;
        let live = live_secrets(self.store.as_ref(), &c.id, crate::store::Millis::now()).await?;
        let auth = match (&ghl_token, oauth) {
            (Some(_), _) => GhlAuth::PrivateToken,
            (None, true) => GhlAuth::Oauth,
            (None, false) => GhlAuth::None,
        };
        Ok(ConnectionView {
            id: c.id.clone(),
            name: c.name.clone(),
            status: status_label(c),
            status_reason: c.status_reason.clone(),
            read_only: false,
            ghl: GhlView {
                location_id: c.ghl_location_id.clone(),
                auth,
                token: CredentialView::of(ghl_token.as_ref()),
            },
            tovuti: TovutiView {
                base_url: c.tovuti_base_url.clone(),
                auth_mode: c.tovuti_auth_mode,
                token: CredentialView::of(tovuti_token.as_ref()),
                webhook_path: webhook_path(&c.id),
                webhook_secrets: live.secrets.len(),
            },
            mapping_path: c.mapping_path.clone(),
            poller: c.poller.clone(),
            paused_at: c.paused_at,
            created_at: Some(c.created_at),
            updated_at: Some(c.updated_at),
        })
    }

    /// `default` as the configuration describes it (its stored row adds the status).
    async fn default_view(&self, stored: Option<&Connection>) -> ConnectionResult<ConnectionView> {
        let config = &self.config;
        let ghl_token = config.ghl.token.expose().map(secret_of);
        let oauth = match ghl_token {
            Some(_) => false,
            None => self
                .secret(DEFAULT_CONNECTION, GHL_OAUTH_KIND)
                .await?
                .is_some(),
        };
        let auth = match (&ghl_token, oauth) {
            (Some(_), _) => GhlAuth::PrivateToken,
            (None, true) => GhlAuth::Oauth,
            (None, false) => GhlAuth::None,
        };
        let tovuti_token = config.tovuti.token.expose().map(secret_of);
        let base_url = &config.tovuti.base_url;
        Ok(ConnectionView {
            id: DEFAULT_CONNECTION.to_owned(),
            name: None,
            status: stored.map_or("active", status_label),
            status_reason: stored.and_then(|c| c.status_reason.clone()),
            read_only: true,
            ghl: GhlView {
                location_id: (!config.ghl.location_id.is_empty())
                    .then(|| config.ghl.location_id.clone()),
                auth,
                token: CredentialView::of(ghl_token.as_ref()),
            },
            tovuti: TovutiView {
                base_url: (!base_url.is_empty()).then(|| base_url.clone()),
                auth_mode: crate::store::TovutiAuthMode::Bearer,
                token: CredentialView::of(tovuti_token.as_ref()),
                webhook_path: "/webhooks/tovuti".to_owned(),
                webhook_secrets: config.webhooks.tovuti.secret_list().len(),
            },
            mapping_path: (!config.mapping.file.is_empty()).then(|| config.mapping.file.clone()),
            poller: crate::store::PollerOverrides::default(),
            paused_at: None,
            created_at: stored.map(|c| c.created_at),
            updated_at: stored.map(|c| c.updated_at),
        })
    }

    /// A stored credential's secret; without an encryption key none can be stored, so
    /// none is set.
    async fn secret(&self, id: &str, kind: &str) -> StoreResult<Option<SecretString>> {
        match self.store.load_credentials(id, kind).await {
            Ok(found) => Ok(found.map(|c| c.secret)),
            Err(StoreError::EncryptionKeyMissing) => Ok(None),
            Err(error) => Err(error),
        }
    }
}

fn secret_of(text: &str) -> SecretString {
    SecretString::from(text.to_owned())
}

fn not_found(id: &str) -> ConnectionError {
    ConnectionError::NotFound(format!("connection {id}"))
}

/// What the view's `status` says: removal first, then an operator's pause, then the
/// credential status.
fn status_label(c: &Connection) -> &'static str {
    match c.status {
        ConnectionStatus::Disconnected => "disconnected",
        _ if c.paused_at.is_some() => "paused",
        ConnectionStatus::NeedsReauth => "needs_reauth",
        ConnectionStatus::Active => "active",
    }
}
