//! Tovuti's catalog reads: custom profile-field definitions, user groups and courses, for
//! checking that what a mapping names exists in the tenant. Tovuti documents none of these
//! endpoints; public clients call `GET /customFields`, `/userGroups` and `/courses` with
//! `page`/`pageSize` and get a `data` array, so those are the default paths and each is
//! configurable.

use async_trait::async_trait;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{TovutiClient, TovutiError, answer};
use crate::platforms::tovuti::payloads::TovutiId;

/// Items asked for per page.
const PAGE_SIZE: usize = 100;
/// Pages read at most per list, so a tenant that never says "last page" cannot loop us.
const MAX_PAGES: usize = 200;

/// Where the catalog lists live, relative to the API root (no leading slash needed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogPaths {
    pub custom_fields: String,
    pub groups: String,
    pub courses: String,
}

impl Default for CatalogPaths {
    fn default() -> Self {
        Self {
            custom_fields: "customFields".into(),
            groups: "userGroups".into(),
            courses: "courses".into(),
        }
    }
}

/// One catalog list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CatalogKind {
    CustomFields,
    Groups,
    Courses,
}

impl CatalogKind {
    /// The name used in messages ("custom field 23 does not exist").
    pub fn noun(self) -> &'static str {
        match self {
            Self::CustomFields => "custom field",
            Self::Groups => "user group",
            Self::Courses => "course",
        }
    }

    pub fn endpoint(self) -> &'static str {
        match self {
            Self::CustomFields => "customFields.list",
            Self::Groups => "userGroups.list",
            Self::Courses => "courses.list",
        }
    }

    fn path(self, paths: &CatalogPaths) -> &str {
        match self {
            Self::CustomFields => &paths.custom_fields,
            Self::Groups => &paths.groups,
            Self::Courses => &paths.courses,
        }
    }
}

/// A catalog entry: an id and, when Tovuti gives one, a title (`title` or `name`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct CatalogItem {
    pub id: TovutiId,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CatalogItem {
    /// The title, else the `name` some lists use instead.
    pub fn label(&self) -> Option<&str> {
        self.title
            .as_deref()
            .or_else(|| self.extra.get("name").and_then(Value::as_str))
    }
}

/// Reading the tenant's catalog; a trait so checks can run against any fake.
#[async_trait]
pub trait TovutiCatalog: Send + Sync {
    /// Every entry of one list, all pages read.
    async fn list(&self, kind: CatalogKind) -> Result<Vec<CatalogItem>, TovutiError>;
}

#[async_trait]
impl TovutiCatalog for TovutiClient {
    async fn list(&self, kind: CatalogKind) -> Result<Vec<CatalogItem>, TovutiError> {
        let endpoint = kind.endpoint();
        let path = kind.path(self.catalog_paths()).to_owned();
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let size = PAGE_SIZE.to_string();
        let mut items = Vec::new();
        for page in 1..=MAX_PAGES {
            let page = page.to_string();
            let query = [("page", page.as_str()), ("pageSize", size.as_str())];
            let answer = self
                .send(endpoint, Method::GET, &segments, &query, None)
                .await?;
            if !answer.is_success() {
                return Err(answer.into_error(endpoint));
            }
            let (batch, total) = answer::page(endpoint, &answer.body)?;
            let short = batch.len() < PAGE_SIZE;
            items.extend(batch);
            if short || total.is_some_and(|total| items.len() >= total) {
                return Ok(items);
            }
        }
        Err(TovutiError::Decode {
            endpoint,
            detail: format!("more than {MAX_PAGES} pages of {PAGE_SIZE}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::sandbox::tovuti::FakeTovuti;

    const TOKEN: &str = "3|catalog-token";

    fn client(fake: &FakeTovuti, token: &str) -> TovutiClient {
        TovutiClient::new(&fake.base_url(), token.into(), Duration::from_secs(5)).unwrap()
    }

    #[tokio::test]
    async fn every_page_of_a_list_is_read() {
        let fake = FakeTovuti::start(TOKEN).await.unwrap();
        for id in 1..=250 {
            fake.insert_course(id, &format!("Course {id}"));
        }
        let courses = client(&fake, TOKEN)
            .list(CatalogKind::Courses)
            .await
            .unwrap();
        assert_eq!(courses.len(), 250);
        assert_eq!(courses[249].id.0, 250);
        assert_eq!(courses[0].label(), Some("Course 1"));
        assert_eq!(fake.requests().len(), 3);
    }

    #[tokio::test]
    async fn fields_and_groups_come_from_their_own_lists() {
        let fake = FakeTovuti::start(TOKEN).await.unwrap();
        fake.insert_custom_field(23, "Phone");
        fake.insert_group(7, "Students");
        let client = client(&fake, TOKEN);
        let fields = client.list(CatalogKind::CustomFields).await.unwrap();
        let groups = client.list(CatalogKind::Groups).await.unwrap();
        assert_eq!((fields.len(), fields[0].id.0), (1, 23));
        assert_eq!((groups.len(), groups[0].label()), (1, Some("Students")));
        let paths: Vec<_> = fake.requests().into_iter().map(|(_, p)| p).collect();
        assert_eq!(paths, ["/customFields", "/userGroups"]);
    }

    #[tokio::test]
    async fn paths_are_configurable_and_a_refusal_is_a_status_error() {
        let fake = FakeTovuti::start(TOKEN).await.unwrap();
        fake.insert_group(7, "Students");
        let paths = CatalogPaths {
            courses: "/userGroups/".into(),
            ..CatalogPaths::default()
        };
        let moved = client(&fake, TOKEN).with_catalog_paths(paths);
        let listed = moved.list(CatalogKind::Courses).await.unwrap();
        assert_eq!(listed[0].label(), Some("Students"));
        assert_eq!(fake.requests()[0].1, "/userGroups");

        let revoked = client(&fake, "9|revoked");
        let error = revoked.list(CatalogKind::Groups).await.unwrap_err();
        assert_eq!(error.status(), Some(401), "{error:?}");
    }
}
