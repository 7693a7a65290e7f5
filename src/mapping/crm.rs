//! CRM → LMS: plans Tovuti actions for a GHL event (field changes, tag rules, contact deletion,
//! and the optional task/note/appointment summaries).

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::action::{Action, UserRef};
use super::extra;
use super::fields::{self, Canonical, TovutiFields};
use super::model::{ContactDeleted, ExtraMode, SummaryRule, TagRemoved, TagRule};
use super::plan::{Known, Planner, user_ref};
use super::template;
use super::value::{self, FieldType};
use crate::platforms::ghl::payloads::{Appointment, Contact, Note, Task};
use crate::platforms::ghl::{GhlEvent, GhlWebhook};

pub(super) fn plan(p: &mut Planner<'_>, wh: &GhlWebhook, known: &Known<'_>) {
    match &wh.event {
        GhlEvent::ContactCreate(c) => {
            sync_user(p, c, known, p.m.file.ghl.create_users);
            tag_rules(p, c, known);
        }
        GhlEvent::ContactUpdate(c) | GhlEvent::ContactDndUpdate(c) => sync_user(p, c, known, false),
        GhlEvent::ContactTagUpdate(c) => tag_rules(p, c, known),
        GhlEvent::ContactDelete(c) => contact_deleted(p, c, known),
        GhlEvent::NoteCreate(n) | GhlEvent::NoteUpdate(n) => last_note(p, n, known),
        GhlEvent::TaskCreate(t) => open_tasks(p, t, true, known),
        GhlEvent::TaskComplete(t) | GhlEvent::TaskDelete(t) => open_tasks(p, t, false, known),
        GhlEvent::AppointmentCreate(a) | GhlEvent::AppointmentUpdate(a) => {
            next_appointment(p, Some(&a.appointment), known);
        }
        GhlEvent::AppointmentDelete(_) => next_appointment(p, None, known),
        other => p.note(format!(
            "the mapping has no rule for GHL `{}`",
            other.event_type()
        )),
    }
}

fn contact_email(p: &mut Planner<'_>, c: &Contact) -> Option<String> {
    let raw = c.email.clone().map_or(Value::Null, Value::String);
    let opts = value::TypeOptions {
        phone_country: p.m.phone_country,
        list_separator: ",",
    };
    match value::normalize(FieldType::Email, &raw, opts) {
        Ok(Some(Value::String(e))) => Some(e),
        Ok(_) => None,
        Err(e) => {
            p.problem("email", e.to_string());
            None
        }
    }
}

/// The Tovuti fields a contact maps to: changed pairs, the contact id, and `extra`.
fn tovuti_fields(
    p: &mut Planner<'_>,
    c: &Contact,
    known: &Known<'_>,
) -> (TovutiFields, Canonical, Canonical) {
    let m = p.m;
    let (source, problems) = fields::from_ghl(m, c);
    p.problems(problems);
    let held = known.tovuti_user.map(|u| fields::held_by_tovuti(m, u));
    let labels = fields::changed(m, false, &source, held.as_ref());
    let known_state = known.tovuti_user.map(|u| fields::from_tovuti(m, u).0);
    let mut out = TovutiFields::from_known(known.tovuti_user);
    fields::to_tovuti(m, &source, &labels, &mut out);
    if let Some(r) = &m.file.identity.ghl_contact_id_in_tovuti {
        out.set(r, json!(c.id));
    }
    if let Some(r) = &m.file.extra.tovuti
        && m.file.extra.mode != ExtraMode::Ignore
        && let Some(text) = extra::ghl_extra(m, c)
    {
        out.set(r, Value::String(text));
    }
    let mut written = known_state.unwrap_or_default();
    for l in &labels {
        if let Some(v) = source.get(l) {
            written.insert(l.clone(), v.clone());
        }
    }
    (out, source, written)
}

fn sync_user(p: &mut Planner<'_>, c: &Contact, known: &Known<'_>, may_create: bool) {
    let (out, source, written) = tovuti_fields(p, c, known);
    match user_ref(known) {
        Some(user) => {
            let changes = out.has_changes(known.tovuti_user);
            p.fingerprints(&source, changes.then_some(&written));
            if changes {
                let key = p.key("fields", "patch_tovuti_user", "");
                p.push(Action::PatchTovutiUser {
                    key,
                    user,
                    fields: out,
                });
            } else {
                p.note("the Tovuti user already holds the mapped fields");
            }
        }
        None if may_create => {
            p.fingerprints(&source, Some(&written));
            create_user(p, c, out, &[], &[]);
        }
        None => {
            p.fingerprints(&source, None);
            p.note("the contact is not linked to a Tovuti user; contact edits do not create users (see `ghl.create_users`)");
        }
    }
}

fn create_user(
    p: &mut Planner<'_>,
    c: &Contact,
    fields: TovutiFields,
    groups: &[u64],
    courses: &[u64],
) -> Option<UserRef> {
    let Some(email) = contact_email(p, c) else {
        p.note("cannot create a Tovuti user: the contact has no usable email");
        return None;
    };
    let mut group_ids: BTreeSet<u64> = p.m.file.ghl.new_user_group_ids.iter().copied().collect();
    group_ids.extend(groups);
    let key = p.key("create_user", "create_tovuti_user", "");
    p.push(Action::CreateTovutiUser {
        key,
        email: email.clone(),
        fields,
        group_ids: group_ids.into_iter().collect(),
        enrolled_course_ids: courses.to_vec(),
    });
    Some(UserRef::Email(email))
}

/// Tags added since the previous known tags, and tags removed (case-insensitive, as GHL).
fn tag_changes(c: &Contact, known: &Known<'_>) -> (Vec<String>, Vec<String>) {
    let lower = |tags: &[String]| {
        tags.iter()
            .map(|t| t.trim().to_lowercase())
            .collect::<BTreeSet<_>>()
    };
    let now = lower(&c.tags);
    let before = known.previous_ghl_tags.map(lower).unwrap_or_default();
    (
        now.difference(&before).cloned().collect(),
        before.difference(&now).cloned().collect(),
    )
}

/// What the matching tag rules grant (or, on removal, take away), merged.
#[derive(Debug, Default)]
struct TagEffect {
    create: bool,
    courses: Vec<u64>,
    groups: Vec<u64>,
}

impl TagEffect {
    fn of<'r>(rules: impl Iterator<Item = &'r TagRule>) -> Self {
        let (mut create, mut courses, mut groups) = (false, BTreeSet::new(), BTreeSet::new());
        for r in rules {
            create |= r.create_user;
            courses.extend(r.enroll_course_ids.iter().copied());
            groups.extend(r.group_ids.iter().copied());
        }
        let (courses, groups) = (courses.into_iter().collect(), groups.into_iter().collect());
        Self {
            create,
            courses,
            groups,
        }
    }

    fn is_empty(&self) -> bool {
        !self.create && self.courses.is_empty() && self.groups.is_empty()
    }
}

fn tag_rules(p: &mut Planner<'_>, c: &Contact, known: &Known<'_>) {
    let (added, removed) = tag_changes(c, known);
    let rules = p.m.file.ghl.tags.clone();
    let hit = |tags: &[String], r: &TagRule| tags.contains(&r.tag.trim().to_lowercase());
    let gained = TagEffect::of(rules.iter().filter(|r| hit(&added, r)));
    let reversed = rules.iter().filter(|r| r.on_remove == TagRemoved::Reverse);
    let lost = TagEffect::of(reversed.filter(|r| hit(&removed, r)));
    if !gained.is_empty() {
        match user_ref(known) {
            Some(user) => grant(p, &user, &gained.courses, &gained.groups, known),
            None if gained.create => {
                let (fields, _, _) = tovuti_fields(p, c, known);
                create_user(p, c, fields, &gained.groups, &gained.courses);
            }
            None => p.note("a tag rule matched, but the contact has no Tovuti user and the rule does not create one"),
        }
    }
    if let Some(user) = user_ref(known) {
        revoke(p, &user, &lost.courses, &lost.groups);
    }
}

fn grant(p: &mut Planner<'_>, user: &UserRef, courses: &[u64], groups: &[u64], known: &Known<'_>) {
    let u = known.tovuti_user;
    let courses: Vec<u64> = courses
        .iter()
        .copied()
        .filter(|id| !u.is_some_and(|u| u.enrolled_course_ids.iter().any(|c| c.0 == *id)))
        .collect();
    let groups: Vec<u64> = groups
        .iter()
        .copied()
        .filter(|id| !u.is_some_and(|u| u.user_group_ids.iter().any(|g| g.0 == *id)))
        .collect();
    if !courses.is_empty() {
        let key = p.key("ghl.tags", "enroll", "");
        p.push(Action::Enroll {
            key,
            user: user.clone(),
            course_ids: courses,
        });
    }
    if !groups.is_empty() {
        let key = p.key("ghl.tags", "add_to_groups", "");
        p.push(Action::AddToGroups {
            key,
            user: user.clone(),
            group_ids: groups,
        });
    }
}

fn revoke(p: &mut Planner<'_>, user: &UserRef, courses: &[u64], groups: &[u64]) {
    if !courses.is_empty() {
        let key = p.key("ghl.tags", "unenroll", "");
        p.push(Action::Unenroll {
            key,
            user: user.clone(),
            course_ids: courses.to_vec(),
        });
    }
    if !groups.is_empty() {
        let key = p.key("ghl.tags", "remove_from_groups", "");
        p.push(Action::RemoveFromGroups {
            key,
            user: user.clone(),
            group_ids: groups.to_vec(),
        });
    }
}

fn contact_deleted(p: &mut Planner<'_>, c: &Contact, known: &Known<'_>) {
    let user_id = known
        .links
        .tovuti_user_id
        .or(known.tovuti_user.map(|u| u.id.0));
    match p.m.file.ghl.contact_deleted {
        ContactDeleted::Ignore => p.note("contact deletions are ignored (`ghl.contact_deleted`)"),
        ContactDeleted::Unlink => {
            let key = p.key("ghl.contact_deleted", "unlink", "");
            p.push(Action::Unlink {
                key,
                contact_id: c.id.clone(),
                user_id,
            });
        }
        ContactDeleted::Deactivate => match user_id {
            Some(id) => {
                let key = p.key("ghl.contact_deleted", "deactivate_tovuti_user", "");
                p.push(Action::DeactivateTovutiUser {
                    key,
                    user: UserRef::Id(id),
                });
            }
            None => p.note("the deleted contact has no linked Tovuti user"),
        },
    }
}

/// Writes one summary field, keeping the rest of the user's custom fields.
fn summary(p: &mut Planner<'_>, name: &str, rule: &SummaryRule, ctx: &Value, known: &Known<'_>) {
    let Some(user) = user_ref(known) else {
        p.note(format!(
            "summary `{name}` skipped: the contact has no linked Tovuti user"
        ));
        return;
    };
    let section = format!("ghl.summaries.{name}");
    let Some(text) = p.render(&template::name(&section, None, "template"), ctx) else {
        return;
    };
    let mut out = TovutiFields::from_known(known.tovuti_user);
    out.set(&rule.tovuti, Value::String(text.trim().to_owned()));
    if out.has_changes(known.tovuti_user) {
        let key = p.key(&section, "patch_tovuti_user", "");
        p.push(Action::PatchTovutiUser {
            key,
            user,
            fields: out,
        });
    }
}

fn last_note(p: &mut Planner<'_>, n: &Note, known: &Known<'_>) {
    if let Some(rule) = p.m.file.ghl.summaries.last_note.clone() {
        let ctx = json!({"note": {"body": n.body, "date_added": n.date_added}});
        summary(p, "last_note", &rule, &ctx, known);
    }
}

/// The open tasks after this event: the known list with this task added or removed.
fn open_tasks(p: &mut Planner<'_>, t: &Task, open: bool, known: &Known<'_>) {
    let Some(rule) = p.m.file.ghl.summaries.open_tasks.clone() else {
        return;
    };
    let mut tasks: Vec<&Task> = known
        .ghl_open_tasks
        .unwrap_or_default()
        .iter()
        .filter(|x| x.id != t.id)
        .collect();
    if open {
        tasks.push(t);
    }
    tasks.sort_by(|a, b| (&a.due_date, &a.id).cmp(&(&b.due_date, &b.id)));
    let list: Vec<Value> = tasks
        .iter()
        .map(|x| json!({"title": x.title, "body": x.body, "due_date": x.due_date}))
        .collect();
    summary(p, "open_tasks", &rule, &json!({"tasks": list}), known);
}

/// The next appointment: this one if it is upcoming and not cancelled, else empty.
fn next_appointment(p: &mut Planner<'_>, a: Option<&Appointment>, known: &Known<'_>) {
    let Some(rule) = p.m.file.ghl.summaries.next_appointment.clone() else {
        return;
    };
    let upcoming = a.filter(|a| {
        let cancelled = a
            .appointment_status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("cancelled"));
        let start = a
            .start_time
            .as_deref()
            .and_then(|s| s.parse::<jiff::Timestamp>().ok());
        !cancelled && start.is_some_and(|s| s >= known.now)
    });
    let Some(a) = upcoming else {
        p.note("no upcoming appointment in this event; the summary is left as it is");
        return;
    };
    let ctx = json!({"appointment": {"title": a.title, "start_time": a.start_time, "end_time": a.end_time,
                                      "status": a.appointment_status, "address": a.address}});
    summary(p, "next_appointment", &rule, &ctx, known);
}

#[cfg(test)]
#[path = "crm_tests.rs"]
mod tests;
