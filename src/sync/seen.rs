//! What the service last knew of each GHL contact — from a webhook it processed or a
//! write it made — as fingerprints: of the fields the GHL→Tovuti rules read, and of the
//! tag set. A reconciliation sweep compares GHL's current contact with them and
//! synthesizes an event only for a real difference.

use std::collections::BTreeSet;

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::mapping::{Mapping, fields, fingerprint};
use crate::platforms::ghl::GhlEvent;
use crate::platforms::ghl::payloads::Contact;
use crate::store::{Millis, Snapshot, Store, StoreResult};

/// The snapshot holding a contact's last known field fingerprint.
pub fn contact_key(contact_id: &str) -> String {
    format!("ghl-contact:{contact_id}")
}

/// The snapshot holding a contact's tags as of its last contact event.
pub fn tags_key(contact_id: &str) -> String {
    format!("ghl:contact-tags:{contact_id}")
}

/// The fingerprint of what the mapping reads from a contact: equal to the fingerprint a
/// `ContactUpdate` about it plans with, and to the one stored after writing that state.
pub fn contact_fingerprint(mapping: &Mapping, contact: &Contact) -> String {
    fingerprint(&fields::from_ghl(mapping, contact).0)
}

/// The tag set as GHL compares tags: trimmed, case-insensitive, unordered.
pub fn tag_set(tags: &[String]) -> BTreeSet<String> {
    tags.iter().map(|t| t.trim().to_lowercase()).collect()
}

/// The tags of `tags` that some GHL→Tovuti rule acts on (a `[[ghl.tags]]` rule, or a
/// `[[tag_values]]` rule that writes Tovuti), as GHL compares tags. A change of any other
/// tag has no effect to repair, so the sweep compares only these.
pub fn ruled_tags(mapping: &Mapping, tags: &[String]) -> BTreeSet<String> {
    let file = &mapping.file;
    let writes_tovuti = file
        .tag_values
        .iter()
        .filter(|r| r.direction.writes_tovuti());
    let ruled: BTreeSet<String> = (file.ghl.tags.iter().map(|r| &r.tag))
        .chain(writes_tovuti.map(|r| &r.tag))
        .map(|tag| tag.trim().to_lowercase())
        .collect();
    let mut set = tag_set(tags);
    set.retain(|tag| ruled.contains(tag));
    set
}

/// A short stable digest of a tag set, for external ids.
pub fn tags_digest(tags: &BTreeSet<String>) -> String {
    let bytes = serde_json::to_vec(tags).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

/// The last known field fingerprint of a contact.
pub async fn last_fingerprint(
    store: &dyn Store,
    connection: &str,
    contact_id: &str,
) -> StoreResult<Option<String>> {
    let snapshot = store
        .poll_snapshot(connection, &contact_key(contact_id))
        .await?;
    Ok(snapshot.map(|s| s.digest))
}

/// The tags remembered from the contact's last event; empty when none was processed.
pub async fn last_tags(
    store: &dyn Store,
    connection: &str,
    contact_id: &str,
) -> StoreResult<Option<Vec<String>>> {
    let snapshot = store
        .poll_snapshot(connection, &tags_key(contact_id))
        .await?;
    Ok(snapshot.and_then(|s| serde_json::from_value(s.state.get("tags")?.clone()).ok()))
}

/// Records a contact's field fingerprint as seen (or written) now.
pub async fn remember(
    store: &dyn Store,
    connection: &str,
    contact_id: &str,
    fingerprint: &str,
) -> StoreResult<()> {
    let snapshot = Snapshot {
        digest: fingerprint.to_owned(),
        state: json!({}),
        updated_at: Millis::now(),
    };
    store
        .save_poll_snapshot(connection, &contact_key(contact_id), &snapshot)
        .await
}

/// Remembers the state a GHL contact event reported, once the engine handled it, so a
/// sweep that finds the contact unchanged since synthesizes nothing for it.
pub async fn remember_event(
    store: &dyn Store,
    mapping: &Mapping,
    connection: &str,
    event: &GhlEvent,
) -> StoreResult<()> {
    let (GhlEvent::ContactCreate(contact)
    | GhlEvent::ContactUpdate(contact)
    | GhlEvent::ContactDndUpdate(contact)
    | GhlEvent::ContactTagUpdate(contact)) = event
    else {
        return Ok(());
    };
    let fingerprint = contact_fingerprint(mapping, contact);
    remember(store, connection, &contact.id, &fingerprint).await
}
