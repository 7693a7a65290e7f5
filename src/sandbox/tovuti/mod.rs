//! A fake Tovuti user API on a local port: `GET/PATCH /user/{id}`, `POST /user`, the
//! paged lists `GET /users`, `/users/courseProgress`, `/users/awards` and the catalogs
//! `GET /customFields`, `/userGroups`, `/courses` under `/api/v1`; users, progress and
//! awards in memory, a bearer token and on-demand faults (see [`crate::sandbox::faults`]).
//! Tests drive it through [`FakeTovuti`]'s methods.

mod known;
mod learning;
mod listed;
mod lists;
mod routes;
mod state;
mod tenant;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::Method;
use tokio::task::JoinHandle;

pub use crate::sandbox::faults::{Fault, RandomFaults, Target};
pub use known::Known;
pub use state::{FIRST_ID, bare_user};

use crate::mapping::tovuti_names::TenantLists;
use crate::platforms::tovuti::client::CatalogKind;
use crate::platforms::tovuti::payloads::User;
use state::Inner;

/// The custom fields the shipped mapping names, as [`FakeTovuti::insert_example_catalog`]
/// defines them.
pub const EXAMPLE_CUSTOM_FIELDS: &[(u64, &str)] = &[
    (22, "Company"),
    (23, "Phone"),
    (25, "Job title"),
    (26, "Date of birth"),
    (50, "Open tasks"),
    (51, "Last note"),
    (52, "Next appointment"),
];

/// The groups and course the shipped mapping names, likewise.
pub const EXAMPLE_GROUPS: &[(u64, &str)] = &[(2, "Registered"), (7, "Students")];
pub const EXAMPLE_COURSES: &[(u64, &str)] = &[(101, "Intro to Sales")];

/// The example catalog as the lists a mapping's names are resolved through.
pub fn example_lists() -> TenantLists {
    let owned = |list: &[(u64, &str)]| list.iter().map(|(id, t)| (*id, (*t).to_owned())).collect();
    TenantLists::from([
        (CatalogKind::CustomFields, owned(EXAMPLE_CUSTOM_FIELDS)),
        (CatalogKind::Groups, owned(EXAMPLE_GROUPS)),
        (CatalogKind::Courses, owned(EXAMPLE_COURSES)),
    ])
}

/// State shared by the fake's handlers.
pub struct FakeTovutiState {
    inner: Mutex<Inner>,
    /// The one bearer token the fake accepts.
    token: String,
}

impl FakeTovutiState {
    /// The data; a handler that panicked mid-update cannot leave it worse than a test can.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running fake; stops when dropped.
pub struct FakeTovuti {
    address: SocketAddr,
    shared: Arc<FakeTovutiState>,
    server: JoinHandle<()>,
}

impl Drop for FakeTovuti {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeTovuti {
    /// Starts on `127.0.0.1`, port 0, accepting only `token`.
    pub async fn start(token: impl Into<String>) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        Self::serve(listener, token)
    }

    /// Serves on a listener the caller bound (a sandbox run picks its own port).
    pub fn serve(
        listener: tokio::net::TcpListener,
        token: impl Into<String>,
    ) -> std::io::Result<Self> {
        let address = listener.local_addr()?;
        let shared = Arc::new(FakeTovutiState {
            inner: Mutex::new(Inner::default()),
            token: token.into(),
        });
        let app = routes::router(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            address,
            shared,
            server,
        })
    }

    /// The API root a client is configured with, like `https://api.tovuti.io/api/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}{}", self.address, routes::PREFIX)
    }

    /// Every stored user, by id.
    pub fn users(&self) -> Vec<User> {
        self.shared.lock().users.values().cloned().collect()
    }

    pub fn user(&self, id: u64) -> Option<User> {
        self.shared.lock().users.get(&id).cloned()
    }

    /// Stores `user` under its own id (replacing any); later ids are assigned above it.
    pub fn insert_user(&self, user: User) {
        self.shared.lock().insert(user);
    }

    /// From now on the fake is a tenant that defines only these custom fields, groups and
    /// courses: a write naming any other answers 422, as a real tenant does.
    pub fn define_only(&self, known: Known) {
        self.shared.lock().known = Some(known);
    }

    /// Adds (or replaces) a custom profile-field definition served by `GET /customFields`.
    pub fn insert_custom_field(&self, id: u64, title: &str) {
        let entry = state::catalog_entry(id, title);
        self.shared.lock().catalog.custom_fields.insert(id, entry);
    }

    /// Adds (or replaces) a user group served by `GET /userGroups`.
    pub fn insert_group(&self, id: u64, title: &str) {
        let entry = state::catalog_entry(id, title);
        self.shared.lock().catalog.groups.insert(id, entry);
    }

    /// Adds (or replaces) a course served by `GET /courses`.
    pub fn insert_course(&self, id: u64, title: &str) {
        let entry = state::catalog_entry(id, title);
        self.shared.lock().catalog.courses.insert(id, entry);
    }

    /// Defines the custom fields, groups and course the shipped mapping names, under the
    /// ids the sandbox's sample events use.
    pub fn insert_example_catalog(&self) {
        for (id, title) in EXAMPLE_CUSTOM_FIELDS {
            self.insert_custom_field(*id, title);
        }
        for (id, title) in EXAMPLE_GROUPS {
            self.insert_group(*id, title);
        }
        for (id, title) in EXAMPLE_COURSES {
            self.insert_course(*id, title);
        }
    }

    /// Forgets every custom field, group and course: a tenant that defines none yet.
    pub fn clear_catalog(&self) {
        self.shared.lock().catalog = state::Catalog::default();
    }

    /// Method and path (relative to the API root, without query) of every request so far,
    /// refused ones included.
    pub fn requests(&self) -> Vec<(Method, String)> {
        self.shared.lock().log.clone()
    }

    pub fn reset_log(&self) {
        self.shared.lock().log.clear();
    }

    /// The next `times` requests with a valid token are answered `status` and not handled.
    pub fn fail_next(&self, status: u16, times: u32) {
        let faults = (0..times).map(|_| Fault::Status(status));
        self.shared.lock().faults.queue(&Target::Any, faults);
    }

    /// Queues faults for the next requests `target` matches (paths relative to the API
    /// root, e.g. `Target::route("POST /user")`), one each.
    pub fn inject_on(&self, target: &Target, faults: impl IntoIterator<Item = Fault>) {
        self.shared.lock().faults.queue(target, faults);
    }

    /// From now on a share of the requests `random.target` matches fail at random.
    pub fn inject_randomly(&self, random: RandomFaults) {
        self.shared.lock().faults.randomly(random);
    }

    /// Drops every queued and random fault.
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// How many faults the fake has produced so far.
    pub fn faults_injected(&self) -> u64 {
        self.shared.lock().faults.injected
    }
}

#[cfg(test)]
mod lists_tests;
#[cfg(test)]
mod tests;
