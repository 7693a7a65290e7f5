//! The paged list reads of Tovuti's API (users, course progress, awards) that the poller
//! and backfill scan, as a trait so scans can run against any tenant or fake.

use super::TovutiError;
use crate::platforms::tovuti::payloads::{TovutiId, User};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub page_size: u32,
    pub changed_since: Option<jiff::Timestamp>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub unreadable: u32,
    pub last: bool,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CourseProgress {
    pub user_id: TovutiId,
    pub course_id: TovutiId,
    pub course_title: Option<String>,
    pub percent: Option<f64>,
    pub completed: bool,
    pub completed_at: Option<jiff::Timestamp>,
    pub enrolled_at: Option<jiff::Timestamp>,
    pub score: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Award {
    pub user_id: TovutiId,
    pub award_id: TovutiId,
    pub title: Option<String>,
    pub earned_at: Option<jiff::Timestamp>,
    pub course_id: Option<TovutiId>,
}

#[async_trait::async_trait]
pub trait TovutiLists: Send + Sync {
    async fn users_page(&self, page: PageRequest) -> Result<Page<User>, TovutiError>;
    async fn progress_page(&self, page: PageRequest) -> Result<Page<CourseProgress>, TovutiError>;
    async fn awards_page(&self, page: PageRequest) -> Result<Page<Award>, TovutiError>;
}
