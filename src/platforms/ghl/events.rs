//! GHL webhook events: the fields every delivery shares and one typed variant per event type.
//!
//! GHL's event pages show flat bodies while its integration guide reads a `data` envelope
//! (https://marketplace.gohighlevel.com/docs/webhook/WebhookIntegrationGuide), so both are
//! accepted: a `data` object is lifted to the top level. Parsing
//! runs after the raw body is stored; before, only the shared fields are read ([`GhlMeta::of`]),
//! for routing and replay protection.

use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::payloads::{
    AppInstall, AppUninstall, AppointmentPayload, CampaignStatus, Contact, Note, Task,
};
use crate::platforms::EntityKey;

/// Why a body could not be read as a GHL event. Display texts never quote the payload, because
/// they reach logs and the inbox, and payloads hold personal data.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("body is not JSON")]
    NotJson(#[source] serde_json::Error),
    #[error("body is not a JSON object")]
    NotObject,
    #[error("body has no string `type`")]
    MissingType,
    #[error("`timestamp` is neither an RFC 3339 date nor a unix time")]
    BadTimestamp,
    #[error("{event_type} body does not have the documented shape")]
    Shape {
        event_type: String,
        #[source]
        source: serde_json::Error,
    },
}

/// The fields every GHL delivery may carry, read without committing to an event type.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GhlMeta {
    pub event_type: Option<String>,
    pub location_id: Option<String>,
    pub webhook_id: Option<String>,
    pub timestamp: Option<Timestamp>,
}

/// The fields of [`GhlMeta`], as GHL names them.
const SHARED_FIELDS: [&str; 4] = ["type", "locationId", "webhookId", "timestamp"];

impl GhlMeta {
    /// Reads only the shared fields; used before storing, so it must not fail on a body whose
    /// event part is malformed. They are looked up as [`unwrap_envelope`] would lift them (a
    /// field inside a `data` object wins over the same field beside it), without taking the
    /// value apart: intake parses a body once and hands the value on to
    /// [`GhlWebhook::from_value`].
    pub fn of(value: &Value) -> Result<Self, ParseError> {
        let Value::Object(top) = value else {
            return Err(ParseError::NotObject);
        };
        let data = top.get("data").and_then(Value::as_object);
        let field = |key: &str| data.and_then(|d| d.get(key)).or_else(|| top.get(key));
        let text = |key: &str| field(key).and_then(Value::as_str).map(str::to_owned);
        let timestamp = match field("timestamp") {
            None | Some(Value::Null) => None,
            Some(value) => Some(parse_timestamp(value).ok_or(ParseError::BadTimestamp)?),
        };
        Ok(Self {
            event_type: text("type"),
            location_id: text("locationId"),
            webhook_id: text("webhookId"),
            timestamp,
        })
    }
}

/// One parsed GHL delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct GhlWebhook {
    pub location_id: Option<String>,
    pub webhook_id: Option<String>,
    pub timestamp: Option<Timestamp>,
    pub event: GhlEvent,
}

/// Every event type the service understands; anything else is [`GhlEvent::Unknown`] and is
/// stored as `ignored` rather than rejected: a refusal would make GHL drop it for good, and
/// every delivery is acknowledged only once stored.
#[derive(Debug, Clone, PartialEq)]
pub enum GhlEvent {
    ContactCreate(Contact),
    ContactUpdate(Contact),
    ContactDelete(Contact),
    ContactTagUpdate(Contact),
    ContactDndUpdate(Contact),
    NoteCreate(Note),
    NoteUpdate(Note),
    NoteDelete(Note),
    TaskCreate(Task),
    TaskComplete(Task),
    TaskDelete(Task),
    AppointmentCreate(AppointmentPayload),
    AppointmentUpdate(AppointmentPayload),
    AppointmentDelete(AppointmentPayload),
    CampaignStatusUpdate(CampaignStatus),
    Install(AppInstall),
    Uninstall(AppUninstall),
    Unknown {
        event_type: String,
        body: Map<String, Value>,
    },
}

impl GhlWebhook {
    /// Parses a raw (already verified and stored) body into its typed event.
    pub fn parse(body: &[u8]) -> Result<Self, ParseError> {
        Self::from_value(serde_json::from_slice(body).map_err(ParseError::NotJson)?)
    }

    pub fn from_value(value: Value) -> Result<Self, ParseError> {
        let meta = GhlMeta::of(&value)?;
        let mut fields = unwrap_envelope(value)?;
        // The typed payloads would otherwise keep the shared fields again in `extra`.
        for key in SHARED_FIELDS {
            fields.remove(key);
        }
        let event_type = meta.event_type.ok_or(ParseError::MissingType)?;
        Ok(Self {
            location_id: meta.location_id,
            webhook_id: meta.webhook_id,
            timestamp: meta.timestamp,
            event: GhlEvent::from_fields(event_type, fields)?,
        })
    }

    pub fn event_type(&self) -> &str {
        self.event.event_type()
    }

    /// Key for per-entity ordering. Notes, tasks, appointments and campaign changes are keyed
    /// by their contact: their effect lands on the learner the contact maps to, so they must
    /// not overtake that contact's own create/update. App (un)installs are keyed by account.
    pub fn entity_key(&self) -> EntityKey {
        if let Some(contact_id) = self.event.contact_id() {
            return EntityKey::new("ghl", "contact", contact_id);
        }
        match &self.event {
            GhlEvent::NoteCreate(n) | GhlEvent::NoteUpdate(n) | GhlEvent::NoteDelete(n) => {
                EntityKey::new("ghl", "note", &n.id)
            }
            GhlEvent::TaskCreate(t) | GhlEvent::TaskComplete(t) | GhlEvent::TaskDelete(t) => {
                EntityKey::new("ghl", "task", &t.id)
            }
            GhlEvent::AppointmentCreate(a)
            | GhlEvent::AppointmentUpdate(a)
            | GhlEvent::AppointmentDelete(a) => {
                EntityKey::new("ghl", "appointment", &a.appointment.id)
            }
            GhlEvent::CampaignStatusUpdate(c) => EntityKey::new("ghl", "campaign", &c.id),
            GhlEvent::Install(i) => self.account_key(i.company_id.as_deref()),
            GhlEvent::Uninstall(u) => self.account_key(u.company_id.as_deref()),
            _ => self.account_key(None),
        }
    }

    fn account_key(&self, company_id: Option<&str>) -> EntityKey {
        match (self.location_id.as_deref(), company_id) {
            (Some(location), _) => EntityKey::new("ghl", "location", location),
            (None, Some(company)) => EntityKey::new("ghl", "company", company),
            (None, None) => EntityKey::new("ghl", "location", "unknown"),
        }
    }
}

impl GhlEvent {
    fn from_fields(event_type: String, fields: Map<String, Value>) -> Result<Self, ParseError> {
        let t = event_type.as_str();
        Ok(match t {
            "ContactCreate" => Self::ContactCreate(shape(t, fields)?),
            "ContactUpdate" => Self::ContactUpdate(shape(t, fields)?),
            "ContactDelete" => Self::ContactDelete(shape(t, fields)?),
            "ContactTagUpdate" => Self::ContactTagUpdate(shape(t, fields)?),
            "ContactDndUpdate" => Self::ContactDndUpdate(shape(t, fields)?),
            "NoteCreate" => Self::NoteCreate(shape(t, fields)?),
            "NoteUpdate" => Self::NoteUpdate(shape(t, fields)?),
            "NoteDelete" => Self::NoteDelete(shape(t, fields)?),
            "TaskCreate" => Self::TaskCreate(shape(t, fields)?),
            "TaskComplete" => Self::TaskComplete(shape(t, fields)?),
            "TaskDelete" => Self::TaskDelete(shape(t, fields)?),
            "AppointmentCreate" => Self::AppointmentCreate(shape(t, fields)?),
            "AppointmentUpdate" => Self::AppointmentUpdate(shape(t, fields)?),
            "AppointmentDelete" => Self::AppointmentDelete(shape(t, fields)?),
            "CampaignStatusUpdate" => Self::CampaignStatusUpdate(shape(t, fields)?),
            "INSTALL" => Self::Install(shape(t, fields)?),
            "UNINSTALL" => Self::Uninstall(shape(t, fields)?),
            _ => Self::Unknown {
                event_type,
                body: fields,
            },
        })
    }

    /// The `type` string as GHL spells it.
    pub fn event_type(&self) -> &str {
        match self {
            Self::Unknown { event_type, .. } => event_type,
            known => known.known_type().unwrap_or_default(),
        }
    }

    /// The type of a known event as a `'static` string (bounded, e.g. for metric labels);
    /// `None` for [`GhlEvent::Unknown`].
    pub fn known_type(&self) -> Option<&'static str> {
        Some(match self {
            Self::ContactCreate(_) => "ContactCreate",
            Self::ContactUpdate(_) => "ContactUpdate",
            Self::ContactDelete(_) => "ContactDelete",
            Self::ContactTagUpdate(_) => "ContactTagUpdate",
            Self::ContactDndUpdate(_) => "ContactDndUpdate",
            Self::NoteCreate(_) => "NoteCreate",
            Self::NoteUpdate(_) => "NoteUpdate",
            Self::NoteDelete(_) => "NoteDelete",
            Self::TaskCreate(_) => "TaskCreate",
            Self::TaskComplete(_) => "TaskComplete",
            Self::TaskDelete(_) => "TaskDelete",
            Self::AppointmentCreate(_) => "AppointmentCreate",
            Self::AppointmentUpdate(_) => "AppointmentUpdate",
            Self::AppointmentDelete(_) => "AppointmentDelete",
            Self::CampaignStatusUpdate(_) => "CampaignStatusUpdate",
            Self::Install(_) => "INSTALL",
            Self::Uninstall(_) => "UNINSTALL",
            Self::Unknown { .. } => return None,
        })
    }

    /// The GHL contact the event is about, where it names one.
    pub fn contact_id(&self) -> Option<&str> {
        match self {
            Self::ContactCreate(c)
            | Self::ContactUpdate(c)
            | Self::ContactDelete(c)
            | Self::ContactTagUpdate(c)
            | Self::ContactDndUpdate(c) => Some(&c.id),
            Self::NoteCreate(n) | Self::NoteUpdate(n) | Self::NoteDelete(n) => {
                n.contact_id.as_deref()
            }
            Self::TaskCreate(t) | Self::TaskComplete(t) | Self::TaskDelete(t) => {
                t.contact_id.as_deref()
            }
            Self::AppointmentCreate(a)
            | Self::AppointmentUpdate(a)
            | Self::AppointmentDelete(a) => a.appointment.contact_id.as_deref(),
            Self::CampaignStatusUpdate(c) => c.contact_id.as_deref(),
            Self::Install(_) | Self::Uninstall(_) | Self::Unknown { .. } => None,
        }
    }
}

fn shape<T: DeserializeOwned>(
    event_type: &str,
    fields: Map<String, Value>,
) -> Result<T, ParseError> {
    serde_json::from_value(Value::Object(fields)).map_err(|source| ParseError::Shape {
        event_type: event_type.to_owned(),
        source,
    })
}

/// Returns the event's fields, lifting a `data` object to the top level; top-level fields the
/// envelope carries beside `data` (type, webhookId, timestamp, …) are kept unless `data` has
/// its own.
fn unwrap_envelope(value: Value) -> Result<Map<String, Value>, ParseError> {
    let Value::Object(mut top) = value else {
        return Err(ParseError::NotObject);
    };
    // A `data` that is not an object is an ordinary (unknown) field, not an envelope.
    if !top.get("data").is_some_and(Value::is_object) {
        return Ok(top);
    }
    let Some(Value::Object(mut inner)) = top.remove("data") else {
        return Ok(top);
    };
    for (key, value) in top {
        inner.entry(key).or_insert(value);
    }
    Ok(inner)
}

/// GHL documents `timestamp` as an ISO 8601 string; unix seconds or milliseconds are accepted
/// too because the docs show only one example.
fn parse_timestamp(value: &Value) -> Option<Timestamp> {
    let number = match value {
        Value::String(s) => match s.parse::<i64>() {
            Ok(n) => n,
            Err(_) => return s.parse::<Timestamp>().ok(),
        },
        Value::Number(n) => n.as_i64()?,
        _ => return None,
    };
    // Ten digits of seconds last until the year 2286; anything longer is milliseconds.
    if number.abs() >= 100_000_000_000 {
        Timestamp::from_millisecond(number).ok()
    } else {
        Timestamp::from_second(number).ok()
    }
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
