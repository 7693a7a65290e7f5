//! Tovuti user writes on a tenant that lacks some of what the mapping names. What the
//! tenant's catalog lists lack is left out before sending. Beyond that, Tovuti refuses
//! the whole write with a Laravel 422 naming each unknown array position
//! (`customFields.2.field_id`, `userGroupIds.1`, `enrolledCourseIds.0`); those items are
//! taken out, recorded as skipped, and the rest is sent once more. A 422 is a validation
//! refusal, so nothing was written and sending again cannot double an effect.

use serde_json::Value;

use super::effects::Run;
use super::errors::SyncError;
use super::skipped::{Kind, Skipped};
use crate::platforms::tovuti::payloads::User;
use crate::platforms::tovuti::{TovutiApi, TovutiError, UserWrite};

/// Which write to send.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    Create,
    Update(u64),
}

/// Sends `write`; when Tovuti names unknown custom fields, groups or courses, sends it
/// once more without them.
pub async fn send(run: &mut Run<'_>, target: Target, write: UserWrite) -> Result<User, SyncError> {
    let tovuti = run.tovuti()?;
    let mut write = write;
    let known = run.tovuti_known.filter(tovuti.as_ref(), &mut write).await;
    run.skip(known)?;
    let error = match once(tovuti.as_ref(), target, &write).await {
        Ok(user) => return Ok(user),
        Err(error) => error,
    };
    let refused = match &error {
        TovutiError::Status {
            status: 422,
            invalid,
            ..
        } => drop_refused(&mut write, invalid),
        _ => Vec::new(),
    };
    if refused.is_empty() {
        return Err(error.into());
    }
    // The tenant's lists said these exist, or could not say: read them again next time.
    run.tovuti_known.forget();
    run.skip(refused)?;
    Ok(once(tovuti.as_ref(), target, &write).await?)
}

async fn once(
    tovuti: &dyn TovutiApi,
    target: Target,
    write: &UserWrite,
) -> Result<User, TovutiError> {
    match target {
        Target::Create => tovuti.create_user(write).await,
        Target::Update(id) => tovuti.update_user(id, write).await,
    }
}

/// Takes the refused positions out of `write`; returns what they named. Empty when any
/// path is not a position this write holds (then the refusal is about something else
/// and stands as it is).
pub fn drop_refused(write: &mut UserWrite, paths: &[String]) -> Vec<Skipped> {
    let mut fields = Vec::new();
    let mut groups = Vec::new();
    let mut courses = Vec::new();
    for path in paths {
        let mut parts = path.split('.');
        let (Some(name), Some(index)) = (parts.next(), parts.next()) else {
            return Vec::new();
        };
        let Ok(index) = index.parse::<usize>() else {
            return Vec::new();
        };
        let (list, len) = match name {
            "customFields" => (
                &mut fields,
                write.custom_fields.as_ref().map_or(0, Vec::len),
            ),
            "userGroupIds" => (
                &mut groups,
                write.user_group_ids.as_ref().map_or(0, Vec::len),
            ),
            "enrolledCourseIds" => (
                &mut courses,
                write.enrolled_course_ids.as_ref().map_or(0, Vec::len),
            ),
            _ => return Vec::new(),
        };
        if index >= len {
            return Vec::new();
        }
        list.push(index);
    }
    let mut skipped = Vec::new();
    if let Some(list) = &mut write.custom_fields {
        for field in remove_at(list, &fields) {
            let id = field.get("field_id").map_or_else(String::new, id_text);
            skipped.push(Skipped::tovuti(Kind::CustomField, id));
        }
    }
    if let Some(list) = &mut write.user_group_ids {
        skipped.extend(
            remove_at(list, &groups)
                .into_iter()
                .map(|id| Skipped::tovuti(Kind::Group, id)),
        );
    }
    if let Some(list) = &mut write.enrolled_course_ids {
        skipped.extend(
            remove_at(list, &courses)
                .into_iter()
                .map(|id| Skipped::tovuti(Kind::Course, id)),
        );
    }
    skipped
}

/// Removes the items at `indexes` (any order, repeats allowed); returns them in order.
fn remove_at<T>(list: &mut Vec<T>, indexes: &[usize]) -> Vec<T> {
    let mut indexes = indexes.to_vec();
    indexes.sort_unstable();
    indexes.dedup();
    let mut removed: Vec<T> = indexes.iter().rev().map(|&i| list.remove(i)).collect();
    removed.reverse();
    removed
}

fn id_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, json};

    use super::*;

    fn field(id: u64) -> Map<String, Value> {
        let mut f = Map::new();
        f.insert("field_id".into(), json!(id));
        f.insert("value".into(), json!("v"));
        f
    }

    fn write() -> UserWrite {
        UserWrite {
            custom_fields: Some(vec![field(22), field(23), field(26)]),
            user_group_ids: Some(vec![2, 7]),
            enrolled_course_ids: Some(vec![101]),
            ..UserWrite::default()
        }
    }

    #[test]
    fn refused_positions_are_taken_out_and_named() {
        let mut w = write();
        let paths = [
            "customFields.2.field_id".to_owned(),
            "customFields.1.field_id".to_owned(),
            "userGroupIds.1".to_owned(),
            "enrolledCourseIds.0".to_owned(),
        ];
        let skipped = drop_refused(&mut w, &paths);
        let named: Vec<String> = skipped.iter().map(Skipped::describe).collect();
        assert_eq!(
            named,
            [
                "custom field 23 — not in this tenant",
                "custom field 26 — not in this tenant",
                "group 7 — not in this tenant",
                "course 101 — not in this tenant",
            ]
        );
        assert_eq!(w.custom_fields.unwrap(), [field(22)]);
        assert_eq!(w.user_group_ids.unwrap(), [2]);
        assert_eq!(w.enrolled_course_ids.unwrap(), Vec::<u64>::new());
    }

    #[test]
    fn a_refusal_naming_anything_else_leaves_the_write_alone() {
        for paths in [
            vec!["customFields.1.field_id".to_owned(), "username".to_owned()],
            vec!["customFields.9.field_id".to_owned()],
            vec!["roles.0".to_owned()],
        ] {
            let mut w = write();
            assert!(drop_refused(&mut w, &paths).is_empty(), "{paths:?}");
            assert_eq!(w.custom_fields.as_ref().map(Vec::len), Some(3));
            assert_eq!(w.user_group_ids.as_ref().map(Vec::len), Some(2));
        }
    }
}
