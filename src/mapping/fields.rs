//! The field pairs applied: either platform's record → the canonical mapped state (one value per
//! pair, in the same form whichever side it came from) → the fields to write on the other side.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::model::{
    Direction, FieldPair, GhlRef, MissingPolicy, TovutiCustomRef, TovutiRef, same_name,
};
use super::transform::{self, join_name};
use super::validate::Mapping;
use super::value::{self, TypeOptions};
use crate::platforms::ghl::payloads::Contact;
use crate::platforms::tovuti::payloads::{CustomField, User};

pub use super::write::{GhlCustomFieldWrite, GhlFields, TovutiFields, to_ghl, to_tovuti};

/// The mapped state: pair label → canonical value (`null` = explicitly cleared).
pub type Canonical = BTreeMap<String, Value>;

/// Label of the name pair in the canonical state.
pub const NAME: &str = "name";

/// A value that did not convert; the rest of the record is still mapped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

/// Which platform a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Ghl,
    Tovuti,
}

/// Stable label of a pair: both of its ends, e.g. `email=email`, `contact.job_title=field:25`.
pub fn label(pair: &FieldPair) -> String {
    format!("{}={}", ghl_label(&pair.ghl), tovuti_label(&pair.tovuti))
}

pub fn ghl_label(r: &GhlRef) -> String {
    match r {
        GhlRef::Standard(n) => n.clone(),
        GhlRef::Custom(c) => c.key.clone().or_else(|| c.id.clone()).unwrap_or_default(),
    }
}

pub fn tovuti_label(r: &TovutiRef) -> String {
    match r {
        TovutiRef::Core(n) => n.clone(),
        TovutiRef::Custom(c) => format!("field:{}", c.label()),
    }
}

fn opts<'a>(m: &'a Mapping, pair: &'a FieldPair) -> TypeOptions<'a> {
    TypeOptions {
        phone_country: m.phone_country,
        list_separator: pair.separator.as_deref().unwrap_or(&m.list_separator),
    }
}

/// Reads a GHL field from a contact: standard fields by their webhook name, custom by id.
pub fn read_ghl(contact: &Contact, r: &GhlRef) -> Value {
    read_ghl_in(
        contact,
        &serde_json::to_value(contact).unwrap_or_default(),
        r,
    )
}

/// As [`read_ghl`], with the contact already serialized (standard fields are read by name).
fn read_ghl_in(contact: &Contact, as_json: &Value, r: &GhlRef) -> Value {
    match r {
        GhlRef::Standard(name) => as_json.get(name).cloned().unwrap_or(Value::Null),
        GhlRef::Custom(c) => contact
            .custom_fields
            .iter()
            .find(|f| c.id.as_deref() == Some(f.id.as_str()))
            .map_or(Value::Null, |f| f.value.clone()),
    }
}

/// Reads a Tovuti field from a user: core fields by API name, custom by `field_id`.
pub fn read_tovuti(user: &User, r: &TovutiRef) -> Value {
    read_tovuti_in(user, &serde_json::to_value(user).unwrap_or_default(), r)
}

/// As [`read_tovuti`], with the user already serialized (core fields are read by name).
fn read_tovuti_in(user: &User, as_json: &Value, r: &TovutiRef) -> Value {
    match r {
        TovutiRef::Core(name) => as_json.get(name).cloned().unwrap_or(Value::Null),
        TovutiRef::Custom(c) => user
            .custom_fields
            .iter()
            .find(|f| names_custom_field(c, f))
            .map_or(Value::Null, |f| f.value.clone()),
    }
}

/// A ref with an id matches that id; a name not resolved yet matches the field's title.
fn names_custom_field(r: &TovutiCustomRef, field: &CustomField) -> bool {
    match (r.field_id, &r.name) {
        (Some(id), _) => field.field_id.0 == id,
        (None, Some(name)) => field
            .extra
            .get("title")
            .and_then(Value::as_str)
            .is_some_and(|title| same_name(title, name)),
        (None, None) => false,
    }
}

/// The Tovuti user id a GHL contact carries in `identity.tovuti_user_id_in_ghl`, if any: how
/// the engine can find the link of a contact that the service created.
pub fn tovuti_id_in_ghl(m: &Mapping, contact: &Contact) -> Option<u64> {
    let r = m.file.identity.tovuti_user_id_in_ghl.as_ref()?;
    match read_ghl(contact, r) {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The GHL contact id a Tovuti user carries in `identity.ghl_contact_id_in_tovuti`, if any.
pub fn ghl_id_in_tovuti(m: &Mapping, user: &User) -> Option<String> {
    let r = m.file.identity.ghl_contact_id_in_tovuti.as_ref()?;
    match read_tovuti(user, r) {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

/// Canonical value of one pair from a raw value read on `side`; `None` when absent.
pub fn canonical_value(
    m: &Mapping,
    pair: &FieldPair,
    side: Side,
    raw: &Value,
) -> Result<Option<Value>, String> {
    canonical_value_with(m, pair, side, raw, true)
}

/// As [`canonical_value`]; `fill = false` leaves a missing value absent instead of applying
/// the pair's `missing` policy, to see what a target really holds.
fn canonical_value_with(
    m: &Mapping,
    pair: &FieldPair,
    side: Side,
    raw: &Value,
    fill: bool,
) -> Result<Option<Value>, String> {
    let raw = match (side, raw) {
        (Side::Ghl, Value::String(s)) if !pair.map.is_empty() && !value::is_missing(raw) => {
            let found = pair.map.iter().find(|(_, to)| to.as_str() == s.trim());
            match found {
                Some((from, _)) => Value::String(from.clone()),
                // The value is left out of the message: it may be personal data.
                None => return Err("not one of the values in the pair's `map`".to_owned()),
            }
        }
        _ => raw.clone(),
    };
    let normalized = value::normalize(pair.ty, &raw, opts(m, pair)).map_err(|e| e.to_string())?;
    let found = match normalized {
        Some(v) => Some(v),
        None if fill => missing_value(m, pair)?,
        None => None,
    };
    Ok(found.map(|v| transform::apply(&pair.transforms, v)))
}

fn missing_value(m: &Mapping, pair: &FieldPair) -> Result<Option<Value>, String> {
    match pair.missing {
        MissingPolicy::Skip => Ok(None),
        MissingPolicy::Clear => Ok(Some(Value::Null)),
        MissingPolicy::Default => {
            let raw = pair
                .default
                .as_ref()
                .and_then(|d| serde_json::to_value(d).ok())
                .unwrap_or(Value::Null);
            value::normalize(pair.ty, &raw, opts(m, pair)).map_err(|e| e.to_string())
        }
    }
}

/// The canonical mapped state of a GHL contact, missing values filled per each pair's
/// `missing` policy (the form fingerprints are taken in).
pub fn from_ghl(m: &Mapping, contact: &Contact) -> (Canonical, Vec<FieldProblem>) {
    ghl_state(m, contact, true)
}

/// What a GHL contact really holds, missing values left absent: what writes are diffed against.
pub fn held_by_ghl(m: &Mapping, contact: &Contact) -> Canonical {
    ghl_state(m, contact, false).0
}

fn ghl_state(m: &Mapping, contact: &Contact, fill: bool) -> (Canonical, Vec<FieldProblem>) {
    let name = m.file.name.as_ref().and_then(|_| {
        let first = contact.first_name.as_deref();
        let last = contact.last_name.as_deref();
        join_name(first, last).or_else(|| contact.name.as_deref().map(transform::squish))
    });
    let as_json = serde_json::to_value(contact).unwrap_or_default();
    collect(m, Side::Ghl, name, fill, |pair| {
        read_ghl_in(contact, &as_json, &pair.ghl)
    })
}

/// The canonical mapped state of a Tovuti user, missing values filled (see [`from_ghl`]).
pub fn from_tovuti(m: &Mapping, user: &User) -> (Canonical, Vec<FieldProblem>) {
    tovuti_state(m, user, true)
}

/// What a Tovuti user really holds, missing values left absent.
pub fn held_by_tovuti(m: &Mapping, user: &User) -> Canonical {
    tovuti_state(m, user, false).0
}

fn tovuti_state(m: &Mapping, user: &User, fill: bool) -> (Canonical, Vec<FieldProblem>) {
    let name = m
        .file
        .name
        .as_ref()
        .and_then(|n| match read_tovuti(user, &n.tovuti) {
            Value::String(s) => Some(transform::squish(&s)).filter(|s| !s.is_empty()),
            _ => None,
        });
    let as_json = serde_json::to_value(user).unwrap_or_default();
    collect(m, Side::Tovuti, name, fill, |pair| {
        read_tovuti_in(user, &as_json, &pair.tovuti)
    })
}

/// `state` as `side` will report it back when it lacks the targets of the pairs `lacks`
/// picks (their writes were left out): each such label holds what a missing value reads
/// as, per the pair's `missing` policy, or nothing.
pub fn read_back_without(
    m: &Mapping,
    state: &Canonical,
    side: Side,
    lacks: impl Fn(&FieldPair) -> bool,
) -> Canonical {
    let mut state = state.clone();
    for pair in m.file.fields.iter().filter(|p| lacks(p)) {
        match canonical_value_with(m, pair, side, &Value::Null, true) {
            Ok(Some(v)) => state.insert(label(pair), v),
            _ => state.remove(&label(pair)),
        };
    }
    state
}

fn collect(
    m: &Mapping,
    side: Side,
    name: Option<String>,
    fill: bool,
    read: impl Fn(&FieldPair) -> Value,
) -> (Canonical, Vec<FieldProblem>) {
    let mut state = Canonical::new();
    let mut problems = Vec::new();
    if let Some(name) = name {
        state.insert(NAME.to_owned(), Value::String(name));
    }
    for pair in &m.file.fields {
        match canonical_value_with(m, pair, side, &read(pair), fill) {
            Ok(Some(v)) => {
                state.insert(label(pair), v);
            }
            Ok(None) => {}
            Err(message) => problems.push(FieldProblem {
                field: label(pair),
                message,
            }),
        }
    }
    (state, problems)
}

/// The labels whose value differs between `source` and what the target is known to hold,
/// among pairs that write in `dir`; every such label when the target is unknown.
pub fn changed(
    m: &Mapping,
    to_ghl: bool,
    source: &Canonical,
    known: Option<&Canonical>,
) -> Vec<String> {
    let writes = |d: Direction| {
        if to_ghl {
            d.writes_ghl()
        } else {
            d.writes_tovuti()
        }
    };
    let mut labels: Vec<String> = m
        .file
        .fields
        .iter()
        .filter(|p| writes(p.direction))
        .map(label)
        .collect();
    if m.file.name.as_ref().is_some_and(|n| writes(n.direction)) {
        labels.push(NAME.to_owned());
    }
    labels
        .into_iter()
        .filter(|l| source.contains_key(l))
        .filter(|l| known.is_none_or(|k| k.get(l) != source.get(l)))
        .collect()
}

#[cfg(test)]
#[path = "fields_tests.rs"]
mod tests;
