//! What webhook verification hands to the rest of the service, and why it can fail.

use std::ops::Deref;

/// A delivery whose signature and freshness have been checked. Its only constructor is private
/// to `platforms`, so holding a `Verified<T>` proves that a `verify` function ran: a handler
/// cannot store an unverified body by mistake.
#[derive(Debug, Clone)]
pub struct Verified<T>(T);

impl<T> Verified<T> {
    pub(in crate::platforms) fn new(inner: T) -> Self {
        Self(inner)
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Verified<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// Why a delivery was rejected. Texts name headers and reasons only: never the signature, the
/// secret or the body, because they are logged and returned in 401 bodies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("malformed {0}")]
    Malformed(&'static str),
    #[error("signature does not match")]
    Mismatch,
    #[error("timestamp outside the accepted window")]
    Stale,
}

/// Why a configured key or secret could not be loaded (startup only).
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{what} is neither PEM nor base64")]
    Encoding { what: &'static str },
    #[error("{what} is not a valid key: {reason}")]
    Invalid { what: &'static str, reason: String },
}
