//! One GHL request, described so that it can be sent again unchanged: method, the
//! operation's name, its API `Version`, path, query and body, and whether a second send
//! is safe.

use reqwest::Method;

use super::{GhlError, VERSION_CALENDARS, VERSION_CONTACTS};
use crate::platforms::replay::Replay;

/// One request, described so that it can be sent again unchanged.
pub(crate) struct Call {
    pub(super) method: Method,
    pub(super) replay: Replay,
    /// Operation name for metrics and errors (`contacts.get`); never the raw path.
    pub(super) endpoint: &'static str,
    pub(super) version: &'static str,
    /// Path segments; a trailing `""` gives the trailing slash GHL's `/contacts/` has.
    pub(super) segments: Vec<String>,
    pub(super) query: Vec<(&'static str, String)>,
    pub(super) body: Option<serde_json::Value>,
}

impl Call {
    /// A call to `endpoint`; a POST is taken to create something (`Replay::Once`)
    /// unless marked [`Call::idempotent`].
    pub(crate) fn new(method: Method, endpoint: &'static str, segments: &[&str]) -> Self {
        Self {
            replay: Replay::of(&method),
            method,
            endpoint,
            version: VERSION_CONTACTS,
            segments: segments.iter().map(|s| (*s).to_owned()).collect(),
            query: Vec::new(),
            body: None,
        }
    }

    /// A POST that may be sent twice safely (an upsert, a search, adding tags).
    pub(crate) fn idempotent(mut self) -> Self {
        self.replay = Replay::Safe;
        self
    }

    pub(crate) fn calendars(mut self) -> Self {
        self.version = VERSION_CALENDARS;
        self
    }

    pub(crate) fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    pub(crate) fn json(mut self, body: &impl serde::Serialize) -> Result<Self, GhlError> {
        let value = serde_json::to_value(body).map_err(|e| GhlError::Decode {
            endpoint: self.endpoint,
            detail: e.to_string(),
        })?;
        self.body = Some(value);
        Ok(self)
    }
}
