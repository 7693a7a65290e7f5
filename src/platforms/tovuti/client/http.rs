//! [`TovutiClient`]: the [`TovutiApi`] over HTTP, bearer-authenticated JSON against a
//! tenant's new API (or the sandbox). One request per call: retrying is the worker's job,
//! decided from [`TovutiError::is_retryable`]. A create is marked [`Replay::Once`], so a
//! failure after which the user may exist says so ([`TovutiError::OutcomeUnknown`]).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::Value;

use super::{
    CatalogItem, CatalogKind, CatalogPaths, TovutiApi, TovutiCatalog, TovutiError, UserWrite,
    answer, body,
};
use crate::config::{Config, TovutiConfig, TovutiListsConfig};
use crate::platforms::replay::Replay;
use crate::platforms::tovuti::payloads::User;
use crate::telemetry::requests::{self, RequestEntry};

/// Whole-request timeout when the configuration names none (`tovuti.timeout_ms` = 0).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Users asked for per email lookup; Tovuti's filters are undocumented,
/// so a match is also checked here and only this first page is searched.
const FIND_PAGE_SIZE: &str = "100";

/// A client for one Tovuti tenant; cheap to clone.
#[derive(Clone)]
pub struct TovutiClient {
    http: reqwest::Client,
    /// The API root, e.g. `https://api.tovuti.io/api/v1`.
    base: url::Url,
    token: SecretString,
    catalog: CatalogPaths,
    /// Paths, parameters and field names of the paged lists.
    lists: Arc<TovutiListsConfig>,
}

impl fmt::Debug for TovutiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TovutiClient")
            .field("base", &self.base.as_str())
            .field("token", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// A 2xx-or-not answer, read whole.
pub(super) struct Answer {
    pub(super) status: u16,
    retry_after: Option<Duration>,
    pub(super) body: bytes::Bytes,
}

impl Answer {
    pub(super) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub(super) fn into_error(self, endpoint: &'static str) -> TovutiError {
        answer::status_error(endpoint, self.status, self.retry_after, &self.body)
    }
}

impl TovutiClient {
    /// Checks the base URL and the token's usability as a header up front, so that a
    /// misconfiguration fails at startup rather than on the first event.
    pub fn new(
        base_url: &str,
        token: SecretString,
        timeout: Duration,
    ) -> Result<Self, TovutiError> {
        let base = parse_base(base_url)?;
        let header = format!("Bearer {}", token.expose_secret());
        if token.expose_secret().is_empty()
            || reqwest::header::HeaderValue::from_str(&header).is_err()
        {
            return Err(setup_error(
                "the token is empty or not a valid header value",
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("tovuti-ghl-bridge/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| from_reqwest("client.build", &e))?;
        Ok(Self {
            http,
            base,
            token,
            catalog: CatalogPaths::default(),
            lists: Arc::new(Config::defaults().tovuti.lists),
        })
    }

    /// The default connection's client; `None` when no base URL or token is configured.
    pub fn from_config(config: &TovutiConfig) -> Result<Option<Self>, TovutiError> {
        let Some(token) = config.token.expose() else {
            return Ok(None);
        };
        if config.base_url.trim().is_empty() {
            return Ok(None);
        }
        let token = SecretString::from(token.to_owned());
        let timeout = match config.timeout_ms {
            0 => DEFAULT_TIMEOUT,
            ms => Duration::from_millis(ms),
        };
        let paths = CatalogPaths {
            custom_fields: config.custom_fields_path.clone(),
            groups: config.groups_path.clone(),
            courses: config.courses_path.clone(),
        };
        let client = Self::new(&config.base_url, token, timeout)?;
        Ok(Some(
            client
                .with_catalog_paths(paths)
                .with_lists(config.lists.clone()),
        ))
    }

    /// The same client reading the paged lists as `lists` says.
    #[must_use]
    pub fn with_lists(mut self, lists: TovutiListsConfig) -> Self {
        self.lists = Arc::new(lists);
        self
    }

    pub(super) fn lists(&self) -> &TovutiListsConfig {
        &self.lists
    }

    /// The same client reading the catalog lists at `paths`.
    #[must_use]
    pub fn with_catalog_paths(mut self, paths: CatalogPaths) -> Self {
        self.catalog = paths;
        self
    }

    pub(super) fn catalog_paths(&self) -> &CatalogPaths {
        &self.catalog
    }

    /// Sends one request; any status is an `Ok` answer, transport trouble an error.
    pub(super) async fn send(
        &self,
        endpoint: &'static str,
        method: Method,
        segments: &[&str],
        query: &[(&str, &str)],
        json: Option<&Value>,
    ) -> Result<Answer, TovutiError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| setup_error("the base URL cannot take a path"))?
            .pop_if_empty()
            .extend(segments);
        let path = url.path().to_owned();
        let mut request = self
            .http
            .request(method.clone(), url)
            .bearer_auth(self.token.expose_secret())
            .header(reqwest::header::ACCEPT, "application/json");
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(json) = json {
            request = request.json(json);
        }
        let started = std::time::Instant::now();
        let sent = request.send().await;
        requests::note(RequestEntry {
            platform: "tovuti",
            method: method.to_string(),
            path,
            outcome: match &sent {
                Ok(response) => response.status().as_u16().to_string(),
                Err(e) if e.is_timeout() => "timeout".to_owned(),
                Err(_) => "connection".to_owned(),
            },
            trace_id: None,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
        let response = sent.map_err(|e| from_reqwest(endpoint, &e))?;
        let status = response.status().as_u16();
        let retry_after = retry_after(response.headers());
        let body = response
            .bytes()
            .await
            .map_err(|e| from_reqwest(endpoint, &e))?;
        Ok(Answer {
            status,
            retry_after,
            body,
        })
    }

    /// A create or update: the user object on 2xx, the classified error otherwise.
    async fn write(
        &self,
        endpoint: &'static str,
        method: Method,
        segments: &[&str],
        write: &UserWrite,
    ) -> Result<User, TovutiError> {
        let json = body::user_body(write);
        let replay = Replay::of(&method);
        let answer = self
            .send(endpoint, method, segments, &[], Some(&json))
            .await;
        let result = match answer {
            Ok(answer) if answer.is_success() => return answer::user(endpoint, &answer.body),
            Ok(answer) => answer.into_error(endpoint),
            Err(error) => error,
        };
        Err(match replay {
            Replay::Once if result.may_have_applied() => TovutiError::OutcomeUnknown {
                endpoint,
                detail: result.to_string(),
            },
            _ => result,
        })
    }
}

#[async_trait]
impl TovutiApi for TovutiClient {
    async fn catalog(&self, kind: CatalogKind) -> Option<Result<Vec<CatalogItem>, TovutiError>> {
        Some(TovutiCatalog::list(self, kind).await)
    }

    async fn get_user(&self, id: u64) -> Result<Option<User>, TovutiError> {
        const ENDPOINT: &str = "user.get";
        let id = id.to_string();
        let answer = self
            .send(ENDPOINT, Method::GET, &["user", &id], &[], None)
            .await?;
        // A public Tovuti client reads a JSON `error` of "User id = N not found" without
        // checking the status, so the status a missing user gets is unknown: accept both.
        let not_found = answer.status == 404
            || (matches!(answer.status, 200..=299 | 400) && answer::says_not_found(&answer.body));
        if not_found {
            return Ok(None);
        }
        if !answer.is_success() {
            return Err(answer.into_error(ENDPOINT));
        }
        answer::user(ENDPOINT, &answer.body).map(Some)
    }

    async fn find_user_by_email(&self, email: &str) -> Result<Option<User>, TovutiError> {
        const ENDPOINT: &str = "users.find";
        let email = email.trim();
        // An empty address would match every user without one.
        if email.is_empty() {
            return Ok(None);
        }
        let query = [
            ("email", email),
            ("page", "1"),
            ("pageSize", FIND_PAGE_SIZE),
        ];
        let answer = self
            .send(ENDPOINT, Method::GET, &["users"], &query, None)
            .await?;
        if !answer.is_success() {
            return Err(answer.into_error(ENDPOINT));
        }
        let users = answer::users(ENDPOINT, &answer.body)?;
        Ok(users.into_iter().find(|user| {
            user.email
                .as_deref()
                .is_some_and(|e| e.trim().eq_ignore_ascii_case(email))
        }))
    }

    async fn create_user(&self, user: &UserWrite) -> Result<User, TovutiError> {
        self.write("user.create", Method::POST, &["user"], user)
            .await
    }

    async fn update_user(&self, id: u64, write: &UserWrite) -> Result<User, TovutiError> {
        let id = id.to_string();
        self.write("user.update", Method::PATCH, &["user", &id], write)
            .await
    }
}

fn parse_base(base_url: &str) -> Result<url::Url, TovutiError> {
    let base = url::Url::parse(base_url.trim())
        .map_err(|e| setup_error(&format!("invalid base URL: {e}")))?;
    if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
        return Err(setup_error("the base URL must be an http(s) URL"));
    }
    Ok(base)
}

/// Construction problems are reported as a connection that cannot be made.
fn setup_error(detail: &str) -> TovutiError {
    TovutiError::Unreachable {
        endpoint: "client.setup",
        detail: detail.to_owned(),
    }
}

fn from_reqwest(endpoint: &'static str, error: &reqwest::Error) -> TovutiError {
    // reqwest's own Display names the URL, whose query can carry an email address.
    let detail = std::error::Error::source(error)
        .map_or_else(|| "transport error".to_owned(), ToString::to_string);
    // A connect error (a connect timeout included) happens before a byte is sent.
    if error.is_connect() {
        return TovutiError::Unreachable { endpoint, detail };
    }
    if error.is_timeout() {
        return TovutiError::Timeout { endpoint };
    }
    TovutiError::Connection { endpoint, detail }
}

/// `Retry-After` in seconds; the HTTP-date form is not used by Laravel's throttle.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok()?.trim().parse().ok())
        .map(Duration::from_secs)
}
