//! Reading Tovuti's paged lists (users, course progress, awards) one page at a time, for
//! the poller and backfill. Tovuti documents no total, so a page shorter than asked for
//! is the last. Paths, parameters and item field names come from the configuration; an
//! item that does not read is counted, never fatal, and its values are never logged.

use async_trait::async_trait;
use reqwest::Method;
use serde_json::Value;

use super::{TovutiClient, TovutiError, list_items};
use crate::platforms::tovuti::payloads::{TovutiId, User};

/// One page to read: 1-based `page`, `page_size` items, optionally only what changed since.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub page_size: u32,
    pub changed_since: Option<jiff::Timestamp>,
}

/// One page read: the items understood, how many items could not be read (skipped, counted),
/// and whether this was the last page (fewer than page_size raw items: Tovuti documents no total).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub unreadable: u32,
    pub last: bool,
}

/// A learner's progress in one course, as `/users/courseProgress` lists it (field names configurable).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CourseProgress {
    pub user_id: TovutiId,
    pub course_id: TovutiId,
    pub course_title: Option<String>,
    pub percent: Option<f64>,
    pub completed: bool,
    #[serde(serialize_with = "rfc3339")]
    pub completed_at: Option<jiff::Timestamp>,
    #[serde(serialize_with = "rfc3339")]
    pub enrolled_at: Option<jiff::Timestamp>,
    pub score: Option<f64>,
}

/// An award (certificate, badge) a learner holds, as `/users/awards` lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Award {
    pub user_id: TovutiId,
    pub award_id: TovutiId,
    pub title: Option<String>,
    #[serde(serialize_with = "rfc3339")]
    pub earned_at: Option<jiff::Timestamp>,
    pub course_id: Option<TovutiId>,
}

/// An instant as RFC 3339 text (jiff is built without its serde feature).
fn rfc3339<S: serde::Serializer>(
    at: &Option<jiff::Timestamp>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => serializer.collect_str(at),
        None => serializer.serialize_none(),
    }
}

/// Reading Tovuti's lists page by page, for the poller and backfill.
#[async_trait]
pub trait TovutiLists: Send + Sync {
    async fn users_page(&self, page: PageRequest) -> Result<Page<User>, TovutiError>;
    async fn progress_page(&self, page: PageRequest) -> Result<Page<CourseProgress>, TovutiError>;
    async fn awards_page(&self, page: PageRequest) -> Result<Page<Award>, TovutiError>;
}

#[async_trait]
impl TovutiLists for TovutiClient {
    async fn users_page(&self, page: PageRequest) -> Result<Page<User>, TovutiError> {
        let path = &self.lists().users_path;
        let raw = self.raw_page("users.list", path, page).await?;
        Ok(raw.read(list_items::user))
    }

    async fn progress_page(&self, page: PageRequest) -> Result<Page<CourseProgress>, TovutiError> {
        let names = self.lists();
        let raw = self
            .raw_page("courseProgress.list", &names.progress_path, page)
            .await?;
        Ok(raw.read(|item| list_items::progress(&item, names)))
    }

    async fn awards_page(&self, page: PageRequest) -> Result<Page<Award>, TovutiError> {
        let names = self.lists();
        let raw = self
            .raw_page("awards.list", &names.awards_path, page)
            .await?;
        Ok(raw.read(|item| list_items::award(&item, names)))
    }
}

/// A page's items as JSON, before they are understood.
struct RawPage {
    items: Vec<Value>,
    last: bool,
}

impl RawPage {
    /// Every item through `read`; those it cannot read are counted.
    fn read<T>(self, read: impl Fn(Value) -> Option<T>) -> Page<T> {
        let total = self.items.len();
        let items: Vec<T> = self.items.into_iter().filter_map(read).collect();
        let unreadable = u32::try_from(total - items.len()).unwrap_or(u32::MAX);
        Page {
            items,
            unreadable,
            last: self.last,
        }
    }
}

impl TovutiClient {
    /// `GET path?page=…&pageSize=…[&changedSince=…]` and its items array.
    async fn raw_page(
        &self,
        endpoint: &'static str,
        path: &str,
        request: PageRequest,
    ) -> Result<RawPage, TovutiError> {
        let names = self.lists();
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let (page, size) = (request.page.to_string(), request.page_size.to_string());
        let mut query = vec![
            (names.page_param.as_str(), page.as_str()),
            (names.page_size_param.as_str(), size.as_str()),
        ];
        let since = request.changed_since.map(|at| at.to_string());
        if let Some(since) = &since
            && !names.changed_since_param.is_empty()
        {
            query.push((names.changed_since_param.as_str(), since.as_str()));
        }
        let answer = self
            .send(endpoint, Method::GET, &segments, &query, None)
            .await?;
        if !answer.is_success() {
            return Err(answer.into_error(endpoint));
        }
        let items = items(endpoint, &answer.body, &names.results_key)?;
        // An empty page ends the list whatever size was asked for.
        let last = items.is_empty() || items.len() < request.page_size as usize;
        Ok(RawPage { items, last })
    }
}

/// The items array of a page: under `key` in a JSON object, or the body itself when the
/// key is empty. Anything else is not a page (the caller may read it again).
fn items(endpoint: &'static str, body: &[u8], key: &str) -> Result<Vec<Value>, TovutiError> {
    let decode = |detail: String| TovutiError::Decode { endpoint, detail };
    // serde_json's messages name a position, never the text, so they are safe to keep.
    let json: Value = serde_json::from_slice(body).map_err(|e| decode(format!("not JSON: {e}")))?;
    let array = match (json, key) {
        (Value::Array(items), "") => Some(items),
        (Value::Object(mut object), key) if !key.is_empty() => match object.remove(key) {
            Some(Value::Array(items)) => Some(items),
            _ => None,
        },
        _ => None,
    };
    array.ok_or_else(|| match key {
        "" => decode("the body is not an array".into()),
        key => decode(format!("no `{key}` array in the answer")),
    })
}
