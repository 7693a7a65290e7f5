//! GHL → Tovuti: plans Tovuti actions for a GHL event (field changes, tag rules, contact deletion,
//! and the optional task/note/appointment summaries).

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::action::{Action, UserRef};
use super::extra;
use super::fields::{self, Canonical, TovutiFields};
use super::from_ghl_summaries::{last_note, next_appointment, open_tasks};
use super::model::{ContactDeleted, ExtraMode, TagRemoved, TagRule, TovutiItem};
use super::plan::{Known, Planner, user_ref};
use super::tovuti_names::Unresolved;
use crate::platforms::ghl::payloads::Contact;
use crate::platforms::ghl::{GhlEvent, GhlWebhook};
use crate::platforms::tovuti::client::CatalogKind;

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
    let Some(email) = p.email(c.email.as_deref()) else {
        p.note("cannot create a Tovuti user: the contact has no usable email");
        return None;
    };
    let new_user_groups = p.m.file.ghl.new_user_group_ids.clone();
    let mut group_ids: BTreeSet<u64> = p.ids(CatalogKind::Groups, &new_user_groups).collect();
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
    /// Names the tenant's lists lack (so without an id).
    unresolved: Vec<Unresolved>,
}

impl TagEffect {
    fn of<'r>(rules: impl Iterator<Item = &'r TagRule>) -> Self {
        let (mut create, mut courses, mut groups) = (false, BTreeSet::new(), BTreeSet::new());
        let mut unresolved = Vec::new();
        for r in rules {
            create |= r.create_user;
            for (kind, items, ids) in [
                (CatalogKind::Courses, &r.enroll_course_ids, &mut courses),
                (CatalogKind::Groups, &r.group_ids, &mut groups),
            ] {
                for item in items {
                    match item {
                        TovutiItem::Id(id) => _ = ids.insert(*id),
                        TovutiItem::Name(name) => unresolved.push(Unresolved {
                            kind,
                            name: name.clone(),
                        }),
                    }
                }
            }
        }
        let (courses, groups) = (courses.into_iter().collect(), groups.into_iter().collect());
        Self {
            create,
            courses,
            groups,
            unresolved,
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
        p.unresolved(gained.unresolved);
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
        // Names the tenant lacks are skipped and recorded as on the way in: there is
        // nothing by that name to leave, and an id that was never resolved is not sent.
        p.unresolved(lost.unresolved);
        revoke(p, &user, &lost.courses, &lost.groups);
        tag_values(p, &user, &added, &removed, known);
    }
}

/// `[[tag_values]]` that write Tovuti: a tag added sets the field to `value`, a tag removed
/// sets it to `otherwise`.
fn tag_values(
    p: &mut Planner<'_>,
    user: &UserRef,
    added: &[String],
    removed: &[String],
    known: &Known<'_>,
) {
    let mut out = TovutiFields::from_known(known.tovuti_user);
    let mut touched = false;
    for r in
        p.m.file
            .tag_values
            .iter()
            .filter(|r| r.direction.writes_tovuti())
    {
        let tag = r.tag.trim().to_lowercase();
        let written = if added.contains(&tag) {
            Some(&r.value)
        } else if removed.contains(&tag) {
            r.otherwise.as_ref()
        } else {
            None
        };
        if let Some(v) = written {
            out.set(&r.tovuti, json!(v));
            touched = true;
        }
    }
    if touched && out.has_changes(known.tovuti_user) {
        let key = p.key("tag_values", "patch_tovuti_user", "");
        p.push(Action::PatchTovutiUser {
            key,
            user: user.clone(),
            fields: out,
        });
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

#[cfg(test)]
#[path = "from_ghl_tests.rs"]
mod tests;
