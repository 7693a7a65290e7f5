//! Items a write left out because the other side lacks them (a GHL custom field the
//! location never defined, a Tovuti field, group or course the tenant does not have).
//! Never silent: each one is recorded in the attempt's event log, counted in
//! `bridge_sync_items_skipped_total` and logged once per item per interval. The mapping's
//! `settings.on_missing = "fail"` turns a skip into a dead event instead.

use std::collections::HashMap;
use std::sync::Mutex;

use super::errors::SyncError;
use crate::mapping::fields::{self, Side};
use crate::mapping::model::{FieldPair, GhlRef, TovutiRef};
use crate::mapping::policy::OnMissing;
use crate::mapping::tovuti_names::Unresolved;
use crate::mapping::{Mapping, Plan, fingerprint};
use crate::platforms::ghl::client::AutomationKind;
use crate::platforms::tovuti::client::CatalogKind;
use crate::telemetry::requests::{self, RequestEntry};
use crate::telemetry::warnings::{RateLimitedWarn, WARN_INTERVAL};
use crate::telemetry::{Metrics, SkippedLabels};

/// Distinct items with a warning of their own; beyond it they share one (a mapping
/// names a bounded set, so this is only a guard against unbounded leaks).
const MAX_WARNED_ITEMS: usize = 256;

/// What kind of item was left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    CustomField,
    Group,
    Course,
    Campaign,
    Workflow,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CustomField => "custom_field",
            Self::Group => "group",
            Self::Course => "course",
            Self::Campaign => "campaign",
            Self::Workflow => "workflow",
        }
    }
}

/// One item left out of a write. Names ids and keys only, never values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The platform that lacks it: `ghl` or `tovuti`.
    pub platform: &'static str,
    pub kind: Kind,
    /// How the mapping names it: `contact.lms_status`, `custom field 23`, `group 7`.
    pub item: String,
    /// The key or id alone: `contact.lms_status`, `23`, `7`.
    pub id: String,
    /// Why, e.g. `not in this location`.
    pub reason: &'static str,
}

impl Skipped {
    pub fn ghl_field(item: impl Into<String>) -> Self {
        let item = item.into();
        Self {
            platform: "ghl",
            kind: Kind::CustomField,
            id: item.clone(),
            item,
            reason: "not in this location",
        }
    }

    pub fn tovuti(kind: Kind, id: impl std::fmt::Display) -> Self {
        let item = match kind {
            Kind::CustomField => format!("custom field {id}"),
            Kind::Group => format!("group {id}"),
            Kind::Course => format!("course {id}"),
            Kind::Campaign | Kind::Workflow => format!("{} {id}", kind.as_str()),
        };
        Self {
            platform: "tovuti",
            kind,
            item,
            id: id.to_string(),
            reason: "not in this tenant",
        }
    }

    /// A campaign or workflow named by a name the location's list lacks.
    pub fn ghl_automation(kind: AutomationKind, name: &str) -> Self {
        let kind = match kind {
            AutomationKind::Campaign => Kind::Campaign,
            AutomationKind::Workflow => Kind::Workflow,
        };
        Self {
            platform: "ghl",
            kind,
            item: format!("{} \"{name}\"", kind.as_str()),
            id: name.to_owned(),
            reason: "not in this location",
        }
    }

    /// A group or course the mapping names by a name the tenant's lists lack.
    pub fn unresolved(name: &Unresolved) -> Self {
        let kind = match name.kind {
            CatalogKind::CustomFields => Kind::CustomField,
            CatalogKind::Groups => Kind::Group,
            CatalogKind::Courses => Kind::Course,
        };
        Self::tovuti(kind, &name.name)
    }

    /// `contact.lms_status — not in this location`.
    pub fn describe(&self) -> String {
        format!("{} — {}", self.item, self.reason)
    }
}

/// The fingerprint of what a plan's writes really left on the other side: the planned
/// state without the custom fields that were skipped, as that side will report it back.
/// Otherwise our own write, echoed without them, would look like an edit.
pub fn written_fingerprint(mapping: &Mapping, plan: &Plan, skipped: &[Skipped]) -> Option<String> {
    let fields: Vec<&Skipped> = skipped
        .iter()
        .filter(|s| s.kind == Kind::CustomField)
        .collect();
    let (Some(state), false) = (&plan.written_state, fields.is_empty()) else {
        return plan.written_fingerprint.clone();
    };
    let lacks = |side: Side, pair: &FieldPair| match (side, &pair.ghl, &pair.tovuti) {
        (Side::Ghl, GhlRef::Custom(c), _) => fields.iter().any(|s| {
            s.platform == "ghl" && (c.key.as_ref() == Some(&s.id) || c.id.as_ref() == Some(&s.id))
        }),
        (Side::Tovuti, _, TovutiRef::Custom(c)) => fields.iter().any(|s| {
            s.platform == "tovuti"
                && (s.id == c.label() || c.field_id.is_some_and(|id| s.id == id.to_string()))
        }),
        _ => false,
    };
    let mut state = state.clone();
    for side in [Side::Ghl, Side::Tovuti] {
        state = fields::read_back_without(mapping, &state, side, |pair| lacks(side, pair));
    }
    Some(fingerprint(&state))
}

/// Records `skipped` items (event log, metric, warning), or fails the event when the
/// mapping says `on_missing = "fail"`.
pub fn handle(metrics: &Metrics, policy: OnMissing, skipped: &[Skipped]) -> Result<(), SyncError> {
    if skipped.is_empty() {
        return Ok(());
    }
    if policy == OnMissing::Fail {
        let items: Vec<String> = skipped.iter().map(Skipped::describe).collect();
        return Err(SyncError::Permanent(format!(
            "the mapping names what the platform lacks ({}); settings.on_missing = \"fail\"",
            items.join("; ")
        )));
    }
    for item in skipped {
        record(metrics, item);
    }
    Ok(())
}

fn record(metrics: &Metrics, item: &Skipped) {
    let labels = SkippedLabels {
        platform: item.platform.to_owned(),
        kind: item.kind.as_str().to_owned(),
    };
    metrics.sync_items_skipped.get_or_create(&labels).inc();
    requests::note(RequestEntry {
        platform: item.platform,
        method: "SKIP".into(),
        path: item.item.clone(),
        outcome: format!("skipped: {}", item.reason),
        trace_id: None,
        duration_ms: 0,
    });
    if warning_for(item).admit() {
        tracing::warn!(
            platform = item.platform,
            kind = item.kind.as_str(),
            item = %item.item,
            reason = item.reason,
            "a mapped item was skipped: the platform lacks it"
        );
    }
}

static WARNINGS: Mutex<Option<HashMap<String, &'static RateLimitedWarn>>> = Mutex::new(None);
static OTHER_ITEMS: RateLimitedWarn = RateLimitedWarn::new(
    "a mapped item was skipped: the platform lacks it",
    WARN_INTERVAL,
);

/// One rate-limited warning per item: each missing item is named at least once per
/// interval, however many events skip it.
fn warning_for(item: &Skipped) -> &'static RateLimitedWarn {
    let key = format!("{} {}", item.platform, item.item);
    let mut warnings = WARNINGS.lock().unwrap_or_else(|e| e.into_inner());
    let warnings = warnings.get_or_insert_with(HashMap::new);
    if let Some(warning) = warnings.get(&key) {
        return warning;
    }
    if warnings.len() >= MAX_WARNED_ITEMS {
        return &OTHER_ITEMS;
    }
    // Leaked on purpose: bounded by MAX_WARNED_ITEMS, and a warning lives as long as
    // the process (its summary task holds it).
    let kind: &'static str = Box::leak(
        format!("a mapped item was skipped: the platform lacks it ({key})").into_boxed_str(),
    );
    let warning: &'static RateLimitedWarn =
        Box::leak(Box::new(RateLimitedWarn::new(kind, WARN_INTERVAL)));
    warnings.insert(key, warning);
    warning
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::capture::Captured;

    #[tokio::test]
    async fn skips_are_logged_counted_and_noted_once_per_item_per_interval() {
        let (captured, _guard) = Captured::start();
        let metrics = Metrics::new();
        let a = Skipped::ghl_field("contact.skip_test_a");
        let b = Skipped::tovuti(Kind::Group, 424_242);
        let (result, noted) = requests::collect(async {
            handle(&metrics, OnMissing::Skip, &[a.clone(), b.clone()])?;
            handle(&metrics, OnMissing::Skip, std::slice::from_ref(&a))
        })
        .await;
        result.unwrap();

        let entries: Vec<(String, String)> = noted
            .iter()
            .map(|e| (format!("{} {}", e.platform, e.method), e.path.clone()))
            .collect();
        assert_eq!(
            entries,
            [
                ("ghl SKIP".to_owned(), "contact.skip_test_a".to_owned()),
                ("tovuti SKIP".to_owned(), "group 424242".to_owned()),
                ("ghl SKIP".to_owned(), "contact.skip_test_a".to_owned()),
            ]
        );
        assert_eq!(noted[0].outcome, "skipped: not in this location");
        let text = metrics.encode();
        assert!(
            text.contains(
                r#"bridge_sync_items_skipped_total{platform="ghl",kind="custom_field"} 2"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"bridge_sync_items_skipped_total{platform="tovuti",kind="group"} 1"#),
            "{text}"
        );
        let warned: Vec<String> = captured
            .at("WARN")
            .iter()
            .map(|line| line["item"].as_str().unwrap_or("").to_owned())
            .collect();
        assert_eq!(
            warned,
            ["contact.skip_test_a", "group 424242"],
            "one line per item"
        );
    }

    #[test]
    fn the_fail_policy_fails_the_event_naming_the_items() {
        let metrics = Metrics::new();
        let items = [Skipped::tovuti(Kind::CustomField, 23)];
        let error = handle(&metrics, OnMissing::Fail, &items).unwrap_err();
        assert!(
            matches!(&error, SyncError::Permanent(text) if text.contains("custom field 23 — not in this tenant")),
            "{error}"
        );
        assert!(
            !metrics
                .encode()
                .contains("platform=\"tovuti\",kind=\"custom_field\"} 1")
        );
        assert!(handle(&metrics, OnMissing::Fail, &[]).is_ok());
    }
}
