//! `mapping provision [FILE] [--apply]`: what the mapping needs that the accounts lack.
//! GHL contact custom fields named by `key` are created with `--apply` (a second run finds
//! them and creates nothing); Tovuti has no API to create fields, groups or courses, so
//! for those it prints what the admin must create.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::check::connect;
use super::{EXIT_CONFIG, load_or_report};
use crate::config::Config;
use crate::mapping::model::{GhlCustomRef, GhlRef};
use crate::mapping::source::Source;
use crate::mapping::value::FieldType;
use crate::mapping::{self, Mapping, file::read_source};
use crate::platforms::ghl::client::Connection;
use crate::platforms::ghl::custom_fields::CustomFieldDef;
use crate::platforms::tovuti::client::{TovutiCatalog, TovutiClient};
use crate::verify::needs::{TovutiNeed, tovuti_needs};

#[derive(Debug, clap::Args)]
pub struct ProvisionArgs {
    /// The mapping file; default `mapping.file` from the configuration, else the built-in example.
    pub file: Option<PathBuf>,
    /// Create the missing GHL custom fields (without it, only list what is missing).
    #[arg(long)]
    pub apply: bool,
}

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

/// What a provisioning run did and found, one line each.
#[derive(Debug, Default)]
pub struct Provisioned {
    pub created: Vec<String>,
    pub todo: Vec<String>,
}

pub async fn run(config_file: Option<&Path>, args: &ProvisionArgs) -> ExitCode {
    let loaded = match load_or_report(config_file) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let config = &loaded.config;
    let path = args.file.clone().or_else(|| {
        Some(PathBuf::from(&config.mapping.file)).filter(|p| !p.as_os_str().is_empty())
    });
    let (name, text) = match read_source(path.as_deref()) {
        Ok(source) => source,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let m = match mapping::load(&name, &text) {
        Ok(m) => m,
        Err(errors) => {
            eprint!("{errors}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    match provision(&m, Source::new(&name, &text), config, args.apply).await {
        Ok(done) => {
            for line in &done.created {
                println!("created: {line}");
            }
            for line in &done.todo {
                println!("missing: {line}");
            }
            if done.todo.is_empty() {
                println!("nothing is missing");
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Lists (and with `apply` creates) what GHL lacks, then lists what Tovuti lacks.
pub async fn provision(
    m: &Mapping,
    src: Source<'_>,
    config: &Config,
    apply: bool,
) -> anyhow::Result<Provisioned> {
    let ghl = connect(config).await?;
    let defs = ghl.contact_custom_fields().await?;
    let mut done = Provisioned::default();
    for want in missing_fields(&wanted_fields(m), &defs) {
        provision_field(&ghl, &want, apply, &mut done).await;
    }
    if let Some(client) = TovutiClient::from_config(&config.tovuti)? {
        tovuti_todo(&client, &tovuti_needs(m, src), src.file, &mut done).await;
    } else {
        done.todo.push(
            "Tovuti was not checked: no Tovuti API is configured \
             (BRIDGE_TOVUTI_BASE_URL, BRIDGE_TOVUTI_TOKEN)"
                .into(),
        );
    }
    Ok(done)
}

async fn provision_field(
    ghl: &Connection,
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
            if let Some(old) = want.field.id.as_ref().filter(|old| **old != def.id) {
                done.todo.push(format!(
                    "`{}` names id `{old}`, but the new field's id is `{}`: put it in the mapping",
                    want.mapping_key, def.id
                ));
            }
        }
        Ok(def) => done.todo.push(format!(
            "{what}: GHL created it as `{}` (id {}); put that key in the mapping",
            def.field_key, def.id
        )),
        Err(e) => done.todo.push(format!("{what}: creating it failed: {e}")),
    }
}

async fn tovuti_todo(
    catalog: &dyn TovutiCatalog,
    needs: &[TovutiNeed],
    file: &str,
    done: &mut Provisioned,
) {
    let mut report = crate::verify::tovuti::TovutiReport::default();
    crate::verify::tovuti::check_catalog(catalog, needs, file, &mut report).await;
    for problem in report.problems {
        done.todo.push(format!(
            "{problem}; Tovuti has no API to create it: an admin creates it in Tovuti, \
             with exactly this name (or names it in the mapping as it is titled in Tovuti)"
        ));
    }
}

#[cfg(test)]
#[path = "provision_tests.rs"]
mod tests;
