//! Signing in with an admin token (a failure counts against the same per-address limit
//! as the admin API's) and signing out (the session ends on the server).

use std::sync::Arc;

use axum::Extension;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::Console;
use super::form::Form;
use super::session::{Session, cookie_id, cross_site, over_tls, set_cookie};
use crate::http::admin::gate::{retry_secs, source_address};

/// The sign-in form.
pub async fn form(Extension(console): Extension<Arc<Console>>) -> Response {
    page(&console, StatusCode::OK, None)
}

fn page(console: &Console, status: StatusCode, problem: Option<&str>) -> Response {
    let context = minijinja::context! { title => "Sign in", problem };
    console.pages.render(status, "sign_in.html", context)
}

/// Checks the token; a good one opens a session and goes to the overview.
pub async fn sign_in(Extension(console): Extension<Arc<Console>>, request: Request) -> Response {
    let address = source_address(&request);
    if let Some(wait) = console.failures.blocked_for(address) {
        let mut response = page(
            &console,
            StatusCode::TOO_MANY_REQUESTS,
            Some("Too many failed sign-ins from this address; wait a minute and try again."),
        );
        if let Ok(value) = HeaderValue::from_str(&retry_secs(wait).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    if cross_site(request.headers()) {
        return page(
            &console,
            StatusCode::FORBIDDEN,
            Some("This sign-in was posted from another site."),
        );
    }
    let secure = over_tls(request.headers(), request.uri().scheme_str());
    let Ok(body) = axum::body::to_bytes(request.into_body(), super::FORM_LIMIT).await else {
        return page(
            &console,
            StatusCode::PAYLOAD_TOO_LARGE,
            Some("The form is too large."),
        );
    };
    let caller = Form::parse(&body)
        .get("token")
        .and_then(|token| console.tokens.caller(token));
    let Some(caller) = caller else {
        tracing::debug!("console: a sign-in failed");
        if console.failures.failed(address) {
            tracing::warn!(%address, "console: too many failed sign-ins; address blocked for a while");
        }
        return page(
            &console,
            StatusCode::UNAUTHORIZED,
            Some("That token is not an admin token of this service."),
        );
    };
    let id = match console.sessions.open(&caller).await {
        Ok(id) => id,
        Err(error) => {
            tracing::error!(%error, "console: a session could not be stored");
            return page(
                &console,
                StatusCode::SERVICE_UNAVAILABLE,
                Some("The service cannot store a session right now; try again shortly."),
            );
        }
    };
    tracing::info!(token_id = %caller.token_id, "console: signed in");
    with_cookie(super::see_other("/console"), &set_cookie(Some(&id), secure))
}

/// Ends the session on the server and clears the cookie.
pub async fn sign_out(
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
    request: Request<axum::body::Body>,
) -> Response {
    if let Some(id) = cookie_id(request.headers())
        && let Err(error) = console.sessions.revoke(&id).await
    {
        // Saying so beats clearing the cookie: the session would live on elsewhere.
        tracing::error!(%error, "console: a session could not be ended");
        let message = "The service could not end your session; try again shortly.";
        return super::render::failure(
            &console,
            StatusCode::SERVICE_UNAVAILABLE,
            Some(&session),
            message,
        );
    }
    tracing::info!(token_id = %session.caller.token_id, "console: signed out");
    let secure = over_tls(request.headers(), request.uri().scheme_str());
    with_cookie(
        super::see_other("/console/sign-in"),
        &set_cookie(None, secure),
    )
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    match HeaderValue::from_str(cookie) {
        Ok(value) => {
            response.headers_mut().insert(header::SET_COOKIE, value);
            response
        }
        Err(_) => failure_plain(),
    }
}

fn failure_plain() -> Response {
    use axum::response::IntoResponse as _;
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}
