//! OAuth 2.0 tokens of one connection: kept encrypted in the store, refreshed ahead of
//! expiry or once on a 401, one refresh at a time per connection across replicas (a
//! store lease, re-reading after taking it), the new single-use pair saved before use.

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use super::errors::GhlError;
use crate::store::{ConnectionStatus, Credentials, Millis, Store};
use crate::telemetry::reconcile::ConnectionLabels;
use crate::telemetry::{Metrics, RefreshLabels};

/// The credential kind under which a connection's token pair is stored.
pub const CREDENTIAL_KIND: &str = "ghl_oauth";
/// Long enough for one token exchange; a crashed holder blocks refreshes this long.
const LEASE_TTL: Duration = Duration::from_secs(30);
/// How often a replica waiting for another's refresh looks again.
const LEASE_POLL: Duration = Duration::from_millis(50);
/// A waiter gives up (retryably) after this long.
const REFRESH_DEADLINE: Duration = Duration::from_secs(60);

/// The Marketplace app: where and as whom codes and refresh tokens are exchanged.
#[derive(Clone)]
pub struct OAuthApp {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub http: reqwest::Client,
}

/// GHL's token response (`GetAccessCodeSuccessfulResponseDto`).
#[derive(Deserialize)]
pub struct TokenGrant {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub expires_in: u64,
    #[serde(default)]
    pub scope: String,
    #[serde(rename = "userType")]
    pub user_type: Option<String>,
    #[serde(rename = "locationId")]
    pub location_id: Option<String>,
    #[serde(rename = "companyId")]
    pub company_id: Option<String>,
}

impl OAuthApp {
    /// Exchanges an install's authorization code for the first token pair.
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
    ) -> Result<TokenGrant, GhlError> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("user_type", "Location"),
            ("redirect_uri", redirect_uri),
        ];
        self.token_request(&form).await
    }

    async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenGrant, GhlError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
            ("user_type", "Location"),
        ];
        self.token_request(&form).await
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Result<TokenGrant, GhlError> {
        const ENDPOINT: &str = "oauth.token";
        let mut body = vec![
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_secret()),
        ];
        body.extend_from_slice(form);
        let response = self
            .http
            .post(&self.token_url)
            .form(&body)
            .send()
            .await
            .map_err(|e| GhlError::from_reqwest(ENDPOINT, &e))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| GhlError::from_reqwest(ENDPOINT, &e))?;
        if (200..300).contains(&status) {
            return serde_json::from_slice(&bytes).map_err(|e| GhlError::Decode {
                endpoint: ENDPOINT,
                detail: e.to_string(),
            });
        }
        let text = String::from_utf8_lossy(&bytes);
        if text.contains("invalid_grant") || text.contains("Location is not active") {
            let reason = if text.contains("Location is not active") {
                "Location is not active"
            } else {
                "invalid_grant"
            };
            return Err(GhlError::NeedsReauth(format!(
                "GHL refused the refresh token ({reason})"
            )));
        }
        Err(GhlError::from_answer(ENDPOINT, status, None, &bytes))
    }
}

/// A decrypted token pair and when the access token expires.
#[derive(Clone)]
struct Tokens {
    access: SecretString,
    refresh: SecretString,
    expires_at: Millis,
}

impl Tokens {
    fn fresh(&self, margin: Duration) -> bool {
        Millis::now().plus(margin) < self.expires_at
    }

    fn is(&self, access: &SecretString) -> bool {
        self.access.expose_secret() == access.expose_secret()
    }
}

fn store_error(error: impl std::fmt::Display) -> GhlError {
    GhlError::Credentials(format!("store: {error}"))
}

/// Saves a grant as the connection's tokens and makes the connection active again.
pub async fn save_grant(
    store: &dyn Store,
    connection_id: &str,
    grant: &TokenGrant,
    previous_refresh: Option<&SecretString>,
) -> Result<(), GhlError> {
    let refresh = grant
        .refresh_token
        .as_ref()
        .or(previous_refresh)
        .ok_or_else(|| GhlError::Credentials("GHL issued no refresh token".into()))?;
    let pair = json!({ "access_token": grant.access_token.expose_secret(), "refresh_token": refresh.expose_secret() });
    let expires_at = Millis::now().plus(Duration::from_secs(grant.expires_in));
    let metadata = json!({
        "expires_at_ms": expires_at.0, "scope": grant.scope, "userType": grant.user_type,
        "locationId": grant.location_id, "companyId": grant.company_id,
    });
    // One row holds both tokens, so the pair is replaced atomically.
    let secret = SecretString::from(pair.to_string());
    store
        .save_credentials(connection_id, CREDENTIAL_KIND, &secret, &metadata)
        .await
        .map_err(store_error)
}

fn decode(credentials: &Credentials) -> Result<Tokens, GhlError> {
    let pair: Value = serde_json::from_str(credentials.secret.expose_secret())
        .map_err(|_| GhlError::Credentials("stored OAuth tokens are unreadable".into()))?;
    let field = |name: &str| {
        pair.get(name)
            .and_then(Value::as_str)
            .map(|s| SecretString::from(s.to_owned()))
    };
    let (Some(access), Some(refresh)) = (field("access_token"), field("refresh_token")) else {
        return Err(GhlError::Credentials(
            "stored OAuth tokens are incomplete".into(),
        ));
    };
    let expires_at = Millis(
        credentials
            .metadata
            .get("expires_at_ms")
            .and_then(Value::as_i64)
            .unwrap_or(0),
    );
    Ok(Tokens {
        access,
        refresh,
        expires_at,
    })
}

/// One connection's OAuth tokens, as one client instance sees them.
pub struct OAuthSession {
    store: Arc<dyn Store>,
    connection_id: String,
    /// Unique per session: the lease owner name.
    owner: String,
    app: OAuthApp,
    margin: Duration,
    metrics: Arc<Metrics>,
    /// The last tokens seen; the lock also serialises refreshes within this process.
    cache: tokio::sync::Mutex<Option<Tokens>>,
}

impl OAuthSession {
    pub fn new(
        store: Arc<dyn Store>,
        connection_id: impl Into<String>,
        app: OAuthApp,
        margin: Duration,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            store,
            connection_id: connection_id.into(),
            owner: format!("ghl-refresh-{}", uuid::Uuid::now_v7().simple()),
            app,
            margin,
            metrics,
            cache: tokio::sync::Mutex::new(None),
        }
    }

    /// A usable access token, refreshing first when it expires within the margin.
    pub(crate) async fn access_token(&self) -> Result<SecretString, GhlError> {
        let mut cache = self.cache.lock().await;
        let tokens = match cache.take() {
            Some(tokens) => tokens,
            None => self.load().await?,
        };
        let tokens = if tokens.fresh(self.margin) {
            tokens
        } else {
            self.refresh_locked(&tokens.access).await?
        };
        let access = tokens.access.clone();
        *cache = Some(tokens);
        Ok(access)
    }

    /// Replaces a token GHL answered 401 to, unless someone already has.
    pub(crate) async fn refresh_rejected(&self, rejected: &SecretString) -> Result<(), GhlError> {
        let mut cache = self.cache.lock().await;
        if cache
            .as_ref()
            .is_some_and(|t| !t.is(rejected) && t.fresh(self.margin))
        {
            return Ok(());
        }
        *cache = Some(self.refresh_locked(rejected).await?);
        Ok(())
    }

    async fn load(&self) -> Result<Tokens, GhlError> {
        let connection = self
            .store
            .connection(&self.connection_id)
            .await
            .map_err(store_error)?;
        if let Some(c) = connection.filter(|c| c.status == ConnectionStatus::NeedsReauth) {
            return Err(GhlError::NeedsReauth(
                c.status_reason
                    .unwrap_or_else(|| "credentials refused".into()),
            ));
        }
        let stored = self
            .store
            .load_credentials(&self.connection_id, CREDENTIAL_KIND)
            .await
            .map_err(store_error)?;
        decode(&stored.ok_or_else(|| {
            GhlError::Credentials("no OAuth tokens stored for this connection".into())
        })?)
    }

    /// Stored tokens that replace `stale`, if another session already refreshed.
    async fn replaced(&self, stale: &SecretString) -> Result<Option<Tokens>, GhlError> {
        let tokens = self.load().await?;
        Ok((!tokens.is(stale) && tokens.fresh(self.margin)).then_some(tokens))
    }

    async fn refresh_locked(&self, stale: &SecretString) -> Result<Tokens, GhlError> {
        let lease = format!("ghl-oauth-refresh:{}", self.connection_id);
        let deadline = tokio::time::Instant::now() + REFRESH_DEADLINE;
        loop {
            if let Some(tokens) = self.replaced(stale).await? {
                return Ok(tokens);
            }
            let acquired = self
                .store
                .try_acquire_lease(&lease, &self.owner, Millis::now(), LEASE_TTL)
                .await
                .map_err(store_error)?;
            if acquired {
                let result = self.refresh_holding_lease(stale).await;
                if let Err(error) = self.store.release_lease(&lease, &self.owner).await {
                    tracing::warn!(error = %error, "could not release the refresh lease; it expires on its own");
                }
                return result;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(GhlError::Credentials(
                    "another replica's token refresh did not finish".into(),
                ));
            }
            tokio::time::sleep(LEASE_POLL).await;
        }
    }

    async fn refresh_holding_lease(&self, stale: &SecretString) -> Result<Tokens, GhlError> {
        // Re-read under the lease: the previous holder may have just saved a new pair.
        if let Some(tokens) = self.replaced(stale).await? {
            return Ok(tokens);
        }
        let current = self.load().await?;
        let outcome = match self.app.refresh(&current.refresh).await {
            Ok(grant) => save_grant(
                self.store.as_ref(),
                &self.connection_id,
                &grant,
                Some(&current.refresh),
            )
            .await
            .map(|()| "ok"),
            Err(GhlError::NeedsReauth(reason)) => {
                self.mark_needs_reauth(&reason).await;
                self.count("refused");
                return Err(GhlError::NeedsReauth(reason));
            }
            Err(error) => Err(error),
        };
        self.count(if outcome.is_ok() { "ok" } else { "failed" });
        outcome?;
        self.load().await
    }

    async fn mark_needs_reauth(&self, reason: &str) {
        let labels = ConnectionLabels {
            connection: self.connection_id.clone(),
        };
        self.metrics.ghl_needs_reauth.get_or_create(&labels).inc();
        tracing::warn!(connection.id = %self.connection_id, reason, "GHL refused the connection's credentials; it needs to be authorised again");
        let status = self
            .store
            .set_connection_status(
                &self.connection_id,
                ConnectionStatus::NeedsReauth,
                Some(reason),
            )
            .await;
        if let Err(error) = status {
            tracing::error!(error = %error, "could not record that the connection needs re-authorisation");
        }
    }

    fn count(&self, outcome: &str) {
        let labels = RefreshLabels {
            connection: self.connection_id.clone(),
            outcome: outcome.to_owned(),
        };
        self.metrics
            .ghl_token_refreshes
            .get_or_create(&labels)
            .inc();
    }
}
