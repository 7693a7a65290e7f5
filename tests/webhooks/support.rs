//! A test app per test: the service's state on a scratch database (SQLite unless a test
//! asks for PostgreSQL), the router called in process, and senders that sign like GHL and
//! a Tovuti sender would.

use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signer as _;
use ed25519_dalek::pkcs8::EncodePublicKey as _;
use jiff::Timestamp;
use rsa::pkcs8::LineEnding;
use rsa::signature::SignatureEncoding as _;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tovuti_ghl_bridge::config::{Config, OptionalSecret};
use tovuti_ghl_bridge::http::AppState;
use tovuti_ghl_bridge::platforms::tovuti::WebhookSecret;
use tovuti_ghl_bridge::store::{EventId, EventStatus, StoredEvent};
use tovuti_ghl_bridge::{http, startup};
use tower::ServiceExt as _;

use crate::common::ScratchDb;
use crate::common::config::config_with_key;

pub const LOCATION: &str = "loc_connected";
pub const SECRET_A: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAAAAAAAAAAA=";
pub const SECRET_B: &str = "whsec_c2Vjb25kIHNlY3JldCBmb3Igcm90YXRpb24gdGVzdHM=";

pub struct Keys {
    pub ed25519: ed25519_dalek::SigningKey,
    pub other_ed25519: ed25519_dalek::SigningKey,
    pub rsa: rsa::pkcs1v15::SigningKey<sha2::Sha256>,
    pub ed25519_pem: String,
    pub rsa_pem: String,
}

/// Generated once per test binary (RSA generation is slow); 2048 bits is enough to test
/// the code path.
pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let ed25519 = ed25519_dalek::SigningKey::from_bytes(&rand::random());
        let rsa = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        Keys {
            ed25519_pem: ed25519
                .verifying_key()
                .to_public_key_pem(LineEnding::LF)
                .unwrap(),
            rsa_pem: rsa::pkcs8::EncodePublicKey::to_public_key_pem(
                &rsa.to_public_key(),
                LineEnding::LF,
            )
            .unwrap(),
            ed25519,
            other_ed25519: ed25519_dalek::SigningKey::from_bytes(&rand::random()),
            rsa: rsa::pkcs1v15::SigningKey::new(rsa),
        }
    })
}

pub struct TestApp {
    pub state: AppState,
    router: Router,
    db: ScratchDb,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn event_id(&self) -> EventId {
        EventId(self.body["event_id"].as_str().unwrap().parse().unwrap())
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with(|_| {}).await
    }

    pub async fn with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::on(ScratchDb::sqlite(), adjust).await
    }

    /// The same app on a fresh PostgreSQL database; None (and a note) when
    /// `TEST_DATABASE_URL` is unset.
    pub async fn postgres() -> Option<Self> {
        Some(Self::on(ScratchDb::postgres().await?, |_| {}).await)
    }

    async fn on(db: ScratchDb, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut config = config_with_key(&db);
        config.ghl.location_id = LOCATION.to_owned();
        config.webhooks.ghl.public_key = keys().ed25519_pem.clone();
        config.webhooks.ghl.rsa_public_key = keys().rsa_pem.clone();
        config.webhooks.tovuti.secrets = OptionalSecret::new(SECRET_A);
        config.webhooks.backlog_check_ms = 0;
        adjust(&mut config);
        let state = startup::build_state(config, CancellationToken::new())
            .await
            .unwrap();
        state.store.migrate().await.unwrap();
        let router = http::router(state.clone());
        Self { state, router, db }
    }

    /// Closes the store and drops a PostgreSQL test database.
    pub async fn finish(self) {
        self.state.store.close().await;
        self.db.remove().await;
    }

    pub async fn post(
        &self,
        path: &str,
        headers: &[(&str, String)],
        body: impl Into<Body>,
    ) -> Answer {
        let mut request = Request::post(path);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(body.into()).unwrap())
            .await
            .unwrap();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    /// Posts `body` to /webhooks/ghl signed with the configured Ed25519 key.
    pub async fn post_ghl(&self, body: &str) -> Answer {
        self.post(
            "/webhooks/ghl",
            &ghl_headers(&keys().ed25519, body),
            body.to_owned(),
        )
        .await
    }

    /// Posts a Tovuti delivery signed the Standard Webhooks way with `secret`.
    pub async fn post_tovuti(&self, path: &str, id: &str, body: &str, secret: &str) -> Answer {
        let headers = tovuti_headers(secret, id, Timestamp::now().as_second(), body);
        self.post(path, &headers, body.to_owned()).await
    }

    pub async fn stored(&self, answer: &Answer) -> StoredEvent {
        self.state
            .store
            .event(answer.event_id())
            .await
            .unwrap()
            .unwrap()
    }

    pub async fn total_events(&self) -> u64 {
        self.state
            .store
            .count_events_by_status()
            .await
            .unwrap()
            .iter()
            .map(|(_, n)| n)
            .sum()
    }

    pub async fn count(&self, status: EventStatus) -> u64 {
        let counts = self.state.store.count_events_by_status().await.unwrap();
        counts
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n)
    }

    /// The value of one sample of the Prometheus exposition, 0 when absent.
    pub fn metric(&self, sample: &str) -> f64 {
        let text = self.state.metrics.encode();
        text.lines()
            .find_map(|line| {
                line.strip_prefix(sample)
                    .and_then(|rest| rest.trim().parse().ok())
            })
            .unwrap_or(0.0)
    }
}

pub fn ghl_headers(key: &ed25519_dalek::SigningKey, body: &str) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".to_owned()),
        (
            "x-ghl-signature",
            STANDARD.encode(key.sign(body.as_bytes()).to_bytes()),
        ),
    ]
}

pub fn rsa_signature(body: &str) -> String {
    STANDARD.encode(keys().rsa.sign(body.as_bytes()).to_vec())
}

pub fn tovuti_headers(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &str,
) -> Vec<(&'static str, String)> {
    let secret = WebhookSecret::parse(secret).unwrap();
    vec![
        ("content-type", "application/json".to_owned()),
        ("webhook-id", id.to_owned()),
        ("webhook-timestamp", timestamp.to_string()),
        (
            "webhook-signature",
            secret.sign(id, timestamp, body.as_bytes()),
        ),
    ]
}

/// A GHL body of `event_type` for `location`, with a webhook id and a fresh timestamp.
pub fn ghl_body(event_type: &str, location: &str, webhook_id: &str) -> String {
    tovuti_ghl_bridge::sandbox::samples::ghl(event_type, location, webhook_id, Timestamp::now())
        .to_string()
}

pub fn tovuti_body(event_type: &str, id: &str) -> String {
    tovuti_ghl_bridge::sandbox::samples::tovuti(event_type, id, Timestamp::now()).to_string()
}

pub fn is_problem(answer: &Answer) -> bool {
    answer.headers["content-type"] == "application/problem+json"
        && answer.body["status"] == answer.status.as_u16()
}
