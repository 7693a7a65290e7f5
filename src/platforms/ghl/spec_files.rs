//! Where the tests find GHL's official spec files: one setting, one message when they are absent.
//!
//! The files come from GHL's public repository https://github.com/GoHighLevel/highlevel-api-docs
//! (CC0): the OpenAPI documents under `apps/` and, under `webhook-events/`, the JSON blocks of its
//! `docs/webhook events/<Event>.md` pages saved as `<Event>.example.json` / `.schema.json`.
//! They are not vendored; `GHL_SPEC_DIR` names the folder, `.ci/ghl-spec.sh` fetches it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The setting naming the folder.
pub const SETTING: &str = "GHL_SPEC_DIR";
/// The script that fetches the files at the pinned commit.
pub const FETCH_SCRIPT: &str = ".ci/ghl-spec.sh";
/// Where the folder is looked for when the setting is unset, relative to the repository root.
const DEFAULT_DIR: &str = "../shared/specs/ghl";
/// Where the fetch script writes (ignored by git), tried after the default.
const FETCHED_DIR: &str = "target/ghl-spec";

fn repository_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The folder of official webhook examples, or the one message telling how to get it.
pub fn webhook_events() -> Result<PathBuf, String> {
    webhook_events_in(std::env::var_os(SETTING))
}

/// The same as [`webhook_events`] with the setting's value given, so it can be tested.
pub fn webhook_events_in(setting: Option<OsString>) -> Result<PathBuf, String> {
    let candidates: Vec<PathBuf> = match setting {
        Some(dir) => vec![repository_root().join(dir)],
        None => vec![
            repository_root().join(DEFAULT_DIR),
            repository_root().join(FETCHED_DIR),
        ],
    };
    candidates
        .iter()
        .map(|dir| dir.join("webhook-events"))
        .find(|dir| has_examples(dir))
        .ok_or_else(|| missing(&candidates))
}

/// One official webhook example, by event name (`ContactDelete`, `AppInstall.example.2`…).
pub fn webhook_example(name: &str) -> Result<Vec<u8>, String> {
    let file = if name.contains(".example") {
        format!("{name}.json")
    } else {
        format!("{name}.example.json")
    };
    let path = webhook_events()?.join(file);
    std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
}

fn has_examples(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|entry| entry.file_name().to_string_lossy().contains(".example"))
    })
}

fn missing(looked_in: &[PathBuf]) -> String {
    let places: Vec<String> = looked_in.iter().map(|p| p.display().to_string()).collect();
    format!(
        "GHL's official spec files are missing (no webhook-events/*.example.json in {}): \
         set {SETTING} to a folder holding them, or run `{FETCH_SCRIPT}` to fetch them",
        places.join(" or ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_folder_fails_with_the_one_message_naming_the_setting_and_the_script() {
        let empty = tempfile::tempdir().unwrap();
        let err = webhook_events_in(Some(empty.path().as_os_str().to_owned())).unwrap_err();
        assert!(err.contains("GHL_SPEC_DIR"), "{err}");
        assert!(err.contains(".ci/ghl-spec.sh"), "{err}");
        assert!(err.contains(&empty.path().display().to_string()), "{err}");
    }

    #[test]
    fn a_folder_with_examples_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let events = dir.path().join("webhook-events");
        std::fs::create_dir(&events).unwrap();
        std::fs::write(events.join("ContactDelete.example.json"), "{}").unwrap();
        let found = webhook_events_in(Some(dir.path().as_os_str().to_owned())).unwrap();
        assert_eq!(found, events);
    }
}
