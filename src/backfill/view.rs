//! A backfill run as the admin API and the console show it: instants in RFC 3339, and a
//! percentage for a progress bar where one can be told.

use serde::Serialize;

use crate::admin::rfc3339;
use crate::store::{BackfillCounts, BackfillFrom, BackfillRun, BackfillState};

/// The stages of a Tovuti backfill, in the order they run.
const TOVUTI_STAGES: [&str; 3] = ["users", "progress", "awards"];

#[derive(Debug, Clone, Serialize)]
pub struct RunView {
    pub id: String,
    pub connection: String,
    pub from: BackfillFrom,
    pub options: OptionsView,
    pub state: BackfillState,
    pub counts: BackfillCounts,
    /// The list being read (`users`, `progress`, `awards`, `contacts`).
    pub stage: Option<String>,
    /// Entities the source reports for the stage (GHL's search total), if any.
    pub total: Option<u64>,
    /// How far the run is, 0 to 100, when that can be told: GHL reports its total, a
    /// limit bounds the run, or (from Tovuti) the stage among the three lists.
    pub percent: Option<u8>,
    /// Why it failed.
    pub error: Option<String>,
    pub cancel_requested: bool,
    /// The token id of whoever started it.
    pub started_by: String,
    pub started_at: String,
    /// When its process last reported (a page or a heartbeat).
    pub heartbeat_at: String,
    pub finished_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OptionsView {
    pub dry_run: bool,
    pub limit: Option<u64>,
    pub since: Option<String>,
}

impl From<&BackfillRun> for RunView {
    fn from(r: &BackfillRun) -> Self {
        Self {
            id: r.run.id.clone(),
            connection: r.run.connection_id.clone(),
            from: r.run.from,
            options: OptionsView {
                dry_run: r.run.options.dry_run,
                limit: r.run.options.limit,
                since: r.run.options.since.map(|t| t.to_string()),
            },
            state: r.state,
            counts: r.progress.counts,
            stage: r.progress.stage.clone(),
            total: r.progress.total,
            percent: percent(r),
            error: r.error.clone(),
            cancel_requested: r.cancel_requested,
            started_by: r.run.started_by.clone(),
            started_at: rfc3339(r.run.started_at),
            heartbeat_at: rfc3339(r.heartbeat_at),
            finished_at: r.finished_at.map(rfc3339),
        }
    }
}

/// 100 once done; while running, short of 100: the share of GHL's total scanned, else of
/// the limit selected, else (Tovuti) the middle of the current stage's third.
fn percent(r: &BackfillRun) -> Option<u8> {
    match r.state {
        BackfillState::Done => return Some(100),
        BackfillState::Running => {}
        BackfillState::Cancelled | BackfillState::Failed => return None,
    }
    let counts = &r.progress.counts;
    let share = |part: u64, whole: u64| {
        let whole = whole.max(1);
        u8::try_from((part.min(whole) * 99) / whole).unwrap_or(99)
    };
    if let Some(total) = r.progress.total.filter(|t| *t > 0) {
        return Some(share(counts.scanned, total));
    }
    if let Some(limit) = r.run.options.limit {
        return Some(share(counts.queued + counts.already_queued, limit));
    }
    if r.run.from != BackfillFrom::Tovuti {
        return None;
    }
    let stage = r.progress.stage.as_deref().unwrap_or("users");
    let index = TOVUTI_STAGES.iter().position(|s| *s == stage).unwrap_or(0);
    u8::try_from((index * 100 + 50) / TOVUTI_STAGES.len()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{BackfillOptions, BackfillProgress, Millis, NewBackfillRun};

    fn run(from: BackfillFrom, limit: Option<u64>, progress: BackfillProgress) -> BackfillRun {
        BackfillRun {
            seq: 1,
            run: NewBackfillRun {
                id: "r".into(),
                connection_id: "c".into(),
                from,
                options: BackfillOptions {
                    limit,
                    ..BackfillOptions::default()
                },
                started_by: "t".into(),
                owner: "o".into(),
                started_at: Millis(0),
            },
            state: BackfillState::Running,
            progress,
            error: None,
            cancel_requested: false,
            heartbeat_at: Millis(0),
            finished_at: None,
        }
    }

    fn progress(stage: &str, scanned: u64, queued: u64, total: Option<u64>) -> BackfillProgress {
        BackfillProgress {
            counts: BackfillCounts {
                scanned,
                queued,
                ..BackfillCounts::default()
            },
            stage: Some(stage.into()),
            total,
        }
    }

    #[test]
    fn percent_comes_from_the_total_the_limit_or_the_stage() {
        let ghl = run(
            BackfillFrom::Ghl,
            None,
            progress("contacts", 50, 10, Some(200)),
        );
        assert_eq!(percent(&ghl), Some(24));
        let unknown = run(BackfillFrom::Ghl, None, progress("contacts", 50, 10, None));
        assert_eq!(percent(&unknown), None);
        let limited = run(
            BackfillFrom::Tovuti,
            Some(20),
            progress("users", 50, 10, None),
        );
        assert_eq!(percent(&limited), Some(49));
        let awards = run(BackfillFrom::Tovuti, None, progress("awards", 5, 5, None));
        assert_eq!(percent(&awards), Some(83));
        let mut done = awards;
        done.state = BackfillState::Done;
        assert_eq!(percent(&done), Some(100));
    }
}
