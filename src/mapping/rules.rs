//! The `[lms]` and `[ghl]` sections of the mapping file as written: which Tovuti events
//! tag, enrol, task and note the GHL contact, and which GHL tags and deletions act on the
//! Tovuti user. Part of [`super::model`], which re-exports every type.

use serde::{Deserialize, Serialize};

use super::model::TovutiRef;
use super::tovuti_names::TovutiItem;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TovutiRules {
    pub user_created: Option<ContactRule>,
    pub enrollment_created: Option<ContactRule>,
    #[serde(default)]
    pub courses: Vec<CourseRule>,
    #[serde(default)]
    pub milestones: Vec<MilestoneRule>,
    #[serde(default)]
    pub notes: Vec<NoteRule>,
    pub event_registered: Option<AppointmentRule>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactRule {
    /// Templates; a tag that renders empty is dropped.
    #[serde(default)]
    pub tags: Vec<String>,
    pub campaign_id: Option<String>,
    pub workflow_id: Option<String>,
    /// By name, looked up in the location's campaign list (ids differ per location).
    pub campaign: Option<String>,
    /// By name, looked up in the location's workflow list.
    pub workflow: Option<String>,
}

/// Per-course additions to `enrollment_created`; its campaign/workflow replace the default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourseRule {
    #[serde(alias = "course")]
    pub course_id: TovutiItem,
    #[serde(default)]
    pub tags: Vec<String>,
    pub campaign_id: Option<String>,
    pub workflow_id: Option<String>,
    pub campaign: Option<String>,
    pub workflow: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
pub enum Milestone {
    #[serde(rename = "course.completed")]
    CourseCompleted,
    #[serde(rename = "lesson.completed")]
    LessonCompleted,
    #[serde(rename = "award.earned")]
    AwardEarned,
    /// Course progress reached `threshold` percent.
    #[serde(rename = "progress")]
    Progress,
}

impl Milestone {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CourseCompleted => "course.completed",
            Self::LessonCompleted => "lesson.completed",
            Self::AwardEarned => "award.earned",
            Self::Progress => "progress",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskAction {
    #[default]
    Create,
    Update,
    Complete,
}

/// A learner milestone becomes a task on the GHL contact.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MilestoneRule {
    /// Stable rule name for idempotency keys; defaults to `lms.milestones[N]`.
    pub id: Option<String>,
    pub on: Milestone,
    #[serde(alias = "course")]
    pub course_id: Option<TovutiItem>,
    pub threshold: Option<f64>,
    #[serde(default)]
    pub action: TaskAction,
    /// Template naming the task across events, so a later rule can update or complete it.
    pub task_key: Option<String>,
    pub title: String,
    pub body: Option<String>,
    /// Offset from the event time: `3d`, `12h`, `30m`.
    pub due_in: Option<String>,
    /// GHL user id.
    pub assignee: Option<String>,
    /// GHL tasks have neither; both reach the templates as `priority` / `status`.
    pub priority: Option<String>,
    pub status: Option<String>,
}

/// Parses a due offset (`3d`, `12h`, `30m`) into seconds.
pub fn parse_due_in(text: &str) -> Option<i64> {
    let t = text.trim();
    let unit = t.chars().last()?;
    let n: i64 = t[..t.len() - unit.len_utf8()].trim().parse().ok()?;
    let scale = match unit {
        'd' => 86_400,
        'h' => 3_600,
        'm' => 60,
        _ => return None,
    };
    (n >= 0).then(|| n.checked_mul(scale)).flatten()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum NoteOn {
    #[serde(rename = "note.created")]
    NoteCreated,
    #[serde(rename = "call.recorded")]
    CallRecorded,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteRule {
    pub id: Option<String>,
    pub on: NoteOn,
    /// Only notes of this kind (Tovuti note type), when set.
    pub kind: Option<String>,
    pub title: Option<String>,
    pub body: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppointmentRule {
    pub calendar_id: String,
    pub title: String,
    pub notes: Option<String>,
    /// GHL `appointmentStatus` (default `confirmed`).
    pub status: Option<String>,
    pub assigned_user_id: Option<String>,
    /// Used when the registration has no end time (default 60).
    pub default_duration_minutes: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactDeleted {
    #[default]
    Ignore,
    Unlink,
    Deactivate,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GhlRules {
    /// A `ContactCreate` for an unknown email creates the Tovuti user (default: only tag rules do).
    #[serde(default)]
    pub create_users: bool,
    /// Groups every user created from GHL joins (Tovuti needs "Registered" to log in).
    #[serde(default, alias = "new_user_groups")]
    pub new_user_group_ids: Vec<TovutiItem>,
    #[serde(default)]
    pub contact_deleted: ContactDeleted,
    #[serde(default)]
    pub tags: Vec<TagRule>,
    #[serde(default)]
    pub summaries: Summaries,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TagRemoved {
    #[default]
    Ignore,
    /// Unenroll from the courses and leave the groups the tag gave.
    Reverse,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagRule {
    pub tag: String,
    #[serde(default = "yes")]
    pub create_user: bool,
    #[serde(default, alias = "enroll_courses")]
    pub enroll_course_ids: Vec<TovutiItem>,
    #[serde(default, alias = "groups")]
    pub group_ids: Vec<TovutiItem>,
    #[serde(default)]
    pub on_remove: TagRemoved,
}

fn yes() -> bool {
    true
}

/// Optional summaries of the contact's CRM activity written into Tovuti custom fields.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summaries {
    pub open_tasks: Option<SummaryRule>,
    pub last_note: Option<SummaryRule>,
    pub next_appointment: Option<SummaryRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryRule {
    pub tovuti: TovutiRef,
    pub template: String,
}
