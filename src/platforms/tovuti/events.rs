//! Tovuti webhook events: the envelope `{id, type, occurred_at, data}` and one typed variant per
//! event type of the service's Tovuti contract (`docs/tovuti-webhooks.md`).

use std::collections::HashMap;

use jiff::Timestamp;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::payloads::{
    AwardEarned, CallRecorded, CourseCompleted, Enrollment, EventRegistered, LessonCompleted,
    NoteCreated, User, UserChanged,
};
use crate::platforms::EntityKey;

/// Why a body could not be read as a Tovuti event. Display texts never quote the payload.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("body is not a JSON object with string `id` and `type`")]
    Envelope(#[source] serde_json::Error),
    #[error("`occurred_at` is not an RFC 3339 date")]
    BadTimestamp,
    #[error("{event_type} data does not have the documented shape")]
    Shape {
        event_type: String,
        #[source]
        source: serde_json::Error,
    },
}

/// The envelope fields read before storing, for metrics and logs; `data` is skipped unread.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TovutiMeta {
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub event_type: Option<String>,
}

impl TovutiMeta {
    pub fn peek(body: &[u8]) -> Result<Self, ParseError> {
        serde_json::from_slice(body).map_err(ParseError::Envelope)
    }
}

/// One parsed Tovuti delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct TovutiWebhook {
    pub id: String,
    pub occurred_at: Option<Timestamp>,
    pub event: TovutiEvent,
    /// Envelope fields beyond the documented four.
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TovutiEvent {
    UserCreated(UserChanged),
    UserUpdated(UserChanged),
    EnrollmentCreated(Enrollment),
    CourseCompleted(CourseCompleted),
    LessonCompleted(LessonCompleted),
    AwardEarned(AwardEarned),
    NoteCreated(NoteCreated),
    CallRecorded(CallRecorded),
    EventRegistered(EventRegistered),
    /// Stored as `ignored`, never rejected, so a sender that is ahead of us loses nothing.
    Unknown {
        event_type: String,
        data: Value,
    },
}

impl TovutiWebhook {
    /// One pass over the body: the top-level fields are split off as raw JSON text, and
    /// `data` is read straight into its typed payload (no intermediate `Value` tree, which
    /// profiles of intake showed as its largest cost after the HTTP stack).
    pub fn parse(body: &[u8]) -> Result<Self, ParseError> {
        let mut fields: HashMap<String, &RawValue> =
            serde_json::from_slice(body).map_err(ParseError::Envelope)?;
        let mut take = |key: &'static str| fields.remove(key);
        let id: String = envelope_field(take("id"), "id")?;
        let event_type: String = envelope_field(take("type"), "type")?;
        let occurred_at = match take("occurred_at") {
            None => None,
            Some(raw) => match serde_json::from_str::<Option<String>>(raw.get()) {
                Ok(None) => None,
                Ok(Some(text)) => Some(text.parse().map_err(|_| ParseError::BadTimestamp)?),
                Err(error) => return Err(ParseError::Envelope(error)),
            },
        };
        let event = TovutiEvent::from_data(event_type, take("data"))?;
        let extra = fields
            .into_iter()
            .map(|(key, raw)| Ok((key, serde_json::from_str(raw.get())?)))
            .collect::<Result<_, serde_json::Error>>()
            .map_err(ParseError::Envelope)?;
        Ok(Self {
            id,
            occurred_at,
            event,
            extra,
        })
    }

    pub fn event_type(&self) -> &str {
        self.event.event_type()
    }

    /// Every event is about one learner; their events are applied in order.
    pub fn entity_key(&self) -> EntityKey {
        match self.event.user_id() {
            Some(user) => EntityKey::new("tovuti", "user", &user),
            None => EntityKey::new("tovuti", "unknown", &self.id),
        }
    }
}

impl TovutiEvent {
    /// A missing `data` reads as `null`, which the typed payloads refuse and unknown types keep.
    fn from_data(event_type: String, data: Option<&RawValue>) -> Result<Self, ParseError> {
        let data = data.map_or("null", RawValue::get);
        let t = event_type.as_str();
        Ok(match t {
            "user.created" => Self::UserCreated(shape(t, data)?),
            "user.updated" => Self::UserUpdated(shape(t, data)?),
            "enrollment.created" => Self::EnrollmentCreated(shape(t, data)?),
            "course.completed" => Self::CourseCompleted(shape(t, data)?),
            "lesson.completed" => Self::LessonCompleted(shape(t, data)?),
            "award.earned" => Self::AwardEarned(shape(t, data)?),
            "note.created" => Self::NoteCreated(shape(t, data)?),
            "call.recorded" => Self::CallRecorded(shape(t, data)?),
            "event.registered" => Self::EventRegistered(shape(t, data)?),
            _ => Self::Unknown {
                data: serde_json::from_str(data).map_err(ParseError::Envelope)?,
                event_type,
            },
        })
    }

    pub fn event_type(&self) -> &str {
        match self {
            Self::Unknown { event_type, .. } => event_type,
            known => known.known_type().unwrap_or_default(),
        }
    }

    /// The type of a known event as a `'static` string (bounded, e.g. for metric labels);
    /// `None` for [`TovutiEvent::Unknown`].
    pub fn known_type(&self) -> Option<&'static str> {
        Some(match self {
            Self::UserCreated(_) => "user.created",
            Self::UserUpdated(_) => "user.updated",
            Self::EnrollmentCreated(_) => "enrollment.created",
            Self::CourseCompleted(_) => "course.completed",
            Self::LessonCompleted(_) => "lesson.completed",
            Self::AwardEarned(_) => "award.earned",
            Self::NoteCreated(_) => "note.created",
            Self::CallRecorded(_) => "call.recorded",
            Self::EventRegistered(_) => "event.registered",
            Self::Unknown { .. } => return None,
        })
    }

    /// The learner the event is about.
    pub fn user(&self) -> Option<&User> {
        Some(match self {
            Self::UserCreated(d) | Self::UserUpdated(d) => &d.user,
            Self::EnrollmentCreated(d) => &d.user,
            Self::CourseCompleted(d) => &d.user,
            Self::LessonCompleted(d) => &d.user,
            Self::AwardEarned(d) => &d.user,
            Self::NoteCreated(d) => &d.user,
            Self::CallRecorded(d) => &d.user,
            Self::EventRegistered(d) => &d.user,
            Self::Unknown { .. } => return None,
        })
    }

    /// The learner, to be completed where an event names them by id only.
    pub fn user_mut(&mut self) -> Option<&mut User> {
        Some(match self {
            Self::UserCreated(d) | Self::UserUpdated(d) => &mut d.user,
            Self::EnrollmentCreated(d) => &mut d.user,
            Self::CourseCompleted(d) => &mut d.user,
            Self::LessonCompleted(d) => &mut d.user,
            Self::AwardEarned(d) => &mut d.user,
            Self::NoteCreated(d) => &mut d.user,
            Self::CallRecorded(d) => &mut d.user,
            Self::EventRegistered(d) => &mut d.user,
            Self::Unknown { .. } => return None,
        })
    }

    /// The learner's id as text; for unknown types, `data.user.id` when it is there.
    fn user_id(&self) -> Option<String> {
        match self {
            Self::Unknown { data, .. } => match &data["user"]["id"] {
                Value::Number(n) => Some(n.to_string()),
                Value::String(s) => Some(s.clone()),
                _ => None,
            },
            known => known.user().map(|user| user.id.to_string()),
        }
    }
}

/// A required envelope field, read from its raw text.
fn envelope_field<T: DeserializeOwned>(
    raw: Option<&RawValue>,
    name: &'static str,
) -> Result<T, ParseError> {
    let raw = raw.ok_or_else(|| ParseError::Envelope(serde::de::Error::missing_field(name)))?;
    serde_json::from_str(raw.get()).map_err(ParseError::Envelope)
}

fn shape<T: DeserializeOwned>(event_type: &str, data: &str) -> Result<T, ParseError> {
    serde_json::from_str(data).map_err(|source| ParseError::Shape {
        event_type: event_type.to_owned(),
        source,
    })
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
