//! The writers: a canonical mapped state → the fields to send to GHL (`{id | key,
//! field_value}` custom fields) or to Tovuti (core fields and the full custom-field array).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::fields::{Canonical, NAME, label};
use super::model::{FieldPair, GhlRef, TovutiRef};
use super::transform::split_name;
use super::validate::Mapping;
use super::value::FieldType;
use crate::platforms::tovuti::payloads::User;

/// GHL contact fields to write: standard fields by name, custom fields in the write shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GhlFields {
    pub standard: BTreeMap<String, Value>,
    #[serde(rename = "customFields")]
    pub custom_fields: Vec<GhlCustomFieldWrite>,
}

/// `{id | key, field_value}`: the shape GHL takes on create/update/upsert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GhlCustomFieldWrite {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub field_value: Value,
}

impl GhlFields {
    pub fn is_empty(&self) -> bool {
        self.standard.is_empty() && self.custom_fields.is_empty()
    }

    pub fn set(&mut self, r: &GhlRef, v: Value) {
        match r {
            GhlRef::Standard(n) => {
                self.standard.insert(n.clone(), v);
            }
            GhlRef::Custom(c) => self.custom_fields.push(GhlCustomFieldWrite {
                id: c.id.clone(),
                key: if c.id.is_some() { None } else { c.key.clone() },
                field_value: if v.is_null() {
                    Value::String(String::new())
                } else {
                    v
                },
            }),
        }
    }
}

/// Writes the chosen labels of a canonical state as GHL contact fields.
pub fn to_ghl(m: &Mapping, state: &Canonical, labels: &[String]) -> GhlFields {
    let mut out = GhlFields::default();
    if labels.iter().any(|l| l == NAME) {
        let (first, last) = match state.get(NAME) {
            Some(Value::String(s)) => split_name(s),
            _ => (None, None),
        };
        let text = |p: Option<String>| Value::String(p.unwrap_or_default());
        out.standard.insert("firstName".to_owned(), text(first));
        out.standard.insert("lastName".to_owned(), text(last));
    }
    for pair in m.file.fields.iter().filter(|p| labels.contains(&label(p))) {
        if let Some(v) = state.get(&label(pair)) {
            out.set(&pair.ghl, ghl_value(pair, v));
        }
    }
    out
}

fn ghl_value(pair: &FieldPair, v: &Value) -> Value {
    match v {
        Value::String(s) => pair
            .map
            .get(s)
            .map_or_else(|| v.clone(), |to| Value::String(to.clone())),
        other => other.clone(),
    }
}

/// Tovuti user fields to write: core fields by name, and the full custom-field array.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TovutiFields {
    pub core: BTreeMap<String, Value>,
    /// Every custom field of the user (Tovuti may need the whole array on PATCH), changed
    /// values replaced; `title`/`type` kept from what the user had.
    #[serde(rename = "customFields")]
    pub custom_fields: Vec<Map<String, Value>>,
    /// False when the user's current custom fields were not known, so the array holds only
    /// the changed fields and the caller must merge it into the user it reads first.
    pub custom_fields_complete: bool,
}

impl TovutiFields {
    /// Starts from what the user has now.
    pub fn from_known(known: Option<&User>) -> Self {
        let custom_fields = known.map_or_else(Vec::new, |u| {
            u.custom_fields
                .iter()
                .map(|f| {
                    let mut obj = f.extra.clone();
                    obj.insert("field_id".to_owned(), Value::from(f.field_id.0));
                    obj.insert("value".to_owned(), f.value.clone());
                    obj
                })
                .collect()
        });
        Self {
            core: BTreeMap::new(),
            custom_fields,
            custom_fields_complete: known.is_some(),
        }
    }

    pub fn has_changes(&self, known: Option<&User>) -> bool {
        !self.core.is_empty() || *self != Self::from_known(known)
    }

    pub fn set(&mut self, r: &TovutiRef, v: Value) {
        match r {
            TovutiRef::Core(n) => {
                self.core.insert(n.clone(), v);
            }
            TovutiRef::Custom(c) => {
                // A name the tenant's list did not resolve goes without an id; the
                // write leaves it out and records it as skipped.
                let id = c.field_id.map_or(Value::Null, Value::from);
                let name = c.name.as_ref().filter(|_| c.field_id.is_none());
                match self
                    .custom_fields
                    .iter_mut()
                    .find(|f| !id.is_null() && f.get("field_id") == Some(&id))
                {
                    Some(f) => {
                        f.insert("value".to_owned(), v);
                    }
                    None => {
                        let mut obj = Map::new();
                        match name {
                            Some(name) => obj.insert("name".to_owned(), Value::from(name.clone())),
                            None => obj.insert("field_id".to_owned(), id),
                        };
                        obj.insert("value".to_owned(), v);
                        self.custom_fields.push(obj);
                    }
                }
            }
        }
    }
}

/// Writes the chosen labels of a canonical state into Tovuti fields.
pub fn to_tovuti(m: &Mapping, state: &Canonical, labels: &[String], out: &mut TovutiFields) {
    if let (Some(name), true) = (&m.file.name, labels.iter().any(|l| l == NAME)) {
        let v = state.get(NAME).cloned().unwrap_or(Value::Null);
        out.set(
            &name.tovuti,
            if v.is_null() {
                Value::String(String::new())
            } else {
                v
            },
        );
    }
    for pair in m.file.fields.iter().filter(|p| labels.contains(&label(p))) {
        let Some(v) = state.get(&label(pair)) else {
            continue;
        };
        let sep = pair.separator.as_deref().unwrap_or(&m.list_separator);
        let written = match v {
            Value::Null => Value::String(String::new()),
            Value::Array(items) if pair.ty == FieldType::List => Value::String(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(sep),
            ),
            other => other.clone(),
        };
        out.set(&pair.tovuti, written);
    }
}
