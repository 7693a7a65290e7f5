//! Why an action failed, decided once: the worker retries, waits without spending an
//! attempt (rate limit, re-authorisation), or parks the event as dead.

use std::time::Duration;

use super::ProcessError;
use crate::platforms::ghl::client::{ErrorClass, GhlError};
use crate::platforms::tovuti::TovutiError;
use crate::store::{Millis, StoreError};

/// How long an event waits for a person to re-authorise its connection before it is
/// looked at again (it is never given up on for that).
pub const REAUTH_WAIT: Duration = Duration::from_secs(15 * 60);
/// How long an event of a paused connection waits before it is looked at again; a
/// resume makes it due at once, so this only bounds the checks while paused.
pub const PAUSE_WAIT: Duration = Duration::from_secs(60 * 60);
/// How long an event waits after a rate limit that named no time.
const RATE_LIMIT_WAIT: Duration = Duration::from_secs(10);

/// A failure while syncing one event.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Ghl(#[from] GhlError),
    #[error(transparent)]
    Tovuti(#[from] TovutiError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The connection cannot sync until a person acts (tokens refused, removed).
    #[error("the connection needs to be authorised again: {0}")]
    NeedsReauth(String),
    /// An operator paused the connection; the event waits for the resume.
    #[error("the connection is paused")]
    Paused,
    /// Nothing will make this event work as it is.
    #[error("{0}")]
    Permanent(String),
}

impl From<crate::connections::runtime::ClientError> for SyncError {
    fn from(error: crate::connections::runtime::ClientError) -> Self {
        use crate::connections::runtime::ClientError;
        match error {
            ClientError::Store(e) => Self::Store(e),
            ClientError::Tovuti(e) => Self::Tovuti(e),
        }
    }
}

impl SyncError {
    /// What the worker should do about it, at `now`.
    pub fn into_process_error(self, now: Millis) -> ProcessError {
        let text = self.to_string();
        match self {
            Self::Ghl(e) if e.is_outcome_unknown() => ProcessError::Unsettled(text),
            Self::Tovuti(e) if e.is_outcome_unknown() => ProcessError::Unsettled(text),
            Self::Ghl(e) => ghl(&e, text, now),
            Self::Tovuti(e) if e.status() == Some(429) => ProcessError::Wait {
                until: now.plus(e.retry_after().unwrap_or(RATE_LIMIT_WAIT)),
                reason: text,
            },
            Self::Tovuti(e) if e.is_retryable() => ProcessError::Retryable(text),
            Self::Tovuti(_) | Self::Permanent(_) => ProcessError::Permanent(text),
            Self::Store(_) => ProcessError::Retryable(text),
            Self::NeedsReauth(_) => ProcessError::Wait {
                until: now.plus(REAUTH_WAIT),
                reason: text,
            },
            Self::Paused => ProcessError::Wait {
                until: now.plus(PAUSE_WAIT),
                reason: text,
            },
        }
    }
}

fn ghl(e: &GhlError, text: String, now: Millis) -> ProcessError {
    match e.class() {
        // A 429 that outlasted the client's own waits: not a failure of this event.
        ErrorClass::Retryable if e.status() == Some(429) => ProcessError::Wait {
            until: now.plus(
                e.failure()
                    .and_then(|f| f.retry_after)
                    .unwrap_or(RATE_LIMIT_WAIT),
            ),
            reason: text,
        },
        ErrorClass::Retryable => ProcessError::Retryable(text),
        ErrorClass::NeedsReauth => ProcessError::Wait {
            until: now.plus(REAUTH_WAIT),
            reason: text,
        },
        // 401 after the client already refreshed (or a static token): a person must act.
        ErrorClass::Auth if e.status() == Some(401) => ProcessError::Wait {
            until: now.plus(REAUTH_WAIT),
            reason: text,
        },
        ErrorClass::Auth | ErrorClass::NotFound | ErrorClass::Duplicate | ErrorClass::Permanent => {
            ProcessError::Permanent(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = Millis(1_000_000);

    fn status(status: u16, retry_after: Option<Duration>) -> SyncError {
        SyncError::Tovuti(TovutiError::Status {
            endpoint: "user.update",
            status,
            detail: "x".into(),
            retry_after,
            invalid: Vec::new(),
        })
    }

    #[test]
    fn tovuti_failures_map_to_retry_wait_or_dead() {
        assert!(matches!(
            status(503, None).into_process_error(NOW),
            ProcessError::Retryable(_)
        ));
        assert_eq!(
            status(429, Some(Duration::from_secs(7))).into_process_error(NOW),
            ProcessError::Wait {
                until: Millis(1_007_000),
                reason: "Tovuti answered 429 on user.update: x".into()
            }
        );
        assert!(matches!(
            status(422, None).into_process_error(NOW),
            ProcessError::Permanent(_)
        ));
    }

    #[test]
    fn a_create_whose_outcome_is_unknown_retries_once_it_has_settled() {
        let lost = GhlError::OutcomeUnknown {
            endpoint: "notes.create",
            cause: Box::new(GhlError::Timeout {
                endpoint: "notes.create",
            }),
        };
        let tovuti = TovutiError::OutcomeUnknown {
            endpoint: "user.create",
            detail: "reset".into(),
        };
        for e in [SyncError::Ghl(lost), SyncError::Tovuti(tovuti)] {
            let processed = e.into_process_error(NOW);
            assert!(
                matches!(&processed, ProcessError::Unsettled(text) if text.contains("outcome unknown")),
                "{processed:?}"
            );
        }
    }

    #[test]
    fn refused_credentials_wait_for_a_person_without_spending_attempts() {
        let e = SyncError::Ghl(GhlError::NeedsReauth("invalid_grant".into()));
        assert!(matches!(
            e.into_process_error(NOW),
            ProcessError::Wait { until, .. } if until == NOW.plus(REAUTH_WAIT)
        ));
    }
}
