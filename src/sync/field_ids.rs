//! GHL custom field ids by key, per location. Mappings may name a custom field by its
//! `key` alone (`contact.job_title`); GHL's spec wants the `id` on writes, so keys are
//! swapped for ids from the location's field list, read at most once per `REFRESH`
//! (and again when a key is new). A key GHL does not know yet is still sent by key,
//! which GHL accepts.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::mapping::fields::GhlFields;
use crate::platforms::ghl::client::Connection as GhlConnection;

/// How long a location's field list is trusted.
const REFRESH: Duration = Duration::from_secs(600);
/// A key missing from a fresh list is not looked up again sooner than this.
const RETRY_UNKNOWN: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct FieldIds {
    locations: Mutex<HashMap<String, Known>>,
}

struct Known {
    read_at: Instant,
    ids: HashMap<String, String>,
}

impl FieldIds {
    /// Names every key-only custom field of `fields` by its id where the location has one.
    pub async fn resolve(&self, ghl: &GhlConnection, fields: &mut GhlFields) {
        let keys: Vec<String> = fields
            .custom_fields
            .iter()
            .filter(|f| f.id.is_none())
            .filter_map(|f| f.key.clone())
            .collect();
        if keys.is_empty() {
            return;
        }
        if self.needs_reading(ghl.location_id(), &keys) {
            self.read(ghl).await;
        }
        let locations = self.locations.lock().unwrap_or_else(|e| e.into_inner());
        let Some(known) = locations.get(ghl.location_id()) else {
            return;
        };
        for field in &mut fields.custom_fields {
            if field.id.is_none()
                && let Some(id) = field.key.as_ref().and_then(|k| known.ids.get(k))
            {
                field.id = Some(id.clone());
                field.key = None;
            }
        }
    }

    fn needs_reading(&self, location: &str, keys: &[String]) -> bool {
        let locations = self.locations.lock().unwrap_or_else(|e| e.into_inner());
        match locations.get(location) {
            None => true,
            Some(known) => {
                let age = known.read_at.elapsed();
                age >= REFRESH
                    || (age >= RETRY_UNKNOWN && keys.iter().any(|k| !known.ids.contains_key(k)))
            }
        }
    }

    /// Reads the field list; a failure (e.g. no `locations/customFields.readonly` scope)
    /// is logged and remembered as an empty list, so fields go by key until the next try.
    async fn read(&self, ghl: &GhlConnection) {
        let ids = match ghl.contact_custom_fields().await {
            Ok(defs) => defs
                .into_iter()
                .filter(|d| !d.field_key.is_empty())
                .map(|d| (d.field_key, d.id))
                .collect(),
            Err(error) => {
                tracing::warn!(location = ghl.location_id(), %error, "could not read GHL custom fields; writing them by key");
                HashMap::new()
            }
        };
        let known = Known {
            read_at: Instant::now(),
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

    #[tokio::test]
    async fn keys_become_ids_from_one_read_of_the_field_list() {
        let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
        let mut config = Config::defaults().ghl;
        config.base_url = fake.base_url();
        let client = GhlClient::new(
            ClientSettings::from_config(&config),
            Arc::new(Metrics::new()),
        )
        .unwrap();
        let token = fake.issue_token("loc-1", ALL_SCOPES);
        let ghl = client.connection("loc-1", Auth::private_token(token));
        // Writing by key makes GHL define the field.
        let input = ContactInput {
            email: Some("ada@example.com".into()),
            custom_fields: vec![CustomFieldInput {
                id: None,
                key: Some("contact.level".into()),
                field_value: json!("gold"),
            }],
            ..ContactInput::default()
        };
        ghl.upsert_contact(&input).await.unwrap();
        let ids = FieldIds::default();

        let mut known = by_key("contact.level");
        ids.resolve(&ghl, &mut known).await;
        let mut unknown = by_key("contact.not_yet");
        ids.resolve(&ghl, &mut unknown).await;
        ids.resolve(&ghl, &mut by_key("contact.level")).await;

        let field = &known.custom_fields[0];
        assert!(field.id.is_some() && field.key.is_none(), "{field:?}");
        let kept = &unknown.custom_fields[0];
        assert_eq!(
            (kept.id.as_deref(), kept.key.as_deref()),
            (None, Some("contact.not_yet"))
        );
        let reads = fake
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/customFields"))
            .count();
        assert_eq!(
            reads, 1,
            "one read serves every lookup within the refresh period"
        );
    }
}
