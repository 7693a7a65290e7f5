//! GHL custom field ids by key, per location. Mappings may name a custom field by its
//! `key` alone (`contact.job_title`); GHL's spec wants the `id` on writes, so keys are
//! swapped for ids from the location's field list, read at most once per `REFRESH`
//! (and again, at most once per `RETRY_UNKNOWN`, when a field is missing from it). A
//! field the location lacks is left out of the write and reported as skipped: GHL
//! would accept it and silently store nothing. A field the written contact comes back
//! without (its id is gone: the field was deleted and recreated under the same key) has
//! the list read again at once, at most once per `RETRY_UNKNOWN`, and is written again
//! under its new id.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::refresh_gate::RefreshGate;
use super::skipped::Skipped;
use crate::mapping::fields::GhlFields;
use crate::mapping::value;
use crate::mapping::write::GhlCustomFieldWrite;
use crate::platforms::ghl::client::Contact;
use crate::platforms::ghl::client::LocationApi;

/// How long a location's field list is trusted.
const REFRESH: Duration = Duration::from_secs(600);
/// A field missing from a fresh list is not looked up again sooner than this.
const RETRY_UNKNOWN: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct FieldIds {
    locations: Mutex<HashMap<String, Known>>,
    refreshing: RefreshGate<String>,
}

struct Known {
    read_at: Instant,
    /// When a write last made the list be read again ahead of time.
    forced_at: Option<Instant>,
    /// Key → id; `None` when the list could not be read (nothing is skipped then).
    ids: Option<HashMap<String, String>>,
}

impl Known {
    fn has(&self, field: &GhlCustomFieldWrite) -> bool {
        let Some(ids) = &self.ids else {
            return true;
        };
        field.key.as_ref().is_some_and(|k| ids.contains_key(k))
            || field
                .id
                .as_ref()
                .is_some_and(|id| ids.values().any(|v| v == id))
    }
}

impl FieldIds {
    /// Names every custom field of `fields` by its id where the location has one, and
    /// takes out (returning them) the ones the location lacks.
    pub async fn resolve(&self, ghl: &LocationApi, fields: &mut GhlFields) -> Vec<Skipped> {
        if fields.custom_fields.is_empty() {
            return Vec::new();
        }
        if self.needs_reading(ghl.location_id(), &fields.custom_fields) {
            let _turn = self.refreshing.turn(&ghl.location_id().to_owned()).await;
            if self.needs_reading(ghl.location_id(), &fields.custom_fields) {
                self.read(ghl).await;
            }
        }
        let locations = self.locations.lock().unwrap_or_else(|e| e.into_inner());
        let Some(known) = locations.get(ghl.location_id()) else {
            return Vec::new();
        };
        let mut skipped = Vec::new();
        fields.custom_fields.retain_mut(|field| {
            if !known.has(field) {
                let name = field.key.clone().or_else(|| field.id.clone());
                skipped.push(Skipped::ghl_field(name.unwrap_or_default()));
                return false;
            }
            let id = field.key.as_ref().and_then(|k| known.ids.as_ref()?.get(k));
            if let Some(id) = id {
                field.id = Some(id.clone());
                field.key = None;
            }
            true
        });
        skipped
    }

    /// The custom fields of `sent` that the written contact came back without. When there
    /// are any, reads the list again (at most once per `RETRY_UNKNOWN`) and returns the
    /// ones whose key now has another id, to write again, and the ones the location no
    /// longer has, as skipped.
    pub async fn ignored(
        &self,
        ghl: &LocationApi,
        sent: &GhlFields,
        stored: &Contact,
    ) -> (GhlFields, Vec<Skipped>) {
        let mut again = GhlFields::default();
        let lost: Vec<&GhlCustomFieldWrite> = sent
            .custom_fields
            .iter()
            .filter(|f| !value::is_missing(&f.field_value))
            .filter(|f| {
                f.id.as_ref()
                    .is_some_and(|id| !stored.custom_fields.iter().any(|c| &c.id == id))
            })
            .collect();
        if lost.is_empty() || !self.may_force(ghl.location_id()) {
            return (again, Vec::new());
        }
        let keys_before = self.keys_by_id(ghl.location_id());
        self.read(ghl).await;
        let locations = self.locations.lock().unwrap_or_else(|e| e.into_inner());
        let Some(ids) = locations
            .get(ghl.location_id())
            .and_then(|k| k.ids.as_ref())
        else {
            return (again, Vec::new());
        };
        let mut skipped = Vec::new();
        for field in lost {
            let old = field.id.clone().unwrap_or_default();
            let key = keys_before.get(&old);
            match key.and_then(|k| ids.get(k)) {
                Some(new) if *new != old => again.custom_fields.push(GhlCustomFieldWrite {
                    id: Some(new.clone()),
                    key: None,
                    field_value: field.field_value.clone(),
                }),
                // Same id: GHL kept nothing for another reason (a value it drops).
                Some(_) => {}
                None => skipped.push(Skipped::ghl_field(key.cloned().unwrap_or(old))),
            }
        }
        (again, skipped)
    }

    /// Whether a write may make the list be read ahead of time now; marks it done.
    fn may_force(&self, location: &str) -> bool {
        let mut locations = self.locations.lock().unwrap_or_else(|e| e.into_inner());
        let Some(known) = locations.get_mut(location) else {
            return false;
        };
        if known
            .forced_at
            .is_some_and(|at| at.elapsed() < RETRY_UNKNOWN)
        {
            return false;
        }
        known.forced_at = Some(Instant::now());
        true
    }

    /// Id → key, from the list as last read.
    fn keys_by_id(&self, location: &str) -> HashMap<String, String> {
        let locations = self.locations.lock().unwrap_or_else(|e| e.into_inner());
        let ids = locations.get(location).and_then(|k| k.ids.clone());
        ids.unwrap_or_default()
            .into_iter()
            .map(|(key, id)| (id, key))
            .collect()
    }

    fn needs_reading(&self, location: &str, fields: &[GhlCustomFieldWrite]) -> bool {
        let locations = self.locations.lock().unwrap_or_else(|e| e.into_inner());
        match locations.get(location) {
            None => true,
            Some(known) => {
                let age = known.read_at.elapsed();
                age >= REFRESH || (age >= RETRY_UNKNOWN && fields.iter().any(|f| !known.has(f)))
            }
        }
    }

    /// Reads the field list; a failure (e.g. no `locations/customFields.readonly` scope)
    /// is logged and remembered, and fields go as planned until the next try.
    async fn read(&self, ghl: &LocationApi) {
        let ids = match ghl.contact_custom_fields().await {
            Ok(defs) => Some(
                defs.into_iter()
                    .filter(|d| !d.field_key.is_empty())
                    .map(|d| (d.field_key, d.id))
                    .collect(),
            ),
            Err(error) => {
                tracing::warn!(location = ghl.location_id(), %error, "could not read GHL custom fields; writing them as mapped");
                None
            }
        };
        let forced_at = self
            .locations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(ghl.location_id())
            .and_then(|k| k.forced_at);
        let known = Known {
            read_at: Instant::now(),
            forced_at,
            ids,
        };
        self.locations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(ghl.location_id().to_owned(), known);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::config::Config;
    use crate::mapping::write::GhlCustomFieldWrite;
    use crate::platforms::ghl::client::{
        Auth, ClientSettings, ContactInput, CustomFieldInput, GhlClient,
    };
    use crate::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings};
    use crate::telemetry::Metrics;

    fn by_key(key: &str) -> GhlFields {
        let mut fields = GhlFields::default();
        fields.custom_fields.push(GhlCustomFieldWrite {
            id: None,
            key: Some(key.into()),
            field_value: json!("x"),
        });
        fields
    }

    async fn connection(fake: &FakeGhl) -> LocationApi {
        let mut config = Config::defaults().ghl;
        config.base_url = fake.base_url();
        let client = GhlClient::new(
            ClientSettings::from_config(&config),
            Arc::new(Metrics::new()),
        )
        .unwrap();
        let token = fake.issue_token("loc-1", ALL_SCOPES);
        client.location("loc-1", Auth::private_token(token))
    }

    /// Writing by key makes the fake GHL define the field, as creating it in GHL would.
    async fn define(ghl: &LocationApi, key: &str) {
        let input = ContactInput {
            email: Some("ada@example.com".into()),
            custom_fields: vec![CustomFieldInput {
                id: None,
                key: Some(key.into()),
                field_value: json!("gold"),
            }],
            ..ContactInput::default()
        };
        ghl.upsert_contact(&input).await.unwrap();
    }

    fn list_reads(fake: &FakeGhl) -> usize {
        fake.requests()
            .iter()
            .filter(|r| r.path.ends_with("/customFields"))
            .count()
    }

    impl FieldIds {
        /// Makes the location's list look `by` older than it is.
        fn age(&self, location: &str, by: Duration) {
            let mut locations = self.locations.lock().unwrap();
            let known = locations.get_mut(location).unwrap();
            known.read_at = known.read_at.checked_sub(by).unwrap();
        }
    }

    #[tokio::test]
    async fn keys_become_ids_from_one_read_and_unknown_fields_are_left_out() {
        let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
        let ghl = connection(&fake).await;
        define(&ghl, "contact.level").await;
        let ids = FieldIds::default();

        let mut known = by_key("contact.level");
        assert!(ids.resolve(&ghl, &mut known).await.is_empty());
        let mut unknown = by_key("contact.not_yet");
        let skipped = ids.resolve(&ghl, &mut unknown).await;
        ids.resolve(&ghl, &mut by_key("contact.level")).await;

        let field = &known.custom_fields[0];
        assert!(field.id.is_some() && field.key.is_none(), "{field:?}");
        assert!(
            unknown.custom_fields.is_empty(),
            "an unknown key is never sent"
        );
        assert_eq!(skipped, [Skipped::ghl_field("contact.not_yet")]);
        let mut made_up = GhlFields::default();
        made_up.custom_fields.push(GhlCustomFieldWrite {
            id: Some("BcdmQEsNgz6AVpgLVUJ0".into()),
            key: None,
            field_value: json!("x"),
        });
        let skipped = ids.resolve(&ghl, &mut made_up).await;
        assert_eq!(skipped, [Skipped::ghl_field("BcdmQEsNgz6AVpgLVUJ0")]);
        assert_eq!(
            list_reads(&fake),
            1,
            "one read serves every lookup within the refresh period"
        );
    }

    #[tokio::test]
    async fn a_field_defined_later_is_found_when_the_list_is_read_again() {
        let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
        let ghl = connection(&fake).await;
        let ids = FieldIds::default();
        assert_eq!(
            ids.resolve(&ghl, &mut by_key("contact.late")).await.len(),
            1
        );
        define(&ghl, "contact.late").await;
        let mut soon = by_key("contact.late");
        assert_eq!(
            ids.resolve(&ghl, &mut soon).await.len(),
            1,
            "not re-read yet"
        );
        assert_eq!(list_reads(&fake), 1);

        ids.age("loc-1", RETRY_UNKNOWN);
        let mut later = by_key("contact.late");
        assert!(ids.resolve(&ghl, &mut later).await.is_empty());
        assert_eq!(list_reads(&fake), 2);
        assert!(later.custom_fields[0].id.is_some());
    }

    #[tokio::test]
    async fn a_recreated_field_is_written_again_under_its_new_id() {
        let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
        let ghl = connection(&fake).await;
        define(&ghl, "contact.level").await;
        let ids = FieldIds::default();
        let mut fields = by_key("contact.level");
        assert!(ids.resolve(&ghl, &mut fields).await.is_empty());
        let new_id = fake.recreate_custom_field("contact.level").unwrap();

        // Still named by the old id: GHL takes the write and keeps nothing of it.
        let input = ContactInput {
            email: Some("bob@example.com".into()),
            custom_fields: vec![CustomFieldInput {
                id: fields.custom_fields[0].id.clone(),
                key: None,
                field_value: json!("x"),
            }],
            ..ContactInput::default()
        };
        let stored = ghl.upsert_contact(&input).await.unwrap().contact;
        assert!(stored.custom_fields.is_empty(), "{stored:?}");
        let (again, skipped) = ids.ignored(&ghl, &fields, &stored).await;
        assert!(skipped.is_empty(), "{skipped:?}");
        assert_eq!(again.custom_fields.len(), 1);
        assert_eq!(again.custom_fields[0].id.as_deref(), Some(new_id.as_str()));
        assert_eq!(list_reads(&fake), 2, "read again at once");

        // Another contact coming back without it soon after does not read the list again.
        let (soon, _) = ids.ignored(&ghl, &fields, &stored).await;
        assert!(soon.custom_fields.is_empty());
        assert_eq!(list_reads(&fake), 2);
        // The next write resolves the key to the new id from the list read.
        let mut next = by_key("contact.level");
        assert!(ids.resolve(&ghl, &mut next).await.is_empty());
        assert_eq!(next.custom_fields[0].id.as_deref(), Some(new_id.as_str()));
    }
}
