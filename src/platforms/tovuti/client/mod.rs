//! What the sync engine needs from Tovuti's REST API, as a trait: an HTTP client
//! implements it against a tenant (or the sandbox), tests may use any fake.
//!
//! Tovuti documents little: users are read and written
//! as whole objects at `/user/{id}`, created with `POST /user`; enrollment and groups
//! are arrays on the user, so the engine reads, merges and writes them back.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;
use serde_json::{Map, Value};

use super::payloads::User;
use crate::platforms::ErrorClass;
use crate::platforms::replay::status_may_follow_effect;

mod answer;
mod body;
mod catalog;
mod http;
#[cfg(test)]
mod http_tests;
mod lenient;
mod list_items;
mod lists;
#[cfg(test)]
mod lists_tests;

pub use catalog::{CatalogItem, CatalogKind, CatalogPaths, TovutiCatalog};
pub use http::{DEFAULT_TIMEOUT, TovutiClient};
pub use lists::{Award, CourseProgress, Page, PageRequest, TovutiLists};

/// A write to a Tovuti user: only the parts that are `Some` (or non-empty `core`) are sent.
#[derive(Debug, Clone, Default)]
pub struct UserWrite {
    /// Core fields by their API name (`name`, `email`, `username`, `status`, `requireReset`).
    pub core: BTreeMap<String, Value>,
    /// The whole `customFields` array (Tovuti may need every field on PATCH).
    pub custom_fields: Option<Vec<Map<String, Value>>>,
    pub user_group_ids: Option<Vec<u64>>,
    pub enrolled_course_ids: Option<Vec<u64>>,
    /// Only on create: a random password the learner resets on first login.
    pub password: Option<SecretString>,
}

/// Why a Tovuti call failed. Display texts never include credentials or bodies with
/// personal data; `Status` keeps a short, redacted excerpt of the answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TovutiError {
    #[error("Tovuti answered {status} on {endpoint}: {detail}")]
    Status {
        endpoint: &'static str,
        status: u16,
        detail: String,
        retry_after: Option<Duration>,
        /// The request paths a validation answer refused, like `customFields.2.field_id`,
        /// `userGroupIds.1` or `username` (names and positions in the body, never values).
        invalid: Vec<String>,
    },
    /// The request went out and no answer came in time.
    #[error("Tovuti did not answer {endpoint} in time")]
    Timeout { endpoint: &'static str },
    /// The exchange broke after the request went out (reset, connection closed).
    #[error("the exchange with Tovuti for {endpoint} broke: {detail}")]
    Connection {
        endpoint: &'static str,
        detail: String,
    },
    /// Nothing was sent: no connection could be made, or the client is misconfigured.
    #[error("could not reach Tovuti for {endpoint}: {detail}")]
    Unreachable {
        endpoint: &'static str,
        detail: String,
    },
    /// A create met a failure after it may have reached Tovuti, which may have made the
    /// record: the caller looks it up before creating again.
    #[error("outcome unknown: Tovuti may have applied {endpoint} ({detail})")]
    OutcomeUnknown {
        endpoint: &'static str,
        detail: String,
    },
    #[error("Tovuti's answer to {endpoint} was not understood: {detail}")]
    Decode {
        endpoint: &'static str,
        detail: String,
    },
    #[error("no Tovuti API is configured for this connection")]
    NotConfigured,
}

impl TovutiError {
    /// How a caller should treat it (the classification GHL's errors share).
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Status {
                status,
                retry_after,
                ..
            } => ErrorClass::of_status(*status, *retry_after),
            Self::Timeout { .. }
            | Self::Connection { .. }
            | Self::Unreachable { .. }
            | Self::OutcomeUnknown { .. } => ErrorClass::Retryable,
            Self::Decode { .. } => ErrorClass::Undecodable,
            Self::NotConfigured => ErrorClass::Permanent,
        }
    }

    /// Worth trying again later: timeouts, connection trouble, 408, 429, 5xx and an
    /// unknown outcome.
    pub fn is_retryable(&self) -> bool {
        self.class().is_retryable()
    }

    /// Whether Tovuti may have acted on the request although this came back: the request
    /// went out and nothing says it was refused (see [`status_may_follow_effect`]).
    pub fn may_have_applied(&self) -> bool {
        match self {
            Self::Status { status, .. } => status_may_follow_effect(*status),
            Self::Timeout { .. } | Self::Connection { .. } | Self::OutcomeUnknown { .. } => true,
            Self::Unreachable { .. } | Self::Decode { .. } | Self::NotConfigured => false,
        }
    }

    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, Self::OutcomeUnknown { .. })
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// How long Tovuti asked us to wait (429), when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// The user operations the sync engine performs.
#[async_trait]
pub trait TovutiApi: Send + Sync {
    /// `GET /user/{id}`; `Ok(None)` when Tovuti says there is no such user.
    async fn get_user(&self, id: u64) -> Result<Option<User>, TovutiError>;
    /// Looks a user up by email (case-insensitive), for identity matching.
    async fn find_user_by_email(&self, email: &str) -> Result<Option<User>, TovutiError>;
    /// `POST /user`, sent once: a failure after which the user may exist is
    /// [`TovutiError::OutcomeUnknown`], and the caller looks the user up before trying again.
    async fn create_user(&self, user: &UserWrite) -> Result<User, TovutiError>;
    /// `PATCH /user/{id}` with the given parts; returns the user as Tovuti now has it.
    async fn update_user(&self, id: u64, write: &UserWrite) -> Result<User, TovutiError>;
    /// One catalog list (custom fields, groups, courses); `None` when this client cannot
    /// read catalogs, so writes go as planned.
    async fn catalog(&self, _kind: CatalogKind) -> Option<Result<Vec<CatalogItem>, TovutiError>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENDPOINT: &str = "user.update";

    fn status(status: u16, retry_after: Option<Duration>) -> TovutiError {
        TovutiError::Status {
            endpoint: ENDPOINT,
            status,
            detail: "x".into(),
            retry_after,
            invalid: Vec::new(),
        }
    }

    #[test]
    fn answers_are_classified_by_status_with_the_wait_tovuti_asked_for() {
        let wait = Some(Duration::from_secs(3));
        assert_eq!(
            status(429, wait).class(),
            ErrorClass::RateLimited { retry_after: wait }
        );
        assert_eq!(status(503, None).class(), ErrorClass::Retryable);
        assert_eq!(status(401, None).class(), ErrorClass::Unauthorized);
        assert_eq!(status(403, None).class(), ErrorClass::Forbidden);
        assert_eq!(status(404, None).class(), ErrorClass::NotFound);
        assert_eq!(status(422, None).class(), ErrorClass::Permanent);
    }

    #[test]
    fn transport_failures_are_retryable_and_an_unreadable_answer_is_not() {
        let detail = || "reset".to_owned();
        let retryable = [
            TovutiError::Timeout { endpoint: ENDPOINT },
            TovutiError::Connection {
                endpoint: ENDPOINT,
                detail: detail(),
            },
            TovutiError::Unreachable {
                endpoint: ENDPOINT,
                detail: detail(),
            },
            TovutiError::OutcomeUnknown {
                endpoint: ENDPOINT,
                detail: detail(),
            },
        ];
        for error in retryable {
            assert_eq!(error.class(), ErrorClass::Retryable, "{error}");
            assert!(error.is_retryable());
        }
        let decode = TovutiError::Decode {
            endpoint: ENDPOINT,
            detail: detail(),
        };
        assert_eq!(decode.class(), ErrorClass::Undecodable);
        assert!(!decode.is_retryable());
        assert_eq!(TovutiError::NotConfigured.class(), ErrorClass::Permanent);
    }
}
