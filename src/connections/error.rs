//! What a connection operation can fail with, one variant per HTTP answer it will get.

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// No such connection (or secret): 404.
    #[error("not found: {0}")]
    NotFound(String),
    /// The id or the GHL location is already another connection's: 409.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The input does not validate; the text says which field and why: 422.
    #[error("invalid: {0}")]
    Invalid(String),
    /// The input names something on the service it cannot use (a mapping file that is
    /// missing or does not validate): 409.
    #[error("{0}")]
    Unusable(String),
    /// The `default` connection comes from the configuration and is changed there: 409.
    #[error("the default connection is set by the configuration and cannot be changed here")]
    ReadOnly,
    /// The store failed (unavailable, no encryption key, ...): 503 or 500.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ConnectionError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => Self::NotFound(what),
            StoreError::Conflict(what) => Self::Conflict(what),
            other => Self::Store(other),
        }
    }
}

pub type ConnectionResult<T> = Result<T, ConnectionError>;
