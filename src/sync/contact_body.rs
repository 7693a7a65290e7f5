//! The planned GHL fields as the bodies GHL takes: an upsert (with typed slots for the
//! standard text fields) and an update (never tags, which GHL would replace wholesale).

use serde_json::{Map, Value};

use crate::mapping::fields::GhlFields;
use crate::platforms::ghl::client::{ContactInput, ContactUpdate, CustomFieldInput};

/// The planned fields as an upsert body. Standard fields with a typed slot go there when
/// they are text; everything else is sent under its API name as planned.
pub fn contact_input(email: Option<&str>, fields: &GhlFields) -> ContactInput {
    let mut other: Map<String, Value> = fields.standard.clone().into_iter().collect();
    let mut text = |name: &str| take_text(&mut other, name);
    ContactInput {
        first_name: text("firstName"),
        last_name: text("lastName"),
        name: text("name"),
        email: email.map(str::to_owned).or_else(|| text("email")),
        phone: text("phone"),
        timezone: text("timezone"),
        source: text("source"),
        company_name: text("companyName"),
        tags: None,
        custom_fields: custom_fields(fields),
        other,
    }
}

/// The planned fields as an update body (no tags: GHL would replace them all).
pub fn contact_update(fields: &GhlFields) -> ContactUpdate {
    let mut other: Map<String, Value> = fields.standard.clone().into_iter().collect();
    let mut text = |name: &str| take_text(&mut other, name);
    ContactUpdate {
        first_name: text("firstName"),
        last_name: text("lastName"),
        name: text("name"),
        email: text("email"),
        phone: text("phone"),
        timezone: text("timezone"),
        custom_fields: custom_fields(fields),
        other,
    }
}

fn take_text(fields: &mut Map<String, Value>, name: &str) -> Option<String> {
    match fields.get(name) {
        Some(Value::String(_)) => match fields.remove(name) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

fn custom_fields(fields: &GhlFields) -> Vec<CustomFieldInput> {
    fields
        .custom_fields
        .iter()
        .map(|f| CustomFieldInput {
            id: f.id.clone(),
            key: f.key.clone(),
            field_value: f.field_value.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::mapping::write::GhlCustomFieldWrite;

    #[test]
    fn planned_fields_fill_typed_slots_and_keep_the_rest_by_name() {
        let mut fields = GhlFields::default();
        fields.standard.insert("firstName".into(), json!("Ada"));
        fields
            .standard
            .insert("dateOfBirth".into(), json!("1990-01-02"));
        fields.standard.insert("dnd".into(), json!(true));
        fields.custom_fields.push(GhlCustomFieldWrite {
            id: None,
            key: Some("contact.job_title".into()),
            field_value: json!("Engineer"),
        });
        let input = contact_input(Some("ada@example.com"), &fields);
        let body = serde_json::to_value(&input).unwrap();
        assert_eq!(
            body,
            json!({
                "firstName": "Ada",
                "email": "ada@example.com",
                "dateOfBirth": "1990-01-02",
                "dnd": true,
                "customFields": [{"key": "contact.job_title", "field_value": "Engineer"}]
            })
        );
        let update = serde_json::to_value(contact_update(&fields)).unwrap();
        assert!(update.get("email").is_none() && update.get("tags").is_none());
        assert_eq!(update["firstName"], "Ada");
    }
}
