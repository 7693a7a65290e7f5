//! The `extra` rule: fields no pair covers, carried into one custom field on the other side
//! as compact JSON or as `key: value` lines.

use serde_json::{Map, Value};

use super::model::{ExtraMode, GhlRef, TovutiRef};
use super::validate::Mapping;
use crate::platforms::ghl::payloads::Contact;
use crate::platforms::tovuti::payloads::User;

/// Unmapped Tovuti custom fields, by title (or `field_<id>`), rendered per `extra.mode`.
pub fn tovuti_extra(m: &Mapping, user: &User) -> Option<String> {
    let mapped = |id: u64| {
        let pairs = m.file.fields.iter().map(|p| &p.tovuti);
        let others = [
            m.file.name.as_ref().map(|n| &n.tovuti),
            m.file.identity.ghl_contact_id_in_tovuti.as_ref(),
            m.file.extra.tovuti.as_ref(),
        ];
        pairs
            .chain(others.into_iter().flatten())
            .any(|r| matches!(r, TovutiRef::Custom(c) if c.field_id == Some(id)))
    };
    let mut out = Map::new();
    for f in user.custom_fields.iter().filter(|f| !mapped(f.field_id.0)) {
        if super::value::is_missing(&f.value) {
            continue;
        }
        let name = f
            .extra
            .get("title")
            .and_then(Value::as_str)
            .map_or_else(|| format!("field_{}", f.field_id.0), str::to_owned);
        out.insert(name, f.value.clone());
    }
    render(m.file.extra.mode, &out)
}

/// Unmapped GHL custom fields, by id, rendered per `extra.mode`.
pub fn ghl_extra(m: &Mapping, contact: &Contact) -> Option<String> {
    let mapped = |id: &str| {
        let pairs = m.file.fields.iter().map(|p| &p.ghl);
        let others = [
            m.file.identity.tovuti_user_id_in_ghl.as_ref(),
            m.file.extra.ghl.as_ref(),
        ];
        pairs
            .chain(others.into_iter().flatten())
            .any(|r| matches!(r, GhlRef::Custom(c) if c.id.as_deref() == Some(id)))
    };
    let mut out = Map::new();
    for f in contact.custom_fields.iter().filter(|f| !mapped(&f.id)) {
        if !super::value::is_missing(&f.value) {
            out.insert(f.id.clone(), f.value.clone());
        }
    }
    render(m.file.extra.mode, &out)
}

fn render(mode: ExtraMode, fields: &Map<String, Value>) -> Option<String> {
    if fields.is_empty() {
        return None;
    }
    match mode {
        ExtraMode::Ignore => None,
        // A Map keeps its keys sorted (serde_json without preserve_order), so this is stable.
        ExtraMode::Json => serde_json::to_string(fields).ok(),
        ExtraMode::Lines => Some(
            fields
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => format!("{k}: {s}"),
                    other => format!("{k}: {other}"),
                })
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn extra_renders_as_sorted_json_or_lines() {
        let mut f = Map::new();
        f.insert("b".to_owned(), json!(2));
        f.insert("a".to_owned(), json!("x"));
        assert_eq!(
            render(ExtraMode::Json, &f).as_deref(),
            Some(r#"{"a":"x","b":2}"#)
        );
        assert_eq!(render(ExtraMode::Lines, &f).as_deref(), Some("a: x\nb: 2"));
        assert_eq!(render(ExtraMode::Ignore, &f), None);
        assert_eq!(render(ExtraMode::Json, &Map::new()), None);
    }
}
