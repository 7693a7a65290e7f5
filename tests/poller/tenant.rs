//! An in-memory Tovuti tenant behind the list interface: users, course progress and
//! awards served in pages (a short page is the last), data changed between scans, faults
//! injected per page, and a log of the pages asked for.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use tovuti_ghl_bridge::platforms::tovuti::TovutiError;
use tovuti_ghl_bridge::platforms::tovuti::client::{
    Award, CourseProgress, Page, PageRequest, TovutiLists,
};
use tovuti_ghl_bridge::platforms::tovuti::payloads::{TovutiId, User};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Users,
    Progress,
    Awards,
}

#[derive(Debug, Clone, Copy)]
pub enum Fault {
    Status(u16, Option<Duration>),
    Timeout,
    Garbage,
    /// Never answers (a process killed mid-request).
    Hang,
}

#[derive(Default)]
struct State {
    users: BTreeMap<u64, User>,
    progress: BTreeMap<(u64, u64), CourseProgress>,
    awards: BTreeMap<(u64, u64), Award>,
    /// (list, page, fault), each consumed by one request of that page.
    faults: VecDeque<(List, u32, Fault)>,
    /// Every page asked for, in order, with tokio's time of the request.
    requests: Vec<(List, u32, tokio::time::Instant)>,
    /// The "changed since" instant of every request, in order.
    since_asked: Vec<Option<jiff::Timestamp>>,
}

#[derive(Clone, Default)]
pub struct Tenant(Arc<Mutex<State>>);

pub fn user(id: u64, name: &str) -> User {
    serde_json::from_value(json!({
        "id": id,
        "name": name,
        "email": format!("learner{id}@example.com"),
        "status": "active",
        "lastLogin": "2026-01-01T00:00:00Z",
    }))
    .unwrap()
}

pub fn enrollment(user: u64, course: u64) -> CourseProgress {
    CourseProgress {
        user_id: TovutiId(user),
        course_id: TovutiId(course),
        course_title: Some(format!("Course {course}")),
        percent: Some(10.0),
        completed: false,
        completed_at: None,
        enrolled_at: "2026-01-02T03:04:05Z".parse().ok(),
        score: None,
    }
}

pub fn award(user: u64, award: u64) -> Award {
    Award {
        user_id: TovutiId(user),
        award_id: TovutiId(award),
        title: Some("Certificate".to_owned()),
        earned_at: "2026-01-03T00:00:00Z".parse().ok(),
        course_id: Some(TovutiId(7)),
    }
}

impl Tenant {
    /// `users` learners, each enrolled in course 7 (none complete).
    pub fn with_learners(users: u64) -> Self {
        let tenant = Self::default();
        for id in 1..=users {
            tenant.put_user(user(id, &format!("Learner {id}")));
            tenant.put_progress(enrollment(id, 7));
        }
        tenant
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap()
    }

    pub fn put_user(&self, user: User) {
        self.state().users.insert(user.id.0, user);
    }

    pub fn put_progress(&self, progress: CourseProgress) {
        let key = (progress.user_id.0, progress.course_id.0);
        self.state().progress.insert(key, progress);
    }

    pub fn put_award(&self, award: Award) {
        let key = (award.user_id.0, award.award_id.0);
        self.state().awards.insert(key, award);
    }

    pub fn rename(&self, id: u64, name: &str) {
        self.state().users.get_mut(&id).unwrap().name = Some(name.to_owned());
    }

    pub fn complete(&self, user: u64, course: u64) {
        let mut state = self.state();
        let row = state.progress.get_mut(&(user, course)).unwrap();
        row.completed = true;
        row.percent = Some(100.0);
        row.completed_at = "2026-02-01T00:00:00Z".parse().ok();
        row.score = Some(92.0);
    }

    pub fn fail(&self, list: List, page: u32, fault: Fault) {
        self.state().faults.push_back((list, page, fault));
    }

    /// The pages asked for of one list, in order.
    pub fn pages_asked(&self, list: List) -> Vec<u32> {
        let state = self.state();
        state
            .requests
            .iter()
            .filter(|r| r.0 == list)
            .map(|r| r.1)
            .collect()
    }

    /// When each request of `list` came, in order.
    pub fn request_times(&self, list: List) -> Vec<tokio::time::Instant> {
        let state = self.state();
        let requests = state.requests.iter().filter(|r| r.0 == list);
        requests.map(|r| r.2).collect()
    }

    /// The "changed since" instant each request carried, in order.
    pub fn since_asked(&self) -> Vec<Option<jiff::Timestamp>> {
        self.state().since_asked.clone()
    }

    /// When each scan of `list` began (its requests of page 1).
    pub fn scan_starts(&self, list: List) -> Vec<tokio::time::Instant> {
        let state = self.state();
        let starts = state.requests.iter().filter(|r| r.0 == list && r.1 == 1);
        starts.map(|r| r.2).collect()
    }

    /// Logs the request and takes its fault, if one is set for it.
    fn ask(&self, list: List, page: u32) -> Option<Fault> {
        let mut state = self.state();
        state
            .requests
            .push((list, page, tokio::time::Instant::now()));
        let at = state
            .faults
            .iter()
            .position(|f| f.0 == list && f.1 == page)?;
        state.faults.remove(at).map(|f| f.2)
    }

    async fn page<T: Clone>(
        &self,
        list: List,
        request: PageRequest,
        items: impl FnOnce(&State) -> Vec<T>,
    ) -> Result<Page<T>, TovutiError> {
        let endpoint = "list";
        self.state().since_asked.push(request.changed_since);
        match self.ask(list, request.page) {
            None => {}
            Some(Fault::Status(status, retry_after)) => {
                return Err(TovutiError::Status {
                    endpoint,
                    status,
                    detail: "injected".into(),
                    retry_after,
                    invalid: Vec::new(),
                });
            }
            Some(Fault::Timeout) => return Err(TovutiError::Timeout { endpoint }),
            Some(Fault::Garbage) => {
                return Err(TovutiError::Decode {
                    endpoint,
                    detail: "expected value at line 1".into(),
                });
            }
            Some(Fault::Hang) => std::future::pending::<()>().await,
        }
        let all = items(&self.state());
        let size = request.page_size as usize;
        let start = (request.page as usize - 1) * size;
        let items: Vec<T> = all.into_iter().skip(start).take(size).collect();
        Ok(Page {
            last: items.len() < size,
            items,
            unreadable: 0,
        })
    }
}

#[async_trait]
impl TovutiLists for Tenant {
    async fn users_page(&self, request: PageRequest) -> Result<Page<User>, TovutiError> {
        self.page(List::Users, request, |s| {
            s.users.values().cloned().collect()
        })
        .await
    }

    async fn progress_page(
        &self,
        request: PageRequest,
    ) -> Result<Page<CourseProgress>, TovutiError> {
        self.page(List::Progress, request, |s| {
            s.progress.values().cloned().collect()
        })
        .await
    }

    async fn awards_page(&self, request: PageRequest) -> Result<Page<Award>, TovutiError> {
        self.page(List::Awards, request, |s| {
            s.awards.values().cloned().collect()
        })
        .await
    }
}
