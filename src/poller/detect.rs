//! Change detection, pure: an entity as listed now and what was remembered of it become
//! the events to queue and the snapshot to keep. Each event is built as the envelope a
//! pushed Tovuti webhook has, so the sync engine reads both alike.

use futures::future::BoxFuture;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::Resource;
use crate::platforms::tovuti::TovutiError;
use crate::platforms::tovuti::client::{Award, CourseProgress, Page, PageRequest, TovutiLists};
use crate::platforms::tovuti::payloads::User;
use crate::platforms::tovuti::snapshots::{self, SnapshotState};

/// One event to queue: its type, `data` and when it happened (when Tovuti says).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub event_type: &'static str,
    pub data: Value,
    pub occurred_at: Option<Timestamp>,
}

/// A listed entity the poller can diff.
pub trait Polled: Send + Sync + Sized + 'static {
    const RESOURCE: Resource;
    fn fetch(
        lists: &dyn TovutiLists,
        request: PageRequest,
    ) -> BoxFuture<'_, Result<Page<Self>, TovutiError>>;
    fn key(&self) -> String;
    fn digest(&self) -> String;
    /// The events of an entity seen for the first time.
    fn first_seen(&self) -> Vec<Change>;
    /// The events of a change from the remembered state.
    fn changed(&self, before: &SnapshotState) -> Vec<Change>;
    /// The state to remember besides sequence and emission.
    fn remembered(&self, seq: u64, emitted: bool) -> SnapshotState {
        SnapshotState {
            seq,
            emitted,
            completed: false,
        }
    }
}

impl Polled for User {
    const RESOURCE: Resource = Resource::Users;
    fn fetch(
        lists: &dyn TovutiLists,
        request: PageRequest,
    ) -> BoxFuture<'_, Result<Page<Self>, TovutiError>> {
        lists.users_page(request)
    }
    fn key(&self) -> String {
        snapshots::user_key(self.id)
    }
    fn digest(&self) -> String {
        snapshots::user_digest(self)
    }
    fn first_seen(&self) -> Vec<Change> {
        vec![user_change("user.created", self)]
    }
    fn changed(&self, _before: &SnapshotState) -> Vec<Change> {
        vec![user_change("user.updated", self)]
    }
}

fn user_change(event_type: &'static str, user: &User) -> Change {
    Change {
        event_type,
        data: json!({ "user": user }),
        occurred_at: None,
    }
}

impl Polled for CourseProgress {
    const RESOURCE: Resource = Resource::Progress;
    fn fetch(
        lists: &dyn TovutiLists,
        request: PageRequest,
    ) -> BoxFuture<'_, Result<Page<Self>, TovutiError>> {
        lists.progress_page(request)
    }
    fn key(&self) -> String {
        snapshots::progress_key(self.user_id, self.course_id)
    }
    fn digest(&self) -> String {
        snapshots::progress_digest(self)
    }
    fn first_seen(&self) -> Vec<Change> {
        let enrolled = Change {
            event_type: "enrollment.created",
            data: json!({
                "user": { "id": self.user_id },
                "course": self.course(),
                "enrolled_at": self.enrolled_at.map(|t| t.to_string()),
            }),
            occurred_at: self.enrolled_at,
        };
        let mut changes = vec![enrolled];
        changes.extend(self.completion());
        changes
    }
    /// Only a completion is forwarded: the progress list names no lesson, which a
    /// `lesson.completed` needs, so a rising percent is remembered but not an event.
    fn changed(&self, before: &SnapshotState) -> Vec<Change> {
        if before.completed {
            return Vec::new();
        }
        self.completion().into_iter().collect()
    }
    fn remembered(&self, seq: u64, emitted: bool) -> SnapshotState {
        SnapshotState {
            seq,
            emitted,
            completed: self.completed,
        }
    }
}

impl CourseProgress {
    fn course(&self) -> Value {
        json!({ "id": self.course_id, "title": self.course_title })
    }

    fn completion(&self) -> Option<Change> {
        self.completed.then(|| Change {
            event_type: "course.completed",
            data: json!({
                "user": { "id": self.user_id },
                "course": self.course(),
                "completed_at": self.completed_at.map(|t| t.to_string()),
                "score": self.score,
            }),
            occurred_at: self.completed_at,
        })
    }
}

impl Polled for Award {
    const RESOURCE: Resource = Resource::Awards;
    fn fetch(
        lists: &dyn TovutiLists,
        request: PageRequest,
    ) -> BoxFuture<'_, Result<Page<Self>, TovutiError>> {
        lists.awards_page(request)
    }
    fn key(&self) -> String {
        snapshots::award_key(self.user_id, self.award_id)
    }
    fn digest(&self) -> String {
        snapshots::award_digest(self)
    }
    fn first_seen(&self) -> Vec<Change> {
        vec![Change {
            event_type: "award.earned",
            data: json!({
                "user": { "id": self.user_id },
                "award": { "id": self.award_id, "title": self.title },
                "course": self.course_id.map(|id| json!({ "id": id })),
                "earned_at": self.earned_at.map(|t| t.to_string()),
            }),
            occurred_at: self.earned_at,
        }]
    }
    /// An award is earned once; a later edit (a renamed certificate) is remembered only.
    fn changed(&self, _before: &SnapshotState) -> Vec<Change> {
        Vec::new()
    }
}

/// How a scan treats what it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// The poller: new and changed entities emit; on the first scan a baseline
    /// remembers new ones silently.
    Poll { baseline: bool },
    /// Backfill: additionally emits every remembered state that was never emitted.
    Backfill,
}

/// What to do about one entity.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Same state as remembered (and, for backfill, already emitted).
    Unchanged,
    /// Same state, already emitted: counted by backfill.
    AlreadyQueued,
    /// Remember `state` under `digest`, after queueing `changes` (maybe none) as change
    /// number `state.seq`.
    Record {
        digest: String,
        state: SnapshotState,
        changes: Vec<Change>,
    },
}

pub fn decide<T: Polled>(
    item: &T,
    before: Option<(&str, SnapshotState)>,
    policy: Policy,
) -> Decision {
    let digest = item.digest();
    let Some((old_digest, old)) = before else {
        let silent = policy == Policy::Poll { baseline: true };
        let changes = if silent {
            Vec::new()
        } else {
            item.first_seen()
        };
        let state = item.remembered(1, !silent);
        return Decision::Record {
            digest,
            state,
            changes,
        };
    };
    if old_digest == digest {
        return match policy {
            Policy::Backfill if !old.emitted => Decision::Record {
                changes: item.first_seen(),
                state: item.remembered(old.seq, true),
                digest,
            },
            Policy::Backfill => Decision::AlreadyQueued,
            Policy::Poll { .. } => Decision::Unchanged,
        };
    }
    let changes = if policy == Policy::Backfill && !old.emitted {
        item.first_seen()
    } else {
        item.changed(&old)
    };
    Decision::Record {
        state: item.remembered(old.seq + 1, true),
        digest,
        changes,
    }
}
