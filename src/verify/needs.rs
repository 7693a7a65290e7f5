//! What a mapping needs from each platform, for `check`, `mapping validate --online` and
//! `mapping provision`: the GHL capabilities its rules use, and every Tovuti custom field,
//! group and course it names, each with the file line that names it.

use crate::mapping::Mapping;
use crate::mapping::model::AutomationRef;
use crate::mapping::model::{TovutiItem, TovutiRef};
use crate::mapping::source::Source;
use crate::platforms::ghl::client::Needs;
use crate::platforms::tovuti::client::CatalogKind;

/// The GHL capabilities the mapping's rules use.
pub fn ghl_needs(m: &Mapping) -> Needs {
    let f = &m.file;
    let tovuti = &f.tovuti;
    let contact_rules = [
        tovuti.user_created.as_ref(),
        tovuti.enrollment_created.as_ref(),
    ];
    let contact_rules = contact_rules.into_iter().flatten();
    let rule_tags = contact_rules.clone().any(|r| !r.tags.is_empty())
        || tovuti.courses.iter().any(|c| !c.tags.is_empty());
    let summaries = &f.ghl.summaries;
    let course_rules = tovuti.courses.iter().map(|c| c.as_contact_rule());
    let by_name = |r: Option<AutomationRef>| matches!(r, Some(AutomationRef::Name(_)));
    let campaign_names = contact_rules.clone().any(|r| by_name(r.campaign_ref()))
        || course_rules.clone().any(|r| by_name(r.campaign_ref()));
    let workflow_names = contact_rules.clone().any(|r| by_name(r.workflow_ref()))
        || course_rules.clone().any(|r| by_name(r.workflow_ref()));
    Needs {
        custom_fields: !crate::mapping::remote::ghl_custom_refs(m).is_empty(),
        tags: rule_tags || !f.tag_values.is_empty() || !f.ghl.tags.is_empty(),
        campaigns: contact_rules.clone().any(|r| r.campaign_ref().is_some())
            || tovuti
                .courses
                .iter()
                .any(|c| c.as_contact_rule().campaign_ref().is_some()),
        workflows: contact_rules.clone().any(|r| r.workflow_ref().is_some())
            || tovuti
                .courses
                .iter()
                .any(|c| c.as_contact_rule().workflow_ref().is_some()),
        campaign_names,
        workflow_names,
        tasks: !tovuti.milestones.is_empty() || summaries.open_tasks.is_some(),
        notes: !tovuti.notes.is_empty() || summaries.last_note.is_some(),
        appointments: tovuti.event_registered.is_some() || summaries.next_appointment.is_some(),
    }
}

/// One Tovuti record the mapping names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TovutiNeed {
    pub kind: CatalogKind,
    /// As the mapping names it: an id, a name, or (custom fields) both.
    pub id: Option<u64>,
    pub name: Option<String>,
    /// The dotted key naming it, e.g. `fields[1].tovuti`.
    pub key: String,
    /// 1-based line in the mapping file.
    pub line: usize,
}

impl TovutiNeed {
    /// `id 23`, `"Job title"`, or `"Job title" (id 23)`.
    pub fn describe(&self) -> String {
        match (&self.name, self.id) {
            (Some(name), Some(id)) => format!("\"{name}\" (id {id})"),
            (Some(name), None) => format!("\"{name}\""),
            (None, Some(id)) => format!("id {id}"),
            (None, None) => String::new(),
        }
    }
}

/// Where a reference is written: section, array index, key.
type Place = (String, Option<usize>, &'static str);

/// How one reference names its record: id and/or name.
type Named = (Option<u64>, Option<String>);

fn item(i: &TovutiItem) -> Named {
    match i {
        TovutiItem::Id(id) => (Some(*id), None),
        TovutiItem::Name(name) => (None, Some(name.clone())),
    }
}

/// Every Tovuti custom field, group and course the mapping names, in file order.
pub fn tovuti_needs(m: &Mapping, src: Source<'_>) -> Vec<TovutiNeed> {
    let mut found: Vec<(CatalogKind, Named, Place)> = Vec::new();
    for (place, r) in tovuti_field_refs(m) {
        if let TovutiRef::Custom(c) = r {
            let named = (c.field_id, c.name.clone());
            found.push((CatalogKind::CustomFields, named, place));
        }
    }
    let f = &m.file;
    for g in &f.ghl.new_user_group_ids {
        let place = ("ghl".to_owned(), None, "new_user_group_ids");
        found.push((CatalogKind::Groups, item(g), place));
    }
    for (i, rule) in f.ghl.tags.iter().enumerate() {
        for g in &rule.group_ids {
            let place = ("ghl.tags".into(), Some(i), "group_ids");
            found.push((CatalogKind::Groups, item(g), place));
        }
        for c in &rule.enroll_course_ids {
            let place = ("ghl.tags".into(), Some(i), "enroll_course_ids");
            found.push((CatalogKind::Courses, item(c), place));
        }
    }
    for (i, c) in f.tovuti.courses.iter().enumerate() {
        let place = ("lms.courses".into(), Some(i), "course_id");
        found.push((CatalogKind::Courses, item(&c.course_id), place));
    }
    for (i, rule) in f.tovuti.milestones.iter().enumerate() {
        if let Some(c) = &rule.course_id {
            let place = ("lms.milestones".into(), Some(i), "course_id");
            found.push((CatalogKind::Courses, item(c), place));
        }
    }
    let mut needs: Vec<TovutiNeed> = found
        .into_iter()
        .map(|(kind, (id, name), (section, index, key))| TovutiNeed {
            kind,
            id,
            name,
            key: match index {
                Some(i) => format!("{section}[{i}].{key}"),
                None => format!("{section}.{key}"),
            },
            line: locate(src, &section, index, key),
        })
        .collect();
    needs.sort_by_key(|n| n.line);
    needs
}

/// The line of `key`, or of the shorter key it may be written as (`groups` for
/// `group_ids`, `course` for `course_id`).
fn locate(src: Source<'_>, section: &str, index: Option<usize>, key: &str) -> usize {
    let alias = match key {
        "group_ids" => "groups",
        "new_user_group_ids" => "new_user_groups",
        "enroll_course_ids" => "enroll_courses",
        "course_id" => "course",
        other => other,
    };
    let section_line = src.locate(section, index, None);
    match src.locate(section, index, Some(key)) {
        line if line == section_line => src.locate(section, index, Some(alias)),
        line => line,
    }
}

/// Every Tovuti user field the mapping names, with where.
fn tovuti_field_refs(m: &Mapping) -> Vec<(Place, &TovutiRef)> {
    let f = &m.file;
    let mut refs: Vec<(Place, &TovutiRef)> = Vec::new();
    for (i, pair) in f.fields.iter().enumerate() {
        refs.push((("fields".into(), Some(i), "tovuti"), &pair.tovuti));
    }
    for (i, tv) in f.tag_values.iter().enumerate() {
        refs.push((("tag_values".into(), Some(i), "tovuti"), &tv.tovuti));
    }
    if let Some(name) = &f.name {
        refs.push((("name".into(), None, "tovuti"), &name.tovuti));
    }
    if let Some(r) = &f.extra.tovuti {
        refs.push((("extra".into(), None, "tovuti"), r));
    }
    if let Some(r) = &f.identity.ghl_contact_id_in_tovuti {
        let place = ("identity".into(), None, "ghl_contact_id_in_tovuti");
        refs.push((place, r));
    }
    let s = &f.ghl.summaries;
    let summaries = [
        ("ghl.summaries.open_tasks", &s.open_tasks),
        ("ghl.summaries.last_note", &s.last_note),
        ("ghl.summaries.next_appointment", &s.next_appointment),
    ];
    for (section, rule) in summaries {
        if let Some(rule) = rule {
            refs.push(((section.into(), None, "tovuti"), &rule.tovuti));
        }
    }
    refs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Mapping {
        crate::mapping::load("m.toml", text).unwrap()
    }

    #[test]
    fn the_example_needs_all_but_campaigns() {
        let m = load(crate::mapping::EXAMPLE);
        let needs = ghl_needs(&m);
        let expected = Needs {
            campaigns: false,
            campaign_names: false,
            ..Needs::everything()
        };
        assert_eq!(needs, expected);
    }

    #[test]
    fn appointment_and_workflow_rules_need_their_capabilities() {
        let text = "version = 1\n[lms.enrollment_created]\nworkflow_id = \"wf\"\n\
                    [lms.event_registered]\ncalendar_id = \"cal\"\ntitle = \"t\"\n";
        let needs = ghl_needs(&load(text));
        assert!(needs.appointments && needs.workflows);
        assert!(!needs.campaigns && !needs.notes && !needs.custom_fields);
        // Named by id, the workflow needs no list read; by name it does.
        assert!(!needs.workflow_names);
        let text = "version = 1\n[lms.enrollment_created]\nworkflow = \"New enrollment\"\n";
        let needs = ghl_needs(&load(text));
        assert!(needs.workflows && needs.workflow_names && !needs.campaign_names);
    }

    #[test]
    fn tovuti_references_carry_their_kind_key_and_line() {
        let text = "version = 1\n\n[[fields]]\nghl = \"phone\"\ntovuti = { field_id = 23 }\n\
                    \n[ghl]\nnew_user_group_ids = [2]\n\n[[lms.courses]]\ncourse_id = 101\n";
        let needs = tovuti_needs(&load(text), Source::new("m.toml", text));
        let seen: Vec<_> = needs
            .iter()
            .map(|n| (n.kind, n.describe(), n.key.as_str(), n.line))
            .collect();
        assert_eq!(
            seen,
            [
                (
                    CatalogKind::CustomFields,
                    "id 23".into(),
                    "fields[0].tovuti",
                    5
                ),
                (
                    CatalogKind::Groups,
                    "id 2".into(),
                    "ghl.new_user_group_ids",
                    8
                ),
                (
                    CatalogKind::Courses,
                    "id 101".into(),
                    "lms.courses[0].course_id",
                    11
                ),
            ]
        );
    }
}
