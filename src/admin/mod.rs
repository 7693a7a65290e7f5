//! What the admin API and the `events` command share: the event and audit queries, their
//! pages and cursors, the JSON shapes they answer with, and the dead-letter and backlog
//! summaries. One implementation, so the command line and the API never disagree.

pub mod audit;
pub mod cursor;
pub mod events;
pub mod links;
pub mod summary;
pub mod views;

pub use cursor::{Cursor, CursorError};

/// Rows in a page when the caller names no limit.
pub const DEFAULT_LIMIT: u32 = 50;
/// Most rows in one page, whatever the caller asks.
pub const MAX_LIMIT: u32 = 500;

/// One page of a listing and the cursor of the next, if there is more.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

/// Cuts `rows` (fetched with one more than `limit`) to a page; the next cursor comes
/// from the last row kept, and only when a further row proves there is more.
pub fn page_of<T>(
    mut rows: Vec<T>,
    limit: u32,
    kind: cursor::Kind,
    seq: impl Fn(&T) -> i64,
) -> Page<T> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = more
        .then(|| rows.last().map(|row| Cursor::new(kind, seq(row)).encode()))
        .flatten();
    Page { items: rows, next }
}

/// Milliseconds since the epoch as RFC 3339, how every instant is shown.
pub fn rfc3339(ms: crate::store::Millis) -> String {
    jiff::Timestamp::from_millisecond(ms.0)
        .map(|t| t.to_string())
        .unwrap_or_default()
}
