//! What a connection syncs through at run time: its Tovuti client, built from the
//! stored base URL, auth mode and encrypted API token, with the configured timeouts,
//! catalog paths and list settings.

use secrecy::ExposeSecret as _;

use crate::config::{Config, OptionalSecret};
use crate::platforms::tovuti::TovutiError;
use crate::platforms::tovuti::client::TovutiClient;
use crate::store::{Connection, Store, StoreError, TovutiAuthMode};

/// Credential kind of a connection's Tovuti API token (encrypted).
pub const TOVUTI_TOKEN_KIND: &str = "tovuti_api_token";
/// Credential kind of a connection's GHL Private Integration Token (encrypted); a
/// connection without one uses its OAuth tokens.
pub const GHL_TOKEN_KIND: &str = "ghl_private_token";

/// Why a connection's client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Tovuti(#[from] TovutiError),
}

/// The Tovuti client of a stored connection; `None` when it has no base URL or no API
/// token (a GHL-only connection).
pub async fn tovuti_client(
    store: &dyn Store,
    config: &Config,
    connection: &Connection,
) -> Result<Option<TovutiClient>, ClientError> {
    let Some(base_url) = connection.tovuti_base_url.as_deref() else {
        return Ok(None);
    };
    let Some(token) = store
        .load_credentials(&connection.id, TOVUTI_TOKEN_KIND)
        .await?
    else {
        return Ok(None);
    };
    // One scheme today; the match makes a new one a compile error here.
    match connection.tovuti_auth_mode {
        TovutiAuthMode::Bearer => {}
    }
    let mut settings = config.tovuti.clone();
    settings.base_url = base_url.to_owned();
    settings.token = OptionalSecret::new(token.secret.expose_secret());
    Ok(TovutiClient::from_config(&settings)?)
}
