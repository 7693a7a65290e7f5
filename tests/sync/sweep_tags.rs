//! The sweep and GHL tags: a tag added or removed in GHL whose webhook never arrived is
//! found by the next sweep and handed to the tag rules, as the webhook would have been;
//! the rules are the connection's own mapping's.

use serde_json::json;
use tovuti_ghl_bridge::reconcile::{BackfillOptions, SweepError, SweepOutcome};

use crate::support::{Backend, linked_ada};
use crate::sweep::{connection, start, sweep, sweep_events, sweeper};

pub async fn a_tag_changed_while_its_webhook_was_dropped_is_repaired_by_the_tag_rules(
    backend: Backend,
) {
    let Some(env) = start(backend).await else {
        return;
    };
    let contact = linked_ada(&env).await;
    let sweeper = sweeper(&env, "replica-a");
    let tags = env.ghl.contact(&contact).unwrap()["tags"].clone();
    let mut purchased = tags.as_array().cloned().unwrap_or_default();
    purchased.push(json!("purchased:course-101"));
    // GHL's ContactTagUpdate for this purchase never arrives.
    env.ghl
        .edit_contact(&contact, &json!({ "tags": purchased }))
        .unwrap();

    let report = sweep(&env, &sweeper).await;
    assert_eq!(report.repaired, 1, "only the tags changed: {report:?}");
    assert_eq!(env.drain().await, 1);
    let ada = env.tovuti.user(4211).unwrap();
    assert!(
        ada.enrolled_course_ids.iter().any(|c| c.0 == 101),
        "{ada:?}"
    );
    assert!(ada.user_group_ids.iter().any(|g| g.0 == 7), "{ada:?}");
    let again = sweep(&env, &sweeper).await;
    assert_eq!((again.repaired, again.already_queued), (0, 0), "{again:?}");

    // The tag is taken away, and that webhook is lost too: the rule's `on_remove =
    // "reverse"` takes the course and the group back.
    env.ghl
        .edit_contact(&contact, &json!({ "tags": tags }))
        .unwrap();
    let removed = sweep(&env, &sweeper).await;
    assert_eq!(removed.repaired, 1, "{removed:?}");
    assert_eq!(env.drain().await, 1);
    let ada = env.tovuti.user(4211).unwrap();
    assert!(
        !ada.enrolled_course_ids.iter().any(|c| c.0 == 101),
        "{ada:?}"
    );
    assert!(!ada.user_group_ids.iter().any(|g| g.0 == 7), "{ada:?}");
    assert_eq!(sweep_events(&env).await, 2);
    env.finish().await;
}

pub async fn a_tag_no_rule_names_is_not_repaired(backend: Backend) {
    let Some(env) = start(backend).await else {
        return;
    };
    let contact = linked_ada(&env).await;
    env.ghl
        .edit_contact(&contact, &json!({ "tags": ["newsletter", "vip"] }))
        .unwrap();

    let report = sweep(&env, &sweeper(&env, "replica-a")).await;
    assert_eq!((report.scanned, report.repaired), (1, 0), "{report:?}");
    assert_eq!(sweep_events(&env).await, 0);
    env.finish().await;
}

/// The example mapping with one more tag rule, `vip`, written beside the test.
fn mapping_with_a_vip_rule(dir: &std::path::Path) -> String {
    let example = std::fs::read_to_string("config/mapping.example.toml").unwrap();
    let path = dir.join("vip-mapping.toml");
    let rule = "\n[[ghl.tags]]\ntag = \"vip\"\ngroups = [\"Students\"]\n";
    std::fs::write(&path, example + rule).unwrap();
    path.display().to_string()
}

pub async fn a_sweep_and_a_backfill_follow_the_connections_own_mapping(backend: Backend) {
    let Some(env) = start(backend).await else {
        return;
    };
    let contact = linked_ada(&env).await;
    env.ghl
        .edit_contact(&contact, &json!({ "tags": ["vip"] }))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let configured = connection(&env).await;
    let mut own = configured.clone();
    own.mapping_path = Some(mapping_with_a_vip_rule(dir.path()));
    let sweeper = sweeper(&env, "replica-a");
    let dry_run = BackfillOptions {
        dry_run: true,
        ..BackfillOptions::default()
    };

    // The configured mapping has no rule for `vip`: nothing to backfill.
    let none = sweeper
        .backfill_from_ghl(&configured, dry_run, &mut |_| {})
        .await;
    assert_eq!(none.unwrap().unwrap().queued, 0);
    // The connection's own mapping has one: the backfill selects the contact, and the
    // sweep repairs the tag change the configured mapping would not see.
    let selected = sweeper.backfill_from_ghl(&own, dry_run, &mut |_| {}).await;
    assert_eq!(selected.unwrap().unwrap().queued, 1);
    let report = match sweeper.sweep(&own).await.unwrap() {
        SweepOutcome::Done(report) => report,
        SweepOutcome::Busy => panic!("no other sweeper runs"),
    };
    assert_eq!(report.repaired, 1, "{report:?}");

    // A mapping file that does not load fails the sweep instead of using another one.
    own.mapping_path = Some(dir.path().join("missing.toml").display().to_string());
    let failed = sweeper.sweep(&own).await;
    assert!(matches!(failed, Err(SweepError::Mapping(_))), "{failed:?}");
    env.finish().await;
}
