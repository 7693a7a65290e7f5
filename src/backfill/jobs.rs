//! Backfills run by the service as background jobs (started over the admin API or the
//! console). Each run is a stored record: the process running it writes its counters
//! after each page and renews a heartbeat meanwhile, so any replica can show it; a cancel
//! sets a flag the run reads at its next write and stops between pages.
//!
//! A process that dies leaves its run `running` with a heartbeat that stops moving. Every
//! replica marks such runs failed once the heartbeat is [`STALE_AFTER`] old (and so does
//! a start, before it asks for the one-running-run index), never at its own startup: with
//! PostgreSQL another replica may be running it right now.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{Ending, Observer};
use crate::services::Services;
use crate::store::{
    BackfillCounts, BackfillEnd, BackfillFrom, BackfillOptions, BackfillProgress, BackfillRun,
    BackfillState, Millis, NewBackfillRun, Store, StoreError, StoreResult,
};
use crate::sync::Clients;

/// How often a running run renews its heartbeat when no page ends meanwhile (a page may
/// wait on a throttle or a retry for a while).
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);
/// A running run whose heartbeat is this old has lost its process: twelve missed beats.
pub const STALE_AFTER: Duration = Duration::from_secs(60);
/// How often each replica looks for such runs.
const RECLAIM_EVERY: Duration = Duration::from_secs(30);

/// The error a reclaimed run is left with.
pub const RECLAIMED: &str = "the process running it stopped (no heartbeat for 60 s); \
                             start it again to resume where it stopped";
/// The error of a run the service's shutdown interrupted.
const SHUT_DOWN: &str = "the service shut down; start it again to resume where it stopped";

/// What an operator asks to run.
#[derive(Debug, Clone)]
pub struct StartRequest {
    pub connection: String,
    pub from: BackfillFrom,
    pub options: BackfillOptions,
    /// The token id of the caller.
    pub started_by: String,
}

/// A run of this process: its stop token and its task.
struct Local {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

/// This process's backfill jobs.
pub struct Jobs {
    services: Services,
    /// The process's clients, so a run's GHL requests share the worker's lanes.
    clients: Arc<Clients>,
    local: Mutex<HashMap<String, Local>>,
}

impl Jobs {
    pub fn new(services: Services, clients: Arc<Clients>) -> Self {
        Self {
            services,
            clients,
            local: Mutex::new(HashMap::new()),
        }
    }

    /// Records a new run and starts it in the background; `Conflict` when a run of the
    /// same connection and platform is running (a stale one is marked failed first).
    pub async fn start(&self, request: StartRequest) -> StoreResult<BackfillRun> {
        self.reclaim(Millis::now()).await?;
        let run = NewBackfillRun {
            id: uuid::Uuid::now_v7().to_string(),
            connection_id: request.connection,
            from: request.from,
            options: request.options,
            started_by: request.started_by,
            owner: self.services.instance_id.clone(),
            started_at: Millis::now(),
        };
        self.services.store.insert_backfill_run(&run).await?;
        let stored = self
            .services
            .store
            .backfill_run(&run.id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("backfill run {}", run.id)))?;
        let stop = self.services.shutdown.child_token();
        let task = tokio::spawn(execute(
            self.services.clone(),
            Arc::clone(&self.clients),
            run.clone(),
            stop.clone(),
        ));
        let mut local = self.local.lock().unwrap_or_else(PoisonError::into_inner);
        local.retain(|_, l| !l.task.is_finished());
        local.insert(run.id, Local { stop, task });
        Ok(stored)
    }

    /// Asks a running run to stop between pages, wherever it runs; false when it is not
    /// running. A run of this process is told at once, others at their next page.
    pub async fn cancel(&self, id: &str) -> StoreResult<bool> {
        let flagged = self.services.store.request_backfill_cancel(id).await?;
        if flagged {
            let local = self.local.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(run) = local.get(id) {
                run.stop.cancel();
            }
        }
        Ok(flagged)
    }

    /// Waits until this process's run `id` has ended and written its end (tests, tools).
    pub async fn wait(&self, id: &str) {
        let task = {
            let mut local = self.local.lock().unwrap_or_else(PoisonError::into_inner);
            local.remove(id).map(|l| l.task)
        };
        if let Some(task) = task
            && let Err(error) = task.await
        {
            tracing::warn!(run = id, %error, "a backfill task ended abnormally");
        }
    }

    /// Waits for every run of this process (after shutdown, they stop between pages).
    pub async fn wait_all(&self) {
        let tasks: Vec<JoinHandle<()>> = {
            let mut local = self.local.lock().unwrap_or_else(PoisonError::into_inner);
            local.drain().map(|(_, l)| l.task).collect()
        };
        futures::future::join_all(tasks).await;
    }

    /// Marks failed every running run whose heartbeat is older than [`STALE_AFTER`].
    pub async fn reclaim(&self, now: Millis) -> StoreResult<u64> {
        let stale_ms = i64::try_from(STALE_AFTER.as_millis()).unwrap_or(i64::MAX);
        let stale_before = Millis(now.0.saturating_sub(stale_ms));
        let failed = self
            .services
            .store
            .fail_stale_backfill_runs(stale_before, now, RECLAIMED)
            .await?;
        if failed > 0 {
            tracing::warn!(
                failed,
                "backfill runs whose process stopped were marked failed"
            );
        }
        Ok(failed)
    }

    /// Looks for runs whose process stopped every [`RECLAIM_EVERY`] until shutdown.
    pub fn spawn_reclaim(self: &Arc<Self>) -> JoinHandle<()> {
        let jobs = Arc::clone(self);
        tokio::spawn(async move {
            let shutdown = jobs.services.shutdown.clone();
            // Waits first: at startup the store may not be ready, and nothing is lost
            // by the first look coming one period later.
            loop {
                tokio::select! {
                    () = tokio::time::sleep(RECLAIM_EVERY) => {}
                    () = shutdown.cancelled() => return,
                }
                if let Err(error) = jobs.reclaim(Millis::now()).await {
                    tracing::debug!(%error, "backfill runs could not be checked for a stopped process");
                }
            }
        })
    }
}

/// Runs one backfill and writes its end.
async fn execute(
    services: Services,
    clients: Arc<Clients>,
    run: NewBackfillRun,
    stop: CancellationToken,
) {
    let store = services.store.clone();
    let (sender, receiver) = watch::channel(BackfillProgress::default());
    let reporter = tokio::spawn(report(
        store.clone(),
        run.id.clone(),
        run.owner.clone(),
        receiver,
        stop.clone(),
    ));
    let mut recorder = Recorder {
        sender,
        progress: BackfillProgress::default(),
    };
    let result = super::run(
        &services,
        clients,
        &run.connection_id,
        run.from,
        run.options,
        &stop,
        &mut recorder,
    )
    .await;
    let progress = recorder.progress.clone();
    // Closes the channel: the reporter writes what it has and ends.
    drop(recorder);
    if let Err(error) = reporter.await {
        tracing::warn!(run = %run.id, %error, "the backfill reporter ended abnormally");
    }
    let cancelled = matches!(
        store.backfill_run(&run.id).await,
        Ok(Some(stored)) if stored.cancel_requested
    );
    let (state, error) = match result {
        Ok(Ending::Finished) => (BackfillState::Done, None),
        Ok(Ending::Interrupted) if cancelled => (BackfillState::Cancelled, None),
        Ok(Ending::Interrupted) => (BackfillState::Failed, Some(SHUT_DOWN.to_owned())),
        Err(error) => (BackfillState::Failed, Some(format!("{error:#}"))),
    };
    tracing::info!(run = %run.id, connection = %run.connection_id, from = run.from.as_str(), state = state.as_str(), pages = progress.counts.pages, scanned = progress.counts.scanned, queued = progress.counts.queued, "backfill run ended");
    let end = BackfillEnd {
        state,
        progress,
        error,
        at: Millis::now(),
    };
    match store.finish_backfill_run(&run.id, &run.owner, &end).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(run = %run.id, "the backfill run had been marked failed meanwhile; its end is not recorded");
        }
        Err(error) => {
            tracing::warn!(run = %run.id, %error, "the end of a backfill run could not be recorded; it is marked failed once its heartbeat is stale");
        }
    }
}

/// Writes the run's progress after each page (the latest, when pages outpace the
/// writes) and a heartbeat between pages; stops the run when a cancel was asked for or
/// the record is no longer this process's.
async fn report(
    store: Arc<dyn Store>,
    id: String,
    owner: String,
    mut receiver: watch::Receiver<BackfillProgress>,
    stop: CancellationToken,
) {
    loop {
        let closed = tokio::select! {
            changed = receiver.changed() => changed.is_err(),
            () = tokio::time::sleep(HEARTBEAT_EVERY) => false,
        };
        if closed {
            return;
        }
        let progress = receiver.borrow_and_update().clone();
        match store
            .record_backfill_progress(&id, &owner, &progress, Millis::now())
            .await
        {
            Ok(Some(false)) => {}
            Ok(Some(true)) => stop.cancel(),
            Ok(None) => {
                tracing::warn!(run = %id, "the backfill run is no longer this process's; stopping it");
                stop.cancel();
            }
            Err(error) => {
                tracing::warn!(run = %id, %error, "backfill progress could not be recorded");
            }
        }
    }
}

/// Sums the pages and hands the totals to the reporter.
struct Recorder {
    sender: watch::Sender<BackfillProgress>,
    progress: BackfillProgress,
}

impl Observer for Recorder {
    fn page(&mut self, stage: &'static str, page: BackfillCounts, total: Option<u64>) {
        self.progress.counts.add(page);
        self.progress.stage = Some(stage.to_owned());
        self.progress.total = total;
        self.sender.send_replace(self.progress.clone());
    }
}
