//! `Connection::verify`: one harmless call per capability the service needs, reported
//! as ok / forbidden (missing scope) / unauthorized / unreachable, with the rate-limit
//! headers seen and a sample contact as the mapping would read it.

use std::fmt;

use reqwest::Method;
use serde_json::Value;

use super::throttle::RateLimitSnapshot;
use super::{Call, Connection, Contact, ErrorClass, GhlError, SearchQuery};

/// An id no contact has: deleting it proves the write scope without changing anything.
const PROBE_CONTACT_ID: &str = "tovuti-ghl-bridge-scope-probe";

/// What one capability check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// The token lacks this scope.
    Forbidden {
        missing_scope: &'static str,
    },
    /// The token is invalid, expired or revoked.
    Unauthorized,
    /// GHL could not be reached (timeout, connection failure, 5xx).
    Unreachable(String),
    /// Not checked: it needs a contact and the location has none.
    Skipped(&'static str),
    /// Any other answer.
    Failed(String),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ok => f.write_str("ok"),
            Self::Forbidden { missing_scope } => {
                write!(f, "forbidden (missing scope {missing_scope})")
            }
            Self::Unauthorized => f.write_str("unauthorized"),
            Self::Unreachable(why) => write!(f, "unreachable ({why})"),
            Self::Skipped(why) => write!(f, "skipped ({why})"),
            Self::Failed(why) => write!(f, "failed ({why})"),
        }
    }
}

/// One capability and how its check went.
#[derive(Debug, Clone)]
pub struct Capability {
    pub name: &'static str,
    pub scope: &'static str,
    pub outcome: Outcome,
}

/// Everything `verify` learned.
#[derive(Debug, Clone)]
pub struct Verification {
    pub capabilities: Vec<Capability>,
    pub rate_limits: Option<RateLimitSnapshot>,
    pub sample: Option<Contact>,
}

impl Verification {
    /// True when every capability works (skipped ones do not count against it).
    pub fn all_ok(&self) -> bool {
        self.capabilities
            .iter()
            .all(|c| matches!(c.outcome, Outcome::Ok | Outcome::Skipped(_)))
    }

    /// The outcome of the capability `name`.
    pub fn outcome(&self, name: &str) -> Option<&Outcome> {
        self.capabilities
            .iter()
            .find(|c| c.name == name)
            .map(|c| &c.outcome)
    }
}

fn judge<T>(result: Result<T, GhlError>, scope: &'static str) -> Outcome {
    match result {
        Ok(_) => Outcome::Ok,
        Err(error) => judge_error(&error, scope),
    }
}

fn judge_error(error: &GhlError, scope: &'static str) -> Outcome {
    match (error.class(), error.status()) {
        (ErrorClass::Auth, Some(403)) => Outcome::Forbidden {
            missing_scope: scope,
        },
        (ErrorClass::Auth | ErrorClass::NeedsReauth, _) => Outcome::Unauthorized,
        (ErrorClass::Retryable, _) => Outcome::Unreachable(error.to_string()),
        _ => Outcome::Failed(error.to_string()),
    }
}

impl Connection {
    /// Checks each capability with a read (or a write that cannot change anything).
    pub async fn verify(&self, sample_contact: Option<&str>) -> Verification {
        let mut checks = Vec::new();
        let mut push = |name, scope, outcome| {
            checks.push(Capability {
                name,
                scope,
                outcome,
            })
        };
        let query = SearchQuery {
            page_limit: 1,
            ..SearchQuery::default()
        };
        let search = self.search_contacts(&query).await;
        let found = search
            .as_ref()
            .ok()
            .and_then(|p| p.contacts.first().map(|c| c.id.clone()));
        let read = "contacts.readonly";
        push("contacts.search", read, judge(search, read));
        push("contacts.write", "contacts.write", self.check_write().await);
        let fields = "locations/customFields.readonly";
        push(
            "custom_fields.list",
            fields,
            self.check_custom_fields().await,
        );
        let sample_id = sample_contact.map(str::to_owned).or(found);
        let sample = self.check_sample(sample_id.as_deref(), &mut push).await;
        Verification {
            capabilities: checks,
            rate_limits: self.client.throttle().last_seen(&self.location_id),
            sample,
        }
    }

    /// Deleting a contact that does not exist: refused for a missing scope, "not
    /// found" (or a validation answer) when the scope is there.
    async fn check_write(&self) -> Outcome {
        match self.delete_contact(PROBE_CONTACT_ID).await {
            Err(e) if matches!(e.class(), ErrorClass::NotFound | ErrorClass::Permanent) => {
                Outcome::Ok
            }
            other => judge(other, "contacts.write"),
        }
    }

    async fn check_custom_fields(&self) -> Outcome {
        let segments = ["locations", &self.location_id, "customFields"];
        let call = Call::new(Method::GET, "custom_fields.list", &segments);
        judge(
            self.send::<Value>(call).await,
            "locations/customFields.readonly",
        )
    }

    async fn check_sample(
        &self,
        id: Option<&str>,
        push: &mut impl FnMut(&'static str, &'static str, Outcome),
    ) -> Option<Contact> {
        const READ: &str = "contacts.readonly";
        let Some(id) = id else {
            for name in [
                "contacts.get",
                "tasks.list",
                "notes.list",
                "appointments.for_contact",
            ] {
                push(name, READ, Outcome::Skipped("no contact to sample"));
            }
            return None;
        };
        let contact = self.get_contact(id).await;
        let sample = contact.as_ref().ok().cloned();
        push("contacts.get", READ, judge(contact, READ));
        push("tasks.list", READ, judge(self.list_tasks(id).await, READ));
        push("notes.list", READ, judge(self.list_notes(id).await, READ));
        push(
            "appointments.for_contact",
            READ,
            judge(self.contact_appointments(id).await, READ),
        );
        sample
    }
}
