//! Loading configuration: defaults, file, environment, and every problem at once. The
//! environment is passed explicitly, so these tests never touch the process's.

use std::io::Write as _;

use tovuti_ghl_bridge::config::{Config, LogFormat, load_from};

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn keys(errors: &tovuti_ghl_bridge::config::ConfigErrors) -> Vec<String> {
    errors.0.iter().map(|p| p.key.clone()).collect()
}

#[test]
fn the_embedded_defaults_run_on_sqlite_with_no_configuration() {
    let config = Config::defaults();
    assert_eq!(config.store.url.expose(), "sqlite://data/bridge.db");
    assert_eq!(config.server.listen, "0.0.0.0:8080");
    assert_eq!(config.server.body_limit_bytes, 1024 * 1024);
    assert!(config.worker.enabled);
    assert!(!config.security.encryption_key.is_set());
}

#[test]
fn flat_and_nested_environment_variables_override_the_defaults() {
    let loaded = load_from(
        None,
        env(&[
            ("BRIDGE_DATABASE_URL", "postgres://bridge:pw@db/bridge"),
            ("BRIDGE_LISTEN", "127.0.0.1:9000"),
            ("BRIDGE_GHL_LOCATION_ID", "loc-123"),
            ("BRIDGE_STORE__MAX_CONNECTIONS", "4"),
            ("BRIDGE_TELEMETRY__LOG_FORMAT", "json"),
            ("BRIDGE_WORKER__ENABLED", "false"),
            ("UNRELATED", "ignored"),
        ]),
    )
    .unwrap();
    let c = loaded.config;
    assert_eq!(c.store.url.expose(), "postgres://bridge:pw@db/bridge");
    assert_eq!(
        (c.server.listen.as_str(), c.ghl.location_id.as_str()),
        ("127.0.0.1:9000", "loc-123")
    );
    assert_eq!(c.store.max_connections, 4);
    assert_eq!(c.telemetry.log_format, LogFormat::Json);
    assert!(!c.worker.enabled);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn a_token_made_of_digits_stays_a_string() {
    let loaded = load_from(
        None,
        env(&[
            ("BRIDGE_GHL_TOKEN", "123456"),
            ("BRIDGE_GHL_LOCATION_ID", "42"),
        ]),
    )
    .unwrap();
    assert_eq!(loaded.config.ghl.token.expose(), Some("123456"));
    assert_eq!(loaded.config.ghl.location_id, "42");
}

#[test]
fn a_file_overrides_defaults_and_the_environment_overrides_the_file() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(
        file,
        "[server]\nlisten = \"127.0.0.1:7000\"\nbody_limit_bytes = 2048"
    )
    .unwrap();
    let loaded = load_from(
        Some(file.path()),
        env(&[("BRIDGE_LISTEN", "127.0.0.1:7001")]),
    )
    .unwrap();
    assert_eq!(loaded.config.server.listen, "127.0.0.1:7001");
    assert_eq!(loaded.config.server.body_limit_bytes, 2048);
}

#[test]
fn every_problem_is_reported_at_once_naming_its_key() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(
        file,
        "[server]\nlsten = \"typo\"\nbody_limit_bytes = \"big\"\n[nonsense]\nkey = 1"
    )
    .unwrap();
    let errors = load_from(
        Some(file.path()),
        env(&[
            ("BRIDGE_LISTEN", "nowhere"),
            ("BRIDGE_STORE__MAX_CONNECTIONS", "many"),
            ("BRIDGE_STORE__WRITE_BATCH_MAX", "0"),
            ("BRIDGE_DATABASE_URL", "mysql://db/x"),
            ("BRIDGE_GHL_BASE_URL", "not a url"),
            ("BRIDGE_GHL_CLIENT_ID", "client-without-secret"),
        ]),
    )
    .unwrap_err();
    let named = keys(&errors);
    for key in [
        "server.lsten",
        "nonsense.key",
        "server.body_limit_bytes",
        "server.listen",
        "store.max_connections",
        "store.write_batch_max",
        "store.url",
        "ghl.base_url",
        "ghl.client_secret",
    ] {
        assert!(
            named.iter().any(|k| k == key),
            "{key} missing from {named:?}"
        );
    }
    assert!(errors.to_string().contains("problem(s)"));
}

#[test]
fn an_in_memory_sqlite_store_is_refused() {
    for url in [
        "sqlite::memory:",
        "sqlite://:memory:",
        "sqlite://data/bridge.db?mode=memory",
    ] {
        let errors = load_from(None, env(&[("BRIDGE_DATABASE_URL", url)])).unwrap_err();
        assert!(keys(&errors).iter().any(|k| k == "store.url"), "{url}");
        assert!(errors.to_string().contains("in-memory"), "{url}: {errors}");
    }
    assert!(
        load_from(
            None,
            env(&[("BRIDGE_DATABASE_URL", "sqlite://data/bridge.db")])
        )
        .is_ok()
    );
}

#[test]
fn oauth_without_an_encryption_key_is_refused_naming_the_key() {
    // The callback would spend the authorization code and then fail to store the tokens.
    let oauth = [
        ("BRIDGE_GHL_CLIENT_ID", "client-1"),
        ("BRIDGE_GHL_CLIENT_SECRET", "oauth-secret-1"),
    ];
    let errors = load_from(None, env(&oauth)).unwrap_err();
    assert_eq!(keys(&errors), ["security.encryption_key"]);
    assert!(errors.to_string().contains("ghl.client_id"), "{errors}");
    assert!(!errors.to_string().contains("oauth-secret-1"), "{errors}");

    let key = (
        "BRIDGE_ENCRYPTION_KEY",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    );
    let with_key = [oauth[0], oauth[1], key];
    assert!(load_from(None, env(&with_key)).is_ok());
}

#[test]
fn unknown_bridge_variables_warn_instead_of_failing() {
    // A Kubernetes Service named "bridge" injects BRIDGE_PORT and friends.
    let loaded = load_from(None, env(&[("BRIDGE_PORT", "tcp://10.0.0.1:80")])).unwrap();
    assert_eq!(loaded.warnings.len(), 1);
    assert!(loaded.warnings[0].contains("BRIDGE_PORT"));
}

#[test]
fn a_missing_config_file_is_a_problem() {
    let errors = load_from(
        Some(std::path::Path::new("/nonexistent/bridge.toml")),
        env(&[]),
    )
    .unwrap_err();
    assert_eq!(keys(&errors), ["--config"]);
}

#[test]
fn admin_tokens_split_on_spaces_and_commas_and_short_ones_are_refused() {
    let loaded = load_from(
        None,
        env(&[
            (
                "BRIDGE_ADMIN_TOKEN",
                "full-token-0123456789, full-token-abcdefghij",
            ),
            ("BRIDGE_ADMIN_READ_TOKENS", "read-token-0123456789"),
            ("BRIDGE_ADMIN_LISTEN", "127.0.0.1:9090"),
            ("BRIDGE_ADMIN__AUTH_FAILURES_PER_MINUTE", "3"),
        ]),
    )
    .unwrap();
    let c = loaded.config;
    assert_eq!(c.admin.listen, "127.0.0.1:9090");
    assert_eq!(c.admin.auth_failures_per_minute, 3);
    assert!(c.security.admin_read_tokens.is_set());

    let errors = load_from(
        None,
        env(&[
            ("BRIDGE_ADMIN_TOKEN", "full-token-0123456789 CHANGE-ME"),
            ("BRIDGE_ADMIN_LISTEN", "not an address"),
            ("BRIDGE_ADMIN__AUTH_FAILURES_PER_MINUTE", "0"),
        ]),
    )
    .unwrap_err();
    assert_eq!(
        keys(&errors),
        [
            "admin.listen",
            "security.admin_token",
            "admin.auth_failures_per_minute"
        ]
    );
    assert!(!errors.to_string().contains("full-token-0123456789"));
}

#[test]
fn the_redacted_rendering_hides_secrets_and_database_passwords() {
    let loaded = load_from(
        None,
        env(&[
            ("BRIDGE_DATABASE_URL", "postgres://bridge:hunter2@db/bridge"),
            ("BRIDGE_ADMIN_TOKEN", "admin-secret-0123456789"),
            (
                "BRIDGE_ENCRYPTION_KEY",
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            ),
        ]),
    )
    .unwrap();
    let rendered = loaded.config.to_redacted_toml();
    let debugged = format!("{:?}", loaded.config);
    for text in [&rendered, &debugged] {
        assert!(
            !text.contains("hunter2")
                && !text.contains("admin-secret-0123456789")
                && !text.contains("AAECAwQF"),
            "{text}"
        );
    }
    assert!(rendered.contains("postgres://bridge:***@db/bridge"));
}

#[test]
fn tovuti_list_settings_are_keys_and_the_essential_ones_cannot_be_empty() {
    let defaults = Config::defaults().tovuti.lists;
    assert_eq!(
        (defaults.users_path.as_str(), defaults.results_key.as_str()),
        ("users", "data")
    );
    assert!(defaults.changed_since_param.is_empty());
    let loaded = load_from(
        None,
        env(&[
            ("BRIDGE_TOVUTI__CHANGED_SINCE_PARAM", "updatedSince"),
            ("BRIDGE_TOVUTI__PROGRESS_PERCENT_FIELD", "stats.percent"),
        ]),
    )
    .unwrap();
    let lists = loaded.config.tovuti.lists;
    assert_eq!(lists.changed_since_param, "updatedSince");
    assert_eq!(lists.progress_percent_field, "stats.percent");

    let errors = load_from(
        None,
        env(&[
            ("BRIDGE_TOVUTI__AWARD_ID_FIELD", ""),
            ("BRIDGE_TOVUTI__CHANGED_SINCE_PARAM", "page"),
        ]),
    )
    .unwrap_err();
    assert_eq!(
        keys(&errors),
        ["tovuti.award_id_field", "tovuti.page_size_param"]
    );
}
