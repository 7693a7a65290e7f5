//! The manifests of both layouts against the service: variables, probes, shutdown
//! timing, memory, hardening, the public surface and the database's connection budget.

use serde_yaml_ng::Value;
use tovuti_ghl_bridge::config::{Config, load_from};

use crate::files::{documents, kind, layout, pod_specs, read, workload};
use crate::service::Running;

/// The service's peak RSS measured under sustained intake (bench/README.md, "settled at
/// about 250 MB with mimalloc"); memory limits must stay above it.
const MEASURED_PEAK_RSS_BYTES: u64 = 250_000_000;

/// Usable PostgreSQL connections with its defaults: max_connections 100 less the 3
/// superuser_reserved_connections.
const POSTGRES_USABLE_CONNECTIONS: u64 = 97;

/// What a container's environment holds: the ConfigMap, the Secret template (with
/// placeholders replaced by values that parse) and the container's own `env`.
fn environment(container: &Value) -> Vec<(String, String)> {
    let config_map = kind(&layout("sqlite"), "ConfigMap").clone();
    let secret = kind(
        &documents("deploy/k8s/base")
            .into_iter()
            .map(|(_, d)| d)
            .collect::<Vec<_>>(),
        "Secret",
    )
    .clone();
    let mut env = Vec::new();
    for data in [&config_map["data"], &secret["stringData"]] {
        for (name, value) in data.as_mapping().unwrap() {
            let name = name.as_str().unwrap().to_owned();
            let value = match (name.as_str(), value.as_str().unwrap()) {
                ("BRIDGE_ENCRYPTION_KEY", _) => "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
                ("BRIDGE_DATABASE_URL", "") => "postgres://bridge:pw@db/bridge",
                (_, "CHANGE-ME") => "placeholder",
                (_, value) => value,
            };
            env.push((name, value.to_owned()));
        }
    }
    for var in container["env"].as_sequence().into_iter().flatten() {
        let name = var["name"].as_str().unwrap().to_owned();
        env.push((name, var["value"].as_str().unwrap().to_owned()));
    }
    env
}

fn load(container: &Value) -> Config {
    let loaded = load_from(None, environment(container)).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    loaded.config
}

#[test]
fn every_variable_a_workload_sets_is_a_configuration_key_with_a_valid_value() {
    for (what, spec) in pod_specs() {
        for container in spec["containers"].as_sequence().unwrap() {
            let refs: Vec<_> = container["envFrom"].as_sequence().unwrap().iter().collect();
            assert_eq!(
                refs[0]["configMapRef"]["name"], "tovuti-ghl-bridge",
                "{what}"
            );
            assert_eq!(refs[1]["secretRef"]["name"], "tovuti-ghl-bridge", "{what}");
            let config = load(container);
            assert_eq!(config.server.listen, "0.0.0.0:8080", "{what}");
        }
    }
}

#[test]
fn each_layout_runs_as_its_database_requires() {
    let sqlite = layout("sqlite");
    let set = kind(&sqlite, "StatefulSet");
    assert_eq!(
        set["spec"]["replicas"], 1,
        "SQLite allows one writing process"
    );
    let container = &set["spec"]["template"]["spec"]["containers"][0];
    let url = load(container).store.url;
    let mount = container["volumeMounts"][0]["mountPath"].as_str().unwrap();
    assert!(url.expose().starts_with(&format!("sqlite://{mount}/")));
    assert!(load(container).store.run_migrations);
    assert!(
        sqlite
            .iter()
            .all(|d| d["kind"] != "Job" && d["kind"] != "Deployment")
    );

    let postgres = layout("postgres");
    let container = &kind(&postgres, "Deployment")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["args"][1], "--skip-migrations");
    assert!(!load(container).store.run_migrations);
    let job = &kind(&postgres, "Job")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(job["args"][0], "migrate");
    kind(&postgres, "PodDisruptionBudget");
}

#[test]
fn the_postgres_connection_budget_holds_at_the_autoscalers_maximum() {
    let postgres = layout("postgres");
    let deployment = kind(&postgres, "Deployment");
    let per_replica = load(&deployment["spec"]["template"]["spec"]["containers"][0])
        .store
        .max_connections;
    let job = load(&kind(&postgres, "Job")["spec"]["template"]["spec"]["containers"][0])
        .store
        .max_connections;
    let hpa: Value = serde_yaml_ng::from_str(&read("deploy/k8s/postgres/hpa.yaml")).unwrap();
    let replicas = hpa["spec"]["maxReplicas"].as_u64().unwrap();
    assert!(replicas >= deployment["spec"]["replicas"].as_u64().unwrap());
    let total = replicas * u64::from(per_replica) + u64::from(job);
    assert!(total < POSTGRES_USABLE_CONNECTIONS, "{total} connections");
}

#[tokio::test]
async fn every_probe_asks_a_route_that_answers_in_time() {
    let sqlite = layout("sqlite");
    let config = load(&workload(&sqlite)["spec"]["template"]["spec"]["containers"][0]);
    let readiness_bound_ms = config.server.readiness_timeout_ms;
    let service = Running::start(config).await;
    for (what, spec) in pod_specs().into_iter().filter(|(w, _)| !w.ends_with("Job")) {
        let container = &spec["containers"][0];
        assert_eq!(container["ports"][0]["name"], "http");
        assert_eq!(
            container["ports"][0]["containerPort"], 8080,
            "BRIDGE_LISTEN's port"
        );
        for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
            let get = &container[probe]["httpGet"];
            assert_eq!(get["port"], "http", "{what} {probe}");
            let path = get["path"].as_str().unwrap();
            assert_eq!(service.get(path).await.0, 200, "{what} {probe} {path}");
            // Kubernetes' default is 1 s; each probe states its own, above the store
            // check's bound, so a slow database reads as 503 and not as a timeout.
            let timeout = container[probe]["timeoutSeconds"].as_u64().unwrap();
            assert!(timeout * 1000 > readiness_bound_ms, "{what} {probe}");
        }
        assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
        assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    }
    service.stop().await;
}

#[test]
fn the_grace_period_covers_the_pre_stop_pause_and_the_drain() {
    for (what, spec) in pod_specs().into_iter().filter(|(w, _)| !w.ends_with("Job")) {
        let container = &spec["containers"][0];
        let drain = load(container).server.shutdown_grace_secs;
        let pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
            .as_u64()
            .unwrap();
        let grace = spec["terminationGracePeriodSeconds"].as_u64().unwrap();
        assert!(
            grace > pause + drain,
            "{what}: {grace} s <= {pause} + {drain} s"
        );
    }
}

fn bytes(quantity: &str) -> u64 {
    let units = [
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
    ];
    for (suffix, factor) in units {
        if let Some(number) = quantity.strip_suffix(suffix) {
            return number.parse::<u64>().unwrap() * factor;
        }
    }
    quantity.parse().unwrap()
}

#[test]
fn serving_memory_limits_are_above_the_measured_peak() {
    assert!(read("bench/README.md").contains("settled at about 250 MB"));
    for (what, spec) in pod_specs().into_iter().filter(|(w, _)| !w.ends_with("Job")) {
        let resources = &spec["containers"][0]["resources"];
        let limit = bytes(resources["limits"]["memory"].as_str().unwrap());
        let request = bytes(resources["requests"]["memory"].as_str().unwrap());
        assert!(limit > MEASURED_PEAK_RSS_BYTES, "{what}: limit {limit}");
        assert!(request <= limit, "{what}");
        assert!(resources["requests"]["cpu"].is_string(), "{what}");
    }
}

#[test]
fn every_pod_runs_as_the_images_non_root_user_without_privileges() {
    let dockerfile = read("Dockerfile");
    let user = dockerfile
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .unwrap();
    let uid: u64 = user.split(':').next().unwrap().parse().unwrap();
    let version = format!(":{}", env!("CARGO_PKG_VERSION"));
    for (what, spec) in pod_specs() {
        assert_eq!(spec["automountServiceAccountToken"], false, "{what}");
        assert_eq!(spec["securityContext"]["runAsNonRoot"], true, "{what}");
        assert_eq!(spec["securityContext"]["runAsUser"], uid, "{what}");
        for container in spec["containers"].as_sequence().unwrap() {
            let security = &container["securityContext"];
            assert_eq!(security["readOnlyRootFilesystem"], true, "{what}");
            assert_eq!(security["allowPrivilegeEscalation"], false, "{what}");
            assert_eq!(security["capabilities"]["drop"][0], "ALL", "{what}");
            assert_eq!(
                security["seccompProfile"]["type"], "RuntimeDefault",
                "{what}"
            );
            assert!(
                container["image"].as_str().unwrap().ends_with(&version),
                "{what}"
            );
        }
    }
}

#[test]
fn the_public_ingress_exposes_webhooks_and_oauth_only() {
    let ingress = kind(&layout("postgres"), "Ingress").clone();
    assert!(ingress["spec"]["tls"][0]["secretName"].is_string());
    let paths: Vec<&str> = ingress["spec"]["rules"][0]["http"]["paths"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/webhooks/", "/oauth/"]);
    // Each prefix reaches real routes, and nothing else of the API is public.
    let openapi: Value = serde_yaml_ng::from_str(&read("openapi.yaml")).unwrap();
    let routes: Vec<&str> = openapi["paths"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap())
        .collect();
    for prefix in paths {
        assert!(routes.iter().any(|r| r.starts_with(prefix)), "{prefix}");
    }
    for public in [
        "/webhooks/ghl",
        "/webhooks/tovuti",
        "/oauth/ghl/install",
        "/oauth/ghl/callback",
    ] {
        assert!(routes.contains(&public), "{public}");
    }
}
