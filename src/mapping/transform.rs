//! Value transforms (trim, case, spaces) and the full-name split/join between Tovuti's one
//! `name` and GHL's first/last name. Pure functions.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    Trim,
    Lower,
    Upper,
    /// Collapse runs of whitespace into one space and trim.
    Squish,
}

impl Transform {
    fn apply_str(self, s: &str) -> String {
        match self {
            Self::Trim => s.trim().to_owned(),
            Self::Lower => s.to_lowercase(),
            Self::Upper => s.to_uppercase(),
            Self::Squish => squish(s),
        }
    }
}

/// Applies transforms in order to a text value or to each item of a list; other values pass.
pub fn apply(transforms: &[Transform], value: Value) -> Value {
    match value {
        Value::String(s) => Value::String(apply_all(transforms, &s)),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| match item {
                    Value::String(s) => Value::String(apply_all(transforms, &s)),
                    other => other,
                })
                .collect(),
        ),
        other => other,
    }
}

fn apply_all(transforms: &[Transform], s: &str) -> String {
    transforms
        .iter()
        .fold(s.to_owned(), |acc, t| t.apply_str(&acc))
}

pub fn squish(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Splits a full name: the first word is the first name, the rest (single-spaced) the last.
/// A one-word name has no last name; a blank name has neither.
pub fn split_name(full: &str) -> (Option<String>, Option<String>) {
    let mut words = full.split_whitespace();
    let first = words.next().map(str::to_owned);
    let rest: Vec<&str> = words.collect();
    let last = (!rest.is_empty()).then(|| rest.join(" "));
    (first, last)
}

/// Joins first and last name with one space; `None` when both are blank.
pub fn join_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let joined = squish(&format!("{} {}", first.unwrap_or(""), last.unwrap_or("")));
    (!joined.is_empty()).then_some(joined)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn transforms_apply_in_order_to_text_and_list_items() {
        let t = [Transform::Squish, Transform::Upper];
        assert_eq!(apply(&t, json!("  ab   c ")), json!("AB C"));
        assert_eq!(apply(&[Transform::Lower], json!(["A", 1])), json!(["a", 1]));
        assert_eq!(apply(&[Transform::Trim], json!(true)), json!(true));
    }

    #[test]
    fn names_with_several_spaces_split_on_the_first_word() {
        assert_eq!(
            split_name("  Mary   Ann  van der Berg "),
            (Some("Mary".to_owned()), Some("Ann van der Berg".to_owned()))
        );
    }

    #[test]
    fn a_one_word_name_has_no_last_name() {
        assert_eq!(split_name("Cher"), (Some("Cher".to_owned()), None));
        assert_eq!(split_name("   "), (None, None));
    }

    #[test]
    fn joining_collapses_spaces_and_skips_missing_parts() {
        assert_eq!(
            join_name(Some(" Mary Ann "), Some("Smith")).as_deref(),
            Some("Mary Ann Smith")
        );
        assert_eq!(join_name(None, Some("Smith")).as_deref(), Some("Smith"));
        assert_eq!(join_name(Some(""), None), None);
    }
}
