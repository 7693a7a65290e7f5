//! One learner or contact at a time ("why did Ada not sync?"): the identity link between
//! a Tovuti user and a GHL contact, the entity's recent events on both sides, and which
//! event last wrote each side.

use serde::Serialize;

use super::rfc3339;
use super::views::EventView;
use crate::store::{EventQuery, EventStatus, EventSummary, Source, Store, StoreResult};

/// Recent events shown per side.
const RECENT: u32 = 20;

/// Who to look up: one side's id (an email is resolved to one before).
#[derive(Debug, Clone)]
pub enum Who {
    TovutiUser(String),
    GhlContact(String),
}

#[derive(Debug, Serialize)]
pub struct LinkView {
    pub connection: String,
    pub tovuti_user: Option<String>,
    pub ghl_contact: Option<String>,
    /// Both sides are known to belong together.
    pub linked: bool,
    /// The last event that finished writing the GHL side (from Tovuti), and the Tovuti
    /// side (from GHL).
    pub last_to_ghl: Option<LastWrite>,
    pub last_to_tovuti: Option<LastWrite>,
    /// Both sides' events, last received first.
    pub events: Vec<EventView>,
}

#[derive(Debug, Serialize)]
pub struct LastWrite {
    pub event: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub received_at: String,
}

/// The link and recent history of `who` in `connection`.
pub async fn lookup(store: &dyn Store, connection: &str, who: Who) -> StoreResult<LinkView> {
    let (tovuti_user, ghl_contact) = match who {
        Who::TovutiUser(user) => {
            let contact = store.ghl_contact_for_user(connection, &user).await?;
            (Some(user), contact)
        }
        Who::GhlContact(contact) => {
            let user = store.tovuti_user_for_contact(connection, &contact).await?;
            (user, Some(contact))
        }
    };
    let linked = tovuti_user.is_some() && ghl_contact.is_some();
    let mut events = Vec::new();
    if let Some(user) = &tovuti_user {
        events.extend(recent(store, connection, &format!("tovuti:user:{user}")).await?);
    }
    if let Some(contact) = &ghl_contact {
        events.extend(recent(store, connection, &format!("ghl:contact:{contact}")).await?);
    }
    events.sort_by_key(|e| std::cmp::Reverse(e.seq));
    let last = |from: &[Source]| {
        events
            .iter()
            .find(|e| from.contains(&e.source) && e.status == EventStatus::Done)
            .map(|e| LastWrite {
                event: e.id.to_string(),
                event_type: e.event_type.clone(),
                received_at: rfc3339(e.received_at),
            })
    };
    Ok(LinkView {
        connection: connection.to_owned(),
        last_to_ghl: last(&[Source::Tovuti, Source::Poller]),
        last_to_tovuti: last(&[Source::Ghl, Source::Sweep]),
        tovuti_user,
        ghl_contact,
        linked,
        events: events.iter().map(EventView::from).collect(),
    })
}

async fn recent(
    store: &dyn Store,
    connection: &str,
    entity: &str,
) -> StoreResult<Vec<EventSummary>> {
    let query = EventQuery {
        connection_id: Some(connection.to_owned()),
        entity_key: Some(entity.to_owned()),
        limit: RECENT,
        ..EventQuery::default()
    };
    store.list_events(&query).await
}
