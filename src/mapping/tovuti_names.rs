//! Tovuti custom fields, groups and courses named by name in a mapping, and their
//! resolution to the tenant's ids. Ids differ per tenant, so a shipped mapping names them;
//! the caller reads the tenant's lists (this stays pure) and gets a copy of the mapping
//! with every name it could find replaced by its id.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::model::{MappingFile, TovutiCustomRef, TovutiRef};
use super::validate::Mapping;
use crate::platforms::tovuti::client::CatalogKind;

impl TovutiCustomRef {
    /// How messages and fingerprints name it: the name when given (stable across tenants).
    pub fn label(&self) -> String {
        match (&self.name, self.field_id) {
            (Some(name), _) => name.clone(),
            (None, Some(id)) => id.to_string(),
            (None, None) => String::new(),
        }
    }
}

/// A Tovuti group or course: its id, or its name in the tenant (resolved through the
/// tenant's list, compared ignoring case).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(untagged, expecting = "expected an id (a number) or a name (a string)")]
pub enum TovutiItem {
    Id(u64),
    Name(String),
}

impl TovutiItem {
    /// The id, once known; a name not resolved yet has none.
    pub fn id(&self) -> Option<u64> {
        match self {
            Self::Id(id) => Some(*id),
            Self::Name(_) => None,
        }
    }

    /// Whether it names the course or group `id` titled `title`.
    pub fn matches(&self, id: u64, title: Option<&str>) -> bool {
        match self {
            Self::Id(own) => *own == id,
            Self::Name(name) => title.is_some_and(|t| same_name(t, name)),
        }
    }
}

impl std::fmt::Display for TovutiItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Id(id) => write!(f, "{id}"),
            Self::Name(name) => write!(f, "\"{name}\""),
        }
    }
}

/// Names in a tenant are compared trimmed and ignoring case.
pub fn same_name(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// The tenant's lists as read: `(id, label)` per kind; a kind absent was not read.
pub type TenantLists = HashMap<CatalogKind, Vec<(u64, String)>>;

/// A name the tenant's lists do not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    pub kind: CatalogKind,
    pub name: String,
}

impl Unresolved {
    /// `custom field "Job title"`.
    pub fn describe(&self) -> String {
        format!("{} \"{}\"", self.kind.noun(), self.name)
    }
}

/// The lists the mapping names something in by name alone (the ones to read).
pub fn named_kinds(m: &Mapping) -> Vec<CatalogKind> {
    let mut file = m.file.clone();
    let mut kinds = Vec::new();
    if custom_refs(&mut file).iter().any(|c| c.field_id.is_none()) {
        kinds.push(CatalogKind::CustomFields);
    }
    for (kind, item) in items(&mut file) {
        if matches!(item, TovutiItem::Name(_)) && !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds
}

/// A copy of `m` with each name found in `lists` given its id, and the names not found.
pub fn resolve(m: &Mapping, lists: &TenantLists) -> (Mapping, Vec<Unresolved>) {
    let mut resolved = m.clone();
    let mut unresolved = Vec::new();
    let find = |kind: CatalogKind, name: &str| {
        lists
            .get(&kind)?
            .iter()
            .find(|(_, label)| same_name(label, name))
            .map(|(id, _)| *id)
    };
    for c in custom_refs(&mut resolved.file) {
        let (None, Some(name)) = (c.field_id, &c.name) else {
            continue;
        };
        match find(CatalogKind::CustomFields, name) {
            Some(id) => c.field_id = Some(id),
            None => unresolved.push(Unresolved {
                kind: CatalogKind::CustomFields,
                name: name.clone(),
            }),
        }
    }
    for (kind, item) in items(&mut resolved.file) {
        let TovutiItem::Name(name) = item else {
            continue;
        };
        match find(kind, name) {
            Some(id) => *item = TovutiItem::Id(id),
            None => unresolved.push(Unresolved {
                kind,
                name: name.clone(),
            }),
        }
    }
    (resolved, unresolved)
}

/// Every Tovuti custom field the mapping names.
fn custom_refs(f: &mut MappingFile) -> Vec<&mut TovutiCustomRef> {
    let s = &mut f.ghl.summaries;
    let refs = f
        .fields
        .iter_mut()
        .map(|p| &mut p.tovuti)
        .chain(f.tag_values.iter_mut().map(|t| &mut t.tovuti))
        .chain(f.name.as_mut().map(|n| &mut n.tovuti))
        .chain(f.extra.tovuti.as_mut())
        .chain(f.identity.ghl_contact_id_in_tovuti.as_mut())
        .chain(
            [&mut s.open_tasks, &mut s.last_note, &mut s.next_appointment]
                .into_iter()
                .filter_map(|r| r.as_mut().map(|r| &mut r.tovuti)),
        );
    refs.filter_map(|r| match r {
        TovutiRef::Custom(c) => Some(c),
        TovutiRef::Core(_) => None,
    })
    .collect()
}

/// Every Tovuti group and course the mapping names.
fn items(f: &mut MappingFile) -> Vec<(CatalogKind, &mut TovutiItem)> {
    let groups = CatalogKind::Groups;
    let courses = CatalogKind::Courses;
    let mut out: Vec<(CatalogKind, &mut TovutiItem)> = Vec::new();
    out.extend(f.ghl.new_user_group_ids.iter_mut().map(|g| (groups, g)));
    for rule in &mut f.ghl.tags {
        out.extend(rule.group_ids.iter_mut().map(|g| (groups, g)));
        out.extend(rule.enroll_course_ids.iter_mut().map(|c| (courses, c)));
    }
    out.extend(
        f.tovuti
            .courses
            .iter_mut()
            .map(|c| (courses, &mut c.course_id)),
    );
    let milestones = f.tovuti.milestones.iter_mut();
    out.extend(milestones.filter_map(|m| m.course_id.as_mut().map(|c| (courses, c))));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMED: &str = "version = 1\n\
        [[fields]]\nghl = \"phone\"\ntovuti = { name = \"Phone number\" }\n\n\
        [[fields]]\nghl = \"companyName\"\ntovuti = { name = \"Employer\" }\n\n\
        [[lms.courses]]\ncourse = \"Intro to Sales\"\ntags = [\"intro\"]\n\n\
        [[ghl.tags]]\ntag = \"buyer\"\ngroups = [\"students\", 2]\nenroll_courses = [\"Intro to Sales\"]\n";

    fn lists() -> TenantLists {
        let mut lists = TenantLists::new();
        let fields = vec![(23, "Phone Number".to_owned())];
        lists.insert(CatalogKind::CustomFields, fields);
        lists.insert(CatalogKind::Groups, vec![(7, "Students".to_owned())]);
        lists.insert(
            CatalogKind::Courses,
            vec![(101, "Intro to Sales".to_owned())],
        );
        lists
    }

    #[test]
    fn names_become_ids_and_what_the_tenant_lacks_is_reported() {
        let m = crate::mapping::load("m.toml", NAMED).unwrap();
        assert_eq!(
            named_kinds(&m),
            [
                CatalogKind::CustomFields,
                CatalogKind::Groups,
                CatalogKind::Courses
            ]
        );
        let (resolved, unresolved) = resolve(&m, &lists());
        let f = &resolved.file;
        let TovutiRef::Custom(phone) = &f.fields[0].tovuti else {
            panic!("a custom field")
        };
        assert_eq!(phone.field_id, Some(23), "names compare ignoring case");
        assert_eq!(f.tovuti.courses[0].course_id, TovutiItem::Id(101));
        let rule = &f.ghl.tags[0];
        assert_eq!(rule.group_ids, [TovutiItem::Id(7), TovutiItem::Id(2)]);
        assert_eq!(rule.enroll_course_ids, [TovutiItem::Id(101)]);
        let missing: Vec<String> = unresolved.iter().map(Unresolved::describe).collect();
        assert_eq!(missing, ["custom field \"Employer\""]);
        assert_eq!(named_kinds(&resolved), [CatalogKind::CustomFields]);
    }

    #[test]
    fn a_list_not_read_resolves_nothing_of_its_kind() {
        let m = crate::mapping::load("m.toml", NAMED).unwrap();
        let mut partial = lists();
        partial.remove(&CatalogKind::Courses);
        let (resolved, unresolved) = resolve(&m, &partial);
        let name = TovutiItem::Name("Intro to Sales".into());
        assert_eq!(resolved.file.tovuti.courses[0].course_id, name);
        assert_eq!(unresolved.len(), 3, "{unresolved:?}");
    }

    #[test]
    fn an_item_matches_its_id_or_its_title() {
        let by_name = TovutiItem::Name(" intro to sales".into());
        assert!(by_name.matches(5, Some("Intro to Sales")));
        assert!(!by_name.matches(5, None));
        assert!(TovutiItem::Id(5).matches(5, None));
        assert!(!TovutiItem::Id(5).matches(6, Some("5")));
    }
}
