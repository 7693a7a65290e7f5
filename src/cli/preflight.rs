//! `serve`'s startup preflight: the checks of `mapping validate --online` (everything the
//! mapping names exists in the GHL location and the Tovuti tenant), summed up in one
//! warning so a first run on real accounts says at once what will be skipped. The service
//! still starts; `serve --strict` refuses to instead.

use std::path::Path;
use std::process::ExitCode;

use super::{EXIT_CONFIG, mapping_online};
use crate::config::Config;
use crate::mapping::file::read_source;

/// Runs the preflight and logs its outcome; `Err` (exit 78) only when `strict` and it
/// found a problem.
pub async fn run(config: &Config, strict: bool) -> Result<(), ExitCode> {
    let file = &config.mapping.file;
    let source = read_source((!file.is_empty()).then(|| Path::new(file)));
    let Ok((name, text)) = source else {
        // `serve` loaded the mapping just before; a file gone since is reported by the worker.
        return Ok(());
    };
    let Ok(mapping) = crate::mapping::load(&name, &text) else {
        return Ok(());
    };
    let found = mapping_online::preflight(&mapping, &text, config).await;
    for note in &found.notes {
        tracing::info!(note = %note, "preflight");
    }
    if found.problems.is_empty() {
        tracing::info!(
            checked = found.ok.len(),
            "preflight: everything the mapping names exists"
        );
        return Ok(());
    }
    // Problems name mapping keys, field keys and ids, record names and lines: no personal
    // data, no secret.
    tracing::warn!(
        problems = found.problems.len(),
        summary = %found.problems.join("; "),
        "preflight: the mapping names what the platforms lack; those items will be skipped \
         (`mapping validate --online` lists them, `mapping provision --apply` creates the GHL fields)"
    );
    if !strict {
        return Ok(());
    }
    for problem in &found.problems {
        eprintln!("error: {problem}");
    }
    eprintln!("error: serve --strict does not start while the preflight finds a problem");
    Err(ExitCode::from(EXIT_CONFIG))
}
