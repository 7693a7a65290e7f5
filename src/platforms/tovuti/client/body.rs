//! The JSON body of `POST /user` and `PATCH /user/{id}` from a [`UserWrite`]: core
//! fields flattened, then only the parts the write carries.

use secrecy::ExposeSecret as _;
use serde_json::{Map, Value};

use super::UserWrite;

/// The request body; the password appears only when the write sets one.
pub(super) fn user_body(write: &UserWrite) -> Value {
    let mut body: Map<String, Value> = write
        .core
        .iter()
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    if let Some(fields) = &write.custom_fields {
        let fields = fields.iter().cloned().map(Value::Object).collect();
        body.insert("customFields".into(), Value::Array(fields));
    }
    if let Some(ids) = &write.user_group_ids {
        body.insert("userGroupIds".into(), ids_value(ids));
    }
    if let Some(ids) = &write.enrolled_course_ids {
        body.insert("enrolledCourseIds".into(), ids_value(ids));
    }
    if let Some(password) = &write.password {
        body.insert("password".into(), password.expose_secret().into());
    }
    Value::Object(body)
}

fn ids_value(ids: &[u64]) -> Value {
    Value::Array(ids.iter().map(|id| Value::from(*id)).collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_the_parts_a_write_carries_are_sent() {
        let mut write = UserWrite::default();
        write.core.insert("name".into(), json!("Ada Lovelace"));
        write.user_group_ids = Some(vec![2, 7]);
        assert_eq!(
            user_body(&write),
            json!({ "name": "Ada Lovelace", "userGroupIds": [2, 7] })
        );
    }

    #[test]
    fn a_create_carries_custom_fields_courses_and_the_password() {
        let mut field = Map::new();
        field.insert("field_id".into(), json!(19));
        field.insert("value".into(), json!("Ada"));
        let write = UserWrite {
            custom_fields: Some(vec![field]),
            enrolled_course_ids: Some(vec![5]),
            password: Some("s3cret-pass".into()),
            ..UserWrite::default()
        };
        assert_eq!(
            user_body(&write),
            json!({
                "customFields": [{ "field_id": 19, "value": "Ada" }],
                "enrolledCourseIds": [5],
                "password": "s3cret-pass",
            })
        );
    }
}
