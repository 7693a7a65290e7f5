//! One environment per test: the service's HTTP routes on a real port, the fake GHL and
//! fake Tovuti on theirs, and the worker stepped explicitly (no sleeping, no polling).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signer as _;
use ed25519_dalek::pkcs8::EncodePublicKey as _;
use jiff::Timestamp;
use rsa::pkcs8::LineEnding;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tovuti_ghl_bridge::config::{Config, OptionalSecret};
use tovuti_ghl_bridge::http::AppState;
use tovuti_ghl_bridge::platforms::tovuti::WebhookSecret;
use tovuti_ghl_bridge::sandbox::ghl::{FakeGhl, FakeSettings};
use tovuti_ghl_bridge::sandbox::tovuti::FakeTovuti;
use tovuti_ghl_bridge::sandbox::wiring::EXAMPLE_WORKFLOW_ID;
use tovuti_ghl_bridge::store::{EventId, Millis, StoredEvent};
use tovuti_ghl_bridge::worker::{Outcome, RetrySchedule, Worker};
use tovuti_ghl_bridge::{http, startup};

pub use crate::common::Backend;
use crate::common::ScratchDb;
use crate::common::config::config_with_key;
use crate::common::fakes::{wire_ghl, wire_tovuti};

pub const LOCATION: &str = "loc_sync";
pub const TOVUTI_TOKEN: &str = "7|tovuti-test-token";
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAAAAAAAAAAA=";

/// How the service answered a delivery.
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    pub status: u16,
    pub event_id: Option<EventId>,
}

impl Delivery {
    async fn read(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let event_id = body["event_id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .map(EventId);
        Self { status, event_id }
    }
}

pub struct Env {
    pub state: AppState,
    pub ghl: FakeGhl,
    pub tovuti: FakeTovuti,
    pub worker: Worker,
    base: String,
    http: reqwest::Client,
    signing: ed25519_dalek::SigningKey,
    db: ScratchDb,
}

impl Env {
    /// The environment on `backend`; `None` for PostgreSQL without `TEST_DATABASE_URL`.
    pub async fn start(backend: Backend) -> Option<Self> {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<Self> {
        let db = ScratchDb::on(backend).await?;
        let ghl = FakeGhl::start(FakeSettings::default()).await.unwrap();
        let tovuti = FakeTovuti::start(TOVUTI_TOKEN).await.unwrap();
        // The tenant defines what the shipped mapping names; fresh-tenant tests clear it.
        tovuti.insert_example_catalog();
        ghl.define_automation(true, EXAMPLE_WORKFLOW_ID, "New enrollment");
        let signing = ed25519_dalek::SigningKey::from_bytes(&rand::random());
        let mut config = config_with_key(&db);
        wire_ghl(&mut config, &ghl, LOCATION);
        config.ghl.retry_attempts = 1;
        wire_tovuti(&mut config, &tovuti, TOVUTI_TOKEN);
        config.webhooks.ghl.public_key = signing
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        config.webhooks.tovuti.secrets = OptionalSecret::new(SECRET);
        config.webhooks.backlog_check_ms = 0;
        config.worker.enabled = false;
        adjust(&mut config);
        let state = startup::build_state(config, CancellationToken::new())
            .await
            .unwrap();
        startup::prepare_store(&state).await.unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = http::router(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let engine = startup::sync_engine(&state).unwrap();
        let schedule = RetrySchedule::new(&[5, 60]).with_jitter(|bound| bound);
        let worker = Worker::new(state.services.clone(), std::sync::Arc::new(engine))
            .with_schedule(schedule);
        Some(Self {
            state,
            ghl,
            tovuti,
            worker,
            base,
            http: reqwest::Client::new(),
            signing,
            db,
        })
    }

    /// Closes the store and drops a PostgreSQL test database.
    pub async fn finish(self) {
        self.state.store.close().await;
        self.db.remove().await;
    }

    /// Posts a Tovuti event (signed the Standard Webhooks way).
    pub async fn send_tovuti(&self, body: &Value) -> Delivery {
        let id = body["id"].as_str().unwrap().to_owned();
        let text = body.to_string();
        let timestamp = Timestamp::now().as_second();
        let signature = WebhookSecret::parse(SECRET)
            .unwrap()
            .sign(&id, timestamp, text.as_bytes());
        let response = self
            .http
            .post(format!("{}/webhooks/tovuti", self.base))
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(text)
            .send()
            .await
            .unwrap();
        Delivery::read(response).await
    }

    /// Posts a Tovuti event to `path`, signed with `secret` (Standard Webhooks).
    pub async fn send_tovuti_to(&self, path: &str, secret: &str, body: &Value) -> Delivery {
        let id = body["id"].as_str().unwrap().to_owned();
        let text = body.to_string();
        let timestamp = Timestamp::now().as_second();
        let signature = WebhookSecret::parse(secret)
            .unwrap()
            .sign(&id, timestamp, text.as_bytes());
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(text)
            .send()
            .await
            .unwrap();
        Delivery::read(response).await
    }

    /// Posts a GHL event signed with the configured Ed25519 key.
    pub async fn send_ghl(&self, body: &Value) -> Delivery {
        let text = body.to_string();
        let signature = STANDARD.encode(self.signing.sign(text.as_bytes()).to_bytes());
        let response = self
            .http
            .post(format!("{}/webhooks/ghl", self.base))
            .header("content-type", "application/json")
            .header("x-ghl-signature", signature)
            .body(text)
            .send()
            .await
            .unwrap();
        Delivery::read(response).await
    }

    /// Steps the worker at `now` until nothing is due; returns the events handled.
    pub async fn drain_at(&self, now: Millis) -> usize {
        let mut handled = 0;
        for _ in 0..1000 {
            match self.worker.run_once(now).await.unwrap() {
                Outcome::Handled(n) => handled += n,
                Outcome::Idle => return handled,
            }
        }
        panic!("the worker never went idle");
    }

    pub async fn drain(&self) -> usize {
        self.drain_at(Millis::now()).await
    }

    /// The stored event behind a delivery.
    pub async fn event(&self, delivery: &Delivery) -> StoredEvent {
        let id = delivery.event_id.expect("the delivery was stored");
        self.state.store.event(id).await.unwrap().unwrap()
    }

    /// Requests the fake GHL saw (excluding OAuth), as "METHOD /path".
    pub fn ghl_requests(&self) -> Vec<String> {
        self.ghl
            .requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }
}

/// A Tovuti body of `event_type` with delivery id `id`.
pub fn tovuti_event(event_type: &str, id: &str) -> Value {
    tovuti_ghl_bridge::sandbox::samples::tovuti(event_type, id, Timestamp::now())
}

/// A GHL body of `event_type` for the test location.
pub fn ghl_event(event_type: &str, webhook_id: &str) -> Value {
    tovuti_ghl_bridge::sandbox::samples::ghl(event_type, LOCATION, webhook_id, Timestamp::now())
}

/// Ada as a Tovuti user (id 4211) linked to a GHL contact; returns the contact id.
pub async fn linked_ada(env: &Env) -> String {
    let user: tovuti_ghl_bridge::platforms::tovuti::payloads::User =
        serde_json::from_value(serde_json::json!({
            "id": 4211, "name": "Ada Lovelace", "email": "ada@example.com", "status": "active",
            "customFields": [{"field_id": 22, "value": "Analytical Engines", "title": "Company"}],
            "userGroupIds": [2], "enrolledCourseIds": []
        }))
        .unwrap();
    env.tovuti.insert_user(user);
    let created = env
        .send_tovuti(&tovuti_event("user.created", "evt-ada"))
        .await;
    assert_eq!(created.status, 200);
    env.drain().await;
    env.state
        .store
        .ghl_contact_for_user(tovuti_ghl_bridge::config::DEFAULT_CONNECTION, "4211")
        .await
        .unwrap()
        .unwrap()
}
