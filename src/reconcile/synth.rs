//! Events synthesized from a contact as `POST /contacts/search` returns it, in the shape
//! of GHL's own webhook for that event type, so the sync engine handles them on the path
//! it handles webhooks. The external id is derived from the contact, its `dateUpdated`
//! and the fingerprint of the state: the same change found twice dedupes to one event.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::platforms::ghl::client::Contact as SearchedContact;
use crate::platforms::ghl::payloads::Contact;
use crate::platforms::ghl::{GhlEvent, GhlWebhook};
use crate::store::{EventStatus, Millis, NewEvent, Source};

/// A synthesized event, parsed (to fingerprint) and ready to record.
pub struct Synthesized {
    /// The contact as the sync engine will read it from the event.
    pub contact: Contact,
    entity_key: String,
    body: Value,
    event_type: &'static str,
}

/// Search-only fields that are no part of a webhook body.
const SEARCH_ONLY: &[&str] = &["searchAfter"];

impl Synthesized {
    /// `event_type` is `ContactUpdate` or `ContactTagUpdate`; `None` when the contact
    /// does not read as GHL's webhook payload (it is then left alone, and counted).
    pub fn of(contact: &SearchedContact, location: &str, event_type: &'static str) -> Option<Self> {
        let Value::Object(mut body) = serde_json::to_value(contact).ok()? else {
            return None;
        };
        for field in SEARCH_ONLY {
            body.remove(*field);
        }
        body.retain(|_, v| !v.is_null());
        body.insert("type".into(), Value::String(event_type.to_owned()));
        body.insert("locationId".into(), Value::String(location.to_owned()));
        // The change's own time, so an older state never overwrites a newer one.
        if let Some(updated) = &contact.date_updated {
            body.insert("timestamp".into(), Value::String(updated.clone()));
        }
        let body = Value::Object(body);
        let webhook = GhlWebhook::from_value(body.clone()).ok()?;
        let entity_key = String::from(webhook.entity_key());
        let (GhlEvent::ContactUpdate(contact) | GhlEvent::ContactTagUpdate(contact)) =
            webhook.event
        else {
            return None;
        };
        Some(Self {
            contact,
            entity_key,
            body,
            event_type,
        })
    }

    /// The inbox row: source `sweep`, keyed like the webhook route keys the same event.
    /// `state` is the fingerprint of what the event carries into the rules.
    pub fn into_event(self, connection: &str, date_updated: Option<&str>, state: &str) -> NewEvent {
        let body = serde_json::to_vec(&self.body).unwrap_or_default();
        NewEvent {
            source: Source::Sweep,
            connection_id: Some(connection.to_owned()),
            external_id: external_id(self.event_type, &self.contact.id, date_updated, state),
            event_type: self.event_type.to_owned(),
            entity_key: Some(self.entity_key),
            headers: serde_json::json!({}),
            body: body.into(),
            status: EventStatus::Pending,
            note: None,
            received_at: Millis::now(),
        }
    }
}

/// Stable per (type, contact, dateUpdated, state): finding the same change again — in
/// the overlap of two sweeps, or by a rerun backfill — records nothing new.
pub fn external_id(
    event_type: &str,
    contact: &str,
    date_updated: Option<&str>,
    state: &str,
) -> String {
    let mut hash = Sha256::new();
    for part in [contact, date_updated.unwrap_or(""), state] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    let digest = hex::encode(hash.finalize());
    format!("{event_type}:{contact}:{}", &digest[..32])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn searched() -> SearchedContact {
        serde_json::from_value(json!({
            "id": "ct1", "locationId": "loc", "email": "ada@example.com",
            "firstName": "Ada", "tags": ["learner"], "customFields": [{"id": "cf1", "value": "x"}],
            "dateUpdated": "2030-01-02T03:04:05.678Z", "searchAfter": ["2030-01-02T03:04:05.678Z", "ct1"],
            "companyName": "Engines"
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_synthesized_update_reads_as_the_webhook_would_and_is_keyed_by_its_contact() {
        let s = Synthesized::of(&searched(), "loc", "ContactUpdate")
            .unwrap_or_else(|| panic!("synthesized"));
        let webhook = GhlWebhook::from_value(s.body.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(webhook.event_type(), "ContactUpdate");
        assert_eq!(webhook.location_id.as_deref(), Some("loc"));
        assert_eq!(s.contact.company_name.as_deref(), Some("Engines"));
        assert!(!s.contact.extra.contains_key("searchAfter"));
        let event = s.into_event("default", Some("2030-01-02T03:04:05.678Z"), "fp");
        assert_eq!(event.entity_key.as_deref(), Some("ghl:contact:ct1"));
        assert_eq!(event.source, Source::Sweep);
        let again = external_id(
            "ContactUpdate",
            "ct1",
            Some("2030-01-02T03:04:05.678Z"),
            "fp",
        );
        assert_eq!(event.external_id, again);
        let later = external_id(
            "ContactUpdate",
            "ct1",
            Some("2030-01-02T03:04:06.000Z"),
            "fp",
        );
        assert_ne!(event.external_id, later);
        assert_ne!(
            again,
            external_id(
                "ContactUpdate",
                "ct1",
                Some("2030-01-02T03:04:05.678Z"),
                "other"
            )
        );
    }
}
