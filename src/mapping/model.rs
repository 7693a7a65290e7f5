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
    /// `[lms]`: what Tovuti events do in GHL (the file's key predates the naming here).
    #[serde(default, rename = "lms")]
    pub tovuti: TovutiRules,
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

/// `[lms]` and `[ghl]`: what each platform's events do on the other.
pub use super::rules::{
    AppointmentRule, ContactDeleted, ContactRule, CourseRule, GhlRules, Milestone, MilestoneRule,
    NoteOn, NoteRule, Summaries, SummaryRule, TagRemoved, TagRule, TaskAction, TovutiRules,
    parse_due_in,
};
