//! What a mapping needs that the accounts lack, for `mapping provision` and the console's
//! Mapping page: GHL contact custom fields named by `key` can be created (a second run
//! finds them and creates nothing); Tovuti has no API to create fields, groups or
//! courses, so those are only listed for an admin to create.

use serde::Serialize;

use super::needs::tovuti_needs;
use super::tovuti::read_lists;
use crate::mapping::Mapping;
use crate::mapping::model::{GhlCustomRef, GhlRef};
use crate::mapping::source::Source;
use crate::mapping::value::FieldType;
use crate::platforms::ghl::client::{GhlError, LocationApi};
use crate::platforms::ghl::custom_fields::CustomFieldDef;
use crate::platforms::tovuti::client::TovutiCatalog;

/// A GHL custom field the mapping names, with the type its values have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WantedField {
    pub mapping_key: String,
    pub field: GhlCustomRef,
    pub data_type: &'static str,
}

/// GHL's `dataType` for a mapping type. Dates are GHL DATE fields; a datetime, a bool
/// (GHL's CHECKBOX needs its options defined) and a list are kept as text.
pub fn ghl_data_type(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Number => "NUMERICAL",
        FieldType::Date => "DATE",
        FieldType::Phone => "PHONE",
        FieldType::String
        | FieldType::Email
        | FieldType::Datetime
        | FieldType::Bool
        | FieldType::List => "TEXT",
    }
}

/// Every GHL custom field the mapping names, with its data type.
pub fn wanted_fields(m: &Mapping) -> Vec<WantedField> {
    let f = &m.file;
    let pairs = f
        .fields
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("fields[{i}].ghl"), &p.ghl, ghl_data_type(p.ty)));
    let others = [
        (
            "identity.tovuti_user_id_in_ghl",
            f.identity.tovuti_user_id_in_ghl.as_ref(),
            "TEXT",
        ),
        ("extra.ghl", f.extra.ghl.as_ref(), "LARGE_TEXT"),
    ];
    let others = others
        .into_iter()
        .filter_map(|(k, r, t)| r.map(|r| (k.to_owned(), r, t)));
    pairs
        .chain(others)
        .filter_map(|(mapping_key, r, data_type)| match r {
            GhlRef::Custom(field) => Some(WantedField {
                mapping_key,
                field: field.clone(),
                data_type,
            }),
            GhlRef::Standard(_) => None,
        })
        .collect()
}

/// The fields the location lacks: neither their id nor their key is defined.
pub fn missing_fields(wanted: &[WantedField], defs: &[CustomFieldDef]) -> Vec<WantedField> {
    let mut missing: Vec<WantedField> = Vec::new();
    for w in wanted {
        let by_id = w
            .field
            .id
            .as_ref()
            .is_some_and(|id| defs.iter().any(|d| &d.id == id));
        let by_key = w
            .field
            .key
            .as_ref()
            .is_some_and(|k| defs.iter().any(|d| &d.field_key == k));
        let duplicate = missing.iter().any(|m| m.field == w.field);
        if !by_id && !by_key && !duplicate {
            missing.push(w.clone());
        }
    }
    missing
}

/// The GHL custom fields `m` names that the connection's location lacks (one list read).
pub async fn ghl_missing(ghl: &LocationApi, m: &Mapping) -> Result<Vec<WantedField>, GhlError> {
    let defs = ghl.contact_custom_fields().await?;
    Ok(missing_fields(&wanted_fields(m), &defs))
}

/// `contact.job_title` → `Job Title`, the name from which GHL derives that key again.
pub fn field_name(key: &str) -> String {
    let bare = key.strip_prefix("contact.").unwrap_or(key);
    bare.split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a provisioning run did and found, one line each, and the keys it created.
#[derive(Debug, Default)]
pub struct Provisioned {
    pub created: Vec<String>,
    pub created_keys: Vec<String>,
    pub todo: Vec<String>,
}

/// Lists each missing field in `done.todo` or, with `apply`, creates the ones named by key.
pub async fn provision_ghl(
    ghl: &LocationApi,
    missing: &[WantedField],
    apply: bool,
    done: &mut Provisioned,
) {
    for want in missing {
        provision_field(ghl, want, apply, done).await;
    }
}

async fn provision_field(
    ghl: &LocationApi,
    want: &WantedField,
    apply: bool,
    done: &mut Provisioned,
) {
    let Some(key) = &want.field.key else {
        let id = want.field.id.as_deref().unwrap_or_default();
        done.todo.push(format!(
            "GHL contact custom field with id `{id}` (`{}`): an id cannot be created; \
             create the field in GHL and put its id (or its key) in the mapping",
            want.mapping_key
        ));
        return;
    };
    let name = field_name(key);
    let what = format!(
        "GHL contact custom field `{key}` ({}, named \"{name}\", for `{}`)",
        want.data_type, want.mapping_key
    );
    if !apply {
        done.todo.push(format!("{what}; `--apply` creates it"));
        return;
    }
    match ghl.create_contact_custom_field(&name, want.data_type).await {
        Ok(def) if &def.field_key == key => {
            done.created.push(format!("{what} with id {}", def.id));
            done.created_keys.push(key.clone());
            if let Some(old) = want.field.id.as_ref().filter(|old| **old != def.id) {
                done.todo.push(format!(
                    "`{}` names id `{old}`, but the new field's id is `{}`: put it in the mapping",
                    want.mapping_key, def.id
                ));
            }
        }
        Ok(def) => {
            done.created_keys.push(def.field_key.clone());
            done.todo.push(format!(
                "{what}: GHL created it as `{}` (id {}); put that key in the mapping",
                def.field_key, def.id
            ));
        }
        Err(e) => done.todo.push(format!("{what}: creating it failed: {e}")),
    }
}

/// One Tovuti record the mapping names that the tenant lacks (or titles otherwise).
#[derive(Debug, Clone, Serialize)]
pub struct TovutiGap {
    /// `custom field`, `user group` or `course`.
    pub kind: &'static str,
    /// As the mapping names it: `"Job title"`, `id 23`.
    pub name: String,
    /// The problem as one line, with the mapping's file, line and key.
    pub problem: String,
}

/// What Tovuti lacks of what the mapping names, and the lists that could not be read.
#[derive(Debug, Default, Serialize)]
pub struct TovutiMissing {
    pub gaps: Vec<TovutiGap>,
    pub unread: Vec<String>,
}

/// Reads each Tovuti list the mapping needs once and returns what it lacks.
pub async fn tovuti_missing(
    catalog: &dyn TovutiCatalog,
    m: &Mapping,
    src: Source<'_>,
) -> TovutiMissing {
    let needs = tovuti_needs(m, src);
    let mut missing = TovutiMissing::default();
    let lists = read_lists(catalog, &needs, &mut missing.unread).await;
    for need in &needs {
        // A list that could not be read is reported once, in `unread`.
        let Some(problem) = lists.find(need).and_then(|f| f.problem(src.file, need)) else {
            continue;
        };
        missing.gaps.push(TovutiGap {
            kind: need.kind.noun(),
            name: need.describe(),
            problem,
        });
    }
    missing
}
