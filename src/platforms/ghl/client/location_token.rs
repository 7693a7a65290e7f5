//! Agency (Company) credentials minting sub-account tokens at `POST /oauth/locationToken`,
//! for agencies that install once and sync many locations. Minted tokens carry no
//! refresh token: when one expires or is refused, a new one is minted.

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};
use tokio::time::Instant;

use super::VERSION_CONTACTS;
use super::errors::GhlError;
use super::oauth::{OAuthApp, OAuthSession, TokenGrant};

/// Mints and caches one location's token from the agency's OAuth session.
pub struct LocationTokenSession {
    agency: Arc<OAuthSession>,
    app: OAuthApp,
    company_id: String,
    location_id: String,
    margin: Duration,
    cache: tokio::sync::Mutex<Option<(SecretString, Instant)>>,
}

impl LocationTokenSession {
    pub fn new(
        agency: Arc<OAuthSession>,
        app: OAuthApp,
        company_id: impl Into<String>,
        location_id: impl Into<String>,
        margin: Duration,
    ) -> Self {
        Self {
            agency,
            app,
            company_id: company_id.into(),
            location_id: location_id.into(),
            margin,
            cache: tokio::sync::Mutex::new(None),
        }
    }

    pub(crate) async fn access_token(&self) -> Result<SecretString, GhlError> {
        let mut cache = self.cache.lock().await;
        let fresh = cache
            .as_ref()
            .filter(|(_, expires)| *expires > Instant::now() + self.margin);
        if let Some((token, _)) = fresh {
            return Ok(token.clone());
        }
        let grant = self.mint().await?;
        let expires = Instant::now() + Duration::from_secs(grant.expires_in);
        *cache = Some((grant.access_token.clone(), expires));
        Ok(grant.access_token)
    }

    /// Forgets a refused location token so the next call mints a new one.
    pub(crate) async fn refresh_rejected(&self, rejected: &SecretString) -> Result<(), GhlError> {
        let mut cache = self.cache.lock().await;
        if cache
            .as_ref()
            .is_some_and(|(t, _)| t.expose_secret() == rejected.expose_secret())
        {
            *cache = None;
        }
        Ok(())
    }

    /// Mints with the agency token, refreshing that once if GHL refuses it.
    async fn mint(&self) -> Result<TokenGrant, GhlError> {
        let agency = self.agency.access_token().await?;
        match self.request(&agency).await {
            Err(error) if error.status() == Some(401) => {
                self.agency.refresh_rejected(&agency).await?;
                self.request(&self.agency.access_token().await?).await
            }
            other => other,
        }
    }

    async fn request(&self, agency: &SecretString) -> Result<TokenGrant, GhlError> {
        const ENDPOINT: &str = "oauth.location_token";
        let url = self
            .app
            .token_url
            .replace("/oauth/token", "/oauth/locationToken");
        let form = [
            ("companyId", self.company_id.as_str()),
            ("locationId", self.location_id.as_str()),
        ];
        let response = self
            .app
            .http
            .post(url)
            .bearer_auth(agency.expose_secret())
            .header("Version", VERSION_CONTACTS)
            .form(&form)
            .send()
            .await
            .map_err(|e| GhlError::from_reqwest(ENDPOINT, &e))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| GhlError::from_reqwest(ENDPOINT, &e))?;
        if !(200..300).contains(&status) {
            return Err(GhlError::from_answer(ENDPOINT, status, None, &bytes));
        }
        serde_json::from_slice(&bytes).map_err(|e| GhlError::Decode {
            endpoint: ENDPOINT,
            detail: e.to_string(),
        })
    }
}
