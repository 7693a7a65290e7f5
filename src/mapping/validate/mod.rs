//! Loads and validates a mapping file, reporting every problem at once, each with file, line
//! and key. Structural errors come from serde (`deny_unknown_fields`); the rest are checked here.

use std::fmt;

use super::model::MappingFile;
use super::source::Source;
use super::template::Templates;

mod checks;
mod refs;

pub use refs::{GHL_READ_ONLY, GHL_STANDARD, TOVUTI_CORE, TOVUTI_READ_ONLY};

/// One problem in a mapping file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingProblem {
    pub file: String,
    pub line: usize,
    pub key: String,
    pub message: String,
}

impl fmt::Display for MappingProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: `{}`: {}",
            self.file, self.line, self.key, self.message
        )
    }
}

/// Every problem found in a mapping file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationErrors(pub Vec<MappingProblem>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(
            f,
            "the mapping file has {n} problem{}:",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.0 {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

/// A validated mapping: the file plus what validation derived from it.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub file: MappingFile,
    pub source_name: String,
    pub phone_country: phonenumber::country::Id,
    pub list_separator: String,
    pub(crate) templates: Templates,
}

/// Parses and validates a mapping file's text; `file` names it in messages.
pub fn load(file: &str, text: &str) -> Result<Mapping, ValidationErrors> {
    let src = Source::new(file, text);
    let (parsed, mut problems, removed) = parse_structure(src);
    let Some(parsed) = parsed else {
        return Err(sorted(problems));
    };
    // Sections with structural errors were removed; the rest is still checked, so one run
    // reports every problem.
    let mut checker = checks::Checker::new(src, removed);
    checker.run(&parsed);
    let (checked, templates, phone_country) = checker.finish();
    problems.extend(checked);
    if !problems.is_empty() {
        return Err(sorted(problems));
    }
    Ok(Mapping {
        source_name: file.to_owned(),
        list_separator: parsed
            .settings
            .list_separator
            .clone()
            .unwrap_or_else(|| ",".to_owned()),
        file: parsed,
        phone_country,
        templates,
    })
}

fn sorted(mut problems: Vec<MappingProblem>) -> ValidationErrors {
    problems.sort_by(|a, b| (a.line, &a.key).cmp(&(b.line, &b.key)));
    problems.dedup();
    ValidationErrors(problems)
}

/// Array-of-tables elements removed for structural errors, as (section, original index).
pub(crate) type Removed = Vec<(String, usize)>;

/// Deserializes the file; after each serde error the section holding it is blanked and the
/// parse retried, so one run reports the structural errors of every section.
fn parse_structure(src: Source<'_>) -> (Option<MappingFile>, Vec<MappingProblem>, Removed) {
    let mut text = src.text.to_owned();
    let mut problems = Vec::new();
    let mut removed = Removed::new();
    // Each round blanks at least one section, so this bounds the loop by the file's size.
    for _ in 0..=src.text.lines().count() {
        let err = match toml::from_str::<MappingFile>(&text) {
            Ok(parsed) => return (Some(parsed), problems, removed),
            Err(err) => err,
        };
        let offset = err.span().map_or(0, |s| s.start);
        let current = Source::new(src.file, &text);
        let line = current.line_of(offset);
        problems.push(MappingProblem {
            file: src.file.to_owned(),
            line,
            // Named from the original text: blanking keeps lines but drops earlier headers.
            key: src.key_at_line(line),
            message: err.message().trim().replace('\n', "; "),
        });
        if let Some((section, Some(index))) = src.section_of_line(line) {
            removed.push((section, index));
        }
        let next = current.blank_region(offset);
        if next == text {
            break;
        }
        text = next;
    }
    (None, problems, removed)
}

#[cfg(test)]
mod tests;
