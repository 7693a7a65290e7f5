//! `LocationApi::verify`: one harmless call per capability the service needs (the caller
//! says which through [`Needs`]), reported as ok / forbidden (missing scope) / no access to
//! the location / unauthorized / unreachable / not verified, with the rate-limit headers
//! seen and a sample contact as the mapping would read it.

use std::fmt;

use reqwest::Method;
use serde_json::Value;

use super::throttle::RateLimitSnapshot;
use super::{AppointmentUpdate, AutomationKind, Call, Contact, GhlError, LocationApi, SearchQuery};
use crate::platforms::ErrorClass;

/// An id no contact has: deleting it proves the write scope without changing anything.
const PROBE_CONTACT_ID: &str = "tovuti-ghl-bridge-scope-probe";
/// An id no appointment has: reading and updating it prove the calendar scopes.
const PROBE_EVENT_ID: &str = "tovuti-ghl-bridge-scope-probe";

const CONTACTS_READ: &str = "contacts.readonly";
const CONTACTS_WRITE: &str = "contacts.write";
const FIELDS_READ: &str = "locations/customFields.readonly";
const EVENTS_READ: &str = "calendars/events.readonly";
const EVENTS_WRITE: &str = "calendars/events.write";
const CAMPAIGNS_READ: &str = "campaigns.readonly";
const WORKFLOWS_READ: &str = "workflows.readonly";

/// Why a capability that needs a contact was not checked.
pub const NO_SAMPLE: &str = "no contact to sample";

/// What the service will do in this location, so `verify` checks exactly that.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    /// Custom fields are read or written (by id or key).
    pub custom_fields: bool,
    pub tags: bool,
    pub campaigns: bool,
    pub workflows: bool,
    /// Campaigns named by name: the location's campaign list is read to find their ids.
    pub campaign_names: bool,
    /// Workflows named by name: the location's workflow list is read to find their ids.
    pub workflow_names: bool,
    pub tasks: bool,
    pub notes: bool,
    pub appointments: bool,
}

impl Needs {
    /// Every capability the service has.
    pub fn everything() -> Self {
        Self {
            custom_fields: true,
            tags: true,
            campaigns: true,
            workflows: true,
            campaign_names: true,
            workflow_names: true,
            tasks: true,
            notes: true,
            appointments: true,
        }
    }
}

/// What one capability check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// The token lacks this scope.
    Forbidden {
        missing_scope: &'static str,
    },
    /// The token is for another location (or the user has no access to this one).
    NoLocationAccess,
    /// The token is invalid, expired or revoked.
    Unauthorized,
    /// GHL could not be reached (timeout, connection failure, 5xx).
    Unreachable(String),
    /// Not checked: it needs a contact and the location has none.
    Skipped(&'static str),
    /// Any other answer.
    Failed(String),
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ok => f.write_str("ok"),
            Self::Forbidden { missing_scope } => {
                write!(f, "forbidden (missing scope {missing_scope})")
            }
            Self::NoLocationAccess => f.write_str("forbidden (no access to this location)"),
            Self::Unauthorized => f.write_str("unauthorized"),
            Self::Unreachable(why) => write!(f, "unreachable ({why})"),
            Self::Skipped(why) => write!(f, "NOT VERIFIED ({why})"),
            Self::Failed(why) => write!(f, "failed ({why})"),
        }
    }
}

/// One capability and how its check went.
#[derive(Debug, Clone)]
pub struct Capability {
    pub name: &'static str,
    pub scope: &'static str,
    pub outcome: Verdict,
}

/// Everything `verify` learned.
#[derive(Debug, Clone)]
pub struct Verification {
    pub capabilities: Vec<Capability>,
    pub rate_limits: Option<RateLimitSnapshot>,
    pub sample: Option<Contact>,
}

impl Verification {
    /// True when every capability was checked and works.
    pub fn all_ok(&self) -> bool {
        self.capabilities.iter().all(|c| c.outcome == Verdict::Ok)
    }

    /// True when nothing checked failed; capabilities left unchecked do not count.
    pub fn none_failed(&self) -> bool {
        self.capabilities
            .iter()
            .all(|c| matches!(c.outcome, Verdict::Ok | Verdict::Skipped(_)))
    }

    /// The capabilities that could not be checked.
    pub fn untested(&self) -> impl Iterator<Item = &Capability> {
        self.capabilities
            .iter()
            .filter(|c| matches!(c.outcome, Verdict::Skipped(_)))
    }

    /// The outcome of the capability `name`.
    pub fn outcome(&self, name: &str) -> Option<&Verdict> {
        self.capabilities
            .iter()
            .find(|c| c.name == name)
            .map(|c| &c.outcome)
    }
}

fn judge<T>(result: Result<T, GhlError>, scope: &'static str) -> Verdict {
    match result {
        Ok(_) => Verdict::Ok,
        Err(error) => judge_error(&error, scope),
    }
}

/// A probe on a record that does not exist: "not found" (or a validation answer) means
/// the scope let the request through.
fn judge_probe<T>(result: Result<T, GhlError>, scope: &'static str) -> Verdict {
    match result {
        Err(e)
            if matches!(
                e.class(),
                ErrorClass::NotFound | ErrorClass::Permanent | ErrorClass::Undecodable
            ) =>
        {
            Verdict::Ok
        }
        other => judge(other, scope),
    }
}

/// GHL answers a missing scope with 401 "The token is not authorized for this scope." (and
/// some routes with 403), and a token of another location with 403 "… does not have
/// access to this location", so the message decides, not the status alone.
fn judge_error(error: &GhlError, scope: &'static str) -> Verdict {
    let message = error
        .failure()
        .map(|f| f.body.to_ascii_lowercase())
        .unwrap_or_default();
    match error.class() {
        ErrorClass::Unauthorized | ErrorClass::Forbidden
            if message.contains("access to this location") =>
        {
            Verdict::NoLocationAccess
        }
        ErrorClass::Forbidden => Verdict::Forbidden {
            missing_scope: scope,
        },
        ErrorClass::Unauthorized if message.contains("scope") => Verdict::Forbidden {
            missing_scope: scope,
        },
        ErrorClass::Unauthorized | ErrorClass::NeedsReauth => Verdict::Unauthorized,
        class if class.is_retryable() => Verdict::Unreachable(error.to_string()),
        _ => Verdict::Failed(error.to_string()),
    }
}

/// The report being built.
struct Checks(Vec<Capability>);

impl Checks {
    fn push(&mut self, name: &'static str, scope: &'static str, outcome: Verdict) {
        self.0.push(Capability {
            name,
            scope,
            outcome,
        });
    }
}

impl LocationApi {
    /// Checks each capability `needs` names with a read, or a write on a record that does
    /// not exist, so nothing changes.
    pub async fn verify(&self, sample_contact: Option<&str>, needs: &Needs) -> Verification {
        let mut checks = Checks(Vec::new());
        let query = SearchQuery {
            page_limit: 1,
            ..SearchQuery::default()
        };
        let search = self.search_contacts(&query).await;
        let found = search
            .as_ref()
            .ok()
            .and_then(|p| p.contacts.first().map(|c| c.id.clone()));
        checks.push(
            "contacts.search",
            CONTACTS_READ,
            judge(search, CONTACTS_READ),
        );
        let write = judge_probe(self.delete_contact(PROBE_CONTACT_ID).await, CONTACTS_WRITE);
        checks.push("contacts.write", CONTACTS_WRITE, write.clone());
        // Tags, campaigns, workflows, tasks and notes are written under `contacts.write`,
        // which the probe above proved (or not).
        let under_write = [
            (needs.tags, "tags.write"),
            (needs.campaigns, "campaigns.add"),
            (needs.workflows, "workflows.add"),
            (needs.tasks, "tasks.write"),
            (needs.notes, "notes.write"),
        ];
        for (_, name) in under_write.iter().filter(|(needed, _)| *needed) {
            checks.push(name, CONTACTS_WRITE, write.clone());
        }
        let lists = [
            (
                needs.campaign_names,
                AutomationKind::Campaign,
                CAMPAIGNS_READ,
            ),
            (
                needs.workflow_names,
                AutomationKind::Workflow,
                WORKFLOWS_READ,
            ),
        ];
        for (_, kind, scope) in lists.into_iter().filter(|(needed, ..)| *needed) {
            let name = match kind {
                AutomationKind::Campaign => "campaigns.list",
                AutomationKind::Workflow => "workflows.list",
            };
            checks.push(name, scope, judge(self.automations(kind).await, scope));
        }
        if needs.custom_fields {
            checks.push(
                "custom_fields.list",
                FIELDS_READ,
                self.check_custom_fields().await,
            );
        }
        if needs.appointments {
            let read = judge_probe(self.get_appointment(PROBE_EVENT_ID).await, EVENTS_READ);
            checks.push("appointments.read", EVENTS_READ, read);
            let update = AppointmentUpdate {
                title: Some("scope probe".into()),
                ..AppointmentUpdate::default()
            };
            let written = self.update_appointment(PROBE_EVENT_ID, &update).await;
            checks.push(
                "appointments.write",
                EVENTS_WRITE,
                judge_probe(written, EVENTS_WRITE),
            );
        }
        let sample_id = sample_contact.map(str::to_owned).or(found);
        let sample = self
            .check_sample(sample_id.as_deref(), needs, &mut checks)
            .await;
        Verification {
            capabilities: checks.0,
            rate_limits: self.client.throttle().last_seen(&self.location_id),
            sample,
        }
    }

    async fn check_custom_fields(&self) -> Verdict {
        let segments = ["locations", &self.location_id, "customFields"];
        let call = Call::new(Method::GET, "custom_fields.list", &segments);
        judge(self.send::<Value>(call).await, FIELDS_READ)
    }

    /// The reads that need a contact: not verified when there is none.
    async fn check_sample(
        &self,
        id: Option<&str>,
        needs: &Needs,
        checks: &mut Checks,
    ) -> Option<Contact> {
        let reads = [
            (true, "contacts.get"),
            (needs.tasks, "tasks.list"),
            (needs.notes, "notes.list"),
            (needs.appointments, "appointments.for_contact"),
        ];
        let reads = reads.into_iter().filter(|(needed, _)| *needed);
        let Some(id) = id else {
            for (_, name) in reads {
                checks.push(name, CONTACTS_READ, Verdict::Skipped(NO_SAMPLE));
            }
            return None;
        };
        let mut sample = None;
        for (_, name) in reads {
            let outcome = match name {
                "contacts.get" => {
                    let contact = self.get_contact(id).await;
                    sample = contact.as_ref().ok().cloned();
                    judge(contact, CONTACTS_READ)
                }
                "tasks.list" => judge(self.list_tasks(id).await, CONTACTS_READ),
                "notes.list" => judge(self.list_notes(id).await, CONTACTS_READ),
                _ => judge(self.contact_appointments(id).await, CONTACTS_READ),
            };
            checks.push(name, CONTACTS_READ, outcome);
        }
        sample
    }
}
