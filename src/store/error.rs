//! The store's error type, classified once so callers decide from the variant.

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or is too busy; the caller should ask for a retry
    /// (a webhook gets 429 + Retry-After).
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// Credentials must be stored but no encryption key is configured.
    #[error(
        "no encryption key is configured, so credentials cannot be stored; set BRIDGE_ENCRYPTION_KEY \
         (generate one with `tovuti-ghl-bridge keys generate`)"
    )]
    EncryptionKeyMissing,
    /// Stored ciphertext does not open with the configured key.
    #[error("stored credentials cannot be decrypted with the configured key")]
    Decrypt,
    /// The row the caller refers to does not exist, or is not held by the caller.
    #[error("not found: {0}")]
    NotFound(String),
    /// A unique value (a connection id, a GHL location) is already taken.
    #[error("already exists: {0}")]
    Conflict(String),
    /// A stored value is not what this version expects.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// Anything else from the database.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// Anything else from the SQLite inbox writer's connection.
    #[error("database error: {0}")]
    Sqlite(#[source] rusqlite::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        use sqlx::Error as E;
        match &error {
            E::PoolTimedOut | E::PoolClosed | E::Io(_) | E::Tls(_) | E::WorkerCrashed => {
                Self::Unavailable(error.to_string())
            }
            E::Database(db) if is_busy(db.as_ref()) => Self::Unavailable(error.to_string()),
            _ => Self::Database(error),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode as C;
        match error.sqlite_error_code() {
            Some(
                C::DatabaseBusy
                | C::DatabaseLocked
                | C::SystemIoFailure
                | C::DiskFull
                | C::CannotOpen
                | C::OutOfMemory,
            ) => Self::Unavailable(error.to_string()),
            _ => Self::Sqlite(error),
        }
    }
}

/// SQLite "database is locked/busy" and PostgreSQL's "too many connections" /
/// "cannot connect now" / admin shutdown are transient.
fn is_busy(db: &dyn sqlx::error::DatabaseError) -> bool {
    let code = db.code().unwrap_or_default();
    matches!(
        code.as_ref(),
        "5" | "6" | "517" | "53300" | "57P01" | "57P02" | "57P03"
    )
}
