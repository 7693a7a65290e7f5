//! Changing the fake tenant between scans, as tests, benchmarks and the demo do: seeding
//! many learners at once, enrolling, advancing and completing courses, granting awards,
//! editing users, and setting the clock the records are stamped with.

use std::ops::Range;

use jiff::Timestamp;

use super::FakeTovuti;
use super::learning::AwardRow;
use super::state::{FIRST_ID, bare_user};
use crate::platforms::tovuti::payloads::{TovutiId, User};

impl FakeTovuti {
    /// Adds `n` learners with a name, username and email, enrolled in no course; returns
    /// their ids. Fast: 100,000 take well under a second.
    pub fn seed_users(&self, n: u64) -> Range<u64> {
        self.seed_enrolled_users(n, &[])
    }

    /// Adds `n` learners (as [`seed_users`](Self::seed_users)) each enrolled in every
    /// course of `courses`, with a progress row at 0 % per course.
    pub fn seed_enrolled_users(&self, n: u64, courses: &[u64]) -> Range<u64> {
        let mut inner = self.shared.lock();
        let first = inner
            .users
            .keys()
            .next_back()
            .map_or(FIRST_ID, |last| (last + 1).max(FIRST_ID));
        let ids = first..first + n;
        for id in ids.clone() {
            let mut user = bare_user(id);
            user.name = Some(format!("Learner {id}"));
            user.username = Some(format!("learner{id}"));
            user.email = Some(format!("learner{id}@example.com"));
            user.status = Some("active".into());
            user.enrolled_course_ids = courses.iter().copied().map(TovutiId).collect();
            inner.insert(user);
        }
        ids
    }

    /// Changes a user in place (its id stays); `false` when there is no such user.
    pub fn edit_user(&self, id: u64, change: impl FnOnce(&mut User)) -> bool {
        self.shared.lock().edit(id, change)
    }

    /// Renames a user; `false` when there is no such user.
    pub fn update_user_name(&self, id: u64, name: &str) -> bool {
        self.edit_user(id, |user| user.name = Some(name.to_owned()))
    }

    /// Enrolls a user in a course, as a PATCH of `enrolledCourseIds` would: the course
    /// joins the user's list and a progress row at 0 % appears. `false` when there is
    /// no such user.
    pub fn enroll(&self, user: u64, course: u64) -> bool {
        self.edit_user(user, |user| {
            if !user.enrolled_course_ids.contains(&TovutiId(course)) {
                user.enrolled_course_ids.push(TovutiId(course));
            }
        })
    }

    /// Sets a learner's percent in a course (creating the row if needed); 100 completes.
    pub fn set_progress(&self, user: u64, course: u64, percent: f64) {
        let mut inner = self.shared.lock();
        let now = inner.now();
        inner.learning.set_progress(user, course, percent, now);
    }

    /// Completes a course for a learner, now, at 100 %.
    pub fn complete_course(&self, user: u64, course: u64) {
        let mut inner = self.shared.lock();
        let now = inner.now();
        inner.learning.complete(user, course, now);
    }

    /// Grants (or replaces) award `award_id` to `user`, earned now.
    pub fn grant_award(&self, user: u64, award_id: u64, title: &str) {
        self.grant(user, award_id, title, None);
    }

    /// Grants an award earned for completing `course`.
    pub fn grant_course_award(&self, user: u64, award_id: u64, title: &str, course: u64) {
        self.grant(user, award_id, title, Some(course));
    }

    fn grant(&self, user_id: u64, id: u64, title: &str, course_id: Option<u64>) {
        let mut inner = self.shared.lock();
        let now = inner.now();
        let award = AwardRow {
            user_id,
            title: title.to_owned(),
            course_id,
            earned_at: now,
            updated_at: now,
        };
        inner.learning.grant(id, award);
    }

    /// Stamps later changes with `at` (and serves "changed since" against it); `None`
    /// goes back to the wall clock.
    pub fn set_clock(&self, at: Option<Timestamp>) {
        self.shared.lock().clock = at;
    }

    /// How many progress rows and awards the tenant holds.
    pub fn learning_counts(&self) -> (usize, usize) {
        let inner = self.shared.lock();
        (inner.learning.progress.len(), inner.learning.awards.len())
    }
}
