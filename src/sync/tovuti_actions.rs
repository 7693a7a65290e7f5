//! The Tovuti half of a plan: create, patch, enroll, group and deactivate users, and
//! forget links. Enrollments and groups are arrays on the user, so each change reads
//! the user, merges, and writes the whole array back (Tovuti's user update replaces the
//! arrays it is given).

use std::collections::BTreeSet;

use rand::Rng as _;
use rand::distributions::Alphanumeric;
use secrecy::SecretString;
use serde_json::{Map, Value, json};

use super::effects::Run;
use super::errors::SyncError;
use super::tovuti_writes::{self, Target};
use crate::mapping::fields::TovutiFields;
use crate::mapping::{Action, UserRef};
use crate::platforms::tovuti::UserWrite;
use crate::platforms::tovuti::payloads::User;

/// Performs a Tovuti action (or an `Unlink`); GHL actions never reach here.
pub async fn perform(run: &mut Run<'_>, action: &Action) -> Result<Value, SyncError> {
    match action {
        Action::CreateTovutiUser {
            email,
            fields,
            group_ids,
            enrolled_course_ids,
            ..
        } => create_user(run, email, fields, group_ids, enrolled_course_ids).await,
        Action::PatchTovutiUser { user, fields, .. } => {
            let id = user_id(run, user).await?;
            let mut write = core_write(fields);
            write.custom_fields = Some(custom_fields(run, id, fields).await?);
            tovuti_writes::send(run, Target::Update(id), write).await?;
            Ok(json!({"user_id": id}))
        }
        Action::Enroll {
            user, course_ids, ..
        } => change_arrays(run, user, course_ids, &[], Change::Add).await,
        Action::Unenroll {
            user, course_ids, ..
        } => change_arrays(run, user, course_ids, &[], Change::Remove).await,
        Action::AddToGroups {
            user, group_ids, ..
        } => change_arrays(run, user, &[], group_ids, Change::Add).await,
        Action::RemoveFromGroups {
            user, group_ids, ..
        } => change_arrays(run, user, &[], group_ids, Change::Remove).await,
        Action::DeactivateTovutiUser { user, .. } => {
            let id = user_id(run, user).await?;
            let mut write = UserWrite::default();
            write.core.insert("status".into(), json!("disabled"));
            run.tovuti()?.update_user(id, &write).await?;
            Ok(json!({"user_id": id}))
        }
        Action::Unlink { contact_id, .. } => {
            let removed = run
                .store
                .unlink_contact(&run.connection.id, contact_id)
                .await?;
            Ok(json!({"unlinked": removed}))
        }
        other => Err(SyncError::Permanent(format!(
            "action {} has no executor",
            other.name()
        ))),
    }
}

/// Creates the user unless one with this email exists (Tovuti enforces unique
/// usernames, and a retried create must not make a second account); an existing user
/// gets the fields, groups and courses instead.
async fn create_user(
    run: &mut Run<'_>,
    email: &str,
    fields: &TovutiFields,
    groups: &[u64],
    courses: &[u64],
) -> Result<Value, SyncError> {
    let tovuti = run.tovuti()?;
    let mut write = core_write(fields);
    if let Some(existing) = tovuti.find_user_by_email(email).await? {
        write.custom_fields = Some(merge_custom_fields(&existing, fields));
        write.user_group_ids = Some(merged(&ids(&existing.user_group_ids), groups, Change::Add));
        write.enrolled_course_ids = Some(merged(
            &ids(&existing.enrolled_course_ids),
            courses,
            Change::Add,
        ));
        tovuti_writes::send(run, Target::Update(existing.id.0), write).await?;
        return Ok(json!({"user_id": existing.id.0, "new": false}));
    }
    write.core.insert("email".into(), json!(email));
    write.core.entry("username".into()).or_insert(json!(email));
    write.core.entry("status".into()).or_insert(json!("active"));
    write.core.insert("requireReset".into(), json!(true));
    write.custom_fields = Some(fields.custom_fields.clone());
    write.user_group_ids = Some(groups.to_vec());
    write.enrolled_course_ids = Some(courses.to_vec());
    write.password = Some(random_password());
    let made = tovuti_writes::send(run, Target::Create, write).await?;
    Ok(json!({"user_id": made.id.0, "new": true}))
}

async fn user_id(run: &mut Run<'_>, user: &UserRef) -> Result<u64, SyncError> {
    match user {
        UserRef::Id(id) => Ok(*id),
        UserRef::Email(email) => {
            if let Some(id) = run.users.get(&email.to_lowercase()) {
                return Ok(*id);
            }
            let found = run.tovuti()?.find_user_by_email(email).await?;
            let id = found
                .map(|u| u.id.0)
                .ok_or_else(|| SyncError::Permanent(format!("no Tovuti user has email {email}")))?;
            run.users.insert(email.to_lowercase(), id);
            Ok(id)
        }
    }
}

fn core_write(fields: &TovutiFields) -> UserWrite {
    UserWrite {
        core: fields.core.clone(),
        ..UserWrite::default()
    }
}

/// The whole custom-field array to send: as planned when the plan knew the user's
/// fields, else the user's current array with the planned values merged in.
async fn custom_fields(
    run: &Run<'_>,
    id: u64,
    fields: &TovutiFields,
) -> Result<Vec<Map<String, Value>>, SyncError> {
    if fields.custom_fields_complete {
        return Ok(fields.custom_fields.clone());
    }
    let current = run.tovuti()?.get_user(id).await?;
    Ok(match current {
        Some(user) => merge_custom_fields(&user, fields),
        None => fields.custom_fields.clone(),
    })
}

fn merge_custom_fields(user: &User, fields: &TovutiFields) -> Vec<Map<String, Value>> {
    let mut out: Vec<Map<String, Value>> = user
        .custom_fields
        .iter()
        .map(|f| {
            let mut obj = f.extra.clone();
            obj.insert("field_id".into(), json!(f.field_id.0));
            obj.insert("value".into(), f.value.clone());
            obj
        })
        .collect();
    for planned in &fields.custom_fields {
        let id = planned.get("field_id");
        match out.iter_mut().find(|f| f.get("field_id") == id) {
            Some(existing) => {
                existing.insert(
                    "value".into(),
                    planned.get("value").cloned().unwrap_or(Value::Null),
                );
            }
            None => out.push(planned.clone()),
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Add,
    Remove,
}

async fn change_arrays(
    run: &mut Run<'_>,
    user: &UserRef,
    courses: &[u64],
    groups: &[u64],
    change: Change,
) -> Result<Value, SyncError> {
    let id = user_id(run, user).await?;
    let tovuti = run.tovuti()?;
    let current = tovuti
        .get_user(id)
        .await?
        .ok_or_else(|| SyncError::Permanent(format!("Tovuti user {id} does not exist")))?;
    let mut write = UserWrite::default();
    if !courses.is_empty() {
        let now = ids(&current.enrolled_course_ids);
        write.enrolled_course_ids = Some(merged(&now, courses, change));
    }
    if !groups.is_empty() {
        let now = ids(&current.user_group_ids);
        write.user_group_ids = Some(merged(&now, groups, change));
    }
    tovuti_writes::send(run, Target::Update(id), write).await?;
    Ok(json!({"user_id": id}))
}

fn ids(list: &[crate::platforms::tovuti::payloads::TovutiId]) -> Vec<u64> {
    list.iter().map(|i| i.0).collect()
}

/// The array after the change, in a stable order.
fn merged(current: &[u64], change: &[u64], how: Change) -> Vec<u64> {
    let mut set: BTreeSet<u64> = current.iter().copied().collect();
    for id in change {
        match how {
            Change::Add => set.insert(*id),
            Change::Remove => set.remove(id),
        };
    }
    set.into_iter().collect()
}

/// A password nobody knows; the learner sets their own (`requireReset`).
fn random_password() -> SecretString {
    let text: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(24)
        .map(char::from)
        .collect();
    SecretString::from(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_merge_without_duplicates_and_remove_only_what_is_named() {
        assert_eq!(merged(&[3, 1], &[2, 3], Change::Add), [1, 2, 3]);
        assert_eq!(merged(&[1, 2, 3], &[2, 9], Change::Remove), [1, 3]);
    }

    #[test]
    fn planned_custom_fields_replace_values_and_keep_the_rest() {
        let user: User = serde_json::from_value(json!({
            "id": 7,
            "customFields": [
                {"field_id": 22, "value": "Old Co", "title": "Company"},
                {"field_id": 25, "value": "Dev", "title": "Job"}
            ]
        }))
        .unwrap();
        let mut fields = TovutiFields::from_known(None);
        let mut planned = Map::new();
        planned.insert("field_id".into(), json!(22));
        planned.insert("value".into(), json!("New Co"));
        fields.custom_fields.push(planned);
        let out = merge_custom_fields(&user, &fields);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0]["value"], "New Co");
        assert_eq!(out[0]["title"], "Company");
        assert_eq!(out[1]["value"], "Dev");
    }
}
