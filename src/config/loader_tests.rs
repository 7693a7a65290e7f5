//! Property tests of loading: whatever a file or the environment holds, loading ends in a
//! configuration or in a list of problems, never in a panic or an empty refusal.

use std::io::Write as _;

use proptest::prelude::*;

use super::*;

/// `section.key` of every default, which generated files and variables mostly set.
fn known_keys() -> Vec<String> {
    leaf_keys(&Figment::from(Toml::string(DEFAULTS)))
        .unwrap_or_default()
        .into_iter()
        .collect()
}

/// A TOML value of any type, often one that a key does not accept.
fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (0i64..100_000).prop_map(|n| n.to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        "[a-z0-9:/@._ -]{0,20}".prop_map(|s| format!("{s:?}")),
        Just("\"\"".to_owned()),
        Just("[1, \"a\"]".to_owned()),
        Just("{ a = 1 }".to_owned()),
        Just("1979-05-27T07:32:00Z".to_owned()),
        "[^\n]{0,12}",
    ]
}

/// A `--config` file: known and unknown keys under their sections, and stray lines.
fn toml_file() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        6 => (prop::sample::select(known_keys()), toml_value()).prop_map(|(key, value)| {
            let (section, name) = key.rsplit_once('.').unwrap_or(("server", &key));
            format!("[{section}]\n{name} = {value}")
        }),
        1 => ("[a-z_.]{1,12}", toml_value()).prop_map(|(key, value)| format!("{key} = {value}")),
        1 => "[^\n]{0,20}",
    ];
    prop::collection::vec(line, 0..8).prop_map(|lines| lines.join("\n"))
}

/// `BRIDGE_*` variables, flat or nested, some of them unknown.
fn env_var() -> impl Strategy<Value = (String, String)> {
    let name = prop_oneof![
        prop::sample::select(FLAT_ENV.to_vec()).prop_map(|(flat, _)| flat.to_owned()),
        prop::sample::select(known_keys())
            .prop_map(|key| format!("BRIDGE_{}", key.replace('.', "__").to_ascii_uppercase())),
        "BRIDGE_[A-Z_]{0,12}",
    ];
    (name, "[^\n]{0,20}")
}

/// Found by the property below: figment's unescaping panicked on this value.
#[test]
fn a_quoted_value_with_a_backslash_after_a_non_ascii_character_is_read_as_text() {
    let env = [("BRIDGE_DATABASE_URL".to_owned(), "\"¡\\¡\"".to_owned())];
    let outcome = load_from(None, env);
    let Err(errors) = outcome else {
        panic!("not a database URL, yet it loaded");
    };
    assert!(
        errors.0.iter().any(|p| p.key == "store.url"),
        "{:?}",
        errors.0
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn loading_yields_a_configuration_or_named_problems(
        file in toml_file(),
        env in prop::collection::vec(env_var(), 0..4),
    ) {
        let mut tmp = tempfile::NamedTempFile::new().map_err(|e| TestCaseError::fail(e.to_string()))?;
        tmp.write_all(file.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        match load_from(Some(tmp.path()), env) {
            Ok(loaded) => prop_assert!(!loaded.config.to_redacted_toml().is_empty()),
            Err(errors) => {
                prop_assert!(!errors.0.is_empty(), "refused without a problem");
                prop_assert!(errors.to_string().contains(&errors.0[0].message));
            }
        }
    }
}
