//! Alerts and dashboard against the service: the PrometheusRule is the tested rules
//! file, every alert has its runbook section, and every metric they name is one the
//! running service exports.

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml_ng::Value;
use tovuti_ghl_bridge::config::Config;

use crate::files::{metric_names, read};
use crate::service::Running;

fn rules() -> Value {
    serde_yaml_ng::from_str(&read("deploy/prometheus/rules.yaml")).unwrap()
}

fn alerts(rules: &Value) -> Vec<&Value> {
    rules["groups"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_sequence().unwrap())
        .collect()
}

#[test]
fn the_prometheus_rule_carries_exactly_the_tested_rules() {
    let text = read("deploy/k8s/monitoring/prometheusrule.yaml");
    let resource: Value = serde_yaml_ng::from_str(&text).unwrap();
    assert_eq!(resource["kind"], "PrometheusRule");
    assert_eq!(resource["spec"], rules(), "run deploy/prometheus/render.py");
}

/// GitHub's anchor for a heading: lower case, spaces to dashes, other punctuation gone.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[test]
fn every_alert_points_to_its_runbook_section() {
    let operations = read("docs/operations.md");
    let anchors: BTreeSet<String> = operations
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|l| anchor(l.trim_start_matches('#')))
        .collect();
    let rules = rules();
    let alerts = alerts(&rules);
    assert!(alerts.len() >= 8, "{} alerts", alerts.len());
    for alert in alerts {
        let name = alert["alert"].as_str().unwrap();
        let runbook = alert["annotations"]["runbook"].as_str().unwrap();
        let section = runbook.strip_prefix("docs/operations.md#").unwrap();
        assert!(anchors.contains(section), "{name}: no section #{section}");
        assert_eq!(
            section,
            name.to_lowercase(),
            "{name}: runbook of another alert"
        );
    }
}

/// Every PromQL expression of the dashboard.
fn dashboard_exprs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("expr", serde_json::Value::String(expr)) => out.push(expr.clone()),
                    _ => dashboard_exprs(value, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| dashboard_exprs(v, out)),
        _ => {}
    }
}

/// `# TYPE name type` of an exposition: each family's name and type.
fn families(exposition: &str) -> BTreeMap<String, String> {
    exposition
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .map(|(name, kind)| (name.to_owned(), kind.to_owned()))
        .collect()
}

/// Whether a series name belongs to an exported family of a fitting type: counters are
/// queried as `_total`, histograms as `_bucket`/`_sum`/`_count`, gauges by their name.
fn exported(series: &str, families: &BTreeMap<String, String>) -> bool {
    let family = |suffix: &str, kind: &str| {
        series
            .strip_suffix(suffix)
            .is_some_and(|name| families.get(name).is_some_and(|k| k == kind))
    };
    families.get(series).is_some_and(|k| k == "gauge")
        || family("_total", "counter")
        || ["_bucket", "_sum", "_count"]
            .iter()
            .any(|s| family(s, "histogram"))
}

#[tokio::test]
async fn alerts_and_dashboard_name_only_metrics_the_service_exports() {
    let service = Running::start(Config::defaults()).await;
    let (status, exposition) = service.get("/metrics").await;
    assert_eq!(status, 200);
    service.stop().await;
    let families = families(&exposition);

    let mut used: BTreeMap<String, &str> = BTreeMap::new();
    let rules = rules();
    for alert in alerts(&rules) {
        for name in metric_names(alert["expr"].as_str().unwrap()) {
            used.insert(name, "rules.yaml");
        }
    }
    let dashboard: serde_json::Value =
        serde_json::from_str(&read("deploy/grafana/tovuti-ghl-bridge.json")).unwrap();
    let mut exprs = Vec::new();
    dashboard_exprs(&dashboard, &mut exprs);
    assert!(exprs.len() > 20, "{} dashboard queries", exprs.len());
    for expr in &exprs {
        for name in metric_names(expr) {
            used.entry(name).or_insert("the dashboard");
        }
    }
    // The poller's and the alerts' signals are all there.
    for needed in [
        "bridge_poll_lag_seconds",
        "bridge_store_up",
        "bridge_ghl_needs_reauth_total",
    ] {
        assert!(used.contains_key(needed), "{needed} unused");
    }
    for (name, source) in &used {
        assert!(
            exported(name, &families),
            "{source} names {name}, not exported:\n{exposition}"
        );
    }
}

#[test]
fn an_unknown_or_mistyped_metric_is_caught() {
    let families = families(
        "# TYPE bridge_dead_events counter\n# TYPE bridge_store_up gauge\n\
         # TYPE bridge_http_request_duration_seconds histogram\n",
    );
    assert!(exported("bridge_dead_events_total", &families));
    assert!(exported("bridge_store_up", &families));
    assert!(exported(
        "bridge_http_request_duration_seconds_bucket",
        &families
    ));
    assert!(!exported("bridge_dead_events", &families));
    assert!(!exported("bridge_store_up_total", &families));
    assert!(!exported("bridge_inbox_depth", &families));
    assert_eq!(
        metric_names("sum(rate(bridge_a_total[5m])) / xbridge_b + bridge_c{x=\"y\"}"),
        ["bridge_a_total", "bridge_c"]
    );
}
