//! The mapping's `[settings]`, among them what a write does about a field, group or
//! course the other side lacks (a fresh GHL location or Tovuti tenant often has none of
//! the ones a mapping names).

use serde::Deserialize;

/// `settings.on_missing` in the mapping file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnMissing {
    /// Leave the item out, write the rest, and record what was skipped.
    #[default]
    Skip,
    /// Fail the event (it goes `dead` naming the item) so a person fixes the mapping or
    /// the platform first.
    Fail,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// ISO 3166 country for phone numbers written without `+country` (default `US`).
    pub default_phone_country: Option<String>,
    /// Separator of `list` values stored as text (default `,`).
    pub list_separator: Option<String>,
    /// A field, group or course the other side lacks: `skip` (default) or `fail`.
    pub on_missing: OnMissing,
}
