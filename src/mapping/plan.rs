//! The pure API the sync engine calls: an incoming event plus what is known about the other
//! side → the planned actions and the fingerprints for echo suppression. Deterministic: the
//! same input plans the same actions with the same idempotency keys.

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::action::{Action, ContactRef, UserRef, idempotency_key};
use super::fields::{Canonical, FieldProblem};
use super::fingerprint::fingerprint;
use super::model::TovutiItem;
use super::tovuti_names::Unresolved;
use super::validate::Mapping;
use super::value::{self, FieldType};
use super::{from_ghl, from_tovuti};
use crate::platforms::ghl::GhlWebhook;
use crate::platforms::ghl::payloads::{Contact, Task};
use crate::platforms::tovuti::TovutiWebhook;
use crate::platforms::tovuti::client::CatalogKind;
use crate::platforms::tovuti::payloads::User;

/// The event to plan for, parsed by the platform module.
#[derive(Debug, Clone, Copy)]
pub enum Incoming<'a> {
    Tovuti(&'a TovutiWebhook),
    /// `event_id`: the inbox id of the delivery (GHL's `webhookId` is not always present).
    Ghl {
        event_id: &'a str,
        webhook: &'a GhlWebhook,
    },
}

/// The Tovuti user ↔ GHL contact link, when one is known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    pub tovuti_user_id: Option<u64>,
    pub ghl_contact_id: Option<String>,
}

/// What the engine knows besides the event. Everything is optional; knowing more plans
/// fewer writes (only changed fields) and complete custom-field arrays.
#[derive(Debug, Clone)]
pub struct Known<'a> {
    pub links: Links,
    /// The GHL contact as it is now (for Tovuti events).
    pub ghl_contact: Option<&'a Contact>,
    /// The Tovuti user as it is now (for GHL events).
    pub tovuti_user: Option<&'a User>,
    /// The contact's tags before this event, to tell added from removed tags.
    pub previous_ghl_tags: Option<&'a [String]>,
    /// The contact's open tasks before this event, for the open-tasks summary.
    pub ghl_open_tasks: Option<&'a [Task]>,
    /// The current time; due dates and "next appointment" are computed from it.
    pub now: Timestamp,
}

impl<'a> Known<'a> {
    /// Nothing known but the time.
    pub fn at(now: Timestamp) -> Self {
        Self {
            links: Links::default(),
            ghl_contact: None,
            tovuti_user: None,
            previous_ghl_tags: None,
            ghl_open_tasks: None,
            now,
        }
    }
}

/// The outcome of planning one event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub event_id: String,
    pub event_type: String,
    pub actions: Vec<Action>,
    /// Values that did not convert (the rest was still mapped) and templates that failed.
    pub problems: Vec<FieldProblem>,
    /// Why something one might expect was not planned.
    pub notes: Vec<String>,
    /// Hash of the incoming record's mapped state. Equal to the `written_fingerprint` stored
    /// after the service's last write to that platform ⇒ the event is an echo.
    pub source_fingerprint: Option<String>,
    /// Hash of the other platform's mapped state after this plan's field writes; store it
    /// per entity and direction once the writes succeed.
    pub written_fingerprint: Option<String>,
    /// The state `written_fingerprint` hashes, to hash again when a write leaves out
    /// fields the other side lacks.
    #[serde(skip)]
    pub written_state: Option<Canonical>,
    /// Tovuti groups and courses the plan would grant but the mapping names by a name the
    /// tenant's lists lack: left out of the actions, to be recorded as skipped.
    #[serde(skip)]
    pub unresolved: Vec<Unresolved>,
}

/// Plans the actions for one event.
pub fn plan(m: &Mapping, incoming: Incoming<'_>, known: &Known<'_>) -> Plan {
    match incoming {
        Incoming::Tovuti(wh) => {
            let mut p = Planner::new(m, &wh.id, wh.event_type());
            from_tovuti::plan(&mut p, wh, known);
            p.plan
        }
        Incoming::Ghl { event_id, webhook } => {
            let mut p = Planner::new(m, event_id, webhook.event_type());
            from_ghl::plan(&mut p, webhook, known);
            p.plan
        }
    }
}

/// Collects actions for one event; shared by both directions.
pub(super) struct Planner<'m> {
    pub m: &'m Mapping,
    pub plan: Plan,
}

impl<'m> Planner<'m> {
    fn new(m: &'m Mapping, event_id: &str, event_type: &str) -> Self {
        let plan = Plan {
            event_id: event_id.to_owned(),
            event_type: event_type.to_owned(),
            actions: Vec::new(),
            problems: Vec::new(),
            notes: Vec::new(),
            source_fingerprint: None,
            written_fingerprint: None,
            written_state: None,
            unresolved: Vec::new(),
        };
        Self { m, plan }
    }

    /// The idempotency key for an action of `rule`.
    pub fn key(&self, rule: &str, action: &str, detail: &str) -> String {
        idempotency_key(&self.plan.event_id, rule, action, detail)
    }

    pub fn push(&mut self, action: Action) {
        self.plan.actions.push(action);
    }

    pub fn note(&mut self, text: impl Into<String>) {
        self.plan.notes.push(text.into());
    }

    /// The ids of `items`; names without one (the tenant lacks them) are kept aside.
    pub fn ids(&mut self, kind: CatalogKind, items: &[TovutiItem]) -> impl Iterator<Item = u64> {
        let mut ids = Vec::new();
        let mut names = Vec::new();
        for item in items {
            match item {
                TovutiItem::Id(id) => ids.push(*id),
                TovutiItem::Name(name) => names.push(Unresolved {
                    kind,
                    name: name.clone(),
                }),
            }
        }
        self.unresolved(names);
        ids.into_iter()
    }

    /// Keeps names the tenant lacks aside, each once, with a note for previews.
    pub fn unresolved(&mut self, names: Vec<Unresolved>) {
        for name in names {
            if !self.plan.unresolved.contains(&name) {
                self.note(format!(
                    "{} is not in the Tovuti tenant; left out",
                    name.describe()
                ));
                self.plan.unresolved.push(name);
            }
        }
    }

    pub fn problem(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.plan.problems.push(FieldProblem {
            field: field.into(),
            message: message.into(),
        });
    }

    pub fn problems(&mut self, problems: Vec<FieldProblem>) {
        self.plan.problems.extend(problems);
    }

    pub fn fingerprints(&mut self, source: &Canonical, written: Option<&Canonical>) {
        self.plan.source_fingerprint = Some(fingerprint(source));
        self.plan.written_fingerprint = written.map(fingerprint);
        self.plan.written_state = written.cloned();
    }

    /// The record's email normalized as the join key; an invalid one is a problem and
    /// counts as no email.
    pub fn email(&mut self, raw: Option<&str>) -> Option<String> {
        let raw = raw.map_or(Value::Null, |e| Value::String(e.to_owned()));
        let opts = value::TypeOptions {
            phone_country: self.m.phone_country,
            list_separator: ",",
        };
        match value::normalize(FieldType::Email, &raw, opts) {
            Ok(Some(Value::String(e))) => Some(e),
            Ok(_) => None,
            Err(e) => {
                self.problem("email", e.to_string());
                None
            }
        }
    }

    /// Renders a template by its file key; a failure is reported as a problem.
    pub fn render(&mut self, name: &str, ctx: &serde_json::Value) -> Option<String> {
        match self.m.templates.render(name, ctx) {
            Ok(text) => Some(text),
            Err(e) => {
                self.problem(name, format!("template failed: {e}"));
                None
            }
        }
    }
}

/// The contact an LMS action is about: the link, or the upsert by email.
pub(super) fn contact_ref(links: &Links, email: Option<&str>) -> Option<ContactRef> {
    match (&links.ghl_contact_id, email) {
        (Some(id), _) => Some(ContactRef::Id(id.clone())),
        (None, Some(e)) => Some(ContactRef::Email(e.to_owned())),
        (None, None) => None,
    }
}

/// The Tovuti user a GHL event's action is about: the link or the known user.
pub(super) fn user_ref(known: &Known<'_>) -> Option<UserRef> {
    known
        .links
        .tovuti_user_id
        .or(known.tovuti_user.map(|u| u.id.0))
        .map(UserRef::Id)
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
