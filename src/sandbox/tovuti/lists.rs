//! The fake's paged lists: `GET /users` (optionally by `email`), `/users/courseProgress`,
//! `/users/awards` and the catalogs, paged by `page`/`pageSize` (default 1 and 50) into a
//! `data` array, sorted by id, and filtered by `updatedSince` (RFC 3339, inclusive)
//! where given. Only the requested page is serialised, under the lock.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};

use super::FakeTovutiState;
use super::learning::{award_json, progress_json};
use super::state::Inner;

type S = State<Arc<FakeTovutiState>>;
type ListQuery = Query<HashMap<String, String>>;

/// Which items a request asks for.
struct Window {
    page: usize,
    size: usize,
    since: Option<Timestamp>,
}

impl Window {
    fn of(query: &HashMap<String, String>) -> Result<Self, Box<Response>> {
        let number = |key: &str, default: usize| {
            query
                .get(key)
                .and_then(|v| v.parse::<usize>().ok())
                .filter(|n| *n > 0)
                .unwrap_or(default)
        };
        let since = match query.get("updatedSince") {
            None => None,
            Some(text) => Some(text.parse::<Timestamp>().map_err(|_| {
                let body = json!({
                    "message": "The updated since is not a valid date.",
                    "errors": { "updatedSince": ["The updated since is not a valid date."] },
                });
                Box::new((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response())
            })?),
        };
        Ok(Self {
            page: number("page", 1),
            size: number("pageSize", 50),
            since,
        })
    }

    fn start(&self) -> usize {
        (self.page - 1).saturating_mul(self.size)
    }

    /// This page of everything `matching` yields (walking all of it, for the total).
    fn filtered<T>(&self, matching: impl Iterator<Item = T>, render: impl Fn(T) -> Value) -> Value {
        let range = self.start()..self.start().saturating_add(self.size);
        let mut total = 0;
        let mut data = Vec::new();
        for (position, item) in matching.enumerate() {
            if range.contains(&position) {
                data.push(render(item));
            }
            total = position + 1;
        }
        self.body(data, total)
    }

    fn body(&self, data: Vec<Value>, total: usize) -> Value {
        json!({
            "data": Value::Array(data),
            "page": self.page,
            "pageSize": self.size,
            "total": total,
        })
    }
}

fn answer(body: Result<Value, Box<Response>>) -> Response {
    match body {
        Ok(body) => Json(body).into_response(),
        Err(refusal) => *refusal,
    }
}

fn render<T: Serialize>(item: T) -> Value {
    serde_json::to_value(item).unwrap_or(Value::Null)
}

/// `GET /users`: every user, those with an `email` (ignoring case), or those changed
/// since `updatedSince`.
pub async fn users(State(shared): S, Query(query): ListQuery) -> Response {
    answer(Window::of(&query).map(|window| {
        let mut inner = shared.lock();
        if let Some(email) = query.get("email") {
            return window.filtered(inner.with_email(Some(email)).into_iter(), render);
        }
        match window.since {
            Some(since) => {
                let changed = |user: &&crate::platforms::tovuti::payloads::User| {
                    inner
                        .users_updated
                        .get(&user.id.0)
                        .is_some_and(|at| *at >= since)
                };
                window.filtered(inner.users.values().filter(changed), render)
            }
            None => unfiltered_users(&mut inner, &window),
        }
    }))
}

fn unfiltered_users(inner: &mut Inner, window: &Window) -> Value {
    let total = inner.users.len();
    let data = inner
        .users
        .window(window.start(), window.size)
        .into_iter()
        .map(|(_, user)| render(user))
        .collect();
    window.body(data, total)
}

/// `GET /users/courseProgress`: rows by (user, course), course titles from `/courses`.
pub async fn progress(State(shared): S, Query(query): ListQuery) -> Response {
    answer(Window::of(&query).map(|window| {
        let mut inner = shared.lock();
        let Inner {
            learning, catalog, ..
        } = &mut *inner;
        let render_row = |((user, course), row): (&(u64, u64), &_)| {
            let title = catalog.courses.get(course).and_then(|c| c.get("title"));
            progress_json(*user, *course, row, title)
        };
        match window.since {
            Some(since) => {
                let rows = learning
                    .progress
                    .iter()
                    .filter(|(_, r)| r.updated_at >= since);
                window.filtered(rows, render_row)
            }
            None => {
                let total = learning.progress.len();
                let data = learning.progress.window(window.start(), window.size);
                window.body(data.into_iter().map(render_row).collect(), total)
            }
        }
    }))
}

/// `GET /users/awards`: awards by id.
pub async fn awards(State(shared): S, Query(query): ListQuery) -> Response {
    answer(Window::of(&query).map(|window| {
        let mut inner = shared.lock();
        let awards = &mut inner.learning.awards;
        let render_award = |(id, award): (&u64, &_)| award_json(*id, award);
        match window.since {
            Some(since) => {
                let held = awards.iter().filter(|(_, a)| a.updated_at >= since);
                window.filtered(held, render_award)
            }
            None => {
                let total = awards.len();
                let data = awards.window(window.start(), window.size);
                window.body(data.into_iter().map(render_award).collect(), total)
            }
        }
    }))
}

/// `GET /customFields`, `/userGroups`, `/courses`: paged like `/users`.
pub async fn catalog(State(shared): S, Query(query): ListQuery, name: &str) -> Response {
    answer(Window::of(&query).map(|window| {
        let inner = shared.lock();
        window.filtered(inner.catalog.entries(name), Value::clone)
    }))
}
