//! What a fake tenant has defined (custom field ids, groups, courses) and the 422 a real
//! tenant answers when a write names anything else: one Laravel error per refused array
//! position, like `customFields.2.field_id` or `userGroupIds.1`.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::state::Invalid;

/// The ids a tenant knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Known {
    pub custom_fields: BTreeSet<u64>,
    pub groups: BTreeSet<u64>,
    pub courses: BTreeSet<u64>,
}

impl Known {
    /// Every unknown id in a user body, or `Ok` when it names only known ones.
    pub fn check(&self, body: &Map<String, Value>) -> Result<(), Invalid> {
        let mut errors = Vec::new();
        if let Some(fields) = body.get("customFields").and_then(Value::as_array) {
            for (i, field) in fields.iter().enumerate() {
                let id = field.get("field_id").and_then(as_id);
                if !id.is_some_and(|id| self.custom_fields.contains(&id)) {
                    let path = format!("customFields.{i}.field_id");
                    errors.push((path.clone(), format!("The selected {path} is invalid.")));
                }
            }
        }
        for (name, known) in [
            ("userGroupIds", &self.groups),
            ("enrolledCourseIds", &self.courses),
        ] {
            let Some(ids) = body.get(name).and_then(Value::as_array) else {
                continue;
            };
            for (i, id) in ids.iter().enumerate() {
                if !as_id(id).is_some_and(|id| known.contains(&id)) {
                    let path = format!("{name}.{i}");
                    errors.push((path.clone(), format!("The selected {path} is invalid.")));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Invalid { errors })
        }
    }
}

/// Tovuti sends ids as numbers or numeric strings.
fn as_id(value: &Value) -> Option<u64> {
    value
        .as_u64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
}
