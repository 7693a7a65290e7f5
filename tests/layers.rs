//! Dependencies between the crate's modules point one way: downwards.
//!
//! Reads every file of each top-level module under `src/`, collects the `crate::<module>`
//! paths it names (in `use` lines and inline), and fails naming file:line for any path into
//! a module ranked above the file's own. Foundations (`config`, `telemetry`, `shutdown`)
//! may be used by every module and use no ranked module but for two listed edges. Comments are ignored. Test files
//! inside a module are held to the same rule as its code.

use std::fs;
use std::path::{Path, PathBuf};

/// The layers, top first. A module may use modules in its own layer or any below it.
const LAYERS: &[&[&str]] = &[
    &["cli"],
    &["startup"],
    &["http"],
    &["worker", "reconcile", "poller", "backfill"],
    &["sync", "admin", "verify", "connections"],
    &["mapping", "platforms", "sandbox"],
    &["services"],
    &["store"],
];

/// Used by any module; they import nothing ranked, but for the edges below.
const FOUNDATIONS: &[&str] = &["config", "telemetry", "shutdown"];

/// Foundation → ranked edges that exist for types: validating the configuration parses
/// the webhook keys with the platforms' verifiers, and the inbox gauges read the store's
/// event statuses. No others may be added.
const FOUNDATION_EDGES: &[(&str, &str)] = &[("config", "platforms"), ("telemetry", "store")];

fn rank(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|layer| layer.contains(&module))
        .map(|from_top| LAYERS.len() - from_top)
}

/// The `crate::<module>` names on one line of code, including those inside a braced
/// `use crate::{a, b::c}` group (`pending` carries an unclosed group to the next line).
fn crate_paths(line: &str, pending: &mut Option<usize>) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = line;
    if let Some(depth) = pending.take() {
        let (group, left) = braced_names(rest, depth);
        names.extend(group.0);
        *pending = group.1;
        rest = left;
    }
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().last();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // e.g. `my_crate::`
        }
        if let Some(inner) = rest.strip_prefix('{') {
            let (group, left) = braced_names(inner, 1);
            names.extend(group.0);
            *pending = group.1;
            rest = left;
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                names.push(name);
            }
        }
    }
    names
}

type Group = (Vec<String>, Option<usize>);

/// The first path segments at depth 1 of a braced group starting at `depth`; returns them,
/// the depth still open at the end of the line (if any), and the text after the group.
fn braced_names(text: &str, mut depth: usize) -> (Group, &str) {
    let mut names = Vec::new();
    let mut expecting = depth == 1;
    let mut word = String::new();
    for (index, c) in text.char_indices() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        if expecting && !word.is_empty() {
            names.push(std::mem::take(&mut word));
            expecting = false;
        }
        word.clear();
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return ((names, None), &text[index + 1..]);
                }
            }
            ',' if depth == 1 => expecting = true,
            _ => {}
        }
    }
    if expecting && !word.is_empty() {
        names.push(word);
    }
    ((names, Some(depth)), "")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// Every ranked module's files, with the module they belong to.
fn module_files(src: &Path) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    for layer in LAYERS.iter().copied().chain([FOUNDATIONS]) {
        for module in layer {
            let mut found = Vec::new();
            let single = src.join(format!("{module}.rs"));
            if single.is_file() {
                found.push(single);
            }
            rust_files(&src.join(module), &mut found);
            files.extend(found.into_iter().map(|file| ((*module).to_owned(), file)));
        }
    }
    files
}

/// `file:line: <module> uses crate::<higher>` for each upward path in `text`.
fn upward_uses(module: &str, file: &str, text: &str) -> Vec<String> {
    // A foundation ranks below everything: any ranked module is above it.
    let own = rank(module).unwrap_or(0);
    let mut found = Vec::new();
    let mut pending = None;
    for (number, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        for name in crate_paths(code, &mut pending) {
            if FOUNDATIONS.contains(&name.as_str())
                || FOUNDATION_EDGES.contains(&(module, name.as_str()))
            {
                continue;
            }
            if rank(&name).is_some_and(|other| other > own) {
                found.push(format!(
                    "{file}:{}: `{module}` uses `crate::{name}`",
                    number + 1
                ));
            }
        }
    }
    found
}

#[test]
fn no_module_imports_a_module_ranked_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = module_files(&src);
    assert!(
        files.len() > 50,
        "expected the crate's sources under {src:?}"
    );
    let mut violations = Vec::new();
    for (module, path) in files {
        let text = fs::read_to_string(&path).unwrap_or_default();
        let shown = path
            .strip_prefix(&src)
            .unwrap_or(&path)
            .display()
            .to_string();
        violations.extend(upward_uses(&module, &format!("src/{shown}"), &text));
    }
    assert!(
        violations.is_empty(),
        "imports against the layering (see docs/architecture.md):\n{}",
        violations.join("\n")
    );
}

#[test]
fn every_top_level_module_is_ranked_or_a_foundation() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = fs::read_to_string(src.join("lib.rs")).unwrap_or_default();
    let unranked: Vec<&str> = lib
        .lines()
        .filter_map(|line| line.strip_prefix("pub mod "))
        .map(|rest| rest.trim_end_matches(';'))
        .filter(|name| rank(name).is_none() && !FOUNDATIONS.contains(name))
        .collect();
    assert!(unranked.is_empty(), "modules without a layer: {unranked:?}");
}

#[test]
fn the_scanner_finds_plain_braced_and_multiline_paths() {
    let text = "use crate::http::X;\nuse crate::{store, sync::Y};\nuse crate::{\n    cli::keys,\n    store::Z,\n};\nlet a = crate::worker::run(); // crate::cli in a comment\n";
    let found = upward_uses("platforms", "f.rs", text);
    assert_eq!(
        upward_uses(
            "telemetry",
            "m.rs",
            "use crate::store::Millis;\nuse crate::http::X;\n"
        ),
        ["m.rs:2: `telemetry` uses `crate::http`"]
    );
    assert_eq!(
        found,
        [
            "f.rs:1: `platforms` uses `crate::http`",
            "f.rs:2: `platforms` uses `crate::sync`",
            "f.rs:4: `platforms` uses `crate::cli`",
            "f.rs:7: `platforms` uses `crate::worker`",
        ]
    );
}
