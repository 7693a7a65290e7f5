//! The downstream requests made while one event is processed, for its event log.
//!
//! A task-local journal rather than a parameter: the platform clients are called from
//! many places, and only the worker cares to collect what they sent. Outside a journal
//! scope, noting a request does nothing.

use std::cell::RefCell;
use std::future::Future;

use serde::Serialize;

/// One request as the event log keeps it: no headers, no bodies (they may carry
/// credentials or personal data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestEntry {
    /// `ghl` or `tovuti`.
    pub platform: &'static str,
    pub method: String,
    /// The path without the query (a query can carry an email address).
    pub path: String,
    /// The HTTP status, or `timeout` / `connection`.
    pub outcome: String,
    /// GHL's trace id, when the answer carried one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    pub duration_ms: u64,
}

tokio::task_local! {
    static JOURNAL: RefCell<Vec<RequestEntry>>;
}

/// Runs `work`, collecting the requests it notes; returns its output and the requests.
pub async fn collect<F: Future>(work: F) -> (F::Output, Vec<RequestEntry>) {
    JOURNAL
        .scope(RefCell::new(Vec::new()), async move {
            let output = work.await;
            let entries = JOURNAL.with(|j| j.take());
            (output, entries)
        })
        .await
}

/// Notes one request in the current journal, if there is one.
pub fn note(entry: RequestEntry) {
    let _ = JOURNAL.try_with(|j| j.borrow_mut().push(entry));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> RequestEntry {
        RequestEntry {
            platform: "ghl",
            method: "GET".into(),
            path: path.into(),
            outcome: "200".into(),
            trace_id: None,
            duration_ms: 1,
        }
    }

    #[tokio::test]
    async fn each_scope_collects_only_its_own_requests() {
        let a = collect(async {
            note(entry("/a"));
            tokio::task::yield_now().await;
            note(entry("/a2"));
        });
        let b = collect(async { note(entry("/b")) });
        let ((_, in_a), (_, in_b)) = tokio::join!(a, b);
        assert_eq!(
            in_a.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(),
            ["/a", "/a2"]
        );
        assert_eq!(in_b.len(), 1);
        note(entry("/outside")); // no scope: ignored, no panic
    }
}
