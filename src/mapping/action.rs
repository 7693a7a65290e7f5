//! Planned actions: what the sync engine should do on each platform, typed, each with an
//! idempotency key derived from the event, the rule and the action.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::fields::{GhlFields, TovutiFields};
pub use super::model::AutomationRef;

/// Which GHL contact an action is about: the linked id, or the one the plan's upsert finds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactRef {
    Id(String),
    /// The contact upserted by email earlier in the same plan.
    Email(String),
}

/// Which Tovuti user an action is about: the linked id, or the one created in the same plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UserRef {
    Id(u64),
    Email(String),
}

/// A GHL task as the templates rendered it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskBody {
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(rename = "dueDate")]
    pub due_date: String,
    #[serde(rename = "assignedTo", skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
    pub completed: bool,
}

/// A GHL appointment (calendar event) as the templates rendered it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppointmentBody {
    pub calendar_id: String,
    pub title: String,
    pub start_time: String,
    pub end_time: String,
    pub appointment_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One thing to do. `key` is the idempotency key: a retried or replayed event plans the same
/// key, so the engine can find what an earlier attempt did instead of doing it twice.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// POST /contacts/upsert by email (also how the link is found for a new user).
    UpsertContact {
        key: String,
        contact: ContactRef,
        email: String,
        fields: GhlFields,
    },
    /// PUT /contacts/{id}: field changes for a linked contact.
    UpdateContact {
        key: String,
        contact: ContactRef,
        fields: GhlFields,
    },
    AddTags {
        key: String,
        contact: ContactRef,
        tags: Vec<String>,
    },
    RemoveTags {
        key: String,
        contact: ContactRef,
        tags: Vec<String>,
    },
    AddToCampaign {
        key: String,
        contact: ContactRef,
        campaign: AutomationRef,
    },
    AddToWorkflow {
        key: String,
        contact: ContactRef,
        workflow: AutomationRef,
    },
    /// `task_key` names the task across events; the engine maps it to the GHL task id.
    CreateTask {
        key: String,
        contact: ContactRef,
        task_key: String,
        task: TaskBody,
    },
    /// Update the task created under `task_key` (create it when none exists).
    UpdateTask {
        key: String,
        contact: ContactRef,
        task_key: String,
        task: TaskBody,
    },
    /// Mark the task under `task_key` completed (create it completed when none exists).
    CompleteTask {
        key: String,
        contact: ContactRef,
        task_key: String,
        task: TaskBody,
    },
    CreateNote {
        key: String,
        contact: ContactRef,
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        body: String,
    },
    /// Create the appointment under `appointment_key`, or update it if it exists.
    UpsertAppointment {
        key: String,
        contact: ContactRef,
        appointment_key: String,
        appointment: AppointmentBody,
    },
    /// Create the Tovuti user (username = email; the engine sets a random password and
    /// `requireReset`), with groups and enrollments.
    CreateTovutiUser {
        key: String,
        email: String,
        fields: TovutiFields,
        group_ids: Vec<u64>,
        enrolled_course_ids: Vec<u64>,
    },
    /// PATCH the Tovuti user with core fields and the full custom-field array.
    PatchTovutiUser {
        key: String,
        user: UserRef,
        fields: TovutiFields,
    },
    Enroll {
        key: String,
        user: UserRef,
        course_ids: Vec<u64>,
    },
    Unenroll {
        key: String,
        user: UserRef,
        course_ids: Vec<u64>,
    },
    AddToGroups {
        key: String,
        user: UserRef,
        group_ids: Vec<u64>,
    },
    RemoveFromGroups {
        key: String,
        user: UserRef,
        group_ids: Vec<u64>,
    },
    /// Forget the Tovuti user ↔ GHL contact link.
    Unlink {
        key: String,
        contact_id: String,
        user_id: Option<u64>,
    },
    /// Set the Tovuti user's status to `disabled`.
    DeactivateTovutiUser { key: String, user: UserRef },
}

impl Action {
    pub fn key(&self) -> &str {
        match self {
            Self::UpsertContact { key, .. }
            | Self::UpdateContact { key, .. }
            | Self::AddTags { key, .. }
            | Self::RemoveTags { key, .. }
            | Self::AddToCampaign { key, .. }
            | Self::AddToWorkflow { key, .. }
            | Self::CreateTask { key, .. }
            | Self::UpdateTask { key, .. }
            | Self::CompleteTask { key, .. }
            | Self::CreateNote { key, .. }
            | Self::UpsertAppointment { key, .. }
            | Self::CreateTovutiUser { key, .. }
            | Self::PatchTovutiUser { key, .. }
            | Self::Enroll { key, .. }
            | Self::Unenroll { key, .. }
            | Self::AddToGroups { key, .. }
            | Self::RemoveFromGroups { key, .. }
            | Self::Unlink { key, .. }
            | Self::DeactivateTovutiUser { key, .. } => key,
        }
    }

    /// The action's name as serialized (`upsert_contact`, …).
    pub fn name(&self) -> String {
        match serde_json::to_value(self) {
            Ok(Value::Object(o)) => o
                .get("action")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            _ => String::new(),
        }
    }
}

/// `<action>:<32 hex>` from the event id, the rule and the action (and a detail such as a
/// course id, when one rule plans several actions of one kind).
pub fn idempotency_key(event_id: &str, rule: &str, action: &str, detail: &str) -> String {
    let mut h = Sha256::new();
    for part in [event_id, rule, action, detail] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let digest = hex::encode(h.finalize());
    format!("{action}:{}", &digest[..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_depend_on_every_part_and_nothing_else() {
        let k = idempotency_key("evt", "rule", "add_tags", "");
        assert_eq!(k, idempotency_key("evt", "rule", "add_tags", ""));
        assert!(k.starts_with("add_tags:"));
        assert_ne!(k, idempotency_key("evt2", "rule", "add_tags", ""));
        assert_ne!(k, idempotency_key("evt", "rule2", "add_tags", ""));
        assert_ne!(k, idempotency_key("evt", "rule", "add_tags", "x"));
        // The separator keeps ("ab","c") and ("a","bc") apart.
        assert_ne!(
            idempotency_key("ab", "c", "x", ""),
            idempotency_key("a", "bc", "x", "")
        );
    }
}
