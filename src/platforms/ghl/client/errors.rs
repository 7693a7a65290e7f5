//! What can go wrong calling GHL, classified once (as the shared [`ErrorClass`]) so the
//! worker decides from the class: retry, wait, re-authorise, treat as missing, treat as a
//! duplicate, or give up.

use std::time::Duration;

use serde_json::Value;

use crate::platforms::ErrorClass;
use crate::platforms::replay::status_may_follow_effect;

/// Most bytes of a response body kept for the event log.
const KEPT_BODY_BYTES: usize = 2048;

/// JSON keys whose values never leave this module: credentials and personal data.
const REDACTED_KEYS: &[&str] = &[
    "access_token",
    "refresh_token",
    "client_secret",
    "token",
    "email",
    "phone",
    "firstName",
    "lastName",
    "name",
    "contactName",
    "address1",
];

/// A non-2xx answer, with what the event log may keep.
#[derive(Debug, Clone)]
pub struct Failure {
    pub endpoint: &'static str,
    pub status: u16,
    /// GHL's `traceId`, when the answer carried one.
    pub trace_id: Option<String>,
    /// The body, truncated, with credentials and personal data replaced.
    pub body: String,
    /// The existing record GHL named in a duplicate answer (`meta.contactId`).
    pub duplicate_of: Option<String>,
    pub retry_after: Option<Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum GhlError {
    /// The request went out and no answer came in time.
    #[error("GHL did not answer {endpoint} in time")]
    Timeout { endpoint: &'static str },
    /// The exchange broke after the request went out (reset, connection closed).
    #[error("could not exchange {endpoint} with GHL: {detail}")]
    Connection {
        endpoint: &'static str,
        detail: String,
    },
    /// Nothing was sent: no connection could be made (refused, DNS, connect timeout).
    #[error("could not reach GHL for {endpoint}: {detail}")]
    Unreachable {
        endpoint: &'static str,
        detail: String,
    },
    /// A call that must not be sent twice met a failure after it may have reached GHL:
    /// GHL may have applied it. It is not sent again blind; the caller looks up what it
    /// would have made first.
    #[error("outcome unknown: GHL may have applied {endpoint} ({cause})")]
    OutcomeUnknown {
        endpoint: &'static str,
        cause: Box<GhlError>,
    },
    #[error("GHL answered {} to {}: {}", .0.status, .0.endpoint, .0.body)]
    Status(Box<Failure>),
    #[error("GHL's answer to {endpoint} did not decode: {detail}")]
    Decode {
        endpoint: &'static str,
        detail: String,
    },
    /// Refresh refused (`invalid_grant`, location inactive): a person must reconnect.
    #[error("the connection needs to be authorised again: {0}")]
    NeedsReauth(String),
    /// No credentials stored, or the store failed while handling them.
    #[error("credentials unavailable: {0}")]
    Credentials(String),
}

impl GhlError {
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Timeout { .. }
            | Self::Connection { .. }
            | Self::Unreachable { .. }
            | Self::OutcomeUnknown { .. } => ErrorClass::Retryable,
            Self::Status(failure) => classify(failure),
            Self::Decode { .. } => ErrorClass::Undecodable,
            Self::NeedsReauth(_) => ErrorClass::NeedsReauth,
            Self::Credentials(_) => ErrorClass::Retryable,
        }
    }

    pub fn is_retryable(&self) -> bool {
        self.class().is_retryable()
    }

    /// Whether GHL may have acted on the request although this came back: the request
    /// went out and nothing says it was refused (a timeout, a broken exchange, or a
    /// status [`status_may_follow_effect`] names).
    pub fn may_have_applied(&self) -> bool {
        match self {
            Self::Timeout { .. } | Self::Connection { .. } | Self::OutcomeUnknown { .. } => true,
            Self::Status(failure) => status_may_follow_effect(failure.status),
            Self::Unreachable { .. }
            | Self::Decode { .. }
            | Self::NeedsReauth(_)
            | Self::Credentials(_) => false,
        }
    }

    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, Self::OutcomeUnknown { .. })
    }

    /// The HTTP status, when GHL answered.
    pub fn status(&self) -> Option<u16> {
        self.failure().map(|failure| failure.status)
    }

    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Self::Status(failure) => Some(failure),
            Self::OutcomeUnknown { cause, .. } => cause.failure(),
            _ => None,
        }
    }

    pub(crate) fn from_reqwest(endpoint: &'static str, error: &reqwest::Error) -> Self {
        // The URL (with its query) stays out: it can carry an email address.
        let detail = std::error::Error::source(error)
            .map_or_else(|| "transport error".to_owned(), ToString::to_string);
        // A connect error (a connect timeout included) happens before a byte is sent.
        if error.is_connect() {
            return Self::Unreachable { endpoint, detail };
        }
        if error.is_timeout() {
            return Self::Timeout { endpoint };
        }
        Self::Connection { endpoint, detail }
    }

    pub(crate) fn from_answer(
        endpoint: &'static str,
        status: u16,
        retry_after: Option<Duration>,
        body: &[u8],
    ) -> Self {
        let json: Option<Value> = serde_json::from_slice(body).ok();
        let trace_id = json
            .as_ref()
            .and_then(|j| j.get("traceId"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let duplicate_of = json
            .as_ref()
            .and_then(|j| j.pointer("/meta/contactId"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        Self::Status(Box::new(Failure {
            endpoint,
            status,
            trace_id,
            body: redact_body(json, body),
            duplicate_of,
            retry_after,
        }))
    }
}

/// By status, but for GHL's duplicate answers: a 400 or 422 naming the existing record.
fn classify(failure: &Failure) -> ErrorClass {
    match failure.status {
        400 | 422 if reports_duplicate(failure) => ErrorClass::Duplicate,
        status => ErrorClass::of_status(status, failure.retry_after),
    }
}

fn reports_duplicate(failure: &Failure) -> bool {
    failure.duplicate_of.is_some() || failure.body.to_lowercase().contains("duplicate")
}

/// The body as the event log may keep it.
pub(crate) fn redact_body(json: Option<Value>, raw: &[u8]) -> String {
    let text = match json {
        Some(mut value) => {
            redact(&mut value);
            value.to_string()
        }
        None => String::from_utf8_lossy(raw).into_owned(),
    };
    match text.char_indices().nth(KEPT_BODY_BYTES) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                if REDACTED_KEYS.contains(&key.as_str()) && !inner.is_null() {
                    *inner = Value::String("[redacted]".into());
                } else {
                    redact(inner);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> GhlError {
        GhlError::from_answer("contacts.create", status, None, body.as_bytes())
    }

    #[test]
    fn statuses_are_classified_as_the_worker_needs() {
        let cases = [
            (429, ErrorClass::RateLimited { retry_after: None }),
            (503, ErrorClass::Retryable),
            (401, ErrorClass::Unauthorized),
            (403, ErrorClass::Forbidden),
            (404, ErrorClass::NotFound),
            (409, ErrorClass::Duplicate),
            (422, ErrorClass::Permanent),
            (400, ErrorClass::Permanent),
        ];
        for (status, class) in cases {
            assert_eq!(answer(status, "{}").class(), class, "status {status}");
        }
    }

    #[test]
    fn a_429_carries_the_wait_ghl_asked_for() {
        let wait = Some(Duration::from_secs(12));
        let error = GhlError::from_answer("contacts.create", 429, wait, b"{}");
        assert_eq!(error.class(), ErrorClass::RateLimited { retry_after: wait });
        assert!(error.is_retryable());
    }

    #[test]
    fn transport_failures_are_retryable_and_the_rest_are_not() {
        let endpoint = "contacts.create";
        let detail = || "reset".to_owned();
        let retryable = [
            GhlError::Timeout { endpoint },
            GhlError::Connection {
                endpoint,
                detail: detail(),
            },
            GhlError::Unreachable {
                endpoint,
                detail: detail(),
            },
            GhlError::Credentials(detail()),
            GhlError::OutcomeUnknown {
                endpoint,
                cause: Box::new(GhlError::Timeout { endpoint }),
            },
        ];
        for error in retryable {
            assert_eq!(error.class(), ErrorClass::Retryable, "{error}");
        }
        let decode = GhlError::Decode {
            endpoint,
            detail: detail(),
        };
        assert_eq!(decode.class(), ErrorClass::Undecodable);
        let reauth = GhlError::NeedsReauth(detail());
        assert_eq!(reauth.class(), ErrorClass::NeedsReauth);
    }

    #[test]
    fn a_400_naming_the_existing_contact_is_a_duplicate_with_its_id() {
        let body = r#"{"statusCode":400,"message":"This location does not allow duplicated contacts.","meta":{"contactId":"abc","contactName":"Ada L"}}"#;
        let error = answer(400, body);
        assert_eq!(error.class(), ErrorClass::Duplicate);
        assert_eq!(
            error.failure().unwrap().duplicate_of.as_deref(),
            Some("abc")
        );
    }

    #[test]
    fn kept_bodies_hide_tokens_and_personal_data_and_keep_the_trace_id() {
        let body =
            r#"{"traceId":"t-1","access_token":"sekrit","contact":{"email":"a@b.co","id":"x"}}"#;
        let error = answer(500, body);
        let failure = error.failure().unwrap();
        assert_eq!(failure.trace_id.as_deref(), Some("t-1"));
        assert!(!failure.body.contains("sekrit"));
        assert!(!failure.body.contains("a@b.co"));
        assert!(failure.body.contains("\"id\":\"x\""));
        assert!(!error.to_string().contains("sekrit"));
    }
}
