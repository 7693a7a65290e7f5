//! Configuration loading from arbitrary TOML text and `BRIDGE_*` variables.
//!
//! Input: the text of a `--config` file, optionally followed by a NUL byte and environment
//! lines `NAME=value`. Asserts: no panic; a refused configuration names at least one problem,
//! and both outcomes render (the error list, or the redacted effective TOML).

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tovuti_ghl_bridge::config::load_from;

/// One file per process, rewritten for each input: the loader reads configuration from a path.
fn path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("fuzz-config-{}.toml", std::process::id()))
    })
}

fn env_vars(text: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(text)
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let (file, env) = match data.iter().position(|&b| b == 0) {
        Some(nul) => (&data[..nul], env_vars(&data[nul + 1..])),
        None => (data, Vec::new()),
    };
    if std::fs::write(path(), file).is_err() {
        return;
    }
    match load_from(Some(path().as_path()), env) {
        Ok(loaded) => {
            let _ = loaded.config.to_redacted_toml();
        }
        Err(errors) => {
            assert!(
                !errors.0.is_empty(),
                "configuration refused without a problem"
            );
            let _ = errors.to_string();
        }
    }
});
