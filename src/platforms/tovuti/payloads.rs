//! Serde types for the `data` of Tovuti webhook events.
//!
//! Tovuti publishes no webhook contract, so these shapes are the service's
//! own, documented in `docs/tovuti-webhooks.md`. Objects reuse the field names of Tovuti's REST
//! API (camelCase with snake_case `field_id`, integer ids) so a sender can
//! forward what the API returns. Every object keeps fields it does not name in `extra`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::platforms::lenient::null_as_default;

/// A Tovuti id. The API uses integers; numeric strings are accepted too because loosely typed
/// senders (spreadsheets, automations) often quote them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct TovutiId(pub u64);

impl<'de> Deserialize<'de> for TovutiId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(n) => Ok(Self(n)),
            Raw::Text(s) => s.trim().parse().map(Self).map_err(|_| {
                serde::de::Error::custom("a Tovuti id must be a non-negative integer")
            }),
        }
    }
}

impl fmt::Display for TovutiId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The user object of Tovuti's API. Only `id` is required: an event about a user may carry a
/// partial object, and the worker can read the rest from the API.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: TovutiId,
    pub name: Option<String>,
    pub email: Option<String>,
    pub username: Option<String>,
    /// `"active"` / `"disabled"` as seen from the API.
    pub status: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub custom_fields: Vec<CustomField>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub user_group_ids: Vec<TovutiId>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub enrolled_course_ids: Vec<TovutiId>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `customFields[]` item; field ids are per tenant.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct CustomField {
    pub field_id: TovutiId,
    #[serde(default)]
    pub value: Value,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Course {
    pub id: TovutiId,
    pub title: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Lesson {
    pub id: TovutiId,
    pub title: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `data` of `user.created` / `user.updated`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct UserChanged {
    pub user: User,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `data` of `enrollment.created`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Enrollment {
    pub user: User,
    pub course: Course,
    pub enrolled_at: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `data` of `course.completed`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct CourseCompleted {
    pub user: User,
    pub course: Course,
    pub completed_at: Option<String>,
    /// Final score in percent, where the course has one.
    pub score: Option<f64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `data` of `lesson.completed`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct LessonCompleted {
    pub user: User,
    pub course: Course,
    pub lesson: Lesson,
    pub completed_at: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `data` of `award.earned` (certificate, badge or points).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct AwardEarned {
    pub user: User,
    pub award: Award,
    pub course: Option<Course>,
    pub earned_at: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Award {
    pub id: TovutiId,
    pub title: Option<String>,
    /// `certificate`, `badge`, `points`, …
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub url: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `data` of `note.created`: an LMS note about the user.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct NoteCreated {
    pub user: User,
    pub note: LmsNote,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct LmsNote {
    pub id: TovutiId,
    pub body: String,
    pub author: Option<String>,
    pub created_at: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `data` of `call.recorded`: a recorded call with a link and/or transcript.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct CallRecorded {
    pub user: User,
    pub call: Call,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Call {
    pub id: TovutiId,
    pub title: Option<String>,
    pub recording_url: Option<String>,
    pub transcript: Option<String>,
    pub duration_seconds: Option<u64>,
    pub started_at: Option<String>,
    pub recorded_by: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `data` of `event.registered`: a registration for an LMS event / session.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct EventRegistered {
    pub user: User,
    pub event: LmsEvent,
    pub registration_id: Option<TovutiId>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct LmsEvent {
    pub id: TovutiId,
    pub title: Option<String>,
    /// RFC 3339 start and end of the session.
    pub start: String,
    pub end: Option<String>,
    /// A room, an address or a meeting link.
    pub location: Option<String>,
    pub timezone: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
