//! Group commit for the worker's small writes (an action begun or finished, an event's
//! outcome and its attempt, a link or fingerprint remembered). Each is a transaction of
//! its own when run alone, and on SQLite every commit is an fsync through the one write
//! connection: a handful of them per event bounded the drain at about 100 events/s while
//! the CPU idled. Here one task takes every write waiting in the queue, runs each in a
//! savepoint of one shared transaction, commits once, and only then answers each caller.
//!
//! Durability is unchanged for every caller: its `await` returns after the commit that
//! holds its write, exactly as with a transaction of its own. A write that fails leaves
//! its neighbours unharmed: the batch is first written without savepoints (a savepoint
//! is two more round trips per write, and on PostgreSQL more than 64 of them in one
//! transaction overflow its subtransaction cache and slow every snapshot of the server);
//! when a write fails, that attempt is rolled back and the batch written again with each
//! write in a savepoint of its own, so the failing write gets its error and the others
//! still commit. Writes are therefore closures that can run twice (`Fn`); a run that was
//! rolled back leaves nothing behind. A failed commit answers every caller of the batch
//! with the error.
//!
//! Writes of one row (`write_row`, most of the worker's) go further: the rows of one
//! statement in a batch are written by one statement (`rows`), unless two of them name
//! the same row. Should it fail, the rerun writes each row alone.

use std::sync::Arc;

use futures::future::BoxFuture;
use sqlx::{Acquire as _, Database, Pool, Transaction};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::store::row_writes::{RowBackend, RowStatement, Value};
use crate::store::{StoreError, StoreResult};

mod rows;

use rows::merge_rows;

/// One queued write with its caller; its result is held until its batch commits.
trait Job<DB: Database>: Send {
    /// Runs the write on the batch's connection, keeping its result (a second run, after
    /// the first was rolled back, replaces it); true when it failed.
    fn run<'c>(&'c mut self, connection: &'c mut DB::Connection) -> BoxFuture<'c, bool>;
    /// Answers the caller: its own result once `committed` is `Ok`, else the commit's error.
    fn deliver(self: Box<Self>, committed: Result<(), &StoreError>);
    /// The statement and values of a write that may be merged with others of its
    /// statement (`row_writes`); `None` for any other write.
    fn row(&self) -> Option<(&'static RowStatement, &[Value])> {
        None
    }
    /// Keeps the result of a merged run: whether the statement changed this row.
    fn merged(&mut self, _changed: bool) {}
}

struct Pending<F, T> {
    write: F,
    result: Option<StoreResult<T>>,
    caller: oneshot::Sender<StoreResult<T>>,
}

impl<DB, F, T> Job<DB> for Pending<F, T>
where
    DB: Database,
    T: Send + 'static,
    F: for<'c> Fn(&'c mut DB::Connection) -> BoxFuture<'c, StoreResult<T>> + Send + 'static,
{
    fn run<'c>(&'c mut self, connection: &'c mut DB::Connection) -> BoxFuture<'c, bool> {
        Box::pin(async move {
            let result = (self.write)(connection).await;
            let failed = result.is_err();
            self.result = Some(result);
            failed
        })
    }

    fn deliver(self: Box<Self>, committed: Result<(), &StoreError>) {
        answer(self.caller, self.result, committed);
    }
}

/// Answers a caller: its own result once `committed` is `Ok`, else the commit's error.
fn answer<T>(
    caller: oneshot::Sender<StoreResult<T>>,
    own: Option<StoreResult<T>>,
    committed: Result<(), &StoreError>,
) {
    let own = own.unwrap_or_else(|| {
        Err(StoreError::Unavailable(
            "the write was not committed: its batch stopped before it".into(),
        ))
    });
    let answer = match committed {
        Ok(()) => own,
        // Its own error says more than the commit's.
        Err(_) if own.is_err() => own,
        Err(error) => Err(StoreError::Unavailable(format!(
            "the write was not committed: {error}"
        ))),
    };
    // A caller that stopped waiting no longer needs the answer.
    let _ = caller.send(answer);
}

type Queued<DB> = Box<dyn Job<DB>>;

/// Where a backend's writes are group-committed: `lanes` tasks each take a batch from one
/// queue and write it in one transaction on a connection of `pool`. With no lane, each
/// write is its own transaction on a pooled connection, as before group commit.
pub struct GroupedWrites<DB: Database>(Mode<DB>);

enum Mode<DB: Database> {
    Batched(mpsc::Sender<Queued<DB>>),
    Direct(Pool<DB>),
}

/// How the batches are written.
#[derive(Debug, Clone, Copy)]
pub struct BatchSettings {
    /// The statement that starts a batch transaction (`None`: the backend's `BEGIN`).
    /// SQLite's is `BEGIN IMMEDIATE`, taking the write lock up front, so no statement
    /// inside can fail on a lock it cannot upgrade.
    pub begin: Option<&'static str>,
    /// Batch transactions running in parallel; 0 gives each write its own transaction.
    pub lanes: usize,
    /// Most writes in one batch.
    pub batch_max: usize,
    /// Writes that may wait for a lane before callers wait to queue.
    pub capacity: usize,
}

impl<DB: RowBackend> GroupedWrites<DB> {
    /// Starts the lanes on the tokio runtime.
    pub fn start(pool: Pool<DB>, settings: BatchSettings) -> Self {
        if settings.lanes == 0 {
            return Self(Mode::Direct(pool));
        }
        let (queue, receiver) = mpsc::channel(settings.capacity.max(1));
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..settings.lanes {
            tokio::spawn(lane(pool.clone(), receiver.clone(), settings));
        }
        Self(Mode::Batched(queue))
    }

    /// Runs `write` in the next batch and returns its result once the batch committed.
    /// `write` may run twice (the first run rolled back), so it must clone what it binds.
    /// Waits for room when the queue is full (these writes come from the worker, whose
    /// own concurrency bounds them).
    pub async fn run<T, F>(&self, write: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> Fn(&'c mut DB::Connection) -> BoxFuture<'c, StoreResult<T>> + Send + 'static,
    {
        let queue = match &self.0 {
            Mode::Batched(queue) => queue,
            Mode::Direct(pool) => return write(&mut *pool.acquire().await?).await,
        };
        let (caller, answer) = oneshot::channel();
        let job: Queued<DB> = Box::new(Pending {
            write,
            result: None,
            caller,
        });
        enqueue(queue, job, answer).await
    }
}

/// Queues `job` and waits for its answer.
async fn enqueue<DB: Database, T>(
    queue: &mpsc::Sender<Queued<DB>>,
    job: Queued<DB>,
    answer: oneshot::Receiver<StoreResult<T>>,
) -> StoreResult<T> {
    queue
        .send(job)
        .await
        .map_err(|_| StoreError::Unavailable("the store is closing".into()))?;
    answer.await.unwrap_or_else(|_| {
        Err(StoreError::Unavailable(
            "the write was not committed: its batch could not start".into(),
        ))
    })
}

/// One lane: takes what is queued (up to `batch_max`), writes it, repeats until the
/// queue closes.
async fn lane<DB: RowBackend>(
    pool: Pool<DB>,
    receiver: Arc<Mutex<mpsc::Receiver<Queued<DB>>>>,
    settings: BatchSettings,
) {
    let mut jobs = Vec::with_capacity(settings.batch_max);
    loop {
        let taken = receiver
            .lock()
            .await
            .recv_many(&mut jobs, settings.batch_max)
            .await;
        if taken == 0 {
            return;
        }
        let batch = std::mem::take(&mut jobs);
        // Every caller of the batch gets the error and reports it (rate-limited) as its
        // own; a warning per batch here would repeat each one, unbounded, while the
        // database is down.
        if let Err(error) = write_batch(&pool, settings.begin, batch).await {
            tracing::debug!(%error, "a batch of writes failed");
        }
    }
}

/// Writes one batch, plainly first; if a write fails, again with savepoints. Jobs not
/// run when something else fails are answered "not committed".
async fn write_batch<DB: RowBackend>(
    pool: &Pool<DB>,
    begin: Option<&'static str>,
    mut jobs: Vec<Queued<DB>>,
) -> StoreResult<()> {
    let mut tx = start(pool, begin)
        .await
        .map_err(|e| fail(std::mem::take(&mut jobs), e))?;
    let mut clean = true;
    match merge_rows(&mut *tx, &mut jobs).await {
        Ok(merged) => {
            for (job, _) in jobs.iter_mut().zip(merged).filter(|(_, merged)| !merged) {
                if job.run(&mut tx).await {
                    clean = false;
                    break;
                }
            }
        }
        Err(()) => clean = false,
    }
    if !clean {
        // Nothing of this attempt stays; each write runs again in a savepoint.
        drop(tx.rollback().await);
        tx = start(pool, begin)
            .await
            .map_err(|e| fail(std::mem::take(&mut jobs), e))?;
        if let Err(error) = guarded(&mut tx, &mut jobs).await {
            return Err(fail(jobs, error));
        }
    }
    let committed = tx.commit().await.map_err(StoreError::from);
    match committed {
        Ok(()) => {
            for job in jobs {
                job.deliver(Ok(()));
            }
            Ok(())
        }
        Err(error) => Err(fail(jobs, error)),
    }
}

/// Runs each job in a savepoint of its own: a failing one is rolled back alone.
async fn guarded<DB: Database>(
    tx: &mut Transaction<'static, DB>,
    jobs: &mut [Queued<DB>],
) -> StoreResult<()> {
    for job in jobs {
        let mut savepoint = tx.begin().await?;
        let closed = if job.run(&mut savepoint).await {
            savepoint.rollback().await
        } else {
            savepoint.commit().await
        };
        closed?;
    }
    Ok(())
}

async fn start<DB: Database>(
    pool: &Pool<DB>,
    begin: Option<&'static str>,
) -> StoreResult<Transaction<'static, DB>> {
    Ok(match begin {
        Some(statement) => pool.begin_with(statement).await?,
        None => pool.begin().await?,
    })
}

/// Answers every job with `error` (nothing of theirs was committed) and hands it back.
fn fail<DB: Database>(jobs: Vec<Queued<DB>>, error: StoreError) -> StoreError {
    for job in jobs {
        job.deliver(Err(&error));
    }
    error
}

#[cfg(test)]
mod tests;
