//! The credentials a connection sends: a Private Integration Token, used as is.

use secrecy::SecretString;

use super::errors::GhlError;

/// How a connection authenticates.
#[derive(Clone)]
pub enum Auth {
    /// A Private Integration Token: static, rotated by a person in GHL's UI.
    PrivateToken(SecretString),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PrivateToken(_) => f.write_str("PrivateToken([redacted])"),
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
        }
    }

    /// Whether a 401 can be cured by refreshing (never for a static token).
    pub(crate) fn can_refresh(&self) -> bool {
        match self {
            Self::PrivateToken(_) => false,
        }
    }

    /// Replaces `rejected` with a fresh token, unless someone already did.
    pub(crate) async fn refresh_rejected(&self, _rejected: &SecretString) -> Result<(), GhlError> {
        match self {
            Self::PrivateToken(_) => Ok(()),
        }
    }
}
