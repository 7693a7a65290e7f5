//! Reading the configured mapping file: the one place the mapping module touches the
//! file system, shared by `serve`, the worker and the `mapping` commands.

use std::path::Path;

use super::validate::{Mapping, load};
use super::{EXAMPLE, EXAMPLE_NAME};
use crate::config::Config;

/// Reads a mapping file, or returns the built-in example when there is none.
pub fn read_source(path: Option<&Path>) -> Result<(String, String), String> {
    match path {
        None => Ok((EXAMPLE_NAME.to_owned(), EXAMPLE.to_owned())),
        Some(p) => std::fs::read_to_string(p)
            .map(|text| (p.display().to_string(), text))
            .map_err(|e| format!("cannot read the mapping file {}: {e}", p.display())),
    }
}

/// Loads and validates the configured mapping, for `serve` and the worker.
pub fn load_configured(config: &Config) -> Result<Mapping, String> {
    let file = &config.mapping.file;
    let (name, text) = read_source((!file.is_empty()).then(|| Path::new(file)))?;
    load(&name, &text).map_err(|e| e.to_string())
}
