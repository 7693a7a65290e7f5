//! The fake Tovuti's memory and its rules: users by id (assigned from 1001), username
//! uniqueness, unknown custom fields/groups/courses refused, PATCH merging, enrolment
//! creating progress rows, when each record last changed, faults in store and the
//! request log. No HTTP in here.

use std::collections::BTreeMap;

use axum::http::Method;
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::known::Known;
use super::learning::Learning;
use super::listed::Listed;
use crate::platforms::tovuti::payloads::{TovutiId, User};
use crate::sandbox::faults::FaultPlan;

/// The first id the fake assigns.
pub const FIRST_ID: u64 = 1001;

/// Why a write was refused, in Laravel's validation terms: request path → message, the
/// first one leading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub errors: Vec<(String, String)>,
}

impl Invalid {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            errors: vec![(field.to_owned(), message.into())],
        }
    }
}

pub struct Inner {
    pub users: Listed<u64, User>,
    /// When each user last changed (kept apart so served users look as before).
    pub users_updated: BTreeMap<u64, Timestamp>,
    /// Course progress and awards.
    pub learning: Learning,
    /// The fake's time when a test set one; otherwise the wall clock.
    pub clock: Option<Timestamp>,
    /// Custom field definitions, user groups and courses, by id: `{id, title}` objects.
    pub catalog: Catalog,
    next_id: u64,
    pub faults: FaultPlan,
    pub log: Vec<(Method, String)>,
    /// What the tenant has defined; `None` accepts any id.
    pub known: Option<Known>,
}

impl Default for Inner {
    fn default() -> Self {
        Self {
            users: Listed::default(),
            users_updated: BTreeMap::new(),
            learning: Learning::default(),
            clock: None,
            catalog: Catalog::default(),
            next_id: FIRST_ID,
            faults: FaultPlan::default(),
            log: Vec::new(),
            known: None,
        }
    }
}

impl Inner {
    /// Now, as the fake's records are stamped.
    pub fn now(&self) -> Timestamp {
        self.clock.unwrap_or_else(Timestamp::now)
    }

    /// Stores `user` as given; later ids are assigned above it.
    pub fn insert(&mut self, user: User) {
        self.next_id = self.next_id.max(user.id.0 + 1);
        self.store(user);
    }

    /// Keeps `user` as changed now, with a progress row for every course it is enrolled in.
    fn store(&mut self, user: User) {
        let (id, now) = (user.id.0, self.now());
        for course in &user.enrolled_course_ids {
            self.learning.enroll(id, course.0, now);
        }
        self.users_updated.insert(id, now);
        self.users.insert(id, user);
    }

    /// Changes a stored user in place; `false` when there is none.
    pub fn edit(&mut self, id: u64, change: impl FnOnce(&mut User)) -> bool {
        let Some(mut user) = self.users.get(&id).cloned() else {
            return false;
        };
        change(&mut user);
        user.id = TovutiId(id);
        self.store(user);
        true
    }

    /// `POST /user`: a username is required and must be free; the password is not kept.
    pub fn create(&mut self, body: Map<String, Value>) -> Result<User, Invalid> {
        let username = body.get("username").and_then(Value::as_str).unwrap_or("");
        if username.trim().is_empty() {
            return Err(Invalid::new("username", "The username field is required."));
        }
        self.check_known(&body)?;
        self.check_username_free(username, None)?;
        let mut object = Map::new();
        object.insert("status".into(), json!("active"));
        object.insert("registerDate".into(), json!("2026-01-01 00:00:00"));
        merge(&mut object, body);
        object.insert("id".into(), json!(self.next_id));
        let user = to_user(object)?;
        self.insert(user.clone());
        Ok(user)
    }

    /// `PATCH /user/{id}`: the given keys replace the stored ones, arrays whole.
    pub fn update(&mut self, id: u64, body: Map<String, Value>) -> Option<Result<User, Invalid>> {
        let current = self.users.get(&id)?.clone();
        if let Err(invalid) = self.check_known(&body) {
            return Some(Err(invalid));
        }
        if let Some(username) = body.get("username").and_then(Value::as_str)
            && let Err(invalid) = self.check_username_free(username, Some(id))
        {
            return Some(Err(invalid));
        }
        let Ok(Value::Object(mut object)) = serde_json::to_value(current) else {
            return Some(Err(Invalid::new("id", "The user could not be read.")));
        };
        merge(&mut object, body);
        object.insert("id".into(), json!(id));
        let result = to_user(object);
        if let Ok(user) = &result {
            self.store(user.clone());
        }
        Some(result)
    }

    /// Users whose email equals `email`, ignoring case (all users when `None`).
    pub fn with_email(&self, email: Option<&str>) -> Vec<User> {
        self.users
            .values()
            .filter(|user| {
                email.is_none_or(|wanted| {
                    user.email
                        .as_deref()
                        .is_some_and(|e| e.eq_ignore_ascii_case(wanted.trim()))
                })
            })
            .cloned()
            .collect()
    }

    fn check_known(&self, body: &Map<String, Value>) -> Result<(), Invalid> {
        match &self.known {
            Some(known) => known.check(body),
            None => Ok(()),
        }
    }

    fn check_username_free(&self, username: &str, except: Option<u64>) -> Result<(), Invalid> {
        let taken = self.users.values().any(|user| {
            Some(user.id.0) != except
                && user
                    .username
                    .as_deref()
                    .is_some_and(|u| u.eq_ignore_ascii_case(username.trim()))
        });
        if taken {
            return Err(Invalid::new(
                "username",
                "The username has already been taken.",
            ));
        }
        Ok(())
    }
}

/// Copies `body` over `object`, except what the API never returns or lets change.
fn merge(object: &mut Map<String, Value>, body: Map<String, Value>) {
    for (key, value) in body {
        if key != "password" && key != "id" {
            object.insert(key, value);
        }
    }
}

fn to_user(object: Map<String, Value>) -> Result<User, Invalid> {
    serde_json::from_value(Value::Object(object))
        .map_err(|e| Invalid::new("user", format!("The user is invalid: {e}")))
}

/// The catalog lists the fake serves.
#[derive(Default)]
pub struct Catalog {
    pub custom_fields: BTreeMap<u64, Value>,
    pub groups: BTreeMap<u64, Value>,
    pub courses: BTreeMap<u64, Value>,
}

impl Catalog {
    /// One list by the name its route uses, in id order.
    pub fn entries(&self, name: &str) -> impl Iterator<Item = &Value> {
        let map = match name {
            "customFields" => &self.custom_fields,
            "userGroups" => &self.groups,
            _ => &self.courses,
        };
        map.values()
    }
}

/// A catalog entry as the fake serves it.
pub fn catalog_entry(id: u64, title: &str) -> Value {
    json!({ "id": id, "title": title })
}

/// A user with just an id, for tests that fill in the rest.
pub fn bare_user(id: u64) -> User {
    User {
        id: TovutiId(id),
        name: None,
        email: None,
        username: None,
        status: None,
        custom_fields: Vec::new(),
        user_group_ids: Vec::new(),
        enrolled_course_ids: Vec::new(),
        extra: Map::new(),
    }
}
