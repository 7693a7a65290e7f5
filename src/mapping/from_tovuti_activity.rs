//! Tovuti → GHL activity: milestone tasks, notes and appointments planned from a Tovuti event.

use serde_json::{Value, json};

use super::action::{Action, AppointmentBody, ContactRef, TaskBody};
use super::model::{AppointmentRule, Milestone, MilestoneRule, NoteOn, TaskAction, parse_due_in};
use super::plan::{Known, Planner};
use super::template;
use super::value::{self, FieldType, format_ts};
use crate::platforms::tovuti::payloads::{Course, EventRegistered};
use crate::platforms::tovuti::{TovutiEvent, TovutiWebhook};

pub(super) fn milestones(
    p: &mut Planner<'_>,
    on: Milestone,
    course: Option<&Course>,
    contact: &ContactRef,
    ctx: &Value,
    known: &Known<'_>,
) {
    let rules = p.m.file.tovuti.milestones.clone();
    for (i, rule) in rules.iter().enumerate().filter(|(_, r)| r.on == on) {
        if let Some(wanted) = &rule.course_id {
            let hit = course.is_some_and(|c| wanted.matches(c.id.0, c.title.as_deref()));
            if !hit {
                continue;
            }
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

/// The task action of one milestone rule. A rendered `task_key` names the task for every
/// rule that renders the same key, so a `complete` rule closes what a `create` rule made;
/// without one the key is the rule's own, so two keyless rules never share a task.
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
        Some(_) => p.render(&at("task_key"), ctx)?.trim().to_owned(),
        None => format!("{rule_id}:user-{}", ctx["user"]["id"]),
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
    Some(task_action(
        p,
        &rule_id,
        rule.action,
        contact.clone(),
        task_key,
        task,
    ))
}

fn task_action(
    p: &Planner<'_>,
    rule_id: &str,
    action: TaskAction,
    contact: ContactRef,
    task_key: String,
    task: TaskBody,
) -> Action {
    match action {
        TaskAction::Create => {
            let key = p.key(rule_id, "create_task", "");
            Action::CreateTask {
                key,
                contact,
                task_key,
                task,
            }
        }
        TaskAction::Update => {
            let key = p.key(rule_id, "update_task", "");
            Action::UpdateTask {
                key,
                contact,
                task_key,
                task,
            }
        }
        TaskAction::Complete => {
            let key = p.key(rule_id, "complete_task", "");
            Action::CompleteTask {
                key,
                contact,
                task_key,
                task,
            }
        }
    }
}

pub(super) fn notes(p: &mut Planner<'_>, on: NoteOn, contact: &ContactRef, ctx: &Value) {
    let rules = p.m.file.tovuti.notes.clone();
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

pub(super) fn appointment(
    p: &mut Planner<'_>,
    wh: &TovutiWebhook,
    contact: &ContactRef,
    ctx: &Value,
) {
    let (Some(rule), TovutiEvent::EventRegistered(d)) =
        (p.m.file.tovuti.event_registered.clone(), &wh.event)
    else {
        return;
    };
    let at = |key: &str| template::name("lms.event_registered", None, key);
    let Some((start_time, end_time)) = session_times(p, d, &rule) else {
        return;
    };
    let Some(title) = p.render(&at("title"), ctx) else {
        return;
    };
    let description = rule
        .notes
        .as_ref()
        .and_then(|_| p.render(&at("notes"), ctx));
    // One appointment per registration, so a changed registration updates it.
    let appointment_key = match d.registration_id {
        Some(r) => format!("registration:{}", r.0),
        None => format!("event:{}:user:{}", d.event.id.0, d.user.id.0),
    };
    let appointment = AppointmentBody {
        calendar_id: rule.calendar_id,
        title: title.trim().to_owned(),
        start_time,
        end_time,
        appointment_status: rule.status.unwrap_or_else(|| "confirmed".to_owned()),
        assigned_user_id: rule.assigned_user_id,
        address: d.event.location.clone(),
        description,
    };
    let key = p.key("lms.event_registered", "upsert_appointment", "");
    let contact = contact.clone();
    p.push(Action::UpsertAppointment {
        key,
        contact,
        appointment_key,
        appointment,
    });
}

/// Start and end of the session in UTC; the end defaults to the rule's duration.
fn session_times(
    p: &mut Planner<'_>,
    d: &EventRegistered,
    rule: &AppointmentRule,
) -> Option<(String, String)> {
    let start = to_datetime(
        p,
        "registration.start",
        &Value::String(d.event.start.clone()),
    )?;
    let end = d
        .event
        .end
        .as_ref()
        .and_then(|e| to_datetime(p, "registration.end", &Value::String(e.clone())));
    let minutes = i64::from(rule.default_duration_minutes.unwrap_or(60));
    let end = end.unwrap_or_else(|| shift(&start, minutes * 60));
    Some((start, end))
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
