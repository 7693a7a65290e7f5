//! Reading Tovuti's answers: the user object (bare or wrapped in `data`), user lists,
//! "not found" bodies, and a short error detail from Laravel-style error bodies.

use std::time::Duration;

use serde_json::Value;

use super::TovutiError;
use super::catalog::CatalogItem;
use crate::platforms::tovuti::payloads::User;

/// Most characters of Tovuti's error text kept in [`TovutiError::Status`].
const DETAIL_CHARS: usize = 200;

/// A non-2xx answer as the client keeps it.
pub(super) fn status_error(
    endpoint: &'static str,
    status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
) -> TovutiError {
    let json = serde_json::from_slice::<Value>(body).ok();
    TovutiError::Status {
        endpoint,
        status,
        detail: detail(json.as_ref(), status),
        retry_after,
        invalid: json.as_ref().map(refused_paths).unwrap_or_default(),
    }
}

/// The request paths a Laravel validation answer names: every key of `errors`, and any
/// `name.N…` path its texts mention (some answers carry only a `message`).
fn refused_paths(json: &Value) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    if let Some(errors) = json.get("errors").and_then(Value::as_object) {
        paths.extend(errors.keys().cloned());
    }
    let mut add = |path: &str| {
        if is_indexed_path(path) && !paths.iter().any(|p| p == path) {
            paths.push(path.to_owned());
        }
    };
    let mut texts = Vec::new();
    if let Some(text) = json.get("message").and_then(Value::as_str) {
        texts.push(text.to_owned());
    }
    if let Some(errors) = json.get("errors") {
        collect_texts(errors, &mut texts);
    }
    for text in &texts {
        for word in text.split_whitespace() {
            add(word.trim_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '_')));
        }
    }
    paths
}

/// `customFields.2.field_id`, `userGroupIds.1`: a name, then an array position.
fn is_indexed_path(path: &str) -> bool {
    let mut parts = path.split('.');
    let name = parts.next().unwrap_or("");
    let index = parts.next().unwrap_or("");
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !index.is_empty()
        && index.chars().all(|c| c.is_ascii_digit())
}

/// Laravel's `message`, then `error`, then every `errors` text, capped. Raw bodies are
/// never kept: a non-JSON answer (an HTML error page) may echo the request.
fn detail(json: Option<&Value>, status: u16) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(json) = json {
        for key in ["message", "error"] {
            if let Some(text) = json.get(key).and_then(Value::as_str) {
                push_unique(&mut parts, text);
            }
        }
        if let Some(errors) = json.get("errors") {
            collect_texts(errors, &mut parts);
        }
    }
    if parts.is_empty() {
        let reason = reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason());
        return reason.unwrap_or("no details").to_owned();
    }
    cap(&parts.join("; "))
}

/// The texts of `errors`, whether an object of arrays (Laravel) or a flat array.
fn collect_texts(value: &Value, parts: &mut Vec<String>) {
    match value {
        Value::String(text) => push_unique(parts, text),
        Value::Array(items) => items.iter().for_each(|v| collect_texts(v, parts)),
        Value::Object(map) => map.values().for_each(|v| collect_texts(v, parts)),
        _ => {}
    }
}

fn push_unique(parts: &mut Vec<String>, text: &str) {
    let text = text.trim();
    if !text.is_empty() && !parts.iter().any(|p| p == text) {
        parts.push(text.to_owned());
    }
}

fn cap(text: &str) -> String {
    match text.char_indices().nth(DETAIL_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Whether a body is Tovuti's "User id = N not found" (or a like-worded `error`/`message`),
/// which one client saw without checking the status.
pub(super) fn says_not_found(body: &[u8]) -> bool {
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    ["error", "message"].iter().any(|key| {
        json.get(*key)
            .and_then(Value::as_str)
            .is_some_and(|text| text.to_ascii_lowercase().contains("not found"))
    })
}

/// The user object of an answer, bare or wrapped in `data`.
pub(super) fn user(endpoint: &'static str, body: &[u8]) -> Result<User, TovutiError> {
    let json = parse(endpoint, body)?;
    let object = match json.get("data") {
        Some(data) if data.is_object() => data.clone(),
        _ => json,
    };
    serde_json::from_value(object).map_err(|e| decode(endpoint, &e))
}

/// The users of a list answer: a `data` array or a bare array.
pub(super) fn users(endpoint: &'static str, body: &[u8]) -> Result<Vec<User>, TovutiError> {
    let json = parse(endpoint, body)?;
    let items = match json {
        Value::Array(items) => items,
        Value::Object(mut map) => match map.remove("data") {
            Some(Value::Array(items)) => items,
            _ => return Err(decode(endpoint, &"no `data` array in the answer")),
        },
        _ => return Err(decode(endpoint, &"neither an array nor an object")),
    };
    items
        .into_iter()
        .map(|item| serde_json::from_value(item).map_err(|e| decode(endpoint, &e)))
        .collect()
}

/// The items of one page of a catalog list (a `data` array or a bare array) and the
/// `total` when the answer gives one.
pub(super) fn page(
    endpoint: &'static str,
    body: &[u8],
) -> Result<(Vec<CatalogItem>, Option<usize>), TovutiError> {
    let json = parse(endpoint, body)?;
    let total = json
        .get("total")
        .and_then(Value::as_u64)
        .and_then(|t| usize::try_from(t).ok());
    let items = match json {
        Value::Array(items) => items,
        Value::Object(mut map) => match map.remove("data") {
            Some(Value::Array(items)) => items,
            _ => return Err(decode(endpoint, &"no `data` array in the answer")),
        },
        _ => return Err(decode(endpoint, &"neither an array nor an object")),
    };
    let items = items
        .into_iter()
        .map(|item| serde_json::from_value(item).map_err(|e| decode(endpoint, &e)))
        .collect::<Result<_, _>>()?;
    Ok((items, total))
}

fn parse(endpoint: &'static str, body: &[u8]) -> Result<Value, TovutiError> {
    serde_json::from_slice(body).map_err(|e| decode(endpoint, &e))
}

/// serde's messages name types and positions, not values, so they carry no personal data.
fn decode(endpoint: &'static str, error: &dyn std::fmt::Display) -> TovutiError {
    TovutiError::Decode {
        endpoint,
        detail: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail_of(status: u16, body: &str) -> String {
        match status_error("user.create", status, None, body.as_bytes()) {
            TovutiError::Status { detail, .. } => detail,
            other => panic!("not a status error: {other:?}"),
        }
    }

    #[test]
    fn laravel_validation_bodies_give_their_messages_once() {
        let body = r#"{"message":"The username has already been taken.","errors":{"username":["The username has already been taken."],"email":["The email must be a valid email address."]}}"#;
        assert_eq!(
            detail_of(422, body),
            "The username has already been taken.; The email must be a valid email address."
        );
    }

    #[test]
    fn flat_error_arrays_and_error_strings_are_read() {
        assert_eq!(
            detail_of(400, r#"{"errors":["The username field is required."]}"#),
            "The username field is required."
        );
        assert_eq!(
            detail_of(404, r#"{"error":"User id = 7 not found"}"#),
            "User id = 7 not found"
        );
    }

    #[test]
    fn non_json_bodies_are_not_kept_and_long_texts_are_capped() {
        assert_eq!(detail_of(502, "<html>a@b.co</html>"), "Bad Gateway");
        let long = format!(r#"{{"message":"{}"}}"#, "x".repeat(500));
        assert_eq!(detail_of(500, &long).chars().count(), DETAIL_CHARS + 1);
    }

    #[test]
    fn validation_answers_name_the_refused_array_positions() {
        let invalid = |body: &str| match status_error("user.update", 422, None, body.as_bytes()) {
            TovutiError::Status { invalid, .. } => invalid,
            other => panic!("not a status error: {other:?}"),
        };
        let laravel = r#"{"message":"The selected customFields.2.field_id is invalid. (and 1 more error)","errors":{"customFields.2.field_id":["The selected customFields.2.field_id is invalid."],"userGroupIds.1":["The selected userGroupIds.1 is invalid."]}}"#;
        assert_eq!(
            invalid(laravel),
            ["customFields.2.field_id", "userGroupIds.1"]
        );
        let message_only = r#"{"message":"userGroupIds.1 is invalid"}"#;
        assert_eq!(invalid(message_only), ["userGroupIds.1"]);
        let unrelated =
            r#"{"message":"The username has already been taken.","errors":{"username":["x"]}}"#;
        assert_eq!(invalid(unrelated), ["username"]);
        assert!(invalid("<html>customFields.1</html>").is_empty());
    }

    #[test]
    fn users_come_from_a_data_array_or_a_bare_array() {
        let wrapped = users("users.find", br#"{"data":[{"id":1}],"total":1}"#).unwrap();
        let bare = users("users.find", br#"[{"id":1},{"id":"2"}]"#).unwrap();
        assert_eq!(wrapped.len(), 1);
        assert_eq!(bare.len(), 2);
    }

    #[test]
    fn a_user_may_be_wrapped_in_data() {
        let user = user("user.create", br#"{"data":{"id":1001,"name":"Ada"}}"#).unwrap();
        assert_eq!(user.id.0, 1001);
        assert_eq!(user.name.as_deref(), Some("Ada"));
    }

    #[test]
    fn not_found_wording_is_recognised() {
        assert!(says_not_found(br#"{"error":"User id = 5 not found"}"#));
        assert!(!says_not_found(br#"{"id":5}"#));
        assert!(!says_not_found(b"not found"));
    }
}
