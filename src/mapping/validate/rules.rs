//! Checks of the LMS and GHL rule sections: templates, thresholds, offsets, unique ids and tags.

use super::{Checker, Loc};
use crate::mapping::model::{ContactRule, MappingFile, Milestone, parse_due_in};
use crate::mapping::template;

impl Checker<'_> {
    fn contact_rule(&mut self, section: &str, index: Option<usize>, rule: &ContactRule) {
        let sample = template::tovuti_sample();
        for (j, tag) in rule.tags.iter().enumerate() {
            self.template(
                &Loc::new(section, index, &format!("tags[{j}]")),
                tag,
                &sample,
            );
        }
        for (key, v) in [
            ("campaign_id", &rule.campaign_id),
            ("workflow_id", &rule.workflow_id),
            ("campaign", &rule.campaign),
            ("workflow", &rule.workflow),
        ] {
            if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
                self.err(
                    &Loc::new(section, index, key),
                    "must not be empty (remove the key instead)",
                );
            }
        }
        for (key, id, name) in [
            ("campaign", &rule.campaign_id, &rule.campaign),
            ("workflow", &rule.workflow_id, &rule.workflow),
        ] {
            if id.is_some() && name.is_some() {
                self.err(
                    &Loc::new(section, index, key),
                    format!("name the {key} by `{key}` (its name) or `{key}_id`, not both"),
                );
            }
        }
    }

    pub(super) fn tovuti(&mut self, f: &MappingFile) {
        if let Some(r) = &f.tovuti.user_created {
            self.contact_rule("lms.user_created", None, r);
        }
        if let Some(r) = &f.tovuti.enrollment_created {
            self.contact_rule("lms.enrollment_created", None, r);
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, c) in f.tovuti.courses.iter().enumerate() {
            if !seen.insert(c.course_id.clone()) {
                self.err(
                    &Loc::new("lms.courses", Some(i), "course_id"),
                    format!("course {} has two rules", c.course_id),
                );
            }
            self.contact_rule("lms.courses", Some(i), &c.as_contact_rule());
        }
        self.milestones(f);
        self.notes_and_appointments(f);
    }

    fn milestones(&mut self, f: &MappingFile) {
        let sample = template::tovuti_sample();
        for (i, m) in f.tovuti.milestones.iter().enumerate() {
            let at = |key: &str| Loc::new("lms.milestones", Some(i), key);
            match (m.on, m.threshold) {
                (Milestone::Progress, None) => {
                    self.err(&at("on"), "`progress` needs a `threshold` (percent)")
                }
                (Milestone::Progress, Some(t)) if !(t > 0.0 && t <= 100.0) => {
                    self.err(
                        &at("threshold"),
                        "must be a percentage above 0 and at most 100",
                    );
                }
                (Milestone::Progress, Some(_)) | (_, None) => {}
                (_, Some(_)) => {
                    self.err(&at("threshold"), "only `on = \"progress\"` has a threshold")
                }
            }
            if m.due_in
                .as_deref()
                .is_some_and(|d| parse_due_in(d).is_none())
            {
                self.err(
                    &at("due_in"),
                    "expected a whole number and a unit: `3d`, `12h` or `30m`",
                );
            }
            self.template(&at("title"), &m.title, &sample);
            for (key, t) in [("body", &m.body), ("task_key", &m.task_key)] {
                if let Some(t) = t {
                    self.template(&at(key), t, &sample);
                }
            }
        }
        self.unique_ids(
            f.tovuti.milestones.iter().map(|m| m.id.as_deref()),
            "lms.milestones",
        );
        self.unique_ids(f.tovuti.notes.iter().map(|n| n.id.as_deref()), "lms.notes");
    }

    fn unique_ids<'s>(&mut self, ids: impl Iterator<Item = Option<&'s str>>, section: &str) {
        let mut seen = std::collections::BTreeSet::new();
        for (i, id) in ids.enumerate() {
            if let Some(id) = id.filter(|id| !seen.insert(*id)) {
                self.err(
                    &Loc::new(section, Some(i), "id"),
                    format!("rule id `{id}` is used twice"),
                );
            }
        }
    }

    fn notes_and_appointments(&mut self, f: &MappingFile) {
        let sample = template::tovuti_sample();
        for (i, n) in f.tovuti.notes.iter().enumerate() {
            self.template(&Loc::new("lms.notes", Some(i), "body"), &n.body, &sample);
            if let Some(t) = &n.title {
                self.template(&Loc::new("lms.notes", Some(i), "title"), t, &sample);
            }
        }
        if let Some(a) = &f.tovuti.event_registered {
            let at = |key: &str| Loc::new("lms.event_registered", None, key);
            if a.calendar_id.trim().is_empty() {
                self.err(&at("calendar_id"), "must name the GHL calendar");
            }
            self.template(&at("title"), &a.title, &sample);
            if let Some(notes) = &a.notes {
                self.template(&at("notes"), notes, &sample);
            }
        }
    }

    pub(super) fn tag_values(&mut self, f: &MappingFile) {
        let mut seen = std::collections::BTreeSet::new();
        for (i, t) in f.tag_values.iter().enumerate() {
            let at = |key: &str| Loc::new("tag_values", Some(i), key);
            if !seen.insert(t.tag.trim().to_lowercase()) {
                self.err(
                    &at("tag"),
                    format!("tag `{}` has two rules (GHL tags ignore case)", t.tag),
                );
            }
            self.tovuti_ref(&t.tovuti, &at("tovuti"), t.direction.writes_tovuti());
            if t.tag.trim().is_empty() {
                self.err(&at("tag"), "must not be empty");
            }
            if t.direction.writes_tovuti() {
                if t.otherwise.is_none() {
                    self.err(
                        &at("direction"),
                        "writing Tovuti needs `otherwise`: the value when the tag is removed",
                    );
                }
                self.add_tovuti_target(&t.tovuti, &at("tovuti"));
            }
        }
    }

    pub(super) fn ghl(&mut self, f: &MappingFile) {
        let mut seen = std::collections::BTreeSet::new();
        for (i, rule) in f.ghl.tags.iter().enumerate() {
            let loc = Loc::new("ghl.tags", Some(i), "tag");
            if rule.tag.trim().is_empty() {
                self.err(&loc, "must not be empty");
            } else if !seen.insert(rule.tag.trim().to_lowercase()) {
                self.err(
                    &loc,
                    format!("tag `{}` has two rules (GHL tags ignore case)", rule.tag),
                );
            }
        }
        let s = &f.ghl.summaries;
        let sample = template::summary_sample();
        for (key, rule) in [
            ("open_tasks", &s.open_tasks),
            ("last_note", &s.last_note),
            ("next_appointment", &s.next_appointment),
        ] {
            if let Some(rule) = rule {
                let section = format!("ghl.summaries.{key}");
                self.custom_tovuti(&rule.tovuti, &Loc::new(&section, None, "tovuti"));
                self.template(
                    &Loc::new(&section, None, "template"),
                    &rule.template,
                    &sample,
                );
            }
        }
    }
}
