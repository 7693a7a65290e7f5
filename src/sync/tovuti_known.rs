//! What the Tovuti tenant defines (custom field ids, groups, courses), read from its
//! catalog lists at most once per `REFRESH` (and again, at most once per `RETRY_UNKNOWN`,
//! when a write names an id missing from them), so writes leave out what the tenant
//! lacks before sending rather than after a 422. A list that cannot be read, or reads
//! empty, is not trusted (a tenant always has groups; an empty answer is more likely a
//! wrong `tovuti.catalog_*` path): writes then go as planned and a 422 is handled instead.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::refresh_gate::RefreshGate;
use super::skipped::{Kind, Skipped};
use super::tovuti_names::Resolved;
use crate::platforms::tovuti::client::{CatalogItem, CatalogKind};
use crate::platforms::tovuti::{TovutiApi, UserWrite};

/// How long a list is trusted.
pub(super) const REFRESH: Duration = Duration::from_secs(600);
/// An id missing from a list is not looked up again sooner than this.
pub(super) const RETRY_UNKNOWN: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct TovutiKnown {
    pub(super) lists: Mutex<HashMap<CatalogKind, List>>,
    /// Counts list reads, so a mapping resolved from older lists is resolved again.
    pub(super) reads: AtomicU64,
    /// The mapping with its names resolved.
    pub(super) resolved: Mutex<Option<Resolved>>,
    /// The lists the engine's mapping names something in by name. The mapping never
    /// changes while the engine runs, so this is worked out once, not per event.
    pub(super) named: std::sync::OnceLock<Vec<CatalogKind>>,
    pub(super) refreshing: RefreshGate<CatalogKind>,
}

pub(super) struct List {
    pub(super) read_at: Instant,
    /// `None`: unreadable or empty, so not trusted.
    pub(super) ids: Option<BTreeSet<u64>>,
    /// Each entry's id and label, for names.
    pub(super) labels: Vec<(u64, String)>,
}

impl TovutiKnown {
    /// Takes out of `write` every custom field, group and course the tenant's lists lack.
    pub async fn filter(&self, tovuti: &dyn TovutiApi, write: &mut UserWrite) -> Vec<Skipped> {
        let mut skipped = Vec::new();
        if let Some(fields) = &mut write.custom_fields {
            // A field named by a name the tenant's list lacks has no id to send.
            fields.retain(
                |f| match (field_id(f), f.get("name").and_then(Value::as_str)) {
                    (None, Some(name)) => {
                        skipped.push(Skipped::tovuti(Kind::CustomField, name));
                        false
                    }
                    _ => true,
                },
            );
            let ids: Vec<u64> = fields.iter().filter_map(field_id).collect();
            if let Some(known) = self.known(tovuti, CatalogKind::CustomFields, &ids).await {
                fields.retain(|f| match field_id(f) {
                    Some(id) if !known.contains(&id) => {
                        skipped.push(Skipped::tovuti(Kind::CustomField, id));
                        false
                    }
                    _ => true,
                });
            }
        }
        for (kind, list, noun) in [
            (CatalogKind::Groups, &mut write.user_group_ids, Kind::Group),
            (
                CatalogKind::Courses,
                &mut write.enrolled_course_ids,
                Kind::Course,
            ),
        ] {
            let Some(list) = list else { continue };
            if let Some(known) = self.known(tovuti, kind, list).await {
                list.retain(|id| {
                    let keep = known.contains(id);
                    if !keep {
                        skipped.push(Skipped::tovuti(noun, id));
                    }
                    keep
                });
            }
        }
        skipped
    }

    /// Forgets every list: a write was refused for an id they said exists.
    pub fn forget(&self) {
        self.lists.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    pub(super) async fn known(
        &self,
        tovuti: &dyn TovutiApi,
        kind: CatalogKind,
        ids: &[u64],
    ) -> Option<BTreeSet<u64>> {
        if ids.is_empty() {
            return None;
        }
        if self.needs_reading(kind, ids) {
            let _turn = self.refreshing.turn(&kind).await;
            if self.needs_reading(kind, ids) {
                self.read(tovuti, kind).await;
            }
        }
        let lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
        lists.get(&kind)?.ids.clone()
    }

    pub(super) fn needs_reading(&self, kind: CatalogKind, ids: &[u64]) -> bool {
        let lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
        let Some(list) = lists.get(&kind) else {
            return true;
        };
        let age = list.read_at.elapsed();
        let missing = match &list.ids {
            Some(known) => ids.iter().any(|id| !known.contains(id)),
            None => true,
        };
        age >= REFRESH || (age >= RETRY_UNKNOWN && missing)
    }

    pub(super) async fn read(&self, tovuti: &dyn TovutiApi, kind: CatalogKind) {
        let mut labels = Vec::new();
        let ids = match tovuti.catalog(kind).await {
            Some(Ok(items)) if !items.is_empty() => {
                let label = |i: &CatalogItem| i.label().unwrap_or_default().to_owned();
                labels = items.iter().map(|i| (i.id.0, label(i))).collect();
                Some(items.iter().map(|i| i.id.0).collect())
            }
            Some(Ok(_)) | None => None,
            Some(Err(error)) => {
                tracing::warn!(list = kind.noun(), %error, "could not read the Tovuti catalog; writing as mapped");
                None
            }
        };
        let list = List {
            read_at: Instant::now(),
            ids,
            labels,
        };
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.lists
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(kind, list);
    }
}

fn field_id(field: &serde_json::Map<String, serde_json::Value>) -> Option<u64> {
    let id = field.get("field_id")?;
    id.as_u64().or_else(|| id.as_str()?.parse().ok())
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, json};

    use super::*;
    use crate::platforms::tovuti::client::TovutiClient;
    use crate::sandbox::tovuti::FakeTovuti;

    const TOKEN: &str = "7|known-test";

    fn field(id: u64) -> Map<String, serde_json::Value> {
        let mut f = Map::new();
        f.insert("field_id".into(), json!(id));
        f.insert("value".into(), json!("v"));
        f
    }

    fn write() -> UserWrite {
        UserWrite {
            custom_fields: Some(vec![field(22), field(23)]),
            user_group_ids: Some(vec![2, 7]),
            enrolled_course_ids: Some(vec![101]),
            ..UserWrite::default()
        }
    }

    fn list_reads(fake: &FakeTovuti) -> usize {
        fake.requests()
            .iter()
            .filter(|(_, path)| path.starts_with("/customFields"))
            .count()
    }

    #[tokio::test]
    async fn what_the_tenant_lacks_is_left_out_and_found_again_after_a_refusal() {
        let fake = FakeTovuti::start(TOKEN).await.unwrap();
        fake.insert_custom_field(22, "Company");
        fake.insert_group(2, "Registered");
        fake.insert_course(5, "Intro");
        let client =
            TovutiClient::new(&fake.base_url(), TOKEN.into(), Duration::from_secs(5)).unwrap();
        let known = TovutiKnown::default();

        let mut first = write();
        let skipped: Vec<String> = known
            .filter(&client, &mut first)
            .await
            .iter()
            .map(Skipped::describe)
            .collect();
        assert_eq!(
            skipped,
            [
                "custom field 23 — not in this tenant",
                "group 7 — not in this tenant",
                "course 101 — not in this tenant",
            ]
        );
        assert_eq!(first.custom_fields.unwrap(), [field(22)]);
        assert_eq!(first.user_group_ids.unwrap(), [2]);
        assert_eq!(first.enrolled_course_ids.unwrap(), Vec::<u64>::new());

        // Defined since: not looked up again right away...
        fake.insert_custom_field(23, "Phone");
        let mut soon = write();
        assert_eq!(known.filter(&client, &mut soon).await.len(), 3);
        assert_eq!(list_reads(&fake), 1);
        // ...but at once when a write says the lists are wrong.
        known.forget();
        let mut after = write();
        assert_eq!(known.filter(&client, &mut after).await.len(), 2);
        assert_eq!(after.custom_fields.unwrap(), [field(22), field(23)]);
        assert_eq!(list_reads(&fake), 2);
    }

    #[tokio::test]
    async fn an_empty_or_unreadable_list_is_not_trusted() {
        let fake = FakeTovuti::start(TOKEN).await.unwrap();
        let client =
            TovutiClient::new(&fake.base_url(), TOKEN.into(), Duration::from_secs(5)).unwrap();
        let known = TovutiKnown::default();
        let mut w = write();
        assert!(known.filter(&client, &mut w).await.is_empty());
        assert_eq!(w.custom_fields.map(|f| f.len()), Some(2));
        fake.fail_next(500, 10);
        let mut w = write();
        known.forget();
        assert!(known.filter(&client, &mut w).await.is_empty());
        assert_eq!(w.user_group_ids, Some(vec![2, 7]));
    }
}
