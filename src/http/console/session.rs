//! Console sessions as a request meets them: the cookie (`HttpOnly`, `SameSite=Strict`)
//! carrying a session's random id, the CSRF and Origin checks, and the guard that admits a
//! request of a live session. The sessions themselves are kept in the database
//! (`store.rs`), so every replica honours them.
//! The guard also checks every POST's CSRF token and refuses a read-only session's
//! changes, so no handler can forget either.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::form::Form;
use super::render::failure;
use super::{Console, FORM_LIMIT};
use crate::http::admin::{Access, Caller};

/// The cookie carrying the session id.
pub const SESSION_COOKIE: &str = "bridge_console";
/// Longest a session lasts, however busy.
pub const LIFETIME: Duration = Duration::from_secs(8 * 3600);
/// A session unused this long ends.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// One signed-in operator, as handlers see it.
#[derive(Debug, Clone)]
pub struct Session {
    pub caller: Caller,
    /// Sent back in every form; a POST without it is refused.
    pub csrf: String,
}

impl Session {
    pub fn can_write(&self) -> bool {
        self.caller.access == Access::Full
    }
}

/// The session id the request's cookie carries.
pub fn cookie_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
}

/// Whether the request reached the service (or the proxy in front of it) over TLS.
pub fn over_tls(request_headers: &HeaderMap, scheme: Option<&str>) -> bool {
    scheme == Some("https")
        || request_headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// The `Set-Cookie` value for `id` (`None`: one that clears the cookie).
pub fn set_cookie(id: Option<&str>, secure: bool) -> String {
    let (value, age) = match id {
        Some(id) => (id, LIFETIME.as_secs()),
        None => ("", 0),
    };
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/console; Max-Age={age}{secure}"
    )
}

/// Whether a form post came from another site, as the browser tells: an `Origin` that
/// is not this host. Browsers send `Origin` on every POST; a post without one (a tool
/// such as curl) is judged by its session and CSRF token alone.
pub fn cross_site(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(header::HOST))
        .and_then(|v| v.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    match (origin_host, host) {
        (Some(origin_host), Some(host)) => !origin_host.eq_ignore_ascii_case(host),
        _ => true,
    }
}

/// Admits a request of a live session: a page request without one is sent to sign in; a
/// POST must carry the session's CSRF token (403 without it), and one from a read-only
/// session is refused (403) unless it signs out. The session (and a POST's form) travel
/// on in the request's extensions.
pub async fn guard(State(console): State<Arc<Console>>, request: Request, next: Next) -> Response {
    let found = match cookie_id(request.headers()) {
        Some(id) => console.sessions.touch(&id).await,
        None => Ok(None),
    };
    let found = match found {
        Ok(found) => found,
        Err(error) => {
            tracing::error!(%error, "console: the session store failed");
            let message = "The service cannot read its sessions right now; try again shortly.";
            return failure(&console, StatusCode::SERVICE_UNAVAILABLE, None, message);
        }
    };
    let Some(session) = found else {
        if request.method() == Method::GET || request.method() == Method::HEAD {
            return super::see_other("/console/sign-in");
        }
        return failure(
            &console,
            StatusCode::FORBIDDEN,
            None,
            "Your session has ended; sign in again.",
        );
    };
    if request.method() != Method::POST {
        let mut request = request;
        request.extensions_mut().insert(session);
        return next.run(request).await;
    }
    if cross_site(request.headers()) {
        return failure(
            &console,
            StatusCode::FORBIDDEN,
            Some(&session),
            "This form was posted from another site.",
        );
    }
    let (mut parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else {
        return failure(
            &console,
            StatusCode::PAYLOAD_TOO_LARGE,
            Some(&session),
            "The form is too large.",
        );
    };
    let form = Form::parse(&bytes);
    if !form.csrf_matches(&session.csrf) {
        tracing::debug!("console: a form was posted without its CSRF token");
        return failure(
            &console,
            StatusCode::FORBIDDEN,
            Some(&session),
            "This form is out of date or did not come from the console. Reload the page and try again.",
        );
    }
    if !session.can_write() && parts.uri.path() != "/console/sign-out" {
        return failure(
            &console,
            StatusCode::FORBIDDEN,
            Some(&session),
            "You signed in with a read-only token: it may look but not change anything.",
        );
    }
    parts.extensions.insert(session);
    parts.extensions.insert(form);
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The service's address as the browser reached it, for the webhook URLs to paste.
pub fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(header::HOST))
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost:8080");
    let scheme = if over_tls(headers, None) {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_post_from_another_origin_is_cross_site() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, value.parse().unwrap());
            }
            map
        };
        let host = ("host", "bridge.example:8080");
        assert!(!cross_site(&headers(&[host])));
        assert!(!cross_site(&headers(&[
            host,
            ("origin", "http://bridge.example:8080")
        ])));
        assert!(cross_site(&headers(&[
            host,
            ("origin", "https://evil.example")
        ])));
        assert!(cross_site(&headers(&[host, ("origin", "null")])));
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_only_over_tls() {
        let plain = set_cookie(Some("x"), false);
        assert!(plain.contains("HttpOnly; SameSite=Strict; Path=/console"));
        assert!(!plain.contains("Secure"));
        assert!(set_cookie(Some("x"), true).ends_with("; Secure"));
        assert!(set_cookie(None, false).contains("Max-Age=0"));
    }
}
