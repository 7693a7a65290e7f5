//! The console's templates (embedded in the binary, HTML-escaped by default), its
//! stylesheet and script, and the error page.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse as _, Response};
use minijinja::Environment;
use serde::Serialize;

use super::Console;
use super::session::Session;

/// The templates, by name.
const TEMPLATES: [(&str, &str); 13] = [
    ("base.html", include_str!("templates/base.html")),
    ("sign_in.html", include_str!("templates/sign_in.html")),
    ("error.html", include_str!("templates/error.html")),
    ("overview.html", include_str!("templates/overview.html")),
    ("connection.html", include_str!("templates/connection.html")),
    (
        "new_connection.html",
        include_str!("templates/new_connection.html"),
    ),
    ("events.html", include_str!("templates/events.html")),
    ("event.html", include_str!("templates/event.html")),
    ("replay.html", include_str!("templates/replay.html")),
    ("audit.html", include_str!("templates/audit.html")),
    ("mapping.html", include_str!("templates/mapping.html")),
    ("remove.html", include_str!("templates/remove.html")),
    ("backfills.html", include_str!("templates/backfills.html")),
];

const STYLESHEET: &str = include_str!("assets/console.css");
const SCRIPT: &str = include_str!("assets/console.js");

pub struct Pages {
    env: Environment<'static>,
}

/// Who is signed in, as every page shows it.
#[derive(Serialize)]
pub struct Me<'a> {
    pub token_id: &'a str,
    pub can_write: bool,
    pub csrf: &'a str,
}

impl<'a> Me<'a> {
    pub fn of(session: &'a Session) -> Self {
        Self {
            token_id: &session.caller.token_id,
            can_write: session.can_write(),
            csrf: &session.csrf,
        }
    }
}

impl Pages {
    pub fn new() -> Self {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            // The templates are part of the binary and covered by tests: one that does
            // not parse is a build defect, reported on first render.
            if let Err(error) = env.add_template(name, source) {
                tracing::error!(template = name, %error, "a console template does not parse");
            }
        }
        Self { env }
    }

    /// `name` rendered with `context`, answered with `status`.
    pub fn render(&self, status: StatusCode, name: &str, context: impl Serialize) -> Response {
        let rendered = self
            .env
            .get_template(name)
            .and_then(|template| template.render(context));
        match rendered {
            Ok(html) => (status, Html(html)).into_response(),
            Err(error) => {
                tracing::error!(template = name, %error, "a console page failed to render");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Html("<!doctype html><title>Error</title><p>The page failed to render.</p>"),
                )
                    .into_response()
            }
        }
    }
}

/// An error page: `message` for a person, with the navigation when signed in.
pub fn failure(
    console: &Console,
    status: StatusCode,
    session: Option<&Session>,
    message: &str,
) -> Response {
    let context = minijinja::context! {
        me => session.map(Me::of),
        title => status.canonical_reason().unwrap_or("Error"),
        status => status.as_u16(),
        message,
    };
    console.pages.render(status, "error.html", context)
}

pub async fn stylesheet() -> Response {
    asset(STYLESHEET, "text/css; charset=utf-8")
}

pub async fn script() -> Response {
    asset(SCRIPT, "text/javascript; charset=utf-8")
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

/// The page for an operation's failure: its own words for a 4xx or a 503, nothing of
/// the cause for a 500 (which is logged).
pub fn refused(console: &Console, session: &Session, error: crate::http::ApiError) -> Response {
    let status = error.status();
    let message = match error {
        crate::http::ApiError::Internal(cause) => {
            tracing::error!(error = %format!("{cause:#}"), "console: an operation failed");
            "An internal error occurred; the service's log has the details.".to_owned()
        }
        other => other.to_string(),
    };
    failure(console, status, Some(session), &message)
}
