//! The demo's deliveries: webhook bodies signed the way each platform signs them, sent to
//! the service's routes, and the service's answer read back; and the GHL contact whose
//! delivery tells of a purchase.

use anyhow::{Context as _, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signer as _;
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::platforms::tovuti::WebhookSecret;
use crate::sandbox::ghl::{ALL_SCOPES, VERSION_CONTACTS};
use crate::sandbox::samples;
use crate::sandbox::wiring::{LOCATION, Sandbox};
use crate::store::EventId;

/// A signed request to one of the service's webhook routes; kept so it can be sent again
/// byte for byte.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub platform: &'static str,
    pub event_type: String,
    path: &'static str,
    headers: Vec<(&'static str, String)>,
    body: String,
}

impl Delivery {
    /// A Tovuti sample, signed the Standard Webhooks way.
    pub fn tovuti(sandbox: &Sandbox, event_type: &str) -> anyhow::Result<Self> {
        let id = fresh_id();
        let now = Timestamp::now();
        let body = samples::tovuti(event_type, &id, now).to_string();
        let secret = WebhookSecret::parse(&sandbox.tovuti_secret)?;
        let signature = secret.sign(&id, now.as_second(), body.as_bytes());
        Ok(Self {
            platform: "tovuti",
            event_type: event_type.to_owned(),
            path: "/webhooks/tovuti",
            headers: vec![
                ("webhook-id", id),
                ("webhook-timestamp", now.as_second().to_string()),
                ("webhook-signature", signature),
            ],
            body,
        })
    }

    /// A GHL webhook about `contact` (GHL's read shape), signed with the sandbox's key.
    pub fn ghl(sandbox: &Sandbox, event_type: &str, mut contact: Value) -> anyhow::Result<Self> {
        let Value::Object(fields) = &mut contact else {
            bail!("a GHL contact is not a JSON object: {contact}");
        };
        fields.insert("type".to_owned(), json!(event_type));
        fields.insert("locationId".to_owned(), json!(LOCATION));
        fields.insert("webhookId".to_owned(), json!(fresh_id()));
        fields.insert("timestamp".to_owned(), json!(Timestamp::now().to_string()));
        let body = contact.to_string();
        let signature = sandbox.ghl_signing_key.sign(body.as_bytes());
        Ok(Self {
            platform: "ghl",
            event_type: event_type.to_owned(),
            path: "/webhooks/ghl",
            headers: vec![("x-ghl-signature", STANDARD.encode(signature.to_bytes()))],
            body,
        })
    }

    /// Posts it to the service at `base`.
    pub async fn send(&self, http: &reqwest::Client, base: &str) -> anyhow::Result<Answer> {
        let url = format!("{base}{}", self.path);
        let mut request = http
            .post(&url)
            .header("content-type", "application/json")
            .body(self.body.clone());
        for (name, value) in &self.headers {
            request = request.header(*name, value);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("posting to {url}"))?;
        let status = response.status().as_u16();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        let event_id = answer["event_id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .map(EventId);
        let outcome = answer["status"].as_str().unwrap_or_default().to_owned();
        Ok(Answer {
            status,
            outcome,
            event_id,
        })
    }
}

/// How the service answered a delivery.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// What intake did with it (`accepted`, `duplicate`, ...), from the body.
    pub outcome: String,
    /// The inbox event stored (a duplicate names the first one).
    pub event_id: Option<EventId>,
}

/// Grace as someone adds her in GHL (through the fake's own API), already carrying the
/// purchase tag; returns the contact as GHL holds it.
pub async fn add_grace_in_ghl(http: &reqwest::Client, sandbox: &Sandbox) -> anyhow::Result<Value> {
    let ghl = &sandbox.ghl;
    let response = http
        .post(format!("{}/contacts/", ghl.base_url()))
        .bearer_auth(ghl.issue_token(LOCATION, ALL_SCOPES))
        .header("Version", VERSION_CONTACTS)
        .json(&json!({
            "locationId": LOCATION, "firstName": "Grace", "lastName": "Hopper",
            "email": super::GRACE_EMAIL, "tags": ["purchased:course-101"],
        }))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .context("adding Grace to the sandbox GHL")?;
    let mut created: Value = response.json().await.context("reading Grace's contact")?;
    match created.get_mut("contact") {
        Some(contact) => Ok(contact.take()),
        None => bail!("the sandbox GHL answered without a contact: {created}"),
    }
}

/// A delivery id no earlier run used, so a reused database never takes it for a duplicate.
fn fresh_id() -> String {
    format!("demo_{}", uuid::Uuid::now_v7().simple())
}
