//! GHL → Tovuti summaries: the contact's open tasks, last note and next appointment rendered
//! into Tovuti custom fields.

use serde_json::{Value, json};

use super::action::Action;
use super::fields::TovutiFields;
use super::model::SummaryRule;
use super::plan::{Known, Planner, user_ref};
use super::template;
use crate::platforms::ghl::payloads::{Appointment, Note, Task};

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

pub(super) fn last_note(p: &mut Planner<'_>, n: &Note, known: &Known<'_>) {
    if let Some(rule) = p.m.file.ghl.summaries.last_note.clone() {
        let ctx = json!({"note": {"body": n.body, "date_added": n.date_added}});
        summary(p, "last_note", &rule, &ctx, known);
    }
}

/// The open tasks after this event: the known list with this task added or removed.
pub(super) fn open_tasks(p: &mut Planner<'_>, t: &Task, open: bool, known: &Known<'_>) {
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
pub(super) fn next_appointment(p: &mut Planner<'_>, a: Option<&Appointment>, known: &Known<'_>) {
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
