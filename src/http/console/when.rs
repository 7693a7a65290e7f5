//! The time filters of the events and audit pages. The console's script turns what the
//! viewer types in a `datetime-local` field (their own time zone) into an RFC 3339
//! instant before the form is sent; without the script the typed time is read as UTC, as
//! the pages then show every time in UTC.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use serde::Serialize;

use super::form::Form;

/// The time filter fields.
pub const TIME_FILTERS: [&str; 2] = ["since", "until"];

/// One time filter as the form shows it again.
#[derive(Debug, Default, Serialize)]
pub struct TimeField {
    /// The instant (RFC 3339, UTC) the script shows in the viewer's time zone; empty when
    /// none or unreadable.
    pub instant: String,
    /// The field's value without the script: the instant in UTC as `datetime-local`
    /// writes it, or what was typed when it names no instant.
    pub value: String,
}

/// The instant `value` names: RFC 3339 with an offset, or a date and time without one
/// (`2026-12-05T14:30`), read as UTC.
pub fn instant(value: &str) -> Option<Timestamp> {
    if let Ok(at) = value.parse::<Timestamp>() {
        return Some(at);
    }
    let civil = value.parse::<DateTime>().ok()?;
    civil.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp())
}

/// `form` with each time filter it carries as an RFC 3339 instant; one that names no
/// instant stays as typed, for the listing to refuse with its own message.
pub fn normalized(form: &Form) -> Form {
    let mut form = form.clone();
    for name in TIME_FILTERS {
        if let Some(at) = form.get(name).and_then(instant) {
            form.set(name, &at.to_string());
        }
    }
    form
}

/// The time filter `name` as the form shows it again.
pub fn field(form: &Form, name: &str) -> TimeField {
    let Some(typed) = form.get(name) else {
        return TimeField::default();
    };
    match instant(typed) {
        Some(at) => TimeField {
            instant: at.to_string(),
            value: at.strftime("%Y-%m-%dT%H:%M").to_string(),
        },
        None => TimeField {
            instant: String::new(),
            value: typed.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instant_with_an_offset_is_kept_and_one_without_is_read_as_utc() {
        let at = |v: &str| instant(v).map(|t| t.to_string());
        assert_eq!(
            at("2026-12-05T09:30:00.000Z").as_deref(),
            Some("2026-12-05T09:30:00Z")
        );
        assert_eq!(
            at("2026-12-05T11:30:00+02:00").as_deref(),
            Some("2026-12-05T09:30:00Z")
        );
        assert_eq!(
            at("2026-12-05T09:30").as_deref(),
            Some("2026-12-05T09:30:00Z")
        );
        assert_eq!(at("yesterday"), None);
    }

    #[test]
    fn the_form_carries_instants_and_shows_them_back_in_utc() {
        let form = Form::parse(b"since=2026-12-05T11%3A30%3A00%2B02%3A00&until=soon&q=x");
        let normal = normalized(&form);
        assert_eq!(normal.get("since"), Some("2026-12-05T09:30:00Z"));
        assert_eq!(normal.get("until"), Some("soon"));
        assert_eq!(normal.get("q"), Some("x"));
        let since = field(&form, "since");
        assert_eq!(since.value, "2026-12-05T09:30");
        assert_eq!(since.instant, "2026-12-05T09:30:00Z");
        assert_eq!(field(&form, "until").value, "soon");
        assert_eq!(field(&form, "until").instant, "");
    }
}
