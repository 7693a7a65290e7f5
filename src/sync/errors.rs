//! Why an action failed, decided once: the worker retries, waits without spending an
//! attempt (rate limit, re-authorisation), or parks the event as dead.

use std::time::Duration;

use super::ProcessError;
use crate::platforms::ErrorClass;
use crate::platforms::ghl::client::GhlError;
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
            // 401 after the client already refreshed (or a static token): a person must act.
            Self::Ghl(e) if e.class() == ErrorClass::Unauthorized => ProcessError::Wait {
                until: now.plus(REAUTH_WAIT),
                reason: text,
            },
            Self::Ghl(e) => by_class(e.class(), text, now),
            Self::Tovuti(e) => by_class(e.class(), text, now),
            Self::Permanent(_) => ProcessError::Permanent(text),
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

/// A platform failure by its class. A Tovuti 401 is dead rather than waiting: its token is
/// static, so nothing re-authorises it by itself and a replay follows the fix.
fn by_class(class: ErrorClass, text: String, now: Millis) -> ProcessError {
    match class {
        // A 429 that outlasted the client's own waits: not a failure of this event.
        ErrorClass::RateLimited { retry_after } => ProcessError::Wait {
            until: now.plus(retry_after.unwrap_or(RATE_LIMIT_WAIT)),
            reason: text,
        },
        ErrorClass::Retryable => ProcessError::Retryable(text),
        ErrorClass::NeedsReauth => ProcessError::Wait {
            until: now.plus(REAUTH_WAIT),
            reason: text,
        },
        ErrorClass::Unauthorized
        | ErrorClass::Forbidden
        | ErrorClass::NotFound
        | ErrorClass::Duplicate
        | ErrorClass::Undecodable
        | ErrorClass::Permanent => ProcessError::Permanent(text),
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
    fn a_ghl_rate_limit_waits_as_long_as_ghl_asked() {
        let limited =
            GhlError::from_answer("contacts.update", 429, Some(Duration::from_secs(30)), b"{}");
        assert!(matches!(
            SyncError::Ghl(limited).into_process_error(NOW),
            ProcessError::Wait { until, .. } if until == Millis(1_030_000)
        ));
        let unnamed = GhlError::from_answer("contacts.update", 429, None, b"{}");
        assert!(matches!(
            SyncError::Ghl(unnamed).into_process_error(NOW),
            ProcessError::Wait { until, .. } if until == NOW.plus(RATE_LIMIT_WAIT)
        ));
    }

    #[test]
    fn a_ghl_401_waits_for_a_person_and_a_tovuti_401_is_dead() {
        let ghl = GhlError::from_answer("contacts.get", 401, None, b"{}");
        assert!(matches!(
            SyncError::Ghl(ghl).into_process_error(NOW),
            ProcessError::Wait { until, .. } if until == NOW.plus(REAUTH_WAIT)
        ));
        assert!(matches!(
            status(401, None).into_process_error(NOW),
            ProcessError::Permanent(_)
        ));
        let forbidden = GhlError::from_answer("contacts.get", 403, None, b"{}");
        assert!(matches!(
            SyncError::Ghl(forbidden).into_process_error(NOW),
            ProcessError::Permanent(_)
        ));
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
