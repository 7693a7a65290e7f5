//! The audit log's listing.

use super::cursor::Kind;
use super::{Page, page_of};
use crate::store::{AuditEntry, AuditQuery, Store, StoreResult};

/// One page of the audit entries `query` matches, newest first.
pub async fn list(store: &dyn Store, query: &AuditQuery) -> StoreResult<Page<AuditEntry>> {
    let mut fetch = query.clone();
    fetch.limit = query.limit.saturating_add(1);
    let rows = store.audit_entries(&fetch).await?;
    Ok(page_of(rows, query.limit, Kind::Audit, |e| e.seq))
}
