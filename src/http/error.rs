//! The one error envelope of the service's own API: `application/problem+json`
//! (RFC 9457) with type, title, status and detail. 5xx bodies carry no internals.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error answered to a client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// 401: missing or invalid credentials or signature.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the credentials are valid but do not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such resource.
    #[error("{0}")]
    NotFound(String),
    /// 409: the resource is in a state that does not allow this now.
    #[error("{0}")]
    Conflict(String),
    /// 422: the request is well formed but its content does not validate.
    #[error("{0}")]
    Unprocessable(String),
    /// 413: the body is larger than `server.body_limit_bytes`.
    #[error("the request body is larger than the limit")]
    PayloadTooLarge,
    /// 415: the body is not of an accepted type.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 429 + Retry-After: come back later (GHL only redelivers on 429).
    #[error("{detail}")]
    Throttled {
        detail: String,
        retry_after: Duration,
    },
    /// 503: not ready to serve.
    #[error("{0}")]
    Unavailable(String),
    /// 500: a bug or an unexpected failure; logged, never described to the client.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

#[derive(Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
}

impl ApiError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// A problem response for `status` with `detail`.
pub fn problem(status: StatusCode, detail: impl Into<String>) -> Response {
    let body = Problem {
        kind: "about:blank",
        title: status.canonical_reason().unwrap_or("Error"),
        status: status.as_u16(),
        detail: detail.into(),
    };
    let mut response = (status, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match self {
            Self::Internal(error) => {
                // Logged once, here, with the whole cause chain; the client learns nothing.
                tracing::error!(error = format!("{error:#}"), "request failed");
                problem(status, "an internal error occurred")
            }
            Self::Throttled {
                detail,
                retry_after,
            } => {
                let mut response = problem(status, detail);
                let seconds = retry_after.as_secs().max(1).to_string();
                if let Ok(value) = HeaderValue::from_str(&seconds) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
                response
            }
            other => problem(status, other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn internal_errors_hide_their_cause() {
        let response =
            ApiError::Internal(anyhow::anyhow!("password=hunter2 in a query")).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        assert!(!String::from_utf8_lossy(&body).contains("hunter2"));
    }

    #[test]
    fn throttled_carries_retry_after() {
        let error = ApiError::Throttled {
            detail: "busy".into(),
            retry_after: Duration::from_secs(30),
        };
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "30");
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }
}
