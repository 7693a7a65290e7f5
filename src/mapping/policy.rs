//! What a write does about a field, group or course the other side lacks (a fresh GHL
//! location or Tovuti tenant often has none of the ones a mapping names).

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
