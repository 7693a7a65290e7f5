//! Lenient reading of single values in Tovuti's list items. Tovuti documents neither
//! types nor formats, and its (Joomla-based) backend is known for quoted numbers and
//! zero dates, so each reader accepts the plausible spellings and answers `None` for
//! anything else rather than failing the item.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use serde_json::Value;

use crate::platforms::tovuti::payloads::TovutiId;

/// Integers at or above this are Unix milliseconds, below it Unix seconds (year 5138).
const MILLIS_FROM: i64 = 100_000_000_000;

/// The value at `path` in `item`: dot-separated keys into nested objects. An empty
/// path (a field the tenant does not have) and an explicit `null` are both `None`.
pub(super) fn field<'a>(item: &'a Value, path: &str) -> Option<&'a Value> {
    if path.is_empty() {
        return None;
    }
    let found = path
        .split('.')
        .try_fold(item, |value, key| value.as_object()?.get(key))?;
    (!found.is_null()).then_some(found)
}

/// An id: a non-negative integer, or a string holding one.
pub(super) fn id(value: &Value) -> Option<TovutiId> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .map(TovutiId)
}

/// A finite number, or a string holding one (a trailing `%` allowed).
pub(super) fn number(value: &Value) -> Option<f64> {
    let n = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().trim_end_matches('%').trim_end().parse().ok(),
        _ => None,
    }?;
    n.is_finite().then_some(n)
}

/// A yes/no: a bool, a number (0 is no), or `true`/`yes`/`y`/`1`/`completed` and
/// `false`/`no`/`n`/`0`/empty in any case.
pub(super) fn flag(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_f64().map(|n| n != 0.0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" | "completed" | "complete" => Some(true),
            "false" | "no" | "n" | "0" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// An instant: RFC 3339, `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD` (both taken as UTC), or
/// Unix seconds / milliseconds. Empty strings and zero dates (`0000-00-00 …`) are `None`.
pub(super) fn timestamp(value: &Value) -> Option<Timestamp> {
    match value {
        Value::String(s) => text_timestamp(s.trim()),
        Value::Number(n) => {
            let n = n.as_i64().filter(|n| *n > 0)?;
            if n >= MILLIS_FROM {
                Timestamp::from_millisecond(n).ok()
            } else {
                Timestamp::from_second(n).ok()
            }
        }
        _ => None,
    }
}

fn text_timestamp(s: &str) -> Option<Timestamp> {
    if s.is_empty() || s.starts_with("0000-00-00") {
        return None;
    }
    if let Ok(instant) = s.parse::<Timestamp>() {
        return Some(instant);
    }
    let civil = s.parse::<DateTime>().ok().or_else(|| {
        s.parse::<Date>()
            .ok()
            .map(|d| d.to_datetime(jiff::civil::time(0, 0, 0, 0)))
    })?;
    civil
        .to_zoned(TimeZone::UTC)
        .ok()
        .map(|zoned| zoned.timestamp())
}

/// A label: a non-blank string (trimmed), or a number written out.
pub(super) fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn fields_are_found_by_dotted_paths_and_null_is_absent() {
        let item = json!({ "course": { "id": "12" }, "score": null });
        assert_eq!(field(&item, "course.id"), Some(&json!("12")));
        assert_eq!(field(&item, "score"), None);
        assert_eq!(field(&item, "course.id.more"), None);
        assert_eq!(field(&item, ""), None);
    }

    #[test]
    fn ids_are_numbers_or_numeric_strings() {
        assert_eq!(id(&json!(7)), Some(TovutiId(7)));
        assert_eq!(id(&json!(" 42 ")), Some(TovutiId(42)));
        assert_eq!(id(&json!(-1)), None);
        assert_eq!(id(&json!("x1")), None);
        assert_eq!(id(&json!(1.5)), None);
    }

    #[test]
    fn numbers_may_be_quoted_or_percent_signed() {
        assert_eq!(number(&json!(55.5)), Some(55.5));
        assert_eq!(number(&json!("80")), Some(80.0));
        assert_eq!(number(&json!("100 %")), Some(100.0));
        assert_eq!(number(&json!("NaN")), None);
        assert_eq!(number(&json!(true)), None);
    }

    #[test]
    fn flags_accept_bools_numbers_and_words() {
        for yes in [
            json!(true),
            json!(1),
            json!("1"),
            json!("Yes"),
            json!("TRUE"),
        ] {
            assert_eq!(flag(&yes), Some(true), "{yes}");
        }
        for no in [json!(false), json!(0), json!("0"), json!("no"), json!("")] {
            assert_eq!(flag(&no), Some(false), "{no}");
        }
        assert_eq!(flag(&json!("maybe")), None);
        assert_eq!(flag(&json!([])), None);
    }

    #[test]
    fn timestamps_accept_rfc3339_laravel_dates_and_epochs() {
        let at: Timestamp = "2026-03-01T10:20:30Z".parse().unwrap();
        assert_eq!(timestamp(&json!("2026-03-01T10:20:30Z")), Some(at));
        assert_eq!(timestamp(&json!("2026-03-01T12:20:30+02:00")), Some(at));
        assert_eq!(timestamp(&json!("2026-03-01 10:20:30")), Some(at));
        assert_eq!(timestamp(&json!(at.as_second())), Some(at));
        assert_eq!(timestamp(&json!(at.as_millisecond())), Some(at));
        let midnight: Timestamp = "2026-03-01T00:00:00Z".parse().unwrap();
        assert_eq!(timestamp(&json!("2026-03-01")), Some(midnight));
        for none in [
            json!(""),
            json!("0000-00-00 00:00:00"),
            json!("soon"),
            json!(0),
        ] {
            assert_eq!(timestamp(&none), None, "{none}");
        }
    }

    #[test]
    fn texts_are_trimmed_and_blank_is_absent() {
        assert_eq!(text(&json!(" Safety 101 ")), Some("Safety 101".into()));
        assert_eq!(text(&json!(12)), Some("12".into()));
        assert_eq!(text(&json!("  ")), None);
    }
}
