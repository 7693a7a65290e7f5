//! The admin API over the real router (driven in-process with `oneshot`), on a scratch
//! database (see `common::database`), with seeded events.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, header};
use tokio_util::sync::CancellationToken;
use tovuti_ghl_bridge::config::{Config, DatabaseUrl, OptionalSecret};
use tovuti_ghl_bridge::http::AppState;
use tovuti_ghl_bridge::store::{
    AttemptRecord, Claim, Completion, EventId, EventStatus, Millis, NewEvent, Source,
};
use tower::ServiceExt as _;

use crate::common::ScratchDb;

/// The full-access tokens (two, as during a rotation) and the read-only one.
pub const FULL: &str = "admin-planted-full-1";
pub const FULL_ROTATED: &str = "admin-planted-full-2";
pub const READ: &str = "admin-planted-read-1";
/// Personal data planted in the payloads; only a payload read may show it.
pub const EMAIL: &str = "ada.planted@example.com";
pub const PHONE: &str = "+1 415 555 0142";

pub struct AdminApp {
    pub state: AppState,
    pub router: axum::Router,
    /// `None` on a second replica: the first one removes the database.
    db: Option<ScratchDb>,
}

/// The configuration the admin tests run with: both kinds of tokens, no worker.
pub fn admin_config(url: &str) -> Config {
    let mut config = Config::defaults();
    config.store.url = DatabaseUrl::new(url);
    config.server.listen = "127.0.0.1:0".into();
    config.security.admin_token = OptionalSecret::new(format!("{FULL}, {FULL_ROTATED}"));
    config.security.admin_read_tokens = OptionalSecret::new(READ);
    config.worker.enabled = false;
    config
}

impl AdminApp {
    pub async fn sqlite() -> Self {
        Self::sqlite_with(|_| {}).await
    }

    pub async fn sqlite_with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::open(ScratchDb::sqlite(), adjust).await
    }

    /// None (and a note) when `TEST_DATABASE_URL` is unset.
    pub async fn postgres() -> Option<Self> {
        Self::postgres_with(|_| {}).await
    }

    /// `postgres` with `adjust` applied to the configuration.
    pub async fn postgres_with(adjust: impl FnOnce(&mut Config)) -> Option<Self> {
        Some(Self::open(ScratchDb::postgres().await?, adjust).await)
    }

    async fn open(db: ScratchDb, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut config = admin_config(db.url());
        adjust(&mut config);
        let state = tovuti_ghl_bridge::startup::build_state(config, CancellationToken::new())
            .await
            .unwrap();
        tovuti_ghl_bridge::startup::prepare_store(&state)
            .await
            .unwrap();
        let router = tovuti_ghl_bridge::http::router(state.clone());
        Self {
            state,
            router,
            db: Some(db),
        }
    }

    /// A second replica: a state and router of its own over the same database.
    pub async fn replica(&self) -> Self {
        let config = (*self.state.config).clone();
        let state = tovuti_ghl_bridge::startup::build_state(config, CancellationToken::new())
            .await
            .unwrap();
        let router = tovuti_ghl_bridge::http::router(state.clone());
        Self {
            state,
            router,
            db: None,
        }
    }

    pub async fn finish(self) {
        self.state.store.close().await;
        if let Some(db) = self.db {
            db.remove().await;
        }
    }

    /// Sends `request` and returns the status, the headers and the body as JSON (Null
    /// when it is not JSON) along with its raw text.
    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        Answer {
            status,
            headers,
            json,
            text,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.send(request("GET", path, Some(token), Body::empty()))
            .await
    }

    pub async fn post(&self, path: &str, token: &str, body: serde_json::Value) -> Answer {
        let body = Body::from(body.to_string());
        self.send(request("POST", path, Some(token), body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: serde_json::Value) -> Answer {
        let body = Body::from(body.to_string());
        self.send(request("PATCH", path, Some(token), body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Answer {
        self.send(request("DELETE", path, Some(token), Body::empty()))
            .await
    }
}

pub struct Answer {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub json: serde_json::Value,
    pub text: String,
}

impl Answer {
    /// Asserts a problem+json answer of `status`.
    pub fn assert_problem(&self, status: u16) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(
            self.headers[header::CONTENT_TYPE],
            "application/problem+json"
        );
        assert_eq!(self.json["status"], status);
    }

    /// The `id`s of a listing's items.
    pub fn ids(&self) -> Vec<String> {
        self.json["items"]
            .as_array()
            .unwrap_or_else(|| panic!("not a listing: {}", self.text))
            .iter()
            .map(|item| item["id"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// A request with an optional bearer token.
pub fn request(method: &str, path: &str, token: Option<&str>, body: Body) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    builder
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .unwrap()
}

/// `request` as if it came over TCP from `peer`.
pub fn from_peer(mut request: Request<Body>, peer: [u8; 4]) -> Request<Body> {
    let address = SocketAddr::from((peer, 40_000));
    request.extensions_mut().insert(ConnectInfo(address));
    request
}

/// The seeded events, newest last.
pub struct Seeded {
    /// c1, ghl ContactUpdate, dead ("ghl 422: …"), with an attempt and an action.
    pub dead_ghl: EventId,
    /// c1, tovuti user.created, dead ("tovuti 500: …").
    pub dead_tovuti: EventId,
    /// c2, ghl ContactUpdate, done.
    pub done: EventId,
    /// c2, tovuti user.created, held by a worker.
    pub processing: EventId,
    /// c1, ghl ContactTagUpdate, pending.
    pub pending: EventId,
}

fn event(source: Source, connection: &str, kind: &str, entity: &str, at: i64) -> NewEvent {
    let body = serde_json::json!({ "type": kind, "email": EMAIL, "phone": PHONE });
    NewEvent {
        source,
        connection_id: Some(connection.to_owned()),
        external_id: format!("{entity}-{at}"),
        event_type: kind.to_owned(),
        entity_key: Some(entity.to_owned()),
        headers: serde_json::json!({ "content-type": "application/json" }),
        body: body.to_string().into(),
        status: EventStatus::Pending,
        note: None,
        received_at: Millis(at),
    }
}

/// Stores five events across two connections in five statuses.
pub async fn seed(app: &AdminApp) -> Seeded {
    let store = &app.state.store;
    let base = Millis::now().0 - 60_000;
    let record = |e: NewEvent| async move { store.record_event(e).await.unwrap().id() };
    let dead_ghl = record(event(Source::Ghl, "c1", "ContactUpdate", "contact:1", base)).await;
    let dead_tovuti = record(event(
        Source::Tovuti,
        "c1",
        "user.created",
        "user:2",
        base + 1,
    ))
    .await;
    let done = record(event(
        Source::Ghl,
        "c2",
        "ContactUpdate",
        "contact:3",
        base + 2,
    ))
    .await;
    let processing = record(event(
        Source::Tovuti,
        "c2",
        "user.created",
        "user:4",
        base + 3,
    ))
    .await;
    let claim = Claim {
        owner: "w1".into(),
        now: Millis::now(),
        lease: std::time::Duration::from_secs(600),
        limit: 10,
    };
    assert_eq!(store.claim_due_events(&claim).await.unwrap().len(), 4);
    store
        .mark_dead(dead_ghl, "w1", "ghl 422: the contact's email is invalid")
        .await
        .unwrap();
    store
        .mark_dead(dead_tovuti, "w1", "tovuti 500: upstream failed")
        .await
        .unwrap();
    store
        .complete_event(done, "w1", Completion::Done)
        .await
        .unwrap();
    let attempt = AttemptRecord {
        event_id: dead_ghl,
        attempt: 1,
        started_at: Millis(base + 10),
        finished_at: Millis(base + 130),
        outcome: "dead".into(),
        error: Some("ghl 422: the contact's email is invalid".into()),
        requests: serde_json::json!([
            { "platform": "ghl", "method": "PUT", "path": "/contacts/abc", "outcome": "422", "duration_ms": 120 },
            { "platform": "ghl", "method": "SKIP", "path": "custom field shoe_size", "outcome": "skipped: not in the location", "duration_ms": 0 },
        ]),
    };
    store.record_attempt(&attempt).await.unwrap();
    store
        .begin_action("add_tags:0123", dead_ghl, "add_tags", Millis(base + 20))
        .await
        .unwrap();
    let pending = record(event(
        Source::Ghl,
        "c1",
        "ContactTagUpdate",
        "contact:5",
        base + 4,
    ))
    .await;
    Seeded {
        dead_ghl,
        dead_tovuti,
        done,
        processing,
        pending,
    }
}

/// One test per scenario and backend (PostgreSQL when `TEST_DATABASE_URL` is set);
/// `with = f;` first applies `f` to each backend's configuration.
macro_rules! on_both_backends {
    (with = $adjust:path; $($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let app = crate::admin_support::AdminApp::sqlite_with($adjust).await;
                    super::$scenario(&app).await;
                    app.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let Some(app) = crate::admin_support::AdminApp::postgres_with($adjust).await else { return };
                    super::$scenario(&app).await;
                    app.finish().await;
                }
            )*
        }
    };
    ($($scenario:ident),* $(,)?) => {
        crate::admin_support::on_both_backends!(with = crate::admin_support::unchanged; $($scenario),*);
    };
}

/// The configuration as `admin_config` makes it.
pub fn unchanged(_: &mut Config) {}

pub(crate) use on_both_backends;
