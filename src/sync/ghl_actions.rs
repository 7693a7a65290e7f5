//! The GHL half of a plan: contacts, tags, campaigns, workflows, tasks, notes and
//! appointments, each answering with what it produced (ids) for the action log.
//! Creating actions look for their own earlier result first when an attempt may
//! already have made it, and tasks and appointments are kept under a stable key so a
//! later event updates the one it made instead of adding another.

use serde_json::{Value, json};

use super::contact_body::{contact_input, contact_update};
use super::effects::{Mode, Run};
use super::errors::SyncError;
use crate::mapping::action::{AppointmentBody, AutomationRef, TaskBody};
use crate::mapping::fields::GhlFields;
use crate::mapping::{Action, ContactRef};
use crate::platforms::ErrorClass;
use crate::platforms::ghl::client::Contact;
use crate::platforms::ghl::client::{
    AppointmentUpdate, AutomationKind, ContactInput, NewAppointment, NewNote, NewTask, TaskUpdate,
};

const TASK: &str = "ghl_task";
const APPOINTMENT: &str = "ghl_appointment";

/// Performs `action` if it is a GHL action; `None` for Tovuti actions.
pub async fn perform(
    run: &mut Run<'_>,
    action: &Action,
    mode: Mode,
) -> Result<Option<Value>, SyncError> {
    let outcome = match action {
        Action::UpsertContact { email, fields, .. } => {
            let fields = with_field_ids(run, fields).await?;
            let input = contact_input(Some(email), &fields);
            let upserted = run.ghl.upsert_contact(&input).await?;
            let id = &upserted.contact.id;
            rewrite_ignored(run, id, &fields, &upserted.contact).await?;
            json!({"contact_id": id, "new": upserted.new})
        }
        Action::UpdateContact {
            contact, fields, ..
        } => {
            let id = contact_id(run, contact).await?;
            let fields = with_field_ids(run, fields).await?;
            let stored = run
                .ghl
                .update_contact(&id, &contact_update(&fields))
                .await?;
            rewrite_ignored(run, &id, &fields, &stored).await?;
            json!({"contact_id": id})
        }
        Action::AddTags { contact, tags, .. } => {
            let id = contact_id(run, contact).await?;
            run.ghl.add_tags(&id, tags).await?;
            json!({"contact_id": id})
        }
        Action::RemoveTags { contact, tags, .. } => {
            let id = contact_id(run, contact).await?;
            run.ghl.remove_tags(&id, tags).await?;
            json!({"contact_id": id})
        }
        Action::AddToCampaign {
            contact, campaign, ..
        } => {
            let Some(campaign) = automation(run, AutomationKind::Campaign, campaign).await? else {
                return Ok(Some(json!({"skipped": "campaign"})));
            };
            let id = contact_id(run, contact).await?;
            run.ghl.add_to_campaign(&id, &campaign).await?;
            json!({"contact_id": id})
        }
        Action::AddToWorkflow {
            contact, workflow, ..
        } => {
            let Some(workflow) = automation(run, AutomationKind::Workflow, workflow).await? else {
                return Ok(Some(json!({"skipped": "workflow"})));
            };
            let id = contact_id(run, contact).await?;
            run.ghl.add_to_workflow(&id, &workflow, None).await?;
            json!({"contact_id": id})
        }
        Action::CreateTask {
            contact,
            task_key,
            task,
            ..
        }
        | Action::UpdateTask {
            contact,
            task_key,
            task,
            ..
        } => put_task(run, contact, task_key, task, mode).await?,
        Action::CompleteTask {
            contact,
            task_key,
            task,
            ..
        } => {
            let done = TaskBody {
                completed: true,
                ..task.clone()
            };
            put_task(run, contact, task_key, &done, mode).await?
        }
        Action::CreateNote {
            contact,
            title,
            body,
            ..
        } => create_note(run, contact, title.as_deref(), body, mode).await?,
        Action::UpsertAppointment {
            contact,
            appointment_key,
            appointment,
            ..
        } => put_appointment(run, contact, appointment_key, appointment, mode).await?,
        _ => return Ok(None),
    };
    Ok(Some(outcome))
}

/// The planned fields with custom fields named by id where GHL has one for the key,
/// without the ones the location lacks (recorded as skipped).
async fn with_field_ids(run: &mut Run<'_>, fields: &GhlFields) -> Result<GhlFields, SyncError> {
    let mut fields = fields.clone();
    let skipped = run.field_ids.resolve(run.ghl, &mut fields).await;
    run.skip(skipped)?;
    Ok(fields)
}

/// The id of a campaign or workflow; `None` (recorded as skipped) when the location has
/// none by the rule's name.
async fn automation(
    run: &mut Run<'_>,
    kind: AutomationKind,
    r: &AutomationRef,
) -> Result<Option<String>, SyncError> {
    match run.automation_ids.id(run.ghl, kind, r).await {
        Ok(id) => Ok(Some(id)),
        Err(skipped) => {
            run.skip(vec![skipped])?;
            Ok(None)
        }
    }
}

/// Writes again, under their new ids, the custom fields the written contact came back
/// without (GHL ignores an id the location no longer has).
async fn rewrite_ignored(
    run: &mut Run<'_>,
    id: &str,
    sent: &GhlFields,
    stored: &Contact,
) -> Result<(), SyncError> {
    let (again, skipped) = run.field_ids.ignored(run.ghl, sent, stored).await;
    run.skip(skipped)?;
    if !again.custom_fields.is_empty() {
        run.ghl.update_contact(id, &contact_update(&again)).await?;
    }
    Ok(())
}

/// The contact an action is about: the linked id, one found earlier in this run, or
/// (when the plan named only an email) the contact an upsert by that email finds.
async fn contact_id(run: &mut Run<'_>, contact: &ContactRef) -> Result<String, SyncError> {
    match contact {
        ContactRef::Id(id) => Ok(id.clone()),
        ContactRef::Email(email) => {
            if let Some(id) = run.contacts.get(&email.to_lowercase()) {
                return Ok(id.clone());
            }
            let input = ContactInput {
                email: Some(email.clone()),
                ..ContactInput::default()
            };
            let id = run.ghl.upsert_contact(&input).await?.contact.id;
            run.contacts.insert(email.to_lowercase(), id.clone());
            Ok(id)
        }
    }
}

/// Creates the task kept under `task_key` for this contact, or updates it.
async fn put_task(
    run: &mut Run<'_>,
    contact: &ContactRef,
    task_key: &str,
    task: &TaskBody,
    mode: Mode,
) -> Result<Value, SyncError> {
    let contact = contact_id(run, contact).await?;
    let object = format!("{contact}/{task_key}");
    let connection = run.connection.id.clone();
    if let Some(id) = run.store.object_id(&connection, TASK, &object).await? {
        let update = TaskUpdate {
            title: Some(task.title.clone()),
            body: task.body.clone(),
            due_date: Some(task.due_date.clone()),
            completed: Some(task.completed),
            assigned_to: task.assigned_to.clone(),
        };
        match run.ghl.update_task(&contact, &id, &update).await {
            Ok(_) => return Ok(json!({"task_id": id, "contact_id": contact})),
            // Deleted in GHL since: make it again.
            Err(e) if e.class() == ErrorClass::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    let found = if mode == Mode::Reconcile {
        let tasks = run.ghl.list_tasks(&contact).await?;
        tasks
            .into_iter()
            .find(|t| t.title.as_deref() == Some(task.title.as_str()) && t.body == task.body)
            .map(|t| t.id)
    } else {
        None
    };
    let id = match found {
        Some(id) => id,
        None => {
            let new = NewTask {
                title: task.title.clone(),
                body: task.body.clone(),
                due_date: task.due_date.clone(),
                completed: task.completed,
                assigned_to: task.assigned_to.clone(),
            };
            run.ghl.create_task(&contact, &new).await?.id
        }
    };
    run.store
        .remember_object(&connection, TASK, &object, &id, crate::store::Millis::now())
        .await?;
    Ok(json!({"task_id": id, "contact_id": contact}))
}

/// GHL notes have no title: it becomes the first line.
async fn create_note(
    run: &mut Run<'_>,
    contact: &ContactRef,
    title: Option<&str>,
    body: &str,
    mode: Mode,
) -> Result<Value, SyncError> {
    let contact = contact_id(run, contact).await?;
    let text = match title {
        Some(t) if !t.trim().is_empty() => format!("{t}\n\n{body}"),
        _ => body.to_owned(),
    };
    if mode == Mode::Reconcile {
        let notes = run.ghl.list_notes(&contact).await?;
        if let Some(note) = notes.iter().find(|n| n.body.as_deref() == Some(&text)) {
            return Ok(json!({"note_id": note.id, "contact_id": contact}));
        }
    }
    let note = NewNote {
        body: text,
        user_id: None,
    };
    let made = run.ghl.create_note(&contact, &note).await?;
    Ok(json!({"note_id": made.id, "contact_id": contact}))
}

/// Creates the appointment kept under `appointment_key`, or moves the one made before.
async fn put_appointment(
    run: &mut Run<'_>,
    contact: &ContactRef,
    appointment_key: &str,
    body: &AppointmentBody,
    mode: Mode,
) -> Result<Value, SyncError> {
    let contact = contact_id(run, contact).await?;
    let object = format!("{contact}/{appointment_key}");
    let connection = run.connection.id.clone();
    if let Some(id) = run
        .store
        .object_id(&connection, APPOINTMENT, &object)
        .await?
    {
        let update = AppointmentUpdate {
            start_time: Some(body.start_time.clone()),
            end_time: Some(body.end_time.clone()),
            title: Some(body.title.clone()),
            appointment_status: Some(body.appointment_status.clone()),
        };
        match run.ghl.update_appointment(&id, &update).await {
            Ok(_) => return Ok(json!({"appointment_id": id, "contact_id": contact})),
            Err(e) if e.class() == ErrorClass::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    let found = if mode == Mode::Reconcile {
        let existing = run.ghl.contact_appointments(&contact).await?;
        existing
            .into_iter()
            .find(|a| {
                a.calendar_id.as_deref() == Some(body.calendar_id.as_str())
                    && a.title.as_deref() == Some(body.title.as_str())
            })
            .map(|a| a.id)
    } else {
        None
    };
    let id = match found {
        Some(id) => id,
        None => {
            let new = NewAppointment {
                calendar_id: body.calendar_id.clone(),
                contact_id: contact.clone(),
                start_time: body.start_time.clone(),
                end_time: Some(body.end_time.clone()),
                title: Some(body.title.clone()),
                appointment_status: Some(body.appointment_status.clone()),
                assigned_user_id: body.assigned_user_id.clone(),
                address: body.address.clone(),
                ignore_free_slot_validation: Some(true),
            };
            run.ghl.create_appointment(&new).await?.id
        }
    };
    run.store
        .remember_object(
            &connection,
            APPOINTMENT,
            &object,
            &id,
            crate::store::Millis::now(),
        )
        .await?;
    Ok(json!({"appointment_id": id, "contact_id": contact}))
}
