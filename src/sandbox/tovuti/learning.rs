//! What learners do in the fake tenant: one progress row per learner and course
//! (created by enrolment, advanced, completed) and the awards they hold. Every record
//! keeps when it last changed, so lists can answer "changed since". No HTTP in here.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::listed::Listed;

/// A learner's progress in one course.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressRow {
    pub percent: f64,
    pub completed_at: Option<Timestamp>,
    pub enrolled_at: Timestamp,
    pub score: Option<f64>,
    pub updated_at: Timestamp,
}

/// An award held by a learner.
#[derive(Debug, Clone, PartialEq)]
pub struct AwardRow {
    pub user_id: u64,
    pub title: String,
    pub course_id: Option<u64>,
    pub earned_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Progress rows by (user, course) and awards by id.
#[derive(Default)]
pub struct Learning {
    pub progress: Listed<(u64, u64), ProgressRow>,
    pub awards: Listed<u64, AwardRow>,
}

impl Learning {
    /// A progress row at 0 % unless the learner already has one for the course.
    pub fn enroll(&mut self, user: u64, course: u64, now: Timestamp) {
        if !self.progress.contains_key(&(user, course)) {
            let row = ProgressRow {
                percent: 0.0,
                completed_at: None,
                enrolled_at: now,
                score: None,
                updated_at: now,
            };
            self.progress.insert((user, course), row);
        }
    }

    /// Sets the percent (enrolling first if needed); 100 completes the course.
    pub fn set_progress(&mut self, user: u64, course: u64, percent: f64, now: Timestamp) {
        self.enroll(user, course, now);
        if let Some(row) = self.progress.get_mut(&(user, course)) {
            row.percent = percent;
            if percent >= 100.0 && row.completed_at.is_none() {
                row.completed_at = Some(now);
            }
            row.updated_at = now;
        }
    }

    /// Completes the course at 100 % (enrolling first if needed).
    pub fn complete(&mut self, user: u64, course: u64, now: Timestamp) {
        self.set_progress(user, course, 100.0, now);
    }

    /// Stores (or replaces) award `id` as held by `user`.
    pub fn grant(&mut self, id: u64, award: AwardRow) {
        self.awards.insert(id, award);
    }
}

/// A progress row as `GET /users/courseProgress` lists it, dates in Tovuti's
/// `YYYY-MM-DD HH:MM:SS` (UTC) so clients meet the format they will meet in production.
pub fn progress_json(user: u64, course: u64, row: &ProgressRow, title: Option<&Value>) -> Value {
    json!({
        "userId": user,
        "courseId": course,
        "courseTitle": title,
        "progress": row.percent,
        "completed": row.completed_at.is_some(),
        "completedAt": row.completed_at.map(laravel_date),
        "enrolledAt": laravel_date(row.enrolled_at),
        "score": row.score,
    })
}

/// An award as `GET /users/awards` lists it.
pub fn award_json(id: u64, award: &AwardRow) -> Value {
    json!({
        "id": id,
        "userId": award.user_id,
        "title": award.title,
        "courseId": award.course_id,
        "earnedAt": laravel_date(award.earned_at),
    })
}

fn laravel_date(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_moves_from_enrolment_to_completion() {
        let (t0, t1): (Timestamp, Timestamp) = (
            "2026-01-01T00:00:00Z".parse().unwrap(),
            "2026-01-02T08:30:00Z".parse().unwrap(),
        );
        let mut learning = Learning::default();
        learning.enroll(7, 30, t0);
        learning.enroll(7, 30, t1);
        assert_eq!(learning.progress[&(7, 30)].updated_at, t0);
        learning.complete(7, 30, t1);
        let row = &learning.progress[&(7, 30)];
        assert_eq!(
            (row.percent, row.completed_at, row.enrolled_at),
            (100.0, Some(t1), t0)
        );
        let json = progress_json(7, 30, row, Some(&json!("Safety")));
        assert_eq!(json["completedAt"], "2026-01-02 08:30:00");
        assert_eq!(json["completed"], true);
        assert_eq!(json["courseTitle"], "Safety");
    }
}
