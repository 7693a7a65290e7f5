//! LMS → CRM: plans GHL actions for a Tovuti event (contact upsert, tags, campaign/workflow,
//! milestone tasks, notes, appointments).

use serde_json::{Value, json};

use super::action::{Action, AppointmentBody, ContactRef, TaskBody};
use super::fields::{self, Canonical};
use super::model::{
    ContactRule, ExtraMode, Milestone, MilestoneRule, NoteOn, TaskAction, parse_due_in,
};
use super::plan::{Known, Planner, contact_ref};
use super::template;
use super::value::{self, FieldType, format_ts};
use super::{extra, lms_context};
use crate::platforms::tovuti::payloads::User;
use crate::platforms::tovuti::{TovutiEvent, TovutiWebhook};

pub(super) fn plan(p: &mut Planner<'_>, wh: &TovutiWebhook, known: &Known<'_>) {
    let Some(user) = wh.event.user() else {
        p.note(format!(
            "no rule handles Tovuti event type `{}`",
            wh.event_type()
        ));
        return;
    };
    let email = user_email(p, user);
    let full_sync = matches!(
        wh.event,
        TovutiEvent::UserCreated(_)
            | TovutiEvent::UserUpdated(_)
            | TovutiEvent::EnrollmentCreated(_)
    );
    if full_sync {
        sync_contact(p, user, email.as_deref(), known);
    } else if known.links.ghl_contact_id.is_none() {
        if let Some(e) = &email {
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
    }
    let Some(contact) = contact_ref(&known.links, email.as_deref()) else {
        p.note("the Tovuti user has no usable email and no linked contact; email is the join key");
        return;
    };
    let ctx = Value::Object(lms_context::context(wh));
    rules(p, wh, &contact, &ctx, known);
}

fn user_email(p: &mut Planner<'_>, user: &User) -> Option<String> {
    let raw = user.email.clone().map_or(Value::Null, Value::String);
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

fn rules(
    p: &mut Planner<'_>,
    wh: &TovutiWebhook,
    contact: &ContactRef,
    ctx: &Value,
    known: &Known<'_>,
) {
    match &wh.event {
        TovutiEvent::UserCreated(_) => {
            if let Some(rule) = p.m.file.lms.user_created.clone() {
                contact_rule(p, "lms.user_created", None, &rule, contact, ctx, known);
            }
        }
        TovutiEvent::EnrollmentCreated(d) => enrollment(p, d.course.id.0, contact, ctx, known),
        TovutiEvent::CourseCompleted(d) => milestones(
            p,
            Milestone::CourseCompleted,
            Some(d.course.id.0),
            contact,
            ctx,
            known,
        ),
        TovutiEvent::LessonCompleted(d) => {
            milestones(
                p,
                Milestone::LessonCompleted,
                Some(d.course.id.0),
                contact,
                ctx,
                known,
            );
            milestones(
                p,
                Milestone::Progress,
                Some(d.course.id.0),
                contact,
                ctx,
                known,
            );
        }
        TovutiEvent::AwardEarned(d) => {
            let course = d.course.as_ref().map(|c| c.id.0);
            milestones(p, Milestone::AwardEarned, course, contact, ctx, known);
        }
        TovutiEvent::NoteCreated(_) => notes(p, NoteOn::NoteCreated, contact, ctx),
        TovutiEvent::CallRecorded(_) => notes(p, NoteOn::CallRecorded, contact, ctx),
        TovutiEvent::EventRegistered(_) => appointment(p, wh, contact, ctx),
        TovutiEvent::UserUpdated(_) | TovutiEvent::Unknown { .. } => {}
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
    if let (Some(r), true) = (&m.file.extra.ghl, m.file.extra.mode != ExtraMode::Ignore) {
        if let Some(text) = extra::tovuti_extra(m, user) {
            out.set(r, Value::String(text));
        }
    }
    let mut written: Canonical = known_state.clone().unwrap_or_default();
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
    course_id: u64,
    contact: &ContactRef,
    ctx: &Value,
    known: &Known<'_>,
) {
    let base = p.m.file.lms.enrollment_created.clone().unwrap_or_default();
    let courses = p.m.file.lms.courses.clone();
    let course = courses
        .iter()
        .enumerate()
        .find(|(_, c)| c.course_id == course_id);
    let mut rule = base.clone();
    if let Some((_, c)) = course {
        rule.campaign_id = c.campaign_id.clone().or(base.campaign_id);
        rule.workflow_id = c.workflow_id.clone().or(base.workflow_id);
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
    if let Some(id) = &r.campaign_id {
        let key = p.key(rule, "add_to_campaign", id);
        p.push(Action::AddToCampaign {
            key,
            contact: contact.clone(),
            campaign_id: id.clone(),
        });
    }
    if let Some(id) = &r.workflow_id {
        let key = p.key(rule, "add_to_workflow", id);
        p.push(Action::AddToWorkflow {
            key,
            contact: contact.clone(),
            workflow_id: id.clone(),
        });
    }
}

fn milestones(
    p: &mut Planner<'_>,
    on: Milestone,
    course: Option<u64>,
    contact: &ContactRef,
    ctx: &Value,
    known: &Known<'_>,
) {
    let rules = p.m.file.lms.milestones.clone();
    for (i, rule) in rules.iter().enumerate().filter(|(_, r)| r.on == on) {
        if rule.course_id.is_some() && rule.course_id != course {
            continue;
        }
        if let (Milestone::Progress, Some(threshold)) = (on, rule.threshold) {
            let reached = ctx
                .get("progress")
                .and_then(Value::as_f64)
                .is_some_and(|v| v >= threshold);
            if !reached {
                continue;
            }
        }
        let mut ctx = ctx.clone();
        if let Value::Object(o) = &mut ctx {
            o.insert("milestone".to_owned(), json!(on.as_str()));
            o.insert("priority".to_owned(), json!(rule.priority));
            o.insert("status".to_owned(), json!(rule.status));
        }
        if let Some(action) = milestone_task(p, i, rule, contact, &ctx, known.now) {
            p.push(action);
        }
    }
}

/// The task action of one milestone rule; `task_key` is prefixed with the rule id so two
/// rules never share a task by accident.
fn milestone_task(
    p: &mut Planner<'_>,
    i: usize,
    rule: &MilestoneRule,
    contact: &ContactRef,
    ctx: &Value,
    now: jiff::Timestamp,
) -> Option<Action> {
    let rule_id = rule
        .id
        .clone()
        .unwrap_or_else(|| format!("lms.milestones[{i}]"));
    let at = |key: &str| template::name("lms.milestones", Some(i), key);
    let title = p.render(&at("title"), ctx)?;
    let body = rule.body.as_ref().and_then(|_| p.render(&at("body"), ctx));
    let task_key = match &rule.task_key {
        Some(_) => p.render(&at("task_key"), ctx)?,
        None => format!("user-{}", ctx["user"]["id"]),
    };
    let due = now.as_second() + rule.due_in.as_deref().and_then(parse_due_in).unwrap_or(0);
    let due_date = jiff::Timestamp::from_second(due).map_or_else(|_| format_ts(now), format_ts);
    let completed = rule.action == TaskAction::Complete;
    let task = TaskBody {
        title: title.trim().to_owned(),
        body,
        due_date,
        assigned_to: rule.assignee.clone(),
        completed,
    };
    let (contact, task_key) = (contact.clone(), format!("{rule_id}:{}", task_key.trim()));
    Some(match rule.action {
        TaskAction::Create => Action::CreateTask {
            key: p.key(&rule_id, "create_task", ""),
            contact,
            task_key,
            task,
        },
        TaskAction::Update => Action::UpdateTask {
            key: p.key(&rule_id, "update_task", ""),
            contact,
            task_key,
            task,
        },
        TaskAction::Complete => Action::CompleteTask {
            key: p.key(&rule_id, "complete_task", ""),
            contact,
            task_key,
            task,
        },
    })
}

fn notes(p: &mut Planner<'_>, on: NoteOn, contact: &ContactRef, ctx: &Value) {
    let rules = p.m.file.lms.notes.clone();
    let kind = ctx["note"]["kind"].as_str().map(str::to_owned);
    for (i, rule) in rules.iter().enumerate().filter(|(_, r)| r.on == on) {
        if rule.kind.is_some() && rule.kind != kind {
            continue;
        }
        let rule_id = rule.id.clone().unwrap_or_else(|| format!("lms.notes[{i}]"));
        let at = |key: &str| template::name("lms.notes", Some(i), key);
        let Some(body) = p.render(&at("body"), ctx) else {
            continue;
        };
        let title = rule
            .title
            .as_ref()
            .and_then(|_| p.render(&at("title"), ctx));
        let key = p.key(&rule_id, "create_note", "");
        p.push(Action::CreateNote {
            key,
            contact: contact.clone(),
            title,
            body: body.trim().to_owned(),
        });
    }
}

fn appointment(p: &mut Planner<'_>, wh: &TovutiWebhook, contact: &ContactRef, ctx: &Value) {
    let (Some(rule), TovutiEvent::EventRegistered(d)) =
        (p.m.file.lms.event_registered.clone(), &wh.event)
    else {
        return;
    };
    let at = |key: &str| template::name("lms.event_registered", None, key);
    let Some(start) = to_datetime(
        p,
        "registration.start",
        &Value::String(d.event.start.clone()),
    ) else {
        return;
    };
    let end = d
        .event
        .end
        .as_ref()
        .and_then(|e| to_datetime(p, "registration.end", &Value::String(e.clone())));
    let minutes = i64::from(rule.default_duration_minutes.unwrap_or(60));
    let end = end.unwrap_or_else(|| shift(&start, minutes * 60));
    let Some(title) = p.render(&at("title"), ctx) else {
        return;
    };
    let description = rule
        .notes
        .as_ref()
        .and_then(|_| p.render(&at("notes"), ctx));
    let appointment_key = match d.registration_id {
        Some(r) => format!("registration:{}", r.0),
        None => format!("event:{}:user:{}", d.event.id.0, d.user.id.0),
    };
    let appointment = AppointmentBody {
        calendar_id: rule.calendar_id.clone(),
        title: title.trim().to_owned(),
        start_time: start,
        end_time: end,
        appointment_status: rule
            .status
            .clone()
            .unwrap_or_else(|| "confirmed".to_owned()),
        assigned_user_id: rule.assigned_user_id.clone(),
        address: d.event.location.clone(),
        description,
    };
    let key = p.key("lms.event_registered", "upsert_appointment", "");
    p.push(Action::UpsertAppointment {
        key,
        contact: contact.clone(),
        appointment_key,
        appointment,
    });
}

fn to_datetime(p: &mut Planner<'_>, field: &str, raw: &Value) -> Option<String> {
    let opts = value::TypeOptions {
        phone_country: p.m.phone_country,
        list_separator: ",",
    };
    match value::normalize(FieldType::Datetime, raw, opts) {
        Ok(Some(Value::String(s))) => Some(s),
        Ok(_) => None,
        Err(e) => {
            p.problem(field, e.to_string());
            None
        }
    }
}

fn shift(ts: &str, seconds: i64) -> String {
    ts.parse::<jiff::Timestamp>()
        .ok()
        .and_then(|t| jiff::Timestamp::from_second(t.as_second() + seconds).ok())
        .map_or_else(|| ts.to_owned(), format_ts)
}
