//! One classification of a failed call to GHL or Tovuti, shared by both clients, so the
//! sync engine, the poller and the checks decide from it rather than from raw statuses.

use std::time::Duration;

/// How a caller should treat a failed platform call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Timeout, broken exchange, no connection, 408, 5xx, an outcome unknown: try again
    /// later.
    Retryable,
    /// 429: try again once the wait the platform asked for (when it named one) is over.
    RateLimited { retry_after: Option<Duration> },
    /// 401: the credentials were not accepted.
    Unauthorized,
    /// 403: the credentials lack a scope or access to this account.
    Forbidden,
    /// The connection must be authorised again by a person (a refresh was refused).
    NeedsReauth,
    /// 404: the record is gone.
    NotFound,
    /// 409, or (GHL) a 400/422 naming the existing record.
    Duplicate,
    /// An answer that did not decode: a truncated body or a proxy's error page. A read
    /// may try again; a write is not retried blind.
    Undecodable,
    /// Any other 4xx, or nothing to call: trying again will not help.
    Permanent,
}

impl ErrorClass {
    /// The class of a non-2xx answer, by its status alone.
    pub fn of_status(status: u16, retry_after: Option<Duration>) -> Self {
        match status {
            429 => Self::RateLimited { retry_after },
            408 | 500..=599 => Self::Retryable,
            401 => Self::Unauthorized,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            409 => Self::Duplicate,
            _ => Self::Permanent,
        }
    }

    /// Whether the same call may succeed later without anyone acting.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Retryable | Self::RateLimited { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_one_class_each() {
        let wait = Some(Duration::from_secs(7));
        let cases = [
            (408, ErrorClass::Retryable),
            (500, ErrorClass::Retryable),
            (502, ErrorClass::Retryable),
            (599, ErrorClass::Retryable),
            (429, ErrorClass::RateLimited { retry_after: wait }),
            (401, ErrorClass::Unauthorized),
            (403, ErrorClass::Forbidden),
            (404, ErrorClass::NotFound),
            (409, ErrorClass::Duplicate),
            (400, ErrorClass::Permanent),
            (410, ErrorClass::Permanent),
            (422, ErrorClass::Permanent),
        ];
        for (status, class) in cases {
            assert_eq!(
                ErrorClass::of_status(status, wait),
                class,
                "status {status}"
            );
        }
    }

    #[test]
    fn only_transient_classes_are_retryable() {
        let retryable = [
            ErrorClass::Retryable,
            ErrorClass::RateLimited { retry_after: None },
        ];
        let final_ = [
            ErrorClass::Unauthorized,
            ErrorClass::Forbidden,
            ErrorClass::NeedsReauth,
            ErrorClass::NotFound,
            ErrorClass::Duplicate,
            ErrorClass::Undecodable,
            ErrorClass::Permanent,
        ];
        assert!(retryable.iter().all(|c| c.is_retryable()));
        assert!(final_.iter().all(|c| !c.is_retryable()));
    }
}
