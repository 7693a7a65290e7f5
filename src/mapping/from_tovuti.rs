//! Tovuti → GHL: plans GHL actions for a Tovuti event (contact upsert, tags, campaign/workflow,
//! milestone tasks, notes, appointments).

use serde_json::{Value, json};

use super::action::{Action, ContactRef};
use super::fields::{self, Canonical};
use super::from_tovuti_activity::{appointment, milestones, notes};
use super::model::{ContactRule, ExtraMode, Milestone, NoteOn};
use super::plan::{Known, Planner, contact_ref};
use super::template;
use super::{extra, from_tovuti_context};
use crate::platforms::tovuti::payloads::{Course, User};
use crate::platforms::tovuti::{TovutiEvent, TovutiWebhook};

pub(super) fn plan(p: &mut Planner<'_>, wh: &TovutiWebhook, known: &Known<'_>) {
    let Some(user) = wh.event.user() else {
        p.note(format!(
            "no rule handles Tovuti event type `{}`",
            wh.event_type()
        ));
        return;
    };
    let email = p.email(user.email.as_deref());
    let full_sync = matches!(
        wh.event,
        TovutiEvent::UserCreated(_)
            | TovutiEvent::UserUpdated(_)
            | TovutiEvent::EnrollmentCreated(_)
    );
    if full_sync {
        sync_contact(p, user, email.as_deref(), known);
    } else if known.links.ghl_contact_id.is_none()
        && let Some(e) = &email
    {
        // The contact must exist before a task, note or appointment can hang on it.
        let key = p.key("contact", "upsert_contact", "");
        let fields = fields::GhlFields::default();
        p.push(Action::UpsertContact {
            key,
            contact: ContactRef::Email(e.clone()),
            email: e.clone(),
            fields,
        });
    }
    let Some(contact) = contact_ref(&known.links, email.as_deref()) else {
        p.note("the Tovuti user has no usable email and no linked contact; email is the join key");
        return;
    };
    let ctx = Value::Object(from_tovuti_context::context(wh));
    rules(p, wh, &contact, &ctx, known);
}

fn rules(
    p: &mut Planner<'_>,
    wh: &TovutiWebhook,
    contact: &ContactRef,
    ctx: &Value,
    known: &Known<'_>,
) {
    let full_record = matches!(
        wh.event,
        TovutiEvent::UserCreated(_)
            | TovutiEvent::UserUpdated(_)
            | TovutiEvent::EnrollmentCreated(_)
    );
    if let (true, Some(user)) = (full_record, wh.event.user()) {
        tag_values(p, user, contact, known);
    }
    for (on, course) in milestone_hits(&wh.event) {
        milestones(p, on, course, contact, ctx, known);
    }
    match &wh.event {
        TovutiEvent::UserCreated(_) => {
            if let Some(rule) = p.m.file.tovuti.user_created.clone() {
                contact_rule(p, "lms.user_created", None, &rule, contact, ctx, known);
            }
        }
        TovutiEvent::EnrollmentCreated(d) => enrollment(p, &d.course, contact, ctx, known),
        TovutiEvent::NoteCreated(_) => notes(p, NoteOn::NoteCreated, contact, ctx),
        TovutiEvent::CallRecorded(_) => notes(p, NoteOn::CallRecorded, contact, ctx),
        TovutiEvent::EventRegistered(_) => appointment(p, wh, contact, ctx),
        _ => {}
    }
}

/// The milestone kinds an event can trigger, with its course. A completed lesson may also
/// carry the course progress that `progress` rules test.
fn milestone_hits(event: &TovutiEvent) -> Vec<(Milestone, Option<&Course>)> {
    match event {
        TovutiEvent::CourseCompleted(d) => vec![(Milestone::CourseCompleted, Some(&d.course))],
        TovutiEvent::LessonCompleted(d) => vec![
            (Milestone::LessonCompleted, Some(&d.course)),
            (Milestone::Progress, Some(&d.course)),
        ],
        TovutiEvent::AwardEarned(d) => vec![(Milestone::AwardEarned, d.course.as_ref())],
        _ => Vec::new(),
    }
}

/// `[[tag_values]]`: the tag goes on while the Tovuti field holds the value and comes off
/// when the contact is known to have it and the value is gone. A record without the field
/// (a partial user object) changes nothing.
fn tag_values(p: &mut Planner<'_>, user: &User, contact: &ContactRef, known: &Known<'_>) {
    let has = |t: &str| {
        known
            .ghl_contact
            .is_some_and(|c| c.tags.iter().any(|x| x.eq_ignore_ascii_case(t.trim())))
    };
    let (mut add, mut remove) = (Vec::new(), Vec::new());
    for r in
        p.m.file
            .tag_values
            .iter()
            .filter(|r| r.direction.writes_ghl())
    {
        let Some(current) = fields::read_tovuti(user, &r.tovuti)
            .as_str()
            .map(str::trim)
            .map(str::to_owned)
        else {
            continue;
        };
        let holds = current.eq_ignore_ascii_case(r.value.trim());
        if holds && !has(&r.tag) {
            add.push(r.tag.trim().to_owned());
        } else if !holds && has(&r.tag) {
            remove.push(r.tag.trim().to_owned());
        }
    }
    if !add.is_empty() {
        let key = p.key("tag_values", "add_tags", "");
        p.push(Action::AddTags {
            key,
            contact: contact.clone(),
            tags: add,
        });
    }
    if !remove.is_empty() {
        let key = p.key("tag_values", "remove_tags", "");
        p.push(Action::RemoveTags {
            key,
            contact: contact.clone(),
            tags: remove,
        });
    }
}

/// Field pairs Tovuti → GHL, writing only what differs from the known contact.
fn sync_contact(p: &mut Planner<'_>, user: &User, email: Option<&str>, known: &Known<'_>) {
    let m = p.m;
    let (source, problems) = fields::from_tovuti(m, user);
    p.problems(problems);
    let held = known.ghl_contact.map(|c| fields::held_by_ghl(m, c));
    let labels = fields::changed(m, true, &source, held.as_ref());
    let known_state = known.ghl_contact.map(|c| fields::from_ghl(m, c).0);
    let mut out = fields::to_ghl(m, &source, &labels);
    if let Some(r) = &m.file.identity.tovuti_user_id_in_ghl {
        let current = known.ghl_contact.map(|c| fields::read_ghl(c, r));
        if current.as_ref().and_then(value_text) != Some(user.id.0.to_string()) {
            out.set(r, json!(user.id.0.to_string()));
        }
    }
    if let Some(r) = &m.file.extra.ghl
        && m.file.extra.mode != ExtraMode::Ignore
        && let Some(text) = extra::tovuti_extra(m, user)
    {
        out.set(r, Value::String(text));
    }
    let mut written: Canonical = known_state.unwrap_or_default();
    for l in &labels {
        if let Some(v) = source.get(l) {
            written.insert(l.clone(), v.clone());
        }
    }
    p.fingerprints(&source, (!out.is_empty()).then_some(&written));
    push_contact_write(p, out, email, known);
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn push_contact_write(
    p: &mut Planner<'_>,
    out: fields::GhlFields,
    email: Option<&str>,
    known: &Known<'_>,
) {
    match (&known.links.ghl_contact_id, email) {
        (Some(id), _) if out.is_empty() => {
            p.note(format!("contact {id} already holds the mapped fields"))
        }
        (Some(id), _) => {
            let key = p.key("fields", "update_contact", "");
            p.push(Action::UpdateContact {
                key,
                contact: ContactRef::Id(id.clone()),
                fields: out,
            });
        }
        (None, Some(e)) => {
            let key = p.key("fields", "upsert_contact", "");
            p.push(Action::UpsertContact {
                key,
                contact: ContactRef::Email(e.to_owned()),
                email: e.to_owned(),
                fields: out,
            });
        }
        (None, None) => {}
    }
}

fn enrollment(
    p: &mut Planner<'_>,
    course: &Course,
    contact: &ContactRef,
    ctx: &Value,
    known: &Known<'_>,
) {
    let base =
        p.m.file
            .tovuti
            .enrollment_created
            .clone()
            .unwrap_or_default();
    let courses = p.m.file.tovuti.courses.clone();
    let course = courses
        .iter()
        .enumerate()
        .find(|(_, c)| c.course_id.matches(course.id.0, course.title.as_deref()));
    let mut rule = base.clone();
    if let Some((_, c)) = course {
        let own = c.as_contact_rule();
        if own.campaign_ref().is_some() {
            (rule.campaign_id, rule.campaign) = (own.campaign_id.clone(), own.campaign.clone());
        }
        if own.workflow_ref().is_some() {
            (rule.workflow_id, rule.workflow) = (own.workflow_id, own.workflow);
        }
        rule.tags.clear();
    }
    let mut tags = render_tags(p, "lms.enrollment_created", None, &base.tags, ctx);
    if let Some((i, c)) = course {
        tags.extend(render_tags(p, "lms.courses", Some(i), &c.tags, ctx));
    }
    add_tags(p, "lms.enrollment_created", tags, contact, known);
    campaign_and_workflow(p, "lms.enrollment_created", &rule, contact);
}

fn contact_rule(
    p: &mut Planner<'_>,
    section: &str,
    index: Option<usize>,
    rule: &ContactRule,
    contact: &ContactRef,
    ctx: &Value,
    known: &Known<'_>,
) {
    let tags = render_tags(p, section, index, &rule.tags, ctx);
    add_tags(p, section, tags, contact, known);
    campaign_and_workflow(p, section, rule, contact);
}

fn render_tags(
    p: &mut Planner<'_>,
    section: &str,
    index: Option<usize>,
    tags: &[String],
    ctx: &Value,
) -> Vec<String> {
    (0..tags.len())
        .filter_map(|j| p.render(&template::name(section, index, &format!("tags[{j}]")), ctx))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

fn add_tags(
    p: &mut Planner<'_>,
    rule: &str,
    tags: Vec<String>,
    contact: &ContactRef,
    known: &Known<'_>,
) {
    let has = |t: &str| {
        known
            .ghl_contact
            .is_some_and(|c| c.tags.iter().any(|x| x.eq_ignore_ascii_case(t)))
    };
    let mut new: Vec<String> = Vec::new();
    for t in tags {
        if !has(&t) && !new.iter().any(|x| x.eq_ignore_ascii_case(&t)) {
            new.push(t);
        }
    }
    if !new.is_empty() {
        let key = p.key(rule, "add_tags", "");
        p.push(Action::AddTags {
            key,
            contact: contact.clone(),
            tags: new,
        });
    }
}

fn campaign_and_workflow(p: &mut Planner<'_>, rule: &str, r: &ContactRule, contact: &ContactRef) {
    if let Some(campaign) = r.campaign_ref() {
        let key = p.key(rule, "add_to_campaign", campaign.text());
        p.push(Action::AddToCampaign {
            key,
            contact: contact.clone(),
            campaign,
        });
    }
    if let Some(workflow) = r.workflow_ref() {
        let key = p.key(rule, "add_to_workflow", workflow.text());
        p.push(Action::AddToWorkflow {
            key,
            contact: contact.clone(),
            workflow,
        });
    }
}
