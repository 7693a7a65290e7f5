//! The audit log: `audit` records one entry (every mutating admin call makes one, and so
//! does a read of personal data), and `GET /api/v1/audit` lists them.

use axum::Json;
use axum::extract::{RawQuery, State};

use super::auth::Caller;
use super::params::{AUDIT_PARAMS, Params, audit_query};
use super::store_failed;
use crate::admin::Page;
use crate::admin::views::AuditView;
use crate::http::ApiError;
use crate::http::AppState;
use crate::store::{Millis, NewAuditEntry};

/// Records that `who` did `action` (e.g. `event.replay`) to `target` of `connection`,
/// with `detail` (a JSON object; never a secret or personal data). Call it from the
/// handler of every mutating admin route, after the change and before answering; an
/// error answers 500/503, so a change is never reported done without its entry.
pub async fn audit(
    state: &AppState,
    who: &Caller,
    action: &str,
    connection: Option<&str>,
    target: Option<&str>,
    detail: serde_json::Value,
) -> Result<(), ApiError> {
    let entry = NewAuditEntry {
        at: Millis::now(),
        token_id: who.token_id.clone(),
        action: action.to_owned(),
        connection_id: connection.map(str::to_owned),
        target: target.map(str::to_owned),
        detail,
    };
    state.store.record_audit(&entry).await.map_err(store_failed)
}

/// `GET /api/v1/audit`: newest first, filtered by `connection`, `action` and `since`.
pub async fn list(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<AuditView>>, ApiError> {
    let params = Params::parse(raw.as_deref(), AUDIT_PARAMS)?;
    let query = audit_query(&params)?;
    let page = crate::admin::audit::list(state.store.as_ref(), &query)
        .await
        .map_err(store_failed)?;
    Ok(Json(page.map(|entry| AuditView::from(&entry))))
}
