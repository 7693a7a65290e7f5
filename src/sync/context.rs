//! What the planner should know besides the event: the identity link, the Tovuti user
//! as it is now (for GHL events), the contact's tags before this event, and its open
//! tasks when a summary needs them. Reads only what the event's plan can use: GHL
//! quota is the scarce resource, so Tovuti events read nothing from GHL.

use jiff::Timestamp;
use serde_json::json;

use super::errors::SyncError;
use super::seen::tags_key;
use crate::mapping::{Known, Links, Mapping};
use crate::platforms::ghl::client::LocationApi;
use crate::platforms::ghl::payloads::{Contact, Task};
use crate::platforms::ghl::{GhlEvent, GhlWebhook};
use crate::platforms::tovuti::payloads::User;
use crate::platforms::tovuti::{TovutiApi, TovutiWebhook};
use crate::store::{Connection, Millis, Snapshot, Store};

/// The context gathered for one event; `known()` lends it to the planner.
#[derive(Debug, Default)]
pub struct Gathered {
    pub links: Links,
    tovuti_user: Option<User>,
    previous_tags: Option<Vec<String>>,
    open_tasks: Option<Vec<Task>>,
    /// The contact's tags as this event reports them, remembered once it is handled so
    /// the next tag event can tell added from removed tags.
    tags_now: Option<(String, Vec<String>)>,
}

impl Gathered {
    pub fn known(&self) -> Known<'_> {
        Known {
            links: self.links.clone(),
            ghl_contact: None,
            tovuti_user: self.tovuti_user.as_ref(),
            previous_ghl_tags: self.previous_tags.as_deref(),
            ghl_open_tasks: self.open_tasks.as_deref(),
            now: Timestamp::now(),
        }
    }

    pub async fn save_tags(&self, store: &dyn Store, connection: &str) -> Result<(), SyncError> {
        if let Some((contact, tags)) = &self.tags_now {
            let snapshot = Snapshot {
                digest: String::new(),
                state: json!({ "tags": tags }),
                updated_at: Millis::now(),
            };
            store
                .save_poll_snapshot(connection, &tags_key(contact), &snapshot)
                .await?;
        }
        Ok(())
    }
}

/// A Tovuti event: only the link to the user's contact.
pub async fn for_tovuti(
    store: &dyn Store,
    connection: &str,
    webhook: &TovutiWebhook,
) -> Result<Gathered, SyncError> {
    let mut gathered = Gathered::default();
    if let Some(user) = webhook.event.user() {
        gathered.links.tovuti_user_id = Some(user.id.0);
        gathered.links.ghl_contact_id = store
            .ghl_contact_for_user(connection, &user.id.0.to_string())
            .await?;
    }
    Ok(gathered)
}

/// A polled enrollment, completion or award names the learner by id only (Tovuti's
/// progress and award lists carry no more). The plan needs their email, the join key
/// while no link exists yet (the users scan may record the learner's `user.created`
/// after the enrollment), and their name for templates: so the user is read from
/// Tovuti as it is now. A user Tovuti no longer has leaves the event as it was.
pub async fn complete_polled_user(
    webhook: &mut TovutiWebhook,
    tovuti: Option<&dyn TovutiApi>,
) -> Result<(), SyncError> {
    let (Some(api), Some(user)) = (tovuti, webhook.event.user_mut()) else {
        return Ok(());
    };
    if user.email.is_some() {
        return Ok(());
    }
    if let Some(found) = api.get_user(user.id.0).await? {
        *user = found;
    }
    Ok(())
}

/// A GHL event: the linked (or, by email, matched) Tovuti user as it is now, the
/// contact's previous tags, and its open tasks when the open-tasks summary is on.
pub async fn for_ghl(
    store: &dyn Store,
    connection: &Connection,
    mapping: &Mapping,
    webhook: &GhlWebhook,
    ghl: &LocationApi,
    tovuti: Option<&dyn TovutiApi>,
) -> Result<Gathered, SyncError> {
    let mut gathered = Gathered::default();
    let Some(contact_id) = webhook.event.contact_id() else {
        return Ok(gathered);
    };
    gathered.links.ghl_contact_id = Some(contact_id.to_owned());
    gathered.links.tovuti_user_id = store
        .tovuti_user_for_contact(&connection.id, contact_id)
        .await?
        .and_then(|id| id.parse().ok());
    let contact = contact_of(&webhook.event);
    if let Some(api) = tovuti
        && wants_user(mapping, &webhook.event)
    {
        gathered.tovuti_user = match gathered.links.tovuti_user_id {
            Some(id) => api.get_user(id).await?,
            None => match_by_email(store, &connection.id, api, contact).await?,
        };
        if let Some(user) = &gathered.tovuti_user {
            gathered.links.tovuti_user_id = Some(user.id.0);
        }
    }
    if let Some(c) = contact {
        let snapshot = store
            .poll_snapshot(&connection.id, &tags_key(&c.id))
            .await?;
        gathered.previous_tags =
            snapshot.and_then(|s| serde_json::from_value(s.state.get("tags")?.clone()).ok());
        gathered.tags_now = Some((c.id.clone(), c.tags.clone()));
    }
    let task_event = matches!(
        webhook.event,
        GhlEvent::TaskCreate(_) | GhlEvent::TaskComplete(_) | GhlEvent::TaskDelete(_)
    );
    if task_event && mapping.file.ghl.summaries.open_tasks.is_some() {
        gathered.open_tasks = Some(open_tasks(ghl, contact_id).await?);
    }
    Ok(gathered)
}

/// Contact events always involve the Tovuti user; activity events only for summaries.
fn wants_user(mapping: &Mapping, event: &GhlEvent) -> bool {
    let summaries = &mapping.file.ghl.summaries;
    match event {
        GhlEvent::ContactCreate(_)
        | GhlEvent::ContactUpdate(_)
        | GhlEvent::ContactDndUpdate(_)
        | GhlEvent::ContactTagUpdate(_)
        | GhlEvent::ContactDelete(_) => true,
        GhlEvent::NoteCreate(_) | GhlEvent::NoteUpdate(_) => summaries.last_note.is_some(),
        GhlEvent::TaskCreate(_) | GhlEvent::TaskComplete(_) | GhlEvent::TaskDelete(_) => {
            summaries.open_tasks.is_some()
        }
        GhlEvent::AppointmentCreate(_)
        | GhlEvent::AppointmentUpdate(_)
        | GhlEvent::AppointmentDelete(_) => summaries.next_appointment.is_some(),
        _ => false,
    }
}

fn contact_of(event: &GhlEvent) -> Option<&Contact> {
    match event {
        GhlEvent::ContactCreate(c)
        | GhlEvent::ContactUpdate(c)
        | GhlEvent::ContactDndUpdate(c)
        | GhlEvent::ContactTagUpdate(c)
        | GhlEvent::ContactDelete(c) => Some(c),
        _ => None,
    }
}

/// An unlinked contact is matched to the Tovuti user with its email (the join key),
/// and the link is kept.
async fn match_by_email(
    store: &dyn Store,
    connection: &str,
    api: &dyn TovutiApi,
    contact: Option<&Contact>,
) -> Result<Option<User>, SyncError> {
    let Some((contact, email)) = contact.and_then(|c| Some((c, c.email.as_deref()?))) else {
        return Ok(None);
    };
    let Some(user) = api.find_user_by_email(email).await? else {
        return Ok(None);
    };
    store
        .link_identity(connection, &user.id.0.to_string(), &contact.id)
        .await?;
    Ok(Some(user))
}

/// The contact's open tasks, in the webhook payload's shape the planner reads.
async fn open_tasks(ghl: &LocationApi, contact: &str) -> Result<Vec<Task>, SyncError> {
    let tasks = ghl.list_tasks(contact).await?;
    Ok(tasks
        .into_iter()
        .filter(|t| !t.completed)
        .filter_map(|t| serde_json::from_value(serde_json::to_value(t).ok()?).ok())
        .collect())
}
