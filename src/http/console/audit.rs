//! `/console/audit`: the audit log, newest first, filtered by connection, action and time,
//! 50 entries a page with a link to older ones; the same listing as `GET /api/v1/audit`.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::Console;
use super::form::Form;
use super::render::{Me, refused};
use super::session::Session;
use super::when::{self, TimeField};
use crate::admin::Page;
use crate::admin::views::AuditView;
use crate::http::ApiError;
use crate::http::AppState;
use crate::http::admin::params::{AUDIT_PARAMS, Params, audit_query};
use crate::http::admin::store_failed;

/// The filter fields the page offers.
const FILTERS: &[&str] = &["connection", "action", "since", "until"];

/// The filter as the form shows it again.
#[derive(Debug, Default, Serialize)]
struct Filter {
    connection: String,
    action: String,
    since: TimeField,
    until: TimeField,
}

/// One entry as the page lists it: the detail as compact JSON (field names, counts,
/// fingerprints; never a value or a secret).
#[derive(Debug, Serialize)]
struct Row {
    #[serde(flatten)]
    entry: AuditView,
    detail_text: String,
}

/// The audit page.
pub async fn list(
    State(state): State<AppState>,
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
    RawQuery(raw): RawQuery,
) -> Response {
    let form = when::normalized(&Form::parse(raw.unwrap_or_default().as_bytes()));
    let filter = Filter {
        connection: form.text("connection").unwrap_or_default(),
        action: form.text("action").unwrap_or_default(),
        since: when::field(&form, "since"),
        until: when::field(&form, "until"),
    };
    let mut names = FILTERS.to_vec();
    names.push("cursor");
    let page = match audit_page(&state, &form.query(&names)).await {
        Ok(page) => page,
        Err(error) if error.status().is_client_error() => {
            let context = minijinja::context! {
                me => Me::of(&session), title => "Audit log", nav => "audit", filter,
                problem => error.to_string(), items => Vec::<Row>::new(),
            };
            return console.pages.render(error.status(), "audit.html", context);
        }
        Err(error) => return refused(&console, &session, error),
    };
    let next = page.next.map(|cursor| {
        let mut pairs: Vec<(&str, String)> = FILTERS
            .iter()
            .filter_map(|name| form.text(name).map(|v| (*name, v)))
            .collect();
        pairs.push(("cursor", cursor));
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    });
    let context = minijinja::context! {
        me => Me::of(&session), title => "Audit log", nav => "audit", filter,
        items => page.items, next,
    };
    console.pages.render(StatusCode::OK, "audit.html", context)
}

async fn audit_page(state: &AppState, query: &str) -> Result<Page<Row>, ApiError> {
    let params = Params::parse(Some(query), AUDIT_PARAMS)?;
    let query = audit_query(&params)?;
    let page = crate::admin::audit::list(state.store.as_ref(), &query)
        .await
        .map_err(store_failed)?;
    Ok(page.map(|entry| {
        let entry = AuditView::from(&entry);
        let detail_text = match &entry.detail {
            serde_json::Value::Object(map) if map.is_empty() => String::new(),
            detail => detail.to_string(),
        };
        Row { entry, detail_text }
    }))
}
