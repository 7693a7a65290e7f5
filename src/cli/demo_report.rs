//! What the demo saw: the steps sent, each event's final status, and both platforms'
//! contents, as data for tests and as aligned text for people.

use std::fmt;

use serde_json::Value;

use crate::platforms::tovuti::payloads::User;
use crate::sandbox::ghl::FakeGhl;
use crate::sandbox::tovuti::FakeTovuti;
use crate::sandbox::wiring::{LOCATION, Sandbox};
use crate::store::{EventId, EventStatus};

/// How a step's event reached the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A signed delivery to the service's webhook route.
    Webhook,
    /// The Tovuti poller's scan found the change.
    Poll,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Poll => "poll",
        }
    }
}

/// One step as the service took it in: a delivery and its answer, or a scan and what it
/// queued.
#[derive(Debug, Clone)]
pub struct SentStep {
    pub number: usize,
    pub title: &'static str,
    pub via: Via,
    pub platform: &'static str,
    pub event_type: String,
    /// The HTTP status of the webhook route; `None` for a poll step.
    pub status: Option<u16>,
    /// What intake did with a delivery (`accepted`, `duplicate`, ...), or what the scan
    /// queued.
    pub outcome: String,
    /// The inbox event a delivery was stored as (a duplicate names the first one).
    pub event_id: Option<EventId>,
}

impl SentStep {
    /// A delivery answered 200, or a scan that queued an event.
    pub fn accepted(&self) -> bool {
        match self.via {
            Via::Webhook => self.status == Some(200),
            Via::Poll => true,
        }
    }
}

impl fmt::Display for SentStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sent = format!("{} {}", self.platform, self.event_type);
        let answer = match self.status {
            Some(status) => format!("HTTP {status} {}", self.outcome),
            None => self.outcome.clone(),
        };
        write!(
            f,
            "  {}. {:<40} {:<7} {:<26} -> {answer}",
            self.number,
            self.title,
            self.via.as_str(),
            sent
        )
    }
}

/// What a poll step's scan queued, as its step line says it.
pub fn queued(resource: &str, events: u64) -> String {
    match events {
        0 => format!("{resource} scan: nothing queued"),
        1 => format!("{resource} scan: 1 event queued"),
        n => format!("{resource} scan: {n} events queued"),
    }
}

/// Where one step's event ended up.
#[derive(Debug, Clone)]
pub struct EventOutcome {
    pub step: usize,
    pub event_type: String,
    /// How the event came: pushed, or queued by the poller.
    pub via: Via,
    pub event_id: Option<EventId>,
    /// `None` when the delivery was not stored.
    pub status: Option<EventStatus>,
    pub error: Option<String>,
}

/// A GHL contact with its activity.
#[derive(Debug, Clone)]
pub struct ContactView {
    pub id: String,
    pub name: String,
    pub email: String,
    pub company: String,
    pub tags: Vec<String>,
    pub tasks: Vec<String>,
    pub notes: Vec<String>,
    pub appointments: Vec<String>,
}

/// A Tovuti user.
#[derive(Debug, Clone)]
pub struct UserView {
    pub id: u64,
    pub name: String,
    pub email: String,
    pub groups: Vec<u64>,
    pub courses: Vec<u64>,
    /// Custom fields as (field id, value as text).
    pub fields: Vec<(u64, String)>,
}

/// Everything the demo found once the story was over.
#[derive(Debug, Clone)]
pub struct Report {
    pub steps: Vec<SentStep>,
    pub events: Vec<EventOutcome>,
    pub contacts: Vec<ContactView>,
    pub users: Vec<UserView>,
    /// The worker had not finished when the demo's time was up.
    pub timed_out: bool,
}

impl Report {
    /// Every step was accepted and every event finished, none dead.
    pub fn succeeded(&self) -> bool {
        !self.timed_out
            && self.steps.len() == self.events.len()
            && self.steps.iter().all(SentStep::accepted)
            && self.events.iter().all(|event| {
                event
                    .status
                    .is_some_and(|status| !EventStatus::OPEN.contains(&status))
            })
    }

    pub fn contact(&self, email: &str) -> Option<&ContactView> {
        self.contacts.iter().find(|contact| contact.email == email)
    }

    pub fn user(&self, email: &str) -> Option<&UserView> {
        self.users.iter().find(|user| user.email == email)
    }

    pub fn event(&self, step: usize) -> Option<&EventOutcome> {
        self.events.iter().find(|event| event.step == step)
    }
}

/// The lines printed before the story: where everything runs, and how Tovuti is read.
pub fn intro(sandbox: &Sandbox, service: &str) -> String {
    format!(
        "Sandbox (everything in this process, nothing leaves it)\n  \
         service  {service}\n  \
         GHL      {} (location {LOCATION})\n  \
         Tovuti   {}\n  \
         Tovuti sends no webhooks, so the service polls it: the poller's first scan found an\n  \
         empty tenant, and each Tovuti step below is a change there and then the scan that\n  \
         finds it. One Tovuti event (the note) is pushed as a signed webhook instead.",
        sandbox.ghl.base_url(),
        sandbox.tovuti.base_url(),
    )
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\nEvents (final status in the service's inbox)")?;
        for event in &self.events {
            writeln!(f, "{}", event_line(event))?;
        }
        writeln!(f, "\nGoHighLevel contacts")?;
        for contact in &self.contacts {
            write_contact(f, contact)?;
        }
        writeln!(f, "\nTovuti users")?;
        for user in &self.users {
            write_user(f, user)?;
        }
        let verdict = if self.timed_out {
            "\nThe worker did not finish in time."
        } else if self.succeeded() {
            "\nEvery event finished."
        } else {
            "\nSome events did not finish well (see above)."
        };
        writeln!(f, "{verdict}")
    }
}

fn event_line(event: &EventOutcome) -> String {
    let status = event.status.map_or("not stored", EventStatus::as_str);
    let id = event.event_id.map(|id| id.to_string()).unwrap_or_default();
    let mut line = format!(
        "  {}. {:<20} {:<7} {:<11} {id}",
        event.step,
        event.event_type,
        event.via.as_str(),
        status
    );
    if let Some(error) = &event.error {
        line.push_str(&format!("\n       last error: {error}"));
    }
    line
}

fn write_contact(f: &mut fmt::Formatter<'_>, contact: &ContactView) -> fmt::Result {
    writeln!(
        f,
        "  {} <{}>  id {}",
        contact.name, contact.email, contact.id
    )?;
    write_item(f, "company", &contact.company)?;
    write_item(f, "tags", &contact.tags.join(", "))?;
    for task in &contact.tasks {
        write_item(f, "task", task)?;
    }
    for note in &contact.notes {
        write_item(f, "note", note)?;
    }
    for appointment in &contact.appointments {
        write_item(f, "appointment", appointment)?;
    }
    Ok(())
}

fn write_user(f: &mut fmt::Formatter<'_>, user: &UserView) -> fmt::Result {
    writeln!(f, "  {} <{}>  id {}", user.name, user.email, user.id)?;
    write_item(f, "groups", &join_ids(&user.groups))?;
    write_item(f, "courses", &join_ids(&user.courses))?;
    for (field, value) in &user.fields {
        write_item(f, &format!("field {field}"), value)?;
    }
    Ok(())
}

/// One labelled line under a record; multi-line text is folded onto it.
fn write_item(f: &mut fmt::Formatter<'_>, label: &str, text: &str) -> fmt::Result {
    if text.is_empty() {
        return Ok(());
    }
    writeln!(f, "      {label:<12} {}", text.replace('\n', " / "))
}

fn join_ids(ids: &[u64]) -> String {
    ids.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every contact the fake GHL holds, with its tasks, notes and appointments.
pub fn contacts(ghl: &FakeGhl) -> Vec<ContactView> {
    ghl.contacts()
        .iter()
        .map(|contact| {
            let id = text(contact, "id");
            let titles = |kind, key| {
                ghl.activities(kind, &id)
                    .iter()
                    .map(|item| text(item, key))
                    .collect()
            };
            ContactView {
                name: format!(
                    "{} {}",
                    text(contact, "firstName"),
                    text(contact, "lastName")
                ),
                email: text(contact, "email"),
                company: text(contact, "companyName"),
                tags: strings(&contact["tags"]),
                tasks: titles("tasks", "title"),
                notes: titles("notes", "body"),
                appointments: titles("events", "title"),
                id,
            }
        })
        .collect()
}

/// Every user the fake Tovuti holds.
pub fn users(tovuti: &FakeTovuti) -> Vec<UserView> {
    tovuti.users().iter().map(user_view).collect()
}

fn user_view(user: &User) -> UserView {
    UserView {
        id: user.id.0,
        name: user.name.clone().unwrap_or_default(),
        email: user.email.clone().unwrap_or_default(),
        groups: user.user_group_ids.iter().map(|id| id.0).collect(),
        courses: user.enrolled_course_ids.iter().map(|id| id.0).collect(),
        fields: user
            .custom_fields
            .iter()
            .map(|field| (field.field_id.0, value_text(&field.value)))
            .collect(),
    }
}

fn text(value: &Value, key: &str) -> String {
    value_text(&value[key])
}

/// A JSON value as a person reads it: strings bare, null empty.
fn value_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| items.iter().map(value_text).collect())
        .unwrap_or_default()
}
