//! The outbound GHL API v2 client: every request goes through the location's lane
//! (throttle), carries the right `Version` and credentials, and is retried within a
//! small budget when sending it again is safe. Typed operations live in one file per
//! API family.

mod appointments;
mod associations;
mod auth;
mod automations;
mod call;
mod contacts;
mod errors;
pub mod install;
mod location_token;
mod locations;
mod notes;
mod oauth;
mod retry;
mod tasks;
pub(crate) mod throttle;
mod verify;

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret as _;
use serde::de::DeserializeOwned;

pub use appointments::{Appointment, AppointmentUpdate, NewAppointment};
pub use auth::Auth;
pub use automations::{Automation, AutomationKind};
pub(crate) use call::Call;
pub use contacts::{
    Contact, ContactInput, ContactUpdate, CustomFieldInput, CustomFieldValue, SearchPage,
    SearchQuery, SearchSort, SortDirection, Upserted, updated_since_filter,
};
pub use errors::{Failure, GhlError};
pub use location_token::LocationTokenSession;
pub use notes::{NewNote, Note, NoteUpdate};
pub use oauth::{CREDENTIAL_KIND, OAuthApp, OAuthSession, TokenGrant, save_grant};
pub use retry::RetryPolicy;
pub use tasks::{NewTask, Task, TaskUpdate};
pub use throttle::{
    LaneHolder, LaneOwnership, LaneStatus, Priority, RateLimitSnapshot, Throttle, ThrottleSettings,
};
pub use verify::{Capability, NO_SAMPLE, Needs, Verdict, Verification};

use crate::config::{DEFAULT_CONNECTION, GhlConfig};
use crate::platforms::replay::Replay;
use crate::telemetry::Metrics;
use crate::telemetry::reconcile::ConnectionLabels;
use crate::telemetry::requests::{self, RequestEntry};
use crate::telemetry::{GhlRequestLabels, RateLimitedLabels};

/// `Version` of the contacts family (contacts, tasks, notes, tags, campaigns, workflows).
pub const VERSION_CONTACTS: &str = "2021-07-28";
/// `Version` of the calendars family.
pub const VERSION_CALENDARS: &str = "2021-04-15";

/// What every request of this process shares: timeouts, retry budget, quota.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub base_url: String,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub throttle: ThrottleSettings,
    /// 429s one call sits out before giving up (they are not failed attempts).
    pub max_rate_limited_waits: u32,
}

impl ClientSettings {
    pub fn from_config(config: &GhlConfig) -> Self {
        Self {
            base_url: config.base_url.clone(),
            connect_timeout: Duration::from_millis(config.connect_timeout_ms),
            timeout: Duration::from_millis(config.timeout_ms),
            retry: RetryPolicy {
                max_attempts: config.retry_attempts.max(1),
                base: Duration::from_millis(config.retry_base_ms),
                max_delay: Duration::from_millis(config.retry_max_ms),
            },
            throttle: ThrottleSettings {
                max_requests: config.rate_limit_max.max(1),
                interval: Duration::from_millis(config.rate_limit_interval_ms.max(1)),
                safety_margin: config.rate_limit_safety_margin.clamp(0.0, 0.9),
                daily_warn_remaining: config.daily_warn_remaining,
            },
            max_rate_limited_waits: config.rate_limited_waits,
        }
    }
}

/// The process-wide client; cheap to clone.
#[derive(Clone)]
pub struct GhlClient {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    http: reqwest::Client,
    settings: ClientSettings,
    throttle: Throttle,
    metrics: Arc<Metrics>,
}

impl GhlClient {
    pub fn new(settings: ClientSettings, metrics: Arc<Metrics>) -> Result<Self, GhlError> {
        let throttle = Throttle::new(settings.throttle, metrics.clone());
        Self::with_throttle(settings, metrics, throttle)
    }

    /// A client for one of several replicas: it sends for a location only while it
    /// holds that location's lane lease in the shared store.
    pub fn with_lane_ownership(
        settings: ClientSettings,
        metrics: Arc<Metrics>,
        ownership: LaneOwnership,
    ) -> Result<Self, GhlError> {
        let throttle = Throttle::new(settings.throttle, metrics.clone()).with_ownership(ownership);
        Self::with_throttle(settings, metrics, throttle)
    }

    fn with_throttle(
        settings: ClientSettings,
        metrics: Arc<Metrics>,
        throttle: Throttle,
    ) -> Result<Self, GhlError> {
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .user_agent(concat!("tovuti-ghl-bridge/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GhlError::from_reqwest("client.build", &e))?;
        Ok(Self {
            inner: Arc::new(ClientInner {
                http,
                settings,
                throttle,
                metrics,
            }),
        })
    }

    /// The operations of one location with these credentials, as background work of
    /// the `default` connection until [`LocationApi::for_connection`] names another.
    pub fn location(&self, location_id: impl Into<String>, auth: Auth) -> LocationApi {
        LocationApi {
            client: self.clone(),
            connection_id: DEFAULT_CONNECTION.to_owned(),
            location_id: location_id.into(),
            auth,
            priority: Priority::Background,
        }
    }

    /// The OAuth app of `config`, exchanging tokens at this client's base URL; `None`
    /// when no client id is configured.
    pub fn oauth_app(&self, config: &GhlConfig) -> Option<OAuthApp> {
        let secret = config.client_secret.expose()?;
        if config.client_id.is_empty() {
            return None;
        }
        let base = self.inner.settings.base_url.trim_end_matches('/');
        Some(OAuthApp {
            token_url: format!("{base}/oauth/token"),
            client_id: config.client_id.clone(),
            client_secret: secrecy::SecretString::from(secret.to_owned()),
            http: self.inner.http.clone(),
        })
    }

    pub fn throttle(&self) -> &Throttle {
        &self.inner.throttle
    }
}

/// One location's API, with its credentials and the priority its calls queue at.
#[derive(Clone)]
pub struct LocationApi {
    client: GhlClient,
    /// The service's connection whose work this is: the metrics' `connection` label.
    connection_id: String,
    location_id: String,
    auth: Auth,
    priority: Priority,
}

impl LocationApi {
    pub fn location_id(&self) -> &str {
        &self.location_id
    }

    /// The same operations, counted in the metrics as `connection_id`'s work.
    pub fn for_connection(mut self, connection_id: impl Into<String>) -> Self {
        self.connection_id = connection_id.into();
        self
    }

    /// The same connection, queueing ahead of background work.
    pub fn interactive(mut self) -> Self {
        self.priority = Priority::Interactive;
        self
    }

    pub(crate) async fn send<T: DeserializeOwned>(&self, call: Call) -> Result<T, GhlError> {
        let bytes = self.execute(&call).await?;
        serde_json::from_slice(&bytes).map_err(|e| GhlError::Decode {
            endpoint: call.endpoint,
            detail: e.to_string(),
        })
    }

    /// Sends until success, a non-retryable failure, or the budget is spent. A 429
    /// waits out the pause without spending an attempt; a 401 refreshes OAuth once. A
    /// `Replay::Once` call that GHL may have applied is never sent again here: it fails
    /// as [`GhlError::OutcomeUnknown`], and the caller reconciles before a new attempt.
    async fn execute(&self, call: &Call) -> Result<bytes::Bytes, GhlError> {
        let shared = &self.client.inner;
        let (mut failed, mut rate_limited, mut refreshed) = (0u32, 0u32, false);
        let wait_labels = ConnectionLabels {
            connection: self.connection_id.clone(),
        };
        loop {
            let waited = shared
                .throttle
                .acquire(&self.location_id, self.priority)
                .await;
            shared
                .metrics
                .ghl_throttle_wait
                .get_or_create(&wait_labels)
                .observe(waited.as_secs_f64());
            let token = self.auth.access_token().await?;
            let error = match self.attempt(call, token.expose_secret()).await {
                Ok(bytes) => return Ok(bytes),
                Err(error) => error,
            };
            if call.replay == Replay::Once && error.may_have_applied() {
                return Err(GhlError::OutcomeUnknown {
                    endpoint: call.endpoint,
                    cause: Box::new(error),
                });
            }
            if error.status() == Some(429) && rate_limited < shared.settings.max_rate_limited_waits
            {
                rate_limited += 1;
            } else if error.status() == Some(401) && !refreshed && self.auth.can_refresh() {
                refreshed = true;
                self.auth.refresh_rejected(&token).await?;
            } else if error.is_retryable() && failed + 1 < shared.settings.retry.max_attempts {
                tokio::time::sleep(shared.settings.retry.delay(failed)).await;
                failed += 1;
            } else {
                return Err(error);
            }
        }
    }

    async fn attempt(&self, call: &Call, token: &str) -> Result<bytes::Bytes, GhlError> {
        let shared = &self.client.inner;
        let mut url =
            url::Url::parse(&shared.settings.base_url).map_err(|e| GhlError::Unreachable {
                endpoint: call.endpoint,
                detail: format!("invalid base URL: {e}"),
            })?;
        url.path_segments_mut()
            .map_err(|()| GhlError::Unreachable {
                endpoint: call.endpoint,
                detail: "base URL cannot take a path".into(),
            })?
            .pop_if_empty()
            .extend(&call.segments);
        let mut request = shared
            .http
            .request(call.method.clone(), url.clone())
            .bearer_auth(token)
            .header("Version", call.version)
            .header("Accept", "application/json");
        if !call.query.is_empty() {
            request = request.query(&call.query);
        }
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        let path = url.path().to_owned();
        let started = std::time::Instant::now();
        let result = self.exchange(call.endpoint, request).await;
        let (outcome, trace_id) = request_outcome(&result);
        requests::note(RequestEntry {
            platform: "ghl",
            method: call.method.to_string(),
            path,
            outcome: outcome.clone(),
            trace_id,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
        let labels = GhlRequestLabels {
            connection: self.connection_id.clone(),
            endpoint: call.endpoint.to_owned(),
            outcome,
        };
        shared.metrics.ghl_requests.get_or_create(&labels).inc();
        result
    }

    async fn exchange(
        &self,
        endpoint: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<bytes::Bytes, GhlError> {
        let shared = &self.client.inner;
        let response = request
            .send()
            .await
            .map_err(|e| GhlError::from_reqwest(endpoint, &e))?;
        let status = response.status().as_u16();
        shared
            .throttle
            .observe(&self.location_id, status, response.headers());
        if status == 429 {
            let labels = RateLimitedLabels {
                connection: self.connection_id.clone(),
                location: self.location_id.clone(),
            };
            shared.metrics.ghl_rate_limited.get_or_create(&labels).inc();
        }
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()?.trim().parse().ok())
            .map(Duration::from_secs);
        let bytes = response
            .bytes()
            .await
            .map_err(|e| GhlError::from_reqwest(endpoint, &e))?;
        if (200..300).contains(&status) {
            Ok(bytes)
        } else {
            Err(GhlError::from_answer(endpoint, status, retry_after, &bytes))
        }
    }
}

/// How a request ended, for metrics and the event log: the status (or `2xx`,
/// `timeout`, `connection`) and GHL's trace id when the answer had one.
fn request_outcome(result: &Result<bytes::Bytes, GhlError>) -> (String, Option<String>) {
    match result {
        Ok(_) => ("2xx".to_owned(), None),
        Err(GhlError::Status(f)) => (f.status.to_string(), f.trace_id.clone()),
        Err(GhlError::Timeout { .. }) => ("timeout".to_owned(), None),
        Err(_) => ("connection".to_owned(), None),
    }
}

#[cfg(test)]
mod failure_tests;
#[cfg(test)]
mod metrics_tests;
#[cfg(test)]
mod quota_tests;
#[cfg(test)]
mod replay_tests;
#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod verify_tests;
