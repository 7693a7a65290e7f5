//! A fake GoHighLevel API v2 on a local port: contacts, tasks, notes, tags, campaigns,
//! workflows and appointments in memory, the OAuth token endpoint, GHL's rate limit
//! and on-demand faults. Tests drive it through [`FakeGhl`]'s methods.

mod activities;
mod automations;
mod calendars;
mod contact_table;
mod contacts;
mod gate;
mod oauth;
mod routes;
mod search;
mod state;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::task::JoinHandle;

pub use crate::sandbox::faults::{Fault, RandomFaults, Target};
pub use gate::{VERSION_CALENDARS, VERSION_CONTACTS};
pub use state::{Grant, Limits, LoggedRequest};

use state::Inner;

/// Every scope the fake knows; a token issued "with all scopes" gets these.
pub const ALL_SCOPES: &[&str] = &[
    "contacts.readonly",
    "contacts.write",
    "calendars/events.readonly",
    "calendars/events.write",
    "locations/customFields.readonly",
    "locations/customFields.write",
    "campaigns.readonly",
    "workflows.readonly",
];

/// What the fake is started with.
#[derive(Debug, Clone)]
pub struct FakeSettings {
    pub limits: Limits,
    pub client_id: String,
    pub client_secret: String,
    /// Lifetime of issued access tokens (GHL: a day).
    pub access_ttl: Duration,
}

impl Default for FakeSettings {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            client_id: "fake-client-id".into(),
            client_secret: "fake-client-secret".into(),
            access_ttl: Duration::from_secs(86_399),
        }
    }
}

/// State shared by the fake's handlers.
pub struct FakeGhlState {
    inner: Mutex<Inner>,
    limits: Limits,
    client_id: String,
    client_secret: String,
    access_ttl: Duration,
}

impl FakeGhlState {
    /// The data; a handler that panicked mid-update cannot leave it worse than a test can.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running fake; stops when dropped.
pub struct FakeGhl {
    address: SocketAddr,
    shared: Arc<FakeGhlState>,
    server: JoinHandle<()>,
}

impl Drop for FakeGhl {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeGhl {
    /// Starts on `127.0.0.1`, port 0.
    pub async fn start(settings: FakeSettings) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        Self::serve(listener, settings)
    }

    /// Serves on a listener the caller bound (the sandbox picks its own port).
    pub fn serve(
        listener: tokio::net::TcpListener,
        settings: FakeSettings,
    ) -> std::io::Result<Self> {
        let address = listener.local_addr()?;
        let shared = Arc::new(FakeGhlState {
            inner: Mutex::new(Inner::default()),
            limits: settings.limits,
            client_id: settings.client_id,
            client_secret: settings.client_secret,
            access_ttl: settings.access_ttl,
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

    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Issues a non-expiring token (like a Private Integration Token) for `location`.
    pub fn issue_token(&self, location: &str, scopes: &[&str]) -> String {
        let grant = grant(location, scopes, None);
        let mut inner = self.shared.lock();
        let token = inner.next_secret("pit");
        inner.tokens.insert(token.clone(), grant);
        token
    }

    /// From now on a missing scope is answered 401 "The token is not authorized for this
    /// scope.", as GHL answers most routes, instead of 403.
    pub fn refuse_scopes_with_401(&self) {
        self.shared.lock().scope_refusal_401 = true;
    }

    /// Defines a campaign (`workflow == false`) or workflow listed by `GET /campaigns/` or
    /// `GET /workflows/`.
    pub fn define_automation(&self, workflow: bool, id: &str, name: &str) {
        let mut inner = self.shared.lock();
        let defs = if workflow {
            &mut inner.workflow_defs
        } else {
            &mut inner.campaign_defs
        };
        defs.insert(id.to_owned(), name.to_owned());
    }

    /// Forgets every campaign and workflow the location defines.
    pub fn clear_automations(&self) {
        let mut inner = self.shared.lock();
        inner.campaign_defs.clear();
        inner.workflow_defs.clear();
    }

    /// Defines the contact custom field `key` (TEXT), as an admin creating it in GHL does;
    /// returns its id.
    pub fn define_custom_field(&self, key: &str, name: &str) -> String {
        let mut inner = self.shared.lock();
        let id = inner.next_id("cf");
        inner.custom_field_ids.insert(key.to_owned(), id.clone());
        let meta = (name.to_owned(), "TEXT".to_owned());
        inner.custom_field_defs.insert(key.to_owned(), meta);
        id
    }

    /// Deletes the field `key` and creates it again under a new id, as an admin who
    /// recreates a field does: the contacts lose their values of the old field, as in
    /// GHL, and writes naming the old id are then ignored.
    pub fn recreate_custom_field(&self, key: &str) -> Option<String> {
        let mut inner = self.shared.lock();
        let id = inner.next_id("cf");
        let old = inner.custom_field_ids.insert(key.to_owned(), id.clone())?;
        inner.contacts.update_all(|contact| {
            if let Some(serde_json::Value::Array(fields)) = contact.get_mut("customFields") {
                fields
                    .retain(|field| field.get("id").and_then(|v| v.as_str()) != Some(old.as_str()));
            }
        });
        inner.deleted_field_ids.insert(old);
        Some(id)
    }

    /// The location's contact custom fields as `(fieldKey, name, dataType)`.
    pub fn custom_fields(&self) -> Vec<(String, String, String)> {
        let inner = self.shared.lock();
        inner
            .custom_field_ids
            .keys()
            .map(|key| {
                let (name, data_type) = search::field_meta(&inner, key);
                (key.clone(), name, data_type)
            })
            .collect()
    }

    /// A refresh token of an agency (Company) install with `scopes`.
    pub fn issue_company_refresh_token(&self, company: &str, scopes: &[&str]) -> String {
        let mut grant = grant("", scopes, None);
        grant.company_id = company.to_owned();
        grant.user_type = "Company".into();
        let mut inner = self.shared.lock();
        let refresh = inner.next_secret("fake-refresh");
        inner.refresh_tokens.insert(refresh.clone(), grant);
        refresh
    }

    /// Simulates a finished install: an authorization code for `location`.
    pub fn authorization_code(&self, location: &str, scopes: &[&str]) -> String {
        let mut inner = self.shared.lock();
        let code = inner.next_secret("code");
        inner
            .codes
            .insert(code.clone(), grant(location, scopes, None));
        code
    }

    /// A refresh token GHL would have issued for `location` (single use).
    pub fn issue_refresh_token(&self, location: &str, scopes: &[&str]) -> String {
        let mut inner = self.shared.lock();
        let refresh = inner.next_secret("fake-refresh");
        inner
            .refresh_tokens
            .insert(refresh.clone(), grant(location, scopes, None));
        refresh
    }

    /// Makes `token` invalid, as revoking it in GHL's UI does.
    pub fn revoke(&self, token: &str) {
        if let Some(grant) = self.shared.lock().tokens.get_mut(token) {
            grant.revoked = true;
        }
    }

    /// Makes every access token of `location` expire now.
    pub fn expire_tokens(&self, location: &str) {
        let now = tokio::time::Instant::now();
        for grant in self.shared.lock().tokens.values_mut() {
            if grant.location_id == location {
                grant.expires_at = Some(now);
            }
        }
    }

    /// From now on the token endpoint answers "Location is not active" for `location`.
    pub fn deactivate_location(&self, location: &str) {
        self.shared
            .lock()
            .inactive_locations
            .insert(location.to_owned());
    }

    /// Whether the location's "allow duplicate contacts" setting is on (off by default).
    pub fn allow_duplicate_contacts(&self, allow: bool) {
        self.shared.lock().allow_duplicate_contacts = allow;
    }

    /// Queues faults for the next requests that pass the token check, one each.
    pub fn inject(&self, faults: impl IntoIterator<Item = Fault>) {
        self.shared.lock().faults.queue(&Target::Any, faults);
    }

    /// Queues faults for the next requests `target` matches (`Target::route("POST
    /// /contacts/*/notes")`), one each, ahead of other requests' faults.
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

    /// Every API request seen so far (not the token endpoint).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.lock().log.clone()
    }

    /// How many times `POST /oauth/token` was called.
    pub fn token_endpoint_calls(&self) -> u32 {
        self.shared.lock().token_endpoint_calls
    }

    /// How many times `POST /oauth/locationToken` was called.
    pub fn location_token_calls(&self) -> u32 {
        self.shared.lock().location_token_calls
    }

    /// A stored contact in GHL's read shape.
    pub fn contact(&self, id: &str) -> Option<serde_json::Value> {
        self.shared.lock().contacts.get(id).cloned()
    }

    /// Every stored contact, in creation order.
    pub fn contacts(&self) -> Vec<serde_json::Value> {
        self.shared.lock().contacts.values().cloned().collect()
    }

    /// Creates a contact in `location` as someone in GHL's app would: no webhook is sent.
    /// `fields` is in the API's write shape; returns the stored contact.
    pub fn add_contact(&self, location: &str, fields: &serde_json::Value) -> serde_json::Value {
        let mut inner = self.shared.lock();
        contacts::new_contact(&mut inner, location, fields)
    }

    /// Changes a contact "behind the service's back", as an edit in GHL's app whose
    /// webhook never arrives: `fields` in the write shape (`tags` replaces the tags),
    /// `dateUpdated` moves. Returns the contact as stored now, `None` when unknown.
    pub fn edit_contact(&self, id: &str, fields: &serde_json::Value) -> Option<serde_json::Value> {
        let mut inner = self.shared.lock();
        let Some(serde_json::Value::Object(mut contact)) = inner.contacts.get(id).cloned() else {
            return None;
        };
        contacts::apply(&mut inner, &mut contact, fields);
        let contact = serde_json::Value::Object(contact);
        inner.contacts.insert(id.to_owned(), contact.clone());
        Some(contact)
    }

    /// The tasks, notes or appointments (`"tasks"`, `"notes"`, `"events"`) whose
    /// `contactId` is `contact`, in creation order.
    pub fn activities(&self, kind: &str, contact: &str) -> Vec<serde_json::Value> {
        let inner = self.shared.lock();
        let all = match kind {
            "tasks" => &inner.tasks,
            "notes" => &inner.notes,
            _ => &inner.events,
        };
        all.values()
            .filter(|v| v["contactId"] == contact)
            .cloned()
            .collect()
    }

    /// Whether `contact` is in `campaign` (`workflow == false`) or the workflow.
    pub fn is_member(&self, workflow: bool, contact: &str, target: &str) -> bool {
        let inner = self.shared.lock();
        let set = if workflow {
            &inner.workflows
        } else {
            &inner.campaigns
        };
        set.contains(&(contact.to_owned(), target.to_owned()))
    }
}

fn grant(location: &str, scopes: &[&str], expires_at: Option<tokio::time::Instant>) -> Grant {
    Grant {
        location_id: location.to_owned(),
        company_id: "fake-company".into(),
        scopes: scopes
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<BTreeSet<_>>(),
        user_type: "Location".into(),
        expires_at,
        revoked: false,
    }
}

#[cfg(test)]
mod tests;
