//! The Kubernetes manifests stay true to the service: every variable they set is a
//! configuration key, and the probes point at routes that exist.

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]
use std::collections::BTreeSet;

use tovuti_ghl_bridge::config::load_from;

fn manifests() -> Vec<serde_yaml_ng::Value> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/k8s");
    let mut docs = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for doc in serde_yaml_ng::Deserializer::from_str(&text) {
            docs.push(serde::Deserialize::deserialize(doc).unwrap());
        }
    }
    docs
}

fn kind<'a>(docs: &'a [serde_yaml_ng::Value], kind: &str) -> &'a serde_yaml_ng::Value {
    docs.iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

#[test]
fn every_variable_the_manifests_set_is_a_configuration_key() {
    let docs = manifests();
    let mut names = BTreeSet::new();
    for source in ["ConfigMap", "Secret"] {
        let doc = kind(&docs, source);
        let data = doc.get("data").or_else(|| doc.get("stringData")).unwrap();
        names.extend(
            data.as_mapping()
                .unwrap()
                .keys()
                .map(|k| k.as_str().unwrap().to_owned()),
        );
    }
    // Values that parse, so only unknown names could produce warnings.
    let env = names.iter().map(|n| {
        let value = match n.as_str() {
            "BRIDGE_DATABASE_URL" => "postgres://bridge:pw@db/bridge",
            "BRIDGE_ENCRYPTION_KEY" => "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            "BRIDGE_LISTEN" => "0.0.0.0:8080",
            "BRIDGE_TELEMETRY__LOG_FORMAT" => "json",
            "BRIDGE_STORE__RUN_MIGRATIONS" => "false",
            "BRIDGE_STORE__MAX_CONNECTIONS" | "BRIDGE_SERVER__SHUTDOWN_GRACE_SECS" => "10",
            _ => "",
        };
        (n.clone(), value.to_owned())
    });
    let loaded = load_from(None, env).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn the_probes_use_the_health_routes_and_the_replicas_skip_migrations() {
    let docs = manifests();
    let container = &kind(&docs, "Deployment")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(container["args"][1], "--skip-migrations");
    // Kubernetes' default probe timeout is 1 s; each probe states its own, and readiness
    // allows more than the store check's bound so a slow database reads as 503, not as a
    // probe timeout.
    let readiness_bound_ms = load_from(None, Vec::new())
        .unwrap()
        .config
        .server
        .readiness_timeout_ms;
    for probe in ["livenessProbe", "readinessProbe"] {
        let timeout = container[probe]["timeoutSeconds"].as_u64();
        let timeout = timeout.unwrap_or_else(|| panic!("{probe} without timeoutSeconds"));
        assert!(timeout * 1000 > readiness_bound_ms, "{probe}: {timeout} s");
    }
    assert_eq!(
        kind(&docs, "Job")["spec"]["template"]["spec"]["containers"][0]["args"][0],
        "migrate"
    );
}
