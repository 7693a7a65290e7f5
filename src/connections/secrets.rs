//! A connection's Tovuti webhook secrets: several may verify at once so a rotation can
//! overlap; each may expire; a revoke removes one at once. Secrets from before secrets
//! had rows (one credential of kind `tovuti_webhook_secret`, space separated) keep
//! verifying, and are moved into rows by the first operator action on secrets.

use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};

use super::Connections;
use super::error::{ConnectionError, ConnectionResult};
use super::views::{NewSecret, SecretView, fingerprint};
use crate::config::split_secrets;
use crate::store::{Millis, NewWebhookSecret, Store, StoreResult};

/// The credential kind older versions kept a connection's secrets under; its metadata
/// may say `{"simple_signature": true}` or `{"unsigned": true}` (still honoured).
pub const LEGACY_SECRET_KIND: &str = "tovuti_webhook_secret";
/// How long an older secret keeps verifying after a new one is added, unless told.
pub const DEFAULT_OVERLAP: Duration = Duration::from_secs(24 * 60 * 60);

/// The secrets that verify a connection's deliveries at one instant.
#[derive(Debug, Clone, Default)]
pub struct LiveSecrets {
    pub secrets: Vec<SecretString>,
    /// The legacy credential's non-secret flags (`simple_signature`, `unsigned`).
    pub metadata: serde_json::Value,
    /// When the first of these secrets expires: a verifier built from them is stale
    /// from then on.
    pub valid_until: Option<Millis>,
}

/// The secrets of `connection_id` that verify at `now`: unexpired rows and the legacy
/// credential's list.
pub async fn live_secrets(
    store: &dyn Store,
    connection_id: &str,
    now: Millis,
) -> StoreResult<LiveSecrets> {
    let mut live = LiveSecrets::default();
    if let Some(legacy) = store
        .load_credentials(connection_id, LEGACY_SECRET_KIND)
        .await?
    {
        live.secrets.extend(
            split_secrets(legacy.secret.expose_secret())
                .into_iter()
                .map(|s| SecretString::from(s.to_owned())),
        );
        live.metadata = legacy.metadata;
    }
    for stored in store.webhook_secrets(connection_id).await? {
        if !stored.is_live(now) {
            continue;
        }
        if let Some(at) = stored.expires_at {
            live.valid_until = Some(live.valid_until.map_or(at, |v| v.min(at)));
        }
        live.secrets.push(stored.secret);
    }
    Ok(live)
}

impl Connections {
    /// Makes a new `whsec_` secret for the connection and returns it, the one time it is
    /// shown. Older secrets keep verifying for `overlap` (24 h when `None`), then expire.
    pub async fn add_tovuti_secret(
        &self,
        id: &str,
        overlap: Option<Duration>,
    ) -> ConnectionResult<NewSecret> {
        self.add_tovuti_secret_at(id, overlap, Millis::now()).await
    }

    /// [`Self::add_tovuti_secret`] as if at `now`.
    pub async fn add_tovuti_secret_at(
        &self,
        id: &str,
        overlap: Option<Duration>,
        now: Millis,
    ) -> ConnectionResult<NewSecret> {
        self.writable(id).await?;
        self.adopt_legacy_secrets(id, now).await?;
        let secret = SecretString::from(crate::platforms::tovuti::webhook_secret());
        let new = NewWebhookSecret {
            id: uuid::Uuid::now_v7().to_string(),
            fingerprint: fingerprint(&secret),
            secret,
            created_at: now,
            expires_at: None,
        };
        let older_expire_at = now.plus(overlap.unwrap_or(DEFAULT_OVERLAP));
        self.store
            .add_webhook_secret(id, &new, older_expire_at)
            .await?;
        self.changed(id);
        Ok(NewSecret {
            view: SecretView {
                id: new.id,
                fingerprint: new.fingerprint,
                created_at: new.created_at,
                expires_at: None,
            },
            secret: new.secret,
        })
    }

    /// The connection's webhook secrets (expired ones too, until revoked), never the
    /// secrets themselves.
    pub async fn tovuti_secrets(&self, id: &str) -> ConnectionResult<Vec<SecretView>> {
        self.writable(id).await?;
        self.adopt_legacy_secrets(id, Millis::now()).await?;
        let stored = self.store.webhook_secrets(id).await?;
        Ok(stored
            .into_iter()
            .map(|s| SecretView {
                id: s.id,
                fingerprint: s.fingerprint,
                created_at: s.created_at,
                expires_at: s.expires_at,
            })
            .collect())
    }

    /// Removes one secret now: it no longer verifies (in this process at once; in other
    /// replicas once their lookup cache entry expires, `webhooks.lookup_cache_secs`).
    pub async fn revoke_tovuti_secret(&self, id: &str, secret_id: &str) -> ConnectionResult<()> {
        self.writable(id).await?;
        self.adopt_legacy_secrets(id, Millis::now()).await?;
        if !self.store.revoke_webhook_secret(id, secret_id).await? {
            return Err(ConnectionError::NotFound(format!(
                "webhook secret {secret_id}"
            )));
        }
        self.changed(id);
        Ok(())
    }

    /// Moves the legacy credential's secrets into rows (no expiry) and empties its list,
    /// keeping its flags, so every secret can be listed, rotated and revoked alike.
    async fn adopt_legacy_secrets(&self, id: &str, now: Millis) -> ConnectionResult<()> {
        let Some(legacy) = self.store.load_credentials(id, LEGACY_SECRET_KIND).await? else {
            return Ok(());
        };
        let texts: Vec<String> = split_secrets(legacy.secret.expose_secret())
            .into_iter()
            .map(str::to_owned)
            .collect();
        if texts.is_empty() {
            return Ok(());
        }
        for text in texts {
            let secret = SecretString::from(text);
            let row = NewWebhookSecret {
                id: uuid::Uuid::now_v7().to_string(),
                fingerprint: fingerprint(&secret),
                secret,
                created_at: legacy.updated_at.min(now),
                expires_at: None,
            };
            // Adopting is not a rotation: nothing else expires.
            self.store
                .add_webhook_secret(id, &row, Millis(i64::MAX))
                .await?;
        }
        let empty = SecretString::from(String::new());
        self.store
            .save_credentials(id, LEGACY_SECRET_KIND, &empty, &legacy.metadata)
            .await?;
        Ok(())
    }
}
