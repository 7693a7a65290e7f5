//! Creating, changing, pausing, resuming and removing connections.

use secrecy::SecretString;

use super::Connections;
use super::error::{ConnectionError, ConnectionResult};
use super::input::{
    ConnectionInput, ConnectionPatch, cleared, validate_base_url, validate_id, validate_location,
    validate_mapping, validate_name, validate_poller, validate_token,
};
use super::runtime::{GHL_TOKEN_KIND, TOVUTI_TOKEN_KIND};
use super::views::ConnectionView;
use crate::config::DEFAULT_CONNECTION;
use crate::store::{ConnectionRecord, ConnectionStatus, Millis, StoreError};

impl Connections {
    /// Creates a connection, active and running, with its tokens stored encrypted.
    pub async fn create(&self, input: ConnectionInput) -> ConnectionResult<ConnectionView> {
        validate_id(&input.id)?;
        if input.id == DEFAULT_CONNECTION {
            return Err(ConnectionError::ReadOnly);
        }
        let record = ConnectionRecord {
            id: input.id.clone(),
            name: input.name.filter(|n| !n.is_empty()),
            ghl_location_id: Some(input.ghl_location_id),
            tovuti_base_url: input.tovuti_base_url.filter(|u| !u.is_empty()),
            tovuti_auth_mode: input.tovuti_auth_mode,
            mapping_path: input.mapping_path.filter(|p| !p.is_empty()),
            poller: input.poller,
        };
        validate_record(&record)?;
        let tokens = [
            (GHL_TOKEN_KIND, "ghl_token", input.ghl_token),
            (TOVUTI_TOKEN_KIND, "tovuti_token", input.tovuti_token),
        ];
        self.check_tokens(&tokens)?;
        self.store.insert_connection(&record).await?;
        self.save_tokens(&record.id, tokens).await?;
        self.get(&record.id).await
    }

    /// Changes the fields the patch names; the rest stay.
    pub async fn update(
        &self,
        id: &str,
        patch: ConnectionPatch,
    ) -> ConnectionResult<ConnectionView> {
        let current = self.writable(id).await?;
        if current.status == ConnectionStatus::Disconnected {
            return Err(ConnectionError::Invalid(
                "the connection was removed; create a new one".into(),
            ));
        }
        let record = ConnectionRecord {
            id: current.id.clone(),
            name: cleared(patch.name).unwrap_or(current.name),
            ghl_location_id: patch
                .ghl_location_id
                .map(Some)
                .unwrap_or(current.ghl_location_id),
            tovuti_base_url: cleared(patch.tovuti_base_url).unwrap_or(current.tovuti_base_url),
            tovuti_auth_mode: patch.tovuti_auth_mode.unwrap_or(current.tovuti_auth_mode),
            mapping_path: cleared(patch.mapping_path).unwrap_or(current.mapping_path),
            poller: patch.poller.unwrap_or(current.poller),
        };
        validate_record(&record)?;
        let tokens = [
            (GHL_TOKEN_KIND, "ghl_token", patch.ghl_token),
            (TOVUTI_TOKEN_KIND, "tovuti_token", patch.tovuti_token),
        ];
        self.check_tokens(&tokens)?;
        self.store.update_connection(&record).await?;
        self.save_tokens(id, tokens).await?;
        self.changed(id);
        self.get(id).await
    }

    /// Outbound work of the connection waits; its webhooks are still stored.
    pub async fn pause(&self, id: &str) -> ConnectionResult<ConnectionView> {
        self.set_paused(id, true).await
    }

    /// Sends what waited during a pause: its events are due at once.
    pub async fn resume(&self, id: &str) -> ConnectionResult<ConnectionView> {
        self.set_paused(id, false).await
    }

    /// Erases every credential and webhook secret and frees the GHL location; the
    /// connection stays as `disconnected`, so its events end ignored and its id is not
    /// reused by accident.
    pub async fn remove(&self, id: &str) -> ConnectionResult<ConnectionView> {
        self.writable(id).await?;
        self.store.remove_connection(id, Millis::now()).await?;
        self.changed(id);
        self.get(id).await
    }

    async fn set_paused(&self, id: &str, paused: bool) -> ConnectionResult<ConnectionView> {
        let current = self.writable(id).await?;
        if current.status == ConnectionStatus::Disconnected {
            return Err(ConnectionError::Invalid(
                "the connection was removed".into(),
            ));
        }
        self.store
            .set_connection_paused(id, paused, Millis::now())
            .await?;
        self.changed(id);
        self.get(id).await
    }

    /// Refuses tokens that do not validate, or that cannot be stored (no encryption
    /// key), before anything is written.
    fn check_tokens(&self, tokens: &[(&str, &str, Option<SecretString>)]) -> ConnectionResult<()> {
        let mut any = false;
        for (_, field, token) in tokens {
            if let Some(token) = token {
                validate_token(field, token)?;
                any = true;
            }
        }
        if any && self.config.security.encryption_key.expose().is_none() {
            return Err(ConnectionError::Store(StoreError::EncryptionKeyMissing));
        }
        Ok(())
    }

    async fn save_tokens(
        &self,
        id: &str,
        tokens: [(&str, &str, Option<SecretString>); 2],
    ) -> ConnectionResult<()> {
        let mut saved = false;
        for (kind, _, token) in tokens {
            if let Some(token) = token {
                self.store
                    .save_credentials(id, kind, &token, &serde_json::json!({}))
                    .await?;
                saved = true;
            }
        }
        if saved {
            // Clients built from the old tokens are keyed by `updated_at`: move it on.
            self.store.touch_connection(id, Millis::now()).await?;
        }
        Ok(())
    }
}

fn validate_record(r: &ConnectionRecord) -> ConnectionResult<()> {
    if let Some(name) = &r.name {
        validate_name(name)?;
    }
    match &r.ghl_location_id {
        Some(location) => validate_location(location)?,
        None => {
            return Err(ConnectionError::Invalid("ghl_location_id: required".into()));
        }
    }
    if let Some(url) = &r.tovuti_base_url {
        validate_base_url(url)?;
    }
    if let Some(path) = &r.mapping_path {
        validate_mapping(path)?;
    }
    validate_poller(&r.poller)
}
