//! Query parameters of the admin listings, checked strictly: an unknown parameter, a
//! repeated single one or a bad value is a 400 naming the parameter, never ignored.

use jiff::Timestamp;

use crate::admin::cursor::{Cursor, Kind};
use crate::admin::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::http::ApiError;
use crate::store::{AuditQuery, EventQuery, EventStatus, Millis, Source};

/// Longest text filter accepted (ids, types, search text).
const MAX_TEXT: usize = 256;

/// The decoded `name=value` pairs of a query string, in order.
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Decodes `raw`, refusing any parameter not in `known`.
    pub fn parse(raw: Option<&str>, known: &[&str]) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or_default())
            .map_err(|_| ApiError::BadRequest("the query string is not URL-encoded".into()))?;
        if let Some((name, _)) = pairs
            .iter()
            .find(|(name, _)| !known.contains(&name.as_str()))
        {
            return Err(bad(
                &printable(name),
                &format!("unknown parameter; known: {}", known.join(", ")),
            ));
        }
        Ok(Self(pairs))
    }

    /// Every value given for `name`, comma lists split.
    fn list(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// The one value of `name`, if given; given twice is an error.
    pub fn one(&self, name: &str) -> Result<Option<&str>, ApiError> {
        let mut values = self
            .0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(bad(name, "given more than once"));
        }
        Ok(first)
    }

    /// A non-empty text value of at most `MAX_TEXT` characters.
    pub fn text(&self, name: &str) -> Result<Option<String>, ApiError> {
        self.one(name)?.map(|v| text(name, v)).transpose()
    }

    pub fn instant(&self, name: &str) -> Result<Option<Millis>, ApiError> {
        self.one(name)?.map(|v| instant(name, v)).transpose()
    }

    /// The page size: `limit`, 1 to `MAX_LIMIT`, `DEFAULT_LIMIT` when absent.
    pub fn limit(&self) -> Result<u32, ApiError> {
        let Some(value) = self.one("limit")? else {
            return Ok(DEFAULT_LIMIT);
        };
        match value.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(bad(
                "limit",
                &format!("must be a whole number from 1 to {MAX_LIMIT}"),
            )),
        }
    }

    /// Where the previous page ended: `cursor`, as its `next` gave it.
    pub fn cursor(&self, kind: Kind) -> Result<Option<i64>, ApiError> {
        self.one("cursor")?
            .map(|v| Cursor::decode(kind, v).map_err(|e| bad("cursor", &e.to_string())))
            .transpose()
    }
}

/// A 400 naming the parameter.
pub fn bad(name: &str, why: &str) -> ApiError {
    ApiError::BadRequest(format!("`{name}`: {why}"))
}

/// A parameter name as it may be echoed: short, printable ASCII.
fn printable(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(40)
        .collect()
}

/// A text filter: 1 to `MAX_TEXT` characters, without NUL (which PostgreSQL text cannot
/// hold, so it could never match).
pub fn text(name: &str, value: &str) -> Result<String, ApiError> {
    if value.is_empty() || value.chars().count() > MAX_TEXT {
        return Err(bad(name, &format!("must be 1 to {MAX_TEXT} characters")));
    }
    if value.contains('\0') {
        return Err(bad(name, "must not contain NUL"));
    }
    Ok(value.to_owned())
}

/// An RFC 3339 instant such as 2026-11-28T00:00:00Z.
pub fn instant(name: &str, value: &str) -> Result<Millis, ApiError> {
    value
        .parse::<Timestamp>()
        .map(|t| Millis(t.as_millisecond()))
        .map_err(|_| {
            bad(
                name,
                "must be an RFC 3339 instant such as 2026-11-28T00:00:00Z",
            )
        })
}

pub fn status(name: &str, value: &str) -> Result<EventStatus, ApiError> {
    EventStatus::parse(value).ok_or_else(|| {
        let all: Vec<&str> = EventStatus::ALL.iter().map(|s| s.as_str()).collect();
        bad(name, &format!("unknown status; one of {}", all.join(", ")))
    })
}

pub fn source(name: &str, value: &str) -> Result<Source, ApiError> {
    Source::parse(value)
        .ok_or_else(|| bad(name, "unknown source; one of ghl, tovuti, poller, sweep"))
}

/// The parameters `GET /api/v1/events` takes.
pub const EVENT_PARAMS: &[&str] = &[
    "status",
    "source",
    "type",
    "connection",
    "entity",
    "since",
    "until",
    "q",
    "limit",
    "cursor",
];

/// `GET /api/v1/events`'s filter and page.
pub fn event_query(params: &Params) -> Result<EventQuery, ApiError> {
    let mut statuses = params
        .list("status")
        .into_iter()
        .map(|v| status("status", v))
        .collect::<Result<Vec<_>, _>>()?;
    // Each status is bound once however often it is named.
    statuses.sort_by_key(|s| s.as_str());
    statuses.dedup();
    let query = EventQuery {
        statuses,
        source: params
            .one("source")?
            .map(|v| source("source", v))
            .transpose()?,
        event_type: params.text("type")?,
        connection_id: params.text("connection")?,
        entity_key: params.text("entity")?,
        received_from: params.instant("since")?,
        received_until: params.instant("until")?,
        error_text: params.text("q")?,
        before: params.cursor(Kind::Events)?,
        limit: params.limit()?,
    };
    Ok(query)
}

/// The parameters `GET /api/v1/audit` takes.
pub const AUDIT_PARAMS: &[&str] = &["connection", "action", "since", "until", "limit", "cursor"];

/// `GET /api/v1/audit`'s filter and page.
pub fn audit_query(params: &Params) -> Result<AuditQuery, ApiError> {
    Ok(AuditQuery {
        connection_id: params.text("connection")?,
        action: params.text("action")?,
        since: params.instant("since")?,
        until: params.instant("until")?,
        before: params.cursor(Kind::Audit)?,
        limit: params.limit()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(raw: &str) -> Result<EventQuery, ApiError> {
        event_query(&Params::parse(Some(raw), EVENT_PARAMS)?)
    }

    #[test]
    fn statuses_repeat_or_come_as_a_comma_list() {
        let query = parsed("status=dead,retrying&status=pending&limit=2").unwrap();
        assert_eq!(
            query.statuses,
            [
                EventStatus::Dead,
                EventStatus::Pending,
                EventStatus::Retrying
            ]
        );
        let repeated = parsed("status=dead&status=dead,dead").unwrap();
        assert_eq!(repeated.statuses, [EventStatus::Dead]);
        assert_eq!(query.limit, 2);
        assert_eq!(parsed("").unwrap().limit, DEFAULT_LIMIT);
    }

    #[test]
    fn a_bad_value_names_its_parameter() {
        for (raw, name) in [
            ("status=lost", "`status`"),
            ("source=hubspot", "`source`"),
            ("since=yesterday", "`since`"),
            ("limit=0", "`limit`"),
            ("limit=501", "`limit`"),
            ("cursor=zzz", "`cursor`"),
            ("type=a&type=b", "`type`"),
            ("statuss=dead", "`statuss`"),
        ] {
            let error = parsed(raw).err().unwrap().to_string();
            assert!(error.contains(name), "{raw}: {error}");
        }
    }
}
