//! The credentials a connection sends: a Private Integration Token, used as is, or
//! OAuth tokens that refresh themselves (see `oauth`).

use std::sync::Arc;

use secrecy::SecretString;

use super::errors::GhlError;
use super::location_token::LocationTokenSession;
use super::oauth::OAuthSession;

/// How a connection authenticates.
#[derive(Clone)]
pub enum Auth {
    /// A Private Integration Token: static, rotated by a person in GHL's UI.
    PrivateToken(SecretString),
    /// OAuth tokens kept in the store and refreshed when due.
    OAuth(Arc<OAuthSession>),
    /// Location tokens minted from agency (Company) OAuth tokens.
    AgencyLocation(Arc<LocationTokenSession>),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PrivateToken(_) => f.write_str("PrivateToken([redacted])"),
            Self::OAuth(_) => f.write_str("OAuth([redacted])"),
            Self::AgencyLocation(_) => f.write_str("AgencyLocation([redacted])"),
        }
    }
}

impl Auth {
    pub fn private_token(token: impl Into<String>) -> Self {
        Self::PrivateToken(SecretString::from(token.into()))
    }

    /// The bearer token to send now.
    pub(crate) async fn access_token(&self) -> Result<SecretString, GhlError> {
        match self {
            Self::PrivateToken(token) => Ok(token.clone()),
            Self::OAuth(session) => session.access_token().await,
            Self::AgencyLocation(session) => session.access_token().await,
        }
    }

    /// Whether a 401 can be cured by refreshing (never for a static token).
    pub(crate) fn can_refresh(&self) -> bool {
        matches!(self, Self::OAuth(_) | Self::AgencyLocation(_))
    }

    /// Replaces `rejected` with a fresh token, unless someone already did.
    pub(crate) async fn refresh_rejected(&self, rejected: &SecretString) -> Result<(), GhlError> {
        match self {
            Self::PrivateToken(_) => Ok(()),
            Self::OAuth(session) => session.refresh_rejected(rejected).await,
            Self::AgencyLocation(session) => session.refresh_rejected(rejected).await,
        }
    }
}
