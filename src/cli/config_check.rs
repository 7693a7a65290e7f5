//! `config check`: load, validate, print the effective configuration redacted.

use std::path::Path;
use std::process::ExitCode;

use super::load_or_report;

pub fn run(file: Option<&Path>) -> ExitCode {
    match load_or_report(file) {
        Ok(loaded) => {
            for warning in &loaded.warnings {
                eprintln!("warning: {warning}");
            }
            print!("{}", loaded.config.to_redacted_toml());
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}
