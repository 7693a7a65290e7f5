//! Group commit for the worker's small writes (an action begun or finished, an event's
//! outcome and its attempt, a link or fingerprint remembered). Each is a transaction of
//! its own when run alone, and on SQLite every commit is an fsync through the one write
//! connection: a handful of them per event bounded the drain at about 100 events/s while
//! the CPU idled. Here one task takes every write waiting in the queue, runs each in a
//! savepoint of one shared transaction, commits once, and only then answers each caller.
//!
//! Durability is unchanged for every caller: its `await` returns after the commit that
//! holds its write, exactly as with a transaction of its own. A write that fails rolls
//! back to its savepoint and gets its error; the others still commit. A failed commit
//! answers every caller of the batch with the error.

use std::sync::Arc;

use futures::future::BoxFuture;
use sqlx::{Acquire as _, Database, Pool};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::{StoreError, StoreResult};

/// One write, run on the shared transaction's connection; it answers through `Settle`.
type Job<DB> = Box<
    dyn for<'c> FnOnce(&'c mut <DB as Database>::Connection) -> BoxFuture<'c, Box<dyn Settle>>
        + Send,
>;

/// A write's result, held until its batch commits.
trait Settle: Send {
    fn failed(&self) -> bool;
    /// Answers the caller: its own result once `committed` is `Ok`, else the commit's error.
    fn deliver(self: Box<Self>, committed: Result<(), &StoreError>);
}

struct Reply<T> {
    result: StoreResult<T>,
    caller: oneshot::Sender<StoreResult<T>>,
}

impl<T: Send> Settle for Reply<T> {
    fn failed(&self) -> bool {
        self.result.is_err()
    }

    fn deliver(self: Box<Self>, committed: Result<(), &StoreError>) {
        let answer = match committed {
            Ok(()) => self.result,
            // Its own error says more than the commit's.
            Err(_) if self.result.is_err() => self.result,
            Err(error) => Err(StoreError::Unavailable(format!(
                "the write was not committed: {error}"
            ))),
        };
        // A caller that stopped waiting no longer needs the answer.
        let _ = self.caller.send(answer);
    }
}

/// Where a backend's writes are group-committed: `lanes` tasks each take a batch from one
/// queue and write it in one transaction on a connection of `pool`. With no lane, each
/// write is its own transaction on a pooled connection, as before group commit.
pub struct GroupedWrites<DB: Database>(Mode<DB>);

enum Mode<DB: Database> {
    Batched(mpsc::Sender<Job<DB>>),
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

impl<DB: Database> GroupedWrites<DB> {
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
    /// Waits for room when the queue is full (these writes come from the worker, whose
    /// own concurrency bounds them).
    pub async fn run<T, F>(&self, write: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut DB::Connection) -> BoxFuture<'c, StoreResult<T>> + Send + 'static,
    {
        let queue = match &self.0 {
            Mode::Batched(queue) => queue,
            Mode::Direct(pool) => return write(&mut *pool.acquire().await?).await,
        };
        let (caller, answer) = oneshot::channel();
        let job: Job<DB> = Box::new(move |connection| {
            Box::pin(async move {
                let result = write(connection).await;
                Box::new(Reply { result, caller }) as Box<dyn Settle>
            })
        });
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
}

/// One lane: takes what is queued (up to `batch_max`), writes it, repeats until the
/// queue closes.
async fn lane<DB: Database>(
    pool: Pool<DB>,
    receiver: Arc<Mutex<mpsc::Receiver<Job<DB>>>>,
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

/// Writes one batch. Jobs not yet run when something fails are dropped, which answers
/// their callers with "not committed".
async fn write_batch<DB: Database>(
    pool: &Pool<DB>,
    begin: Option<&'static str>,
    jobs: Vec<Job<DB>>,
) -> StoreResult<()> {
    let mut tx = match begin {
        Some(statement) => pool.begin_with(statement).await?,
        None => pool.begin().await?,
    };
    let mut settled = Vec::with_capacity(jobs.len());
    for job in jobs {
        let mut savepoint = match tx.begin().await {
            Ok(savepoint) => savepoint,
            Err(error) => return Err(fail_all(settled, error.into())),
        };
        let settle = job(&mut savepoint).await;
        let closed = if settle.failed() {
            savepoint.rollback().await
        } else {
            savepoint.commit().await
        };
        settled.push(settle);
        if let Err(error) = closed {
            return Err(fail_all(settled, error.into()));
        }
    }
    let committed = tx.commit().await.map_err(StoreError::from);
    for settle in settled {
        settle.deliver(committed.as_ref().map(|_| ()));
    }
    committed
}

fn fail_all(settled: Vec<Box<dyn Settle>>, error: StoreError) -> StoreError {
    for settle in settled {
        settle.deliver(Err(&error));
    }
    error
}

#[cfg(test)]
mod tests {
    use std::str::FromStr as _;

    use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
    use sqlx::{Sqlite, SqliteConnection};

    use super::*;

    async fn pool(dir: &tempfile::TempDir) -> SqlitePool {
        let url = format!("sqlite://{}/grouped.db", dir.path().display());
        let options = SqliteConnectOptions::from_str(&url)
            .unwrap()
            .create_if_missing(true)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        sqlx::raw_sql(
            "CREATE TABLE parent (id INTEGER PRIMARY KEY); \
             CREATE TABLE item (id INTEGER PRIMARY KEY, \
               parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool
    }

    fn grouped(pool: &SqlitePool) -> GroupedWrites<Sqlite> {
        let settings = BatchSettings {
            begin: Some("BEGIN IMMEDIATE"),
            lanes: 1,
            batch_max: 64,
            capacity: 64,
        };
        GroupedWrites::start(pool.clone(), settings)
    }

    async fn insert(
        writes: &GroupedWrites<Sqlite>,
        id: i64,
        parent: Option<i64>,
    ) -> StoreResult<u64> {
        writes
            .run(move |c: &mut SqliteConnection| {
                Box::pin(async move {
                    let done = sqlx::query("INSERT INTO item (id, parent) VALUES ($1, $2)")
                        .bind(id)
                        .bind(parent)
                        .execute(&mut *c)
                        .await?;
                    Ok(done.rows_affected())
                })
            })
            .await
    }

    async fn items(pool: &SqlitePool) -> Vec<i64> {
        sqlx::query_scalar("SELECT id FROM item ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_failing_write_is_rolled_back_alone_and_its_neighbours_commit() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir).await;
        let writes = grouped(&pool);
        // Queued together before the lane runs (one thread), so they share a batch.
        let (a, duplicate, b) = tokio::join!(
            insert(&writes, 1, None),
            insert(&writes, 1, None),
            insert(&writes, 2, None)
        );
        assert_eq!((a.unwrap(), b.unwrap()), (1, 1));
        assert!(matches!(duplicate, Err(StoreError::Database(_))));
        assert_eq!(items(&pool).await, [1, 2]);
    }

    #[tokio::test]
    async fn a_failed_commit_answers_every_write_of_the_batch_with_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir).await;
        let writes = grouped(&pool);
        // The orphan passes its own statement (the key is checked at commit) and then
        // fails the commit of the whole batch, its innocent neighbour included.
        let (innocent, orphan) =
            tokio::join!(insert(&writes, 1, None), insert(&writes, 2, Some(99)));
        assert!(
            matches!(innocent, Err(StoreError::Unavailable(ref why)) if why.contains("not committed"))
        );
        assert!(orphan.is_err());
        assert!(
            items(&pool).await.is_empty(),
            "nothing of the batch is stored"
        );
        // The lane goes on with the next batch.
        assert_eq!(insert(&writes, 3, None).await.unwrap(), 1);
        assert_eq!(items(&pool).await, [3]);
    }

    #[tokio::test]
    async fn without_lanes_each_write_is_its_own_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir).await;
        let settings = BatchSettings {
            begin: None,
            lanes: 0,
            batch_max: 64,
            capacity: 64,
        };
        let writes = GroupedWrites::start(pool.clone(), settings);
        let (innocent, orphan) =
            tokio::join!(insert(&writes, 1, None), insert(&writes, 2, Some(99)));
        assert_eq!(innocent.unwrap(), 1);
        assert!(orphan.is_err());
        assert_eq!(items(&pool).await, [1]);
    }
}
