//! JSON request bodies of the admin routes: parsed strictly (unknown fields refused) with
//! errors that name the field but never echo a value, which may be a token.

use axum::body::Bytes;
use serde::de::DeserializeOwned;

use crate::http::ApiError;

/// Parses `body` as `T`; an empty body reads as `{}`, so optional bodies may be left out.
/// Anything but an object is refused: serde would read a struct from an array too.
pub fn json<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    let text: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else if is_object(body) {
        body
    } else {
        return Err(ApiError::BadRequest(
            "the body must be a JSON object".into(),
        ));
    };
    serde_json::from_slice(text).map_err(|error| ApiError::BadRequest(describe(&error)))
}

/// Whether `body` is a JSON object (its first non-blank byte opens one; the parser
/// checks the rest).
pub fn is_object(body: &[u8]) -> bool {
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// What is wrong with a body, without the offending value: serde's messages for a wrong
/// type or value quote it ("invalid type: integer `42`"), and it may be a secret.
fn describe(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let names_a_field =
        message.starts_with("unknown field") || message.starts_with("missing field");
    let what = if names_a_field {
        message
            .split(" at line ")
            .next()
            .unwrap_or("invalid body")
            .to_owned()
    } else {
        match error.classify() {
            serde_json::error::Category::Data => "a field has the wrong type or value".to_owned(),
            _ => "the body is not valid JSON".to_owned(),
        }
    };
    format!("{what} (line {}, column {})", error.line(), error.column())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only parsed")]
    struct Sample {
        token: String,
    }

    fn error(body: &str) -> String {
        match json::<Sample>(&Bytes::from(body.to_owned())) {
            Err(ApiError::BadRequest(text)) => text,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn wrong_values_are_not_echoed() {
        let text = error(r#"{"token": 424242424242}"#);
        assert!(!text.contains("424242"), "{text}");
        assert!(text.contains("wrong type"), "{text}");
    }

    #[test]
    fn unknown_and_missing_fields_are_named() {
        assert!(error(r#"{"token": "a", "tokn": 1}"#).contains("unknown field `tokn`"));
        assert!(error("{}").contains("missing field `token`"));
        assert!(error("{").contains("not valid JSON"));
        assert!(
            error(r#"["a"]"#).contains("JSON object"),
            "serde reads structs from arrays"
        );
    }
}
