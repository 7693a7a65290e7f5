//! The checks serde cannot express: known field names, writable targets, duplicate targets,
//! defaults that fit their type, and templates that compile and use known variables.

use std::collections::BTreeMap;

use serde_json::Value;

#[path = "rules.rs"]
mod rules;

use super::MappingProblem;
use super::refs::{GHL_READ_ONLY, GHL_STANDARD, TOVUTI_CORE, TOVUTI_READ_ONLY};
use crate::mapping::model::{FieldPair, GhlRef, MappingFile, MissingPolicy, TovutiRef};
use crate::mapping::source::Source;
use crate::mapping::template::{self, Templates};
use crate::mapping::value::{self, FieldType, TypeOptions};

/// Where a key lives: section, array index, key.
#[derive(Debug, Clone)]
pub(super) struct Loc {
    section: String,
    index: Option<usize>,
    key: String,
}

impl Loc {
    fn new(section: &str, index: Option<usize>, key: &str) -> Self {
        Self {
            section: section.to_owned(),
            index,
            key: key.to_owned(),
        }
    }

    fn dotted(&self) -> String {
        let base = match self.index {
            Some(i) => format!("{}[{i}]", self.section),
            None => self.section.clone(),
        };
        match (base.is_empty(), self.key.is_empty()) {
            (true, _) => self.key.clone(),
            (false, true) => base,
            (false, false) => format!("{base}.{}", self.key),
        }
    }
}

pub(super) struct Checker<'a> {
    src: Source<'a>,
    problems: Vec<MappingProblem>,
    templates: Templates,
    phone_country: phonenumber::country::Id,
    ghl_targets: Vec<(String, Loc)>,
    tovuti_targets: Vec<(String, Loc)>,
    removed: super::Removed,
}

impl<'a> Checker<'a> {
    pub(super) fn new(src: Source<'a>, removed: super::Removed) -> Self {
        Self {
            src,
            problems: Vec::new(),
            templates: Templates::new(),
            phone_country: phonenumber::country::Id::US,
            ghl_targets: Vec::new(),
            tovuti_targets: Vec::new(),
            removed,
        }
    }

    pub(super) fn run(&mut self, f: &MappingFile) {
        if f.version != Some(1) {
            self.err(
                &Loc::new("", None, "version"),
                "must be 1 (the only format version)",
            );
        }
        self.settings(f);
        self.name_and_identity(f);
        for (i, pair) in f.fields.iter().enumerate() {
            self.field(i, pair);
        }
        self.extra(f);
        self.tag_values(f);
        self.tovuti(f);
        self.ghl(f);
        self.duplicates();
    }

    pub(super) fn finish(self) -> (Vec<MappingProblem>, Templates, phonenumber::country::Id) {
        (self.problems, self.templates, self.phone_country)
    }

    /// The element's index in the file, counting elements removed for structural errors.
    fn original_index(&self, section: &str, index: Option<usize>) -> Option<usize> {
        let index = index?;
        let gone = |i: &usize| self.removed.iter().any(|(s, r)| s == section && r == i);
        (0..).filter(|i| !gone(i)).nth(index)
    }

    fn err(&mut self, loc: &Loc, message: impl Into<String>) {
        let loc = &Loc {
            index: self.original_index(&loc.section, loc.index),
            ..loc.clone()
        };
        let section = loc.section.as_str();
        let line = self.src.locate(
            section,
            loc.index,
            Some(loc.key.split('[').next().unwrap_or("")),
        );
        self.problems.push(MappingProblem {
            file: self.src.file.to_owned(),
            line,
            key: loc.dotted(),
            message: message.into(),
        });
    }

    fn settings(&mut self, f: &MappingFile) {
        let country = f.settings.default_phone_country.as_deref().unwrap_or("US");
        match country.parse::<phonenumber::country::Id>() {
            Ok(id) => self.phone_country = id,
            Err(_) => self.err(
                &Loc::new("settings", None, "default_phone_country"),
                format!("`{country}` is not an ISO 3166 two-letter country code"),
            ),
        }
        if f.settings.list_separator.as_deref() == Some("") {
            self.err(
                &Loc::new("settings", None, "list_separator"),
                "must not be empty",
            );
        }
    }

    fn field(&mut self, i: usize, pair: &FieldPair) {
        let at = |key: &str| Loc::new("fields", Some(i), key);
        let dir = pair.direction;
        self.ghl_ref(&pair.ghl, &at("ghl"), dir.writes_tovuti(), dir.writes_ghl());
        self.tovuti_ref(&pair.tovuti, &at("tovuti"), dir.writes_tovuti());
        if !pair.map.is_empty() {
            self.value_map(pair, &at("map"));
        }
        self.default_value(pair, &at("default"), &at("missing"));
        if pair.separator.is_some() && pair.ty != FieldType::List {
            self.err(&at("separator"), "only `list` fields have a separator");
        }
        let texty = matches!(
            pair.ty,
            FieldType::String | FieldType::List | FieldType::Email
        );
        if !pair.transforms.is_empty() && !texty {
            self.err(
                &at("transforms"),
                "transforms apply to `string`, `email` and `list` fields only",
            );
        }
        if dir.writes_ghl() {
            self.add_ghl_target(&pair.ghl, &at("ghl"));
        }
        if dir.writes_tovuti() {
            self.add_tovuti_target(&pair.tovuti, &at("tovuti"));
        }
    }

    fn value_map(&mut self, pair: &FieldPair, loc: &Loc) {
        if pair.ty != FieldType::String {
            self.err(loc, "value maps apply to `string` fields only");
        }
        let mut seen = BTreeMap::new();
        for (from, to) in &pair.map {
            if let Some(prev) = seen.insert(to.clone(), from.clone())
                && pair.direction.writes_tovuti()
            {
                let msg =
                    format!("`{prev}` and `{from}` both map to `{to}`, so it cannot be read back");
                self.err(loc, msg);
            }
        }
    }

    fn default_value(&mut self, pair: &FieldPair, at_default: &Loc, at_missing: &Loc) {
        match (&pair.default, pair.missing) {
            (None, MissingPolicy::Default) => {
                self.err(
                    at_missing,
                    "`missing = \"default\"` needs a `default` value",
                );
            }
            (Some(_), MissingPolicy::Skip | MissingPolicy::Clear) => {
                self.err(
                    at_default,
                    "a `default` is only used with `missing = \"default\"`",
                );
            }
            (Some(d), MissingPolicy::Default) => {
                let raw = serde_json::to_value(d).unwrap_or(Value::Null);
                let opts = TypeOptions {
                    phone_country: self.phone_country,
                    list_separator: ",",
                };
                match value::normalize(pair.ty, &raw, opts) {
                    Ok(Some(_)) => {}
                    Ok(None) => self.err(at_default, "the default is itself a missing value"),
                    Err(e) => self.err(
                        at_default,
                        format!("does not fit type `{:?}`: {e}", pair.ty).to_lowercase(),
                    ),
                }
            }
            (None, _) => {}
        }
    }

    fn ghl_ref(&mut self, r: &GhlRef, loc: &Loc, reads: bool, writes: bool) {
        match r {
            GhlRef::Standard(name) if !GHL_STANDARD.contains(&name.as_str()) => self.err(
                loc,
                format!(
                    "unknown GHL contact field `{name}` (known: {})",
                    GHL_STANDARD.join(", ")
                ),
            ),
            GhlRef::Standard(name) if writes && GHL_READ_ONLY.contains(&name.as_str()) => {
                self.err(
                    loc,
                    format!("GHL field `{name}` is read-only; use `direction = \"to_tovuti\"`"),
                );
            }
            GhlRef::Standard(_) => {}
            GhlRef::Custom(c) => {
                if c.id.is_none() && c.key.is_none() {
                    self.err(loc, "a GHL custom field needs `id` or `key`");
                } else if reads && c.id.is_none() {
                    self.err(loc, "GHL webhooks carry custom fields by `id` only, so a field read from GHL needs its `id` (`mapping validate --online` lists them)");
                }
                if c.key.as_deref().is_some_and(|k| !k.starts_with("contact.")) {
                    self.err(loc, "a GHL custom field key looks like `contact.my_field`");
                }
            }
        }
    }

    fn tovuti_ref(&mut self, r: &TovutiRef, loc: &Loc, writes: bool) {
        match r {
            TovutiRef::Core(name) if !TOVUTI_CORE.contains(&name.as_str()) => self.err(
                loc,
                format!("unknown Tovuti user field `{name}` (known: {}; custom fields are {{ name = \"…\" }} or {{ field_id = N }})", TOVUTI_CORE.join(", ")),
            ),
            TovutiRef::Core(name) if writes && TOVUTI_READ_ONLY.contains(&name.as_str()) => {
                self.err(loc, format!("Tovuti field `{name}` is read-only; use `direction = \"to_ghl\"`"));
            }
            TovutiRef::Core(_) => {}
            TovutiRef::Custom(c) if c.field_id == Some(0) => {
                self.err(loc, "`field_id` starts at 1");
            }
            TovutiRef::Custom(c) if c.field_id.is_none() && c.name.is_none() => {
                self.err(loc, "name the Tovuti custom field: { name = \"…\" } or { field_id = N }");
            }
            TovutiRef::Custom(_) => {}
        }
    }

    fn add_ghl_target(&mut self, r: &GhlRef, loc: &Loc) {
        let keys = match r {
            GhlRef::Standard(n) => vec![n.clone()],
            GhlRef::Custom(c) => {
                let ids = c.id.iter().map(|id| format!("custom field id {id}"));
                ids.chain(c.key.iter().map(|k| format!("custom field {k}")))
                    .collect()
            }
        };
        self.ghl_targets
            .extend(keys.into_iter().map(|k| (k, loc.clone())));
    }

    fn add_tovuti_target(&mut self, r: &TovutiRef, loc: &Loc) {
        let key = match r {
            TovutiRef::Core(n) => n.clone(),
            TovutiRef::Custom(c) => format!("custom field {}", c.label().to_lowercase()),
        };
        self.tovuti_targets.push((key, loc.clone()));
    }

    fn duplicates(&mut self) {
        for (side, targets) in [
            ("GHL", std::mem::take(&mut self.ghl_targets)),
            ("Tovuti", std::mem::take(&mut self.tovuti_targets)),
        ] {
            let mut first: BTreeMap<String, Loc> = BTreeMap::new();
            for (key, loc) in targets {
                match first.get(&key) {
                    Some(prev) => {
                        let prev = Loc {
                            index: self.original_index(&prev.section, prev.index),
                            ..prev.clone()
                        };
                        let msg = format!("{side} {key} is already written by `{}`", prev.dotted());
                        self.err(&loc, msg);
                    }
                    None => {
                        first.insert(key, loc);
                    }
                }
            }
        }
    }

    fn template(&mut self, loc: &Loc, source: &str, sample: &Value) {
        let name = template::name(&loc.section, loc.index, &loc.key);
        if let Err(e) = self.templates.add(&name, source, sample) {
            self.err(loc, format!("template error: {e}"));
        }
    }

    fn name_and_identity(&mut self, f: &MappingFile) {
        if let Some(name) = &f.name {
            let loc = Loc::new("name", None, "tovuti");
            let dir = name.direction;
            self.tovuti_ref(&name.tovuti, &loc, dir.writes_tovuti());
            if dir.writes_ghl() {
                for n in ["firstName", "lastName"] {
                    self.add_ghl_target(
                        &GhlRef::Standard(n.to_owned()),
                        &Loc::new("name", None, ""),
                    );
                }
            }
            if dir.writes_tovuti() {
                self.add_tovuti_target(&name.tovuti, &loc);
            }
        }
        if let Some(r) = &f.identity.tovuti_user_id_in_ghl {
            let loc = Loc::new("identity", None, "tovuti_user_id_in_ghl");
            self.custom_ghl(r, &loc);
        }
        if let Some(r) = &f.identity.ghl_contact_id_in_tovuti {
            let loc = Loc::new("identity", None, "ghl_contact_id_in_tovuti");
            self.custom_tovuti(r, &loc);
        }
    }

    fn custom_ghl(&mut self, r: &GhlRef, loc: &Loc) {
        if matches!(r, GhlRef::Standard(_)) {
            self.err(
                loc,
                "must be a GHL custom field: { id = \"…\" } or { key = \"contact.…\" }",
            );
            return;
        }
        self.ghl_ref(r, loc, false, true);
        self.add_ghl_target(r, loc);
    }

    fn custom_tovuti(&mut self, r: &TovutiRef, loc: &Loc) {
        if matches!(r, TovutiRef::Core(_)) {
            self.err(
                loc,
                "must be a Tovuti custom field: { name = \"…\" } or { field_id = N }",
            );
            return;
        }
        self.tovuti_ref(r, loc, true);
        self.add_tovuti_target(r, loc);
    }

    fn extra(&mut self, f: &MappingFile) {
        let extra = &f.extra;
        if let Some(r) = &extra.ghl {
            self.custom_ghl(r, &Loc::new("extra", None, "ghl"));
        }
        if let Some(r) = &extra.tovuti {
            self.custom_tovuti(r, &Loc::new("extra", None, "tovuti"));
        }
        let ignore = extra.mode == crate::mapping::model::ExtraMode::Ignore;
        if !ignore && extra.ghl.is_none() && extra.tovuti.is_none() {
            self.err(
                &Loc::new("extra", None, "mode"),
                "names no target: set `extra.ghl` and/or `extra.tovuti`",
            );
        }
    }
}
