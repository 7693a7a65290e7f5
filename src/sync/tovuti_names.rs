//! The mapping's Tovuti names (custom fields, groups and courses named by name, since ids
//! differ per tenant) resolved to the tenant's ids through the same catalog lists writes
//! are checked against: read once, again after `REFRESH`, at once after a write was
//! refused for an unknown id (the lists are forgotten then), and no sooner than
//! `RETRY_UNKNOWN` while a name is missing. What a missing name names is left out of
//! writes (custom fields are recorded as skipped) and warned about at each resolution.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::tovuti_known::{REFRESH, RETRY_UNKNOWN, TovutiKnown};
use crate::mapping::Mapping;
use crate::mapping::tovuti_names::{self, TenantLists};
use crate::platforms::tovuti::TovutiApi;
use crate::platforms::tovuti::client::CatalogKind;

/// A mapping resolved from the lists as they were after `reads` reads.
pub struct Resolved {
    reads: u64,
    mapping: Arc<Mapping>,
    /// Lists still missing a name the mapping uses.
    missing: Vec<CatalogKind>,
}

impl TovutiKnown {
    /// `base` with every Tovuti name the tenant's lists hold replaced by its id; `base`
    /// itself when it names nothing by name or no Tovuti API is configured.
    pub async fn mapping(
        &self,
        tovuti: Option<&dyn TovutiApi>,
        base: &Arc<Mapping>,
    ) -> Arc<Mapping> {
        let named = self.named.get_or_init(|| tovuti_names::named_kinds(base));
        let Some(tovuti) = tovuti.filter(|_| !named.is_empty()) else {
            return Arc::clone(base);
        };
        for kind in named {
            if self.stale_for_names(*kind) {
                let _turn = self.refreshing.turn(kind).await;
                if self.stale_for_names(*kind) {
                    self.read(tovuti, *kind).await;
                }
            }
        }
        let reads = self.reads.load(Ordering::SeqCst);
        let mut resolved = self.resolved.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = resolved.as_ref().filter(|r| r.reads == reads) {
            return Arc::clone(&r.mapping);
        }
        let (mapping, unresolved) = tovuti_names::resolve(base, &self.tenant_lists(named));
        for name in &unresolved {
            tracing::warn!(
                item = %name.describe(),
                "the Tovuti tenant has no record by this name; what the mapping names with it is left out"
            );
        }
        let mapping = Arc::new(mapping);
        *resolved = Some(Resolved {
            reads,
            mapping: Arc::clone(&mapping),
            missing: unresolved.iter().map(|u| u.kind).collect(),
        });
        mapping
    }

    fn stale_for_names(&self, kind: CatalogKind) -> bool {
        let missing = self
            .resolved
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_some_and(|r| r.missing.contains(&kind));
        let lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
        let Some(list) = lists.get(&kind) else {
            return true;
        };
        let age = list.read_at.elapsed();
        age >= REFRESH || (missing && age >= RETRY_UNKNOWN)
    }

    /// The trusted lists among `kinds` (an unreadable list resolves nothing).
    fn tenant_lists(&self, kinds: &[CatalogKind]) -> TenantLists {
        let lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
        kinds
            .iter()
            .filter_map(|kind| {
                let list = lists.get(kind).filter(|l| l.ids.is_some())?;
                Some((*kind, list.labels.clone()))
            })
            .collect()
    }
}
