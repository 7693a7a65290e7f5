//! The mapping file as written (TOML): serde types with `deny_unknown_fields`, before the
//! cross-field checks in `validate`. The shipped `config/mapping.example.toml` documents every key.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::transform::Transform;
use super::value::FieldType;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingFile {
    /// Format version; only 1 exists.
    pub version: Option<u32>,
    #[serde(default)]
    pub settings: Settings,
    #[serde(default)]
    pub identity: Identity,
    /// Tovuti's one full-name field against GHL's first and last name.
    pub name: Option<NamePair>,
    #[serde(default)]
    pub extra: Extra,
    #[serde(default)]
    pub fields: Vec<FieldPair>,
    /// A Tovuti field value shown as a GHL tag (e.g. status `disabled` ↔ tag `lms:disabled`).
    #[serde(default)]
    pub tag_values: Vec<TagValue>,
    #[serde(default)]
    pub lms: LmsRules,
    #[serde(default)]
    pub ghl: GhlRules,
}

/// `[settings]`: kept with the policies it holds.
pub use super::policy::Settings;

/// A GHL contact field: a standard field by name, or a custom field by id and/or key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(
    untagged,
    expecting = "expected a GHL contact field name, or { id = \"…\", key = \"contact.…\" }"
)]
pub enum GhlRef {
    Standard(String),
    Custom(GhlCustomRef),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GhlCustomRef {
    /// Needed to read the field: GHL webhooks carry custom fields as `{id, value}` only.
    pub id: Option<String>,
    /// `fieldKey`, e.g. `contact.job_title`; enough to write.
    pub key: Option<String>,
}

/// A Tovuti user field: a core field by name, or a custom profile field by `name` (its
/// label in the tenant) and/or `field_id`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(
    untagged,
    expecting = "expected a Tovuti user field name, or { name = \"Job title\" } / { field_id = 19 }"
)]
pub enum TovutiRef {
    Core(String),
    Custom(TovutiCustomRef),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TovutiCustomRef {
    /// Ids differ per tenant; a `name` alone is resolved to it through the tenant's list.
    pub field_id: Option<u64>,
    /// The field's label in the tenant, compared ignoring case.
    pub name: Option<String>,
}

pub use super::automations::AutomationRef;
pub use super::tovuti_names::{TovutiItem, same_name};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    Both,
    ToGhl,
    ToTovuti,
}

impl Direction {
    pub fn writes_ghl(self) -> bool {
        matches!(self, Self::Both | Self::ToGhl)
    }
    pub fn writes_tovuti(self) -> bool {
        matches!(self, Self::Both | Self::ToTovuti)
    }
}

/// What to write when the source has no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingPolicy {
    /// Leave the target as it is.
    #[default]
    Skip,
    /// Empty the target.
    Clear,
    /// Write `default`.
    Default,
}

/// One field on one side paired with one field on the other.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldPair {
    pub ghl: GhlRef,
    pub tovuti: TovutiRef,
    #[serde(default, rename = "type")]
    pub ty: FieldType,
    #[serde(default)]
    pub direction: Direction,
    #[serde(default)]
    pub missing: MissingPolicy,
    pub default: Option<toml::Value>,
    #[serde(default)]
    pub transforms: Vec<Transform>,
    /// Tovuti value → GHL value (e.g. `active = "Active"`); read back through its inverse.
    #[serde(default)]
    pub map: BTreeMap<String, String>,
    /// For `list` values kept as text; overrides `settings.list_separator`.
    pub separator: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamePair {
    /// Where Tovuti keeps the full name: the core `name`, or a custom field.
    pub tovuti: TovutiRef,
    #[serde(default)]
    pub direction: Direction,
}

/// The GHL `tag` is on the contact exactly while the Tovuti field holds `value`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagValue {
    pub tovuti: TovutiRef,
    /// Compared trimmed and case-insensitively.
    pub value: String,
    pub tag: String,
    /// Written to Tovuti when the tag is removed in GHL; needed when the rule writes Tovuti.
    pub otherwise: Option<String>,
    /// Default `to_ghl`: the LMS decides, GHL shows it.
    #[serde(default = "to_ghl")]
    pub direction: Direction,
}

fn to_ghl() -> Direction {
    Direction::ToGhl
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtraMode {
    #[default]
    Ignore,
    /// Compact JSON object of the unmapped fields.
    Json,
    /// One `key: value` line per unmapped field.
    Lines,
}

/// What happens to fields no pair covers.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extra {
    #[serde(default)]
    pub mode: ExtraMode,
    /// GHL custom field that receives unmapped Tovuti fields.
    pub ghl: Option<GhlRef>,
    /// Tovuti custom field that receives unmapped GHL fields.
    pub tovuti: Option<TovutiRef>,
}

/// Email is always the join key; these optionally record each side's id on the other.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    pub tovuti_user_id_in_ghl: Option<GhlRef>,
    pub ghl_contact_id_in_tovuti: Option<TovutiRef>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LmsRules {
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
