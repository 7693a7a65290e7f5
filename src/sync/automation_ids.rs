//! GHL campaign and workflow ids by name, per location: a rule may name them by name (ids
//! differ per location), looked up in the location's lists, read at most once per
//! `REFRESH` and, while a name is missing, again at most once per `RETRY_UNKNOWN`. A name
//! the location lacks is skipped like a missing custom field.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::refresh_gate::RefreshGate;
use super::skipped::Skipped;
use crate::mapping::action::AutomationRef;
use crate::mapping::model::same_name;
use crate::platforms::ghl::client::{AutomationKind, LocationApi};

/// How long a list is trusted.
const REFRESH: Duration = Duration::from_secs(600);
/// A name missing from a list is not looked up again sooner than this.
const RETRY_UNKNOWN: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct AutomationIds {
    lists: Mutex<HashMap<(String, AutomationKind), List>>,
    refreshing: RefreshGate<(String, AutomationKind)>,
}

struct List {
    read_at: Instant,
    /// `(name, id)`; `None` when the list could not be read.
    items: Option<Vec<(String, String)>>,
}

impl List {
    fn find(&self, name: &str) -> Option<String> {
        let items = self.items.as_ref()?;
        let found = items.iter().find(|(n, _)| same_name(n, name));
        found.map(|(_, id)| id.clone())
    }
}

impl AutomationIds {
    /// The id `r` names in the location; `Err` names what the location lacks.
    pub async fn id(
        &self,
        ghl: &LocationApi,
        kind: AutomationKind,
        r: &AutomationRef,
    ) -> Result<String, Skipped> {
        let name = match r {
            AutomationRef::Id(id) => return Ok(id.clone()),
            AutomationRef::Name(name) => name,
        };
        let key = (ghl.location_id().to_owned(), kind);
        if self.needs_reading(&key, name) {
            let _turn = self.refreshing.turn(&key).await;
            if self.needs_reading(&key, name) {
                self.read(ghl, kind).await;
            }
        }
        let lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
        lists
            .get(&key)
            .and_then(|list| list.find(name))
            .ok_or_else(|| Skipped::ghl_automation(kind, name))
    }

    fn needs_reading(&self, key: &(String, AutomationKind), name: &str) -> bool {
        let lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
        let Some(list) = lists.get(key) else {
            return true;
        };
        let age = list.read_at.elapsed();
        age >= REFRESH || (age >= RETRY_UNKNOWN && list.find(name).is_none())
    }

    /// Reads one list; a failure (e.g. no `workflows.readonly` scope) is logged, and the
    /// names in it count as missing until the next try.
    async fn read(&self, ghl: &LocationApi, kind: AutomationKind) {
        let items = match ghl.automations(kind).await {
            Ok(all) => Some(all.into_iter().map(|a| (a.name, a.id)).collect()),
            Err(error) => {
                tracing::warn!(location = ghl.location_id(), list = kind.noun(), %error, "could not read the GHL list; rules naming its entries by name are skipped");
                None
            }
        };
        let list = List {
            read_at: Instant::now(),
            items,
        };
        let key = (ghl.location_id().to_owned(), kind);
        self.lists
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, list);
    }
}
