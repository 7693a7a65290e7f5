//! What is remembered of each polled Tovuti entity: its key, the digest of the fields that
//! matter and a per-entity change sequence. Shared by the poller (which diffs against it)
//! and the sync engine (which records what a pushed webhook already delivered).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::client::{Award, CourseProgress};
use super::payloads::{TovutiId, User};

/// User fields that change without anything worth syncing (activity stamps); left out of
/// the digest so a login does not become a `user.updated`.
const VOLATILE_USER_FIELDS: &[&str] = &[
    "lastLogin",
    "lastLoginAt",
    "lastLoginDate",
    "lastActivity",
    "lastActivityAt",
    "lastAccess",
    "updatedAt",
    "modifiedAt",
    "modified",
];

pub fn user_key(id: TovutiId) -> String {
    format!("tovuti-user:{id}")
}

pub fn progress_key(user: TovutiId, course: TovutiId) -> String {
    format!("tovuti-progress:{user}:{course}")
}

pub fn award_key(user: TovutiId, award: TovutiId) -> String {
    format!("tovuti-award:{user}:{award}")
}

/// The user as the API returns it, minus activity stamps.
pub fn user_digest(user: &User) -> String {
    let mut value = serde_json::to_value(user).unwrap_or(Value::Null);
    if let Value::Object(fields) = &mut value {
        for volatile in VOLATILE_USER_FIELDS {
            fields.remove(*volatile);
        }
    }
    digest(&value)
}

pub fn progress_digest(progress: &CourseProgress) -> String {
    digest(&serde_json::to_value(progress).unwrap_or(Value::Null))
}

pub fn award_digest(award: &Award) -> String {
    digest(&serde_json::to_value(award).unwrap_or(Value::Null))
}

/// Hex SHA-256 of the value as JSON; object keys are sorted (`serde_json`'s map is a
/// `BTreeMap`), so equal states hash alike whatever order the API sent.
fn digest(value: &Value) -> String {
    hex::encode(Sha256::digest(value.to_string().as_bytes()))
}

/// The `state` column of a poll snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct SnapshotState {
    /// Bumped at each change seen, so A → B → A are three distinct changes.
    pub seq: u64,
    /// Whether events for the state under this `seq` were queued (a baseline is not).
    pub emitted: bool,
    /// Progress only: whether the course was complete, to see it become complete.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub completed: bool,
}

impl SnapshotState {
    /// Reads a stored state; an unreadable one counts as sequence 0, never emitted.
    pub fn from_json(value: &Value) -> Self {
        serde_json::from_value(value.clone()).unwrap_or_default()
    }

    pub fn to_json(self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(value: Value) -> User {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_login_stamp_does_not_change_the_user_digest() {
        let a = user(json!({"id": 1, "email": "a@example.com", "lastLogin": "2026-01-01"}));
        let b = user(json!({"id": 1, "email": "a@example.com", "lastLogin": "2026-02-01"}));
        assert_eq!(user_digest(&a), user_digest(&b));
    }

    #[test]
    fn any_other_field_changes_the_user_digest() {
        let a = user(json!({"id": 1, "email": "a@example.com", "firstName": "A"}));
        let b = user(json!({"id": 1, "email": "a@example.com", "firstName": "B"}));
        assert_ne!(user_digest(&a), user_digest(&b));
    }

    #[test]
    fn a_state_round_trips_and_garbage_reads_as_new() {
        let state = SnapshotState {
            seq: 3,
            emitted: true,
            completed: true,
        };
        assert_eq!(SnapshotState::from_json(&state.to_json()), state);
        assert_eq!(
            SnapshotState::from_json(&json!("nonsense")),
            SnapshotState::default()
        );
    }
}
