//! Field types: how a raw value read from either platform becomes one canonical value.
//! Pure: no I/O, and the clock is never read here.

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

/// The type of a mapped field; it decides the canonical form both sides are compared in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    #[default]
    String,
    /// Trimmed and lower-cased.
    Email,
    /// E.164 (`+14155550132`), numbers without a country code read in the default country.
    Phone,
    /// `YYYY-MM-DD`; the date as written, never shifted across time zones.
    Date,
    /// RFC 3339 in UTC, whole seconds; a value without an offset is taken as UTC.
    Datetime,
    Number,
    /// Lenient on read: `true`, `1`, `"1"`, `"yes"`, `"on"`, `"y"` (and their negatives).
    Bool,
    /// A list of strings; a string is split on the pair's separator.
    List,
}

/// A value that could not be converted to its field type; the rest of the record is still
/// mapped. It never carries the value: values are personal data (emails, names, phone
/// numbers), and this message reaches logs and the event log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    #[error("not an email address")]
    Email,
    /// `reason` is the phone parser's, which names the defect, never the digits.
    #[error("not a phone number: {reason}")]
    Phone { reason: String },
    #[error("not a date")]
    Date,
    #[error("not a date and time")]
    Datetime,
    #[error("not a number")]
    Number,
    #[error("not a yes/no value")]
    Bool,
    #[error("expected {expected}, found {found}")]
    Shape {
        expected: &'static str,
        found: &'static str,
    },
}

/// Settings a conversion needs besides the value itself.
#[derive(Debug, Clone, Copy)]
pub struct TypeOptions<'a> {
    pub phone_country: phonenumber::country::Id,
    pub list_separator: &'a str,
}

/// Whether a raw value means "nothing here": null, blank text, an empty list, or a
/// Tovuti zero-date (`0000-00-00`, `0000-00-00 00:00:00`), which Tovuti writes for "never".
pub fn is_missing(raw: &Value) -> bool {
    match raw {
        Value::Null => true,
        Value::String(s) => {
            let s = s.trim();
            s.is_empty() || s.starts_with("0000-00-00")
        }
        Value::Array(items) => items.iter().all(is_missing),
        _ => false,
    }
}

/// Converts a raw value to the canonical form of `ty`; `Ok(None)` when the value is missing.
pub fn normalize(
    ty: FieldType,
    raw: &Value,
    opts: TypeOptions<'_>,
) -> Result<Option<Value>, ConvertError> {
    if is_missing(raw) {
        return Ok(None);
    }
    let value = match ty {
        FieldType::String => Value::String(to_text(raw)?),
        FieldType::Email => Value::String(email(&to_text(raw)?)?),
        FieldType::Phone => Value::String(phone(&to_text(raw)?, opts.phone_country)?),
        FieldType::Date => Value::String(date(raw)?),
        FieldType::Datetime => Value::String(datetime(raw)?),
        FieldType::Number => Value::Number(number(raw)?),
        FieldType::Bool => Value::Bool(boolean(raw)?),
        FieldType::List => return Ok(list(raw, opts.list_separator)),
    };
    Ok(Some(value))
}

/// The kind of a raw value, for an error message that must not quote the value.
fn describe(raw: &Value) -> &'static str {
    match raw {
        Value::Null => "nothing",
        Value::Bool(_) => "a yes/no value",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn to_text(raw: &Value) -> Result<String, ConvertError> {
    match raw {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(ConvertError::Shape {
            expected: "text",
            found: describe(other),
        }),
    }
}

fn email(text: &str) -> Result<String, ConvertError> {
    let e = text.trim().to_lowercase();
    let valid = match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@') && !e.contains(' ')
        }
        None => false,
    };
    if valid {
        Ok(e)
    } else {
        Err(ConvertError::Email)
    }
}

fn phone(text: &str, country: phonenumber::country::Id) -> Result<String, ConvertError> {
    let fail = |reason: String| ConvertError::Phone { reason };
    let parsed = phonenumber::parse(Some(country), text.trim()).map_err(|e| fail(e.to_string()))?;
    if !phonenumber::is_valid(&parsed) {
        return Err(fail("not a valid number for its country".to_owned()));
    }
    Ok(parsed.format().mode(phonenumber::Mode::E164).to_string())
}

fn date(raw: &Value) -> Result<String, ConvertError> {
    let text = to_text(raw)?;
    let t = text.trim();
    // Take the calendar date as written: a birthday stored as "2000-01-05T00:00:00Z" must not
    // become 2000-01-04 in a zone west of UTC.
    let head = t.get(..10).unwrap_or(t);
    let rest = t.get(10..).unwrap_or("");
    let tail_ok = rest.is_empty() || rest.starts_with('T') || rest.starts_with(' ');
    match head.parse::<jiff::civil::Date>() {
        Ok(d) if tail_ok => Ok(d.to_string()),
        _ => Err(ConvertError::Date),
    }
}

fn datetime(raw: &Value) -> Result<String, ConvertError> {
    if let Value::Number(n) = raw {
        return epoch(n).ok_or(ConvertError::Datetime);
    }
    let text = to_text(raw)?;
    let t = text.trim();
    let ts = t
        .parse::<jiff::Timestamp>()
        .ok()
        .or_else(|| {
            let civil = t
                .parse::<jiff::civil::DateTime>()
                .or_else(|_| {
                    t.parse::<jiff::civil::Date>()
                        .map(|d| d.to_datetime(jiff::civil::Time::midnight()))
                })
                .ok()?;
            civil
                .to_zoned(jiff::tz::TimeZone::UTC)
                .ok()
                .map(|z| z.timestamp())
        })
        .ok_or(ConvertError::Datetime)?;
    Ok(format_ts(ts))
}

/// Numbers larger than 10^11 are epoch milliseconds (GHL), smaller ones epoch seconds.
fn epoch(n: &Number) -> Option<String> {
    let v = n.as_i64()?;
    let ts = if v.abs() > 100_000_000_000 {
        jiff::Timestamp::from_millisecond(v).ok()?
    } else {
        jiff::Timestamp::from_second(v).ok()?
    };
    Some(format_ts(ts))
}

/// RFC 3339, UTC, whole seconds: the one form both platforms' timestamps are compared in.
pub fn format_ts(ts: jiff::Timestamp) -> String {
    let whole = jiff::Timestamp::from_second(ts.as_second()).unwrap_or(ts);
    whole.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn number(raw: &Value) -> Result<Number, ConvertError> {
    let parsed = match raw {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    };
    let f = parsed.ok_or(ConvertError::Number)?;
    canonical_number(f).ok_or(ConvertError::Number)
}

/// Whole numbers become integers so that `5`, `5.0` and `"5"` compare equal.
fn canonical_number(f: f64) -> Option<Number> {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        // Whole and within ±2^53 (checked above), so the cast is exact.
        return Some(Number::from(f as i64));
    }
    Number::from_f64(f)
}

fn boolean(raw: &Value) -> Result<bool, ConvertError> {
    match raw {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) => match n.as_f64() {
            Some(1.0) => Ok(true),
            Some(0.0) => Ok(false),
            _ => Err(ConvertError::Bool),
        },
        Value::String(s) => match s.trim().to_lowercase().as_str() {
            "1" | "true" | "yes" | "y" | "on" => Ok(true),
            "0" | "false" | "no" | "n" | "off" => Ok(false),
            _ => Err(ConvertError::Bool),
        },
        _ => Err(ConvertError::Bool),
    }
}

fn list(raw: &Value, separator: &str) -> Option<Value> {
    let items: Vec<Value> = match raw {
        Value::Array(items) => items.iter().filter_map(list_item).collect(),
        Value::String(s) => s
            .split(separator)
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| Value::String(p.to_owned()))
            .collect(),
        other => list_item(other).into_iter().collect(),
    };
    (!items.is_empty()).then_some(Value::Array(items))
}

fn list_item(v: &Value) -> Option<Value> {
    let text = match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(Value::String(text))
}

#[cfg(test)]
#[path = "value_tests.rs"]
mod tests;
