//! One list item as the service understands it, read by the configured field names:
//! `None` when the ids that name the item are missing (the caller counts it as
//! unreadable); any other field that does not read is simply absent.

use serde_json::Value;

use super::lenient::{field, flag, id, number, text, timestamp};
use super::lists::{Award, CourseProgress};
use crate::config::TovutiListsConfig;
use crate::platforms::tovuti::payloads::User;

/// Percent at which a course counts as completed when nothing else says so.
const COMPLETE_PERCENT: f64 = 100.0;

/// A user object, as `GET /user/{id}` returns it.
pub(super) fn user(item: Value) -> Option<User> {
    serde_json::from_value(item).ok()
}

/// A progress row; completion is the completed field when it reads, else implied by a
/// completion date or a full percent.
pub(super) fn progress(item: &Value, names: &TovutiListsConfig) -> Option<CourseProgress> {
    let get = |name: &str| field(item, name);
    let user_id = get(&names.progress_user_field).and_then(id)?;
    let course_id = get(&names.progress_course_field).and_then(id)?;
    let percent = get(&names.progress_percent_field).and_then(number);
    let completed_at = get(&names.progress_completed_at_field).and_then(timestamp);
    let implied = completed_at.is_some() || percent.is_some_and(|p| p >= COMPLETE_PERCENT);
    let completed = get(&names.progress_completed_field)
        .and_then(flag)
        .unwrap_or(implied);
    Some(CourseProgress {
        user_id,
        course_id,
        course_title: get(&names.progress_course_title_field).and_then(text),
        percent,
        completed,
        completed_at,
        enrolled_at: get(&names.progress_enrolled_at_field).and_then(timestamp),
        score: get(&names.progress_score_field).and_then(number),
    })
}

/// An award a learner holds.
pub(super) fn award(item: &Value, names: &TovutiListsConfig) -> Option<Award> {
    let get = |name: &str| field(item, name);
    Some(Award {
        user_id: get(&names.award_user_field).and_then(id)?,
        award_id: get(&names.award_id_field).and_then(id)?,
        title: get(&names.award_title_field).and_then(text),
        earned_at: get(&names.award_earned_at_field).and_then(timestamp),
        course_id: get(&names.award_course_field).and_then(id),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::Config;
    use crate::platforms::tovuti::payloads::TovutiId;

    fn names() -> TovutiListsConfig {
        Config::defaults().tovuti.lists
    }

    #[test]
    fn a_progress_row_reads_with_the_default_names() {
        let item = json!({
            "userId": "1001", "courseId": 30, "courseTitle": "Safety",
            "progress": "40", "completed": 0, "completedAt": null,
            "enrolledAt": "2026-01-02 03:04:05", "score": 88,
        });
        let row = progress(&item, &names()).unwrap();
        assert_eq!((row.user_id, row.course_id), (TovutiId(1001), TovutiId(30)));
        assert_eq!(row.course_title.as_deref(), Some("Safety"));
        assert_eq!((row.percent, row.score), (Some(40.0), Some(88.0)));
        assert!(!row.completed);
        assert_eq!(row.completed_at, None);
        assert_eq!(
            row.enrolled_at,
            Some("2026-01-02T03:04:05Z".parse().unwrap())
        );
    }

    #[test]
    fn completion_is_implied_by_a_date_or_a_full_percent_unless_stated() {
        let by_date = json!({ "userId": 1, "courseId": 2, "completedAt": "2026-02-01" });
        let by_percent = json!({ "userId": 1, "courseId": 2, "progress": 100 });
        let stated = json!({ "userId": 1, "courseId": 2, "progress": 100, "completed": "no" });
        let unreadable_flag =
            json!({ "userId": 1, "courseId": 2, "progress": 100, "completed": "?" });
        assert!(progress(&by_date, &names()).unwrap().completed);
        assert!(progress(&by_percent, &names()).unwrap().completed);
        assert!(!progress(&stated, &names()).unwrap().completed);
        assert!(progress(&unreadable_flag, &names()).unwrap().completed);
    }

    #[test]
    fn a_row_without_readable_ids_is_not_understood() {
        let names = names();
        assert_eq!(progress(&json!({ "courseId": 2 }), &names), None);
        assert_eq!(
            progress(&json!({ "userId": "x", "courseId": 2 }), &names),
            None
        );
        assert_eq!(progress(&json!([1, 2]), &names), None);
        assert_eq!(award(&json!({ "userId": 1 }), &names), None);
    }

    #[test]
    fn configured_and_nested_names_are_followed() {
        let mut names = names();
        names.progress_percent_field = "pct".into();
        names.progress_course_field = "course.id".into();
        names.progress_course_title_field = String::new();
        let item = json!({ "userId": 1, "course": { "id": 9 }, "pct": 12.5, "courseTitle": "T" });
        let row = progress(&item, &names).unwrap();
        assert_eq!((row.course_id, row.percent), (TovutiId(9), Some(12.5)));
        assert_eq!(row.course_title, None);
    }

    #[test]
    fn an_award_reads_with_its_optional_parts() {
        let item = json!({
            "id": "77", "userId": 5, "title": "Certificate", "earnedAt": 1_767_225_600,
            "courseId": "",
        });
        let award = award(&item, &names()).unwrap();
        assert_eq!((award.award_id, award.user_id), (TovutiId(77), TovutiId(5)));
        assert_eq!(award.title.as_deref(), Some("Certificate"));
        assert_eq!(
            award.earned_at,
            Some("2026-01-01T00:00:00Z".parse().unwrap())
        );
        assert_eq!(award.course_id, None);
    }
}
