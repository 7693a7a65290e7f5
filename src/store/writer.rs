//! Group commit for inbox inserts. Each commit costs a disk flush, so one task per
//! process takes every insert waiting in the queue, hands the batch to the backend to
//! write in one transaction, and answers each caller after that transaction commits.
//! A backend whose writes block (SQLite) gets a thread of its own for that task.

use async_trait::async_trait;
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::store::{EventId, NewEvent, Recorded, StoreError, StoreResult};

/// An insert waiting for its batch, with the id it gets if it is new.
pub struct Pending {
    pub id: EventId,
    pub event: NewEvent,
}

/// A backend's way of writing one batch in one transaction. The first request for a new
/// (source, external id) wins; the others learn the id already stored.
#[async_trait]
pub trait BatchWrite: Send + 'static {
    async fn write_batch(&mut self, batch: &[Pending]) -> StoreResult<Vec<Recorded>>;
    /// Called once when no insert has come for `IDLE_AFTER`: a chance to give memory
    /// (page caches) back after a burst.
    async fn idle(&mut self) {}
}

/// The same for a backend that blocks while it writes; see `Writer::start_on_thread`.
pub trait BlockingBatchWrite: Send + 'static {
    fn write_batch(&mut self, batch: &[Pending]) -> StoreResult<Vec<Recorded>>;
    fn idle(&mut self) {}
}

/// How long the queue stays empty before the backend is told it is idle.
const IDLE_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

/// A blocking backend, only ever run on its own thread (so blocking there is harmless).
struct OnItsThread<B>(B);

#[async_trait]
impl<B: BlockingBatchWrite> BatchWrite for OnItsThread<B> {
    async fn write_batch(&mut self, batch: &[Pending]) -> StoreResult<Vec<Recorded>> {
        self.0.write_batch(batch)
    }

    async fn idle(&mut self) {
        self.0.idle();
    }
}

struct Request {
    pending: Pending,
    reply: oneshot::Sender<StoreResult<Recorded>>,
}

/// The handle callers use.
pub struct Writer {
    queue: mpsc::Sender<Request>,
    closing: CancellationToken,
    /// Answers (or is dropped) when the task has stopped.
    stopped: Mutex<Option<oneshot::Receiver<()>>>,
}

impl Writer {
    /// Runs the batching task on the tokio runtime.
    pub fn start(backend: impl BatchWrite, batch_max: usize, capacity: usize) -> Self {
        let (writer, task) = Self::with_task(backend, batch_max, capacity);
        tokio::spawn(task);
        writer
    }

    /// Runs the batching task on a thread of its own, for a backend that blocks while it
    /// writes. Each batch then costs two thread hand-offs (in and out) instead of one per
    /// statement, and no runtime worker is ever blocked by the disk.
    pub fn start_on_thread(
        name: &str,
        backend: impl BlockingBatchWrite,
        batch_max: usize,
        capacity: usize,
    ) -> std::io::Result<Self> {
        let (writer, task) = Self::with_task(OnItsThread(backend), batch_max, capacity);
        // A runtime of its own on this thread, for the idle timer; nothing else runs on it.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()?;
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || runtime.block_on(task))?;
        Ok(writer)
    }

    fn with_task(
        backend: impl BatchWrite,
        batch_max: usize,
        capacity: usize,
    ) -> (Self, impl Future<Output = ()> + Send + 'static) {
        let (queue, rx) = mpsc::channel(capacity);
        let closing = CancellationToken::new();
        let (stopped_tx, stopped) = oneshot::channel();
        let token = closing.clone();
        let task = async move {
            run(backend, rx, batch_max, token).await;
            let _ = stopped_tx.send(());
        };
        let writer = Self {
            queue,
            closing,
            stopped: Mutex::new(Some(stopped)),
        };
        (writer, task)
    }

    /// Queues one insert and waits for its batch to commit. A full queue is reported at
    /// once as unavailable, which the webhook routes turn into 429 + Retry-After.
    pub async fn record(&self, event: NewEvent) -> StoreResult<Recorded> {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            pending: Pending {
                id: EventId::generate(),
                event,
            },
            reply,
        };
        self.queue.try_send(request).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => {
                StoreError::Unavailable("the inbox write queue is full".into())
            }
            mpsc::error::TrySendError::Closed(_) => {
                StoreError::Unavailable("the store is closing".into())
            }
        })?;
        answer
            .await
            .unwrap_or_else(|_| Err(StoreError::Unavailable("the inbox writer stopped".into())))
    }

    /// Stops taking inserts, lets the queued ones commit, and waits for the task.
    pub async fn close(&self) {
        self.closing.cancel();
        if let Some(stopped) = self.stopped.lock().await.take() {
            let _ = stopped.await;
        }
    }
}

async fn run(
    mut backend: impl BatchWrite,
    mut rx: mpsc::Receiver<Request>,
    batch_max: usize,
    closing: CancellationToken,
) {
    // Kept across batches: a full batch is over 100 KiB, and allocating it afresh each
    // time had the allocator return those pages to the OS and fault them in again.
    let mut batch = Vec::with_capacity(batch_max);
    let mut pending = Vec::with_capacity(batch_max);
    let mut replies = Vec::with_capacity(batch_max);
    let mut told_idle = true;
    loop {
        let received = tokio::select! {
            received = rx.recv_many(&mut batch, batch_max) => received,
            () = tokio::time::sleep(IDLE_AFTER), if !told_idle => {
                backend.idle().await;
                told_idle = true;
                continue;
            }
            () = closing.cancelled() => {
                // Refuse new inserts but commit what callers are already waiting on.
                rx.close();
                rx.recv_many(&mut batch, batch_max).await
            }
        };
        if received == 0 {
            break;
        }
        told_idle = false;
        for Request { pending: p, reply } in batch.drain(..) {
            pending.push(p);
            replies.push(reply);
        }
        let outcomes = write(&mut backend, &pending).await;
        pending.clear();
        for (reply, outcome) in replies.drain(..).zip(outcomes) {
            let _ = reply.send(outcome);
        }
    }
}

/// Writes a batch; if it fails for a reason other than the database being unavailable,
/// each insert is retried in its own transaction so one bad row cannot fail the others.
async fn write(backend: &mut impl BatchWrite, pending: &[Pending]) -> Vec<StoreResult<Recorded>> {
    match backend.write_batch(pending).await {
        Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
        Err(StoreError::Unavailable(reason)) => pending
            .iter()
            .map(|_| Err(StoreError::Unavailable(reason.clone())))
            .collect(),
        Err(_) if pending.len() > 1 => {
            let mut outcomes = Vec::with_capacity(pending.len());
            for one in pending.chunks(1) {
                let outcome = backend.write_batch(one).await.and_then(|o| {
                    o.into_iter()
                        .next()
                        .ok_or_else(|| StoreError::Corrupt("a batch write answered nothing".into()))
                });
                outcomes.push(outcome);
            }
            outcomes
        }
        Err(error) => vec![Err(error)],
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::store::{EventStatus, Millis, Source};

    /// Fails any batch holding `poison`; counts the batches it is given.
    struct Fake {
        poison: &'static str,
        unavailable: bool,
        batches: Vec<usize>,
    }

    #[async_trait]
    impl BatchWrite for Fake {
        async fn write_batch(&mut self, batch: &[Pending]) -> StoreResult<Vec<Recorded>> {
            self.batches.push(batch.len());
            if self.unavailable {
                return Err(StoreError::Unavailable("database down".into()));
            }
            if batch.iter().any(|p| p.event.external_id == self.poison) {
                return Err(StoreError::Corrupt("bad row".into()));
            }
            Ok(batch.iter().map(|p| Recorded::New(p.id)).collect())
        }
    }

    pub(crate) fn pending(external_id: &str) -> Pending {
        let event = NewEvent {
            source: Source::Ghl,
            connection_id: None,
            external_id: external_id.to_owned(),
            event_type: "t".into(),
            entity_key: None,
            headers: serde_json::json!({}),
            body: bytes::Bytes::new(),
            status: EventStatus::Pending,
            note: None,
            received_at: Millis(0),
        };
        Pending {
            id: EventId::generate(),
            event,
        }
    }

    #[tokio::test]
    async fn one_bad_row_does_not_fail_its_neighbours() {
        let mut fake = Fake {
            poison: "b",
            unavailable: false,
            batches: Vec::new(),
        };
        let batch = [pending("a"), pending("b"), pending("c")];
        let outcomes = write(&mut fake, &batch).await;
        assert!(outcomes[0].is_ok() && outcomes[2].is_ok());
        assert!(matches!(outcomes[1], Err(StoreError::Corrupt(_))));
        assert_eq!(fake.batches, [3, 1, 1, 1]);
    }

    #[tokio::test]
    async fn an_unavailable_database_fails_the_batch_at_once_without_retrying_each_row() {
        let mut fake = Fake {
            poison: "",
            unavailable: true,
            batches: Vec::new(),
        };
        let outcomes = write(&mut fake, &[pending("a"), pending("b")]).await;
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, Err(StoreError::Unavailable(_))))
        );
        assert_eq!(
            fake.batches,
            [2],
            "no per-row retries against a database that is down"
        );
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_at_once_and_a_closed_writer_refuses_new_inserts() {
        let fake = Fake {
            poison: "",
            unavailable: false,
            batches: Vec::new(),
        };
        let writer = Writer::start(fake, 8, 1);
        // Nothing has run yet on this single-threaded runtime: the first insert fills the
        // queue of one, so the second is refused.
        let first = writer.record(pending("a").event);
        let second = writer.record(pending("b").event);
        let (first, second) = tokio::join!(first, second);
        assert!(matches!(first, Ok(Recorded::New(_))));
        assert!(matches!(second, Err(StoreError::Unavailable(ref why)) if why.contains("full")));
        writer.close().await;
        let closed = writer.record(pending("c").event).await;
        assert!(matches!(closed, Err(StoreError::Unavailable(_))));
    }

    /// Counts the times it was told the queue is idle.
    struct CountsIdle(std::sync::Arc<std::sync::atomic::AtomicUsize>);

    #[async_trait]
    impl BatchWrite for CountsIdle {
        async fn write_batch(&mut self, batch: &[Pending]) -> StoreResult<Vec<Recorded>> {
            Ok(batch.iter().map(|p| Recorded::New(p.id)).collect())
        }

        async fn idle(&mut self) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_backend_is_told_once_when_inserts_stop_and_not_while_they_come() {
        use std::sync::atomic::Ordering::SeqCst;
        let idles = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let writer = Writer::start(CountsIdle(idles.clone()), 8, 16);
        tokio::time::sleep(IDLE_AFTER * 3).await;
        assert_eq!(
            idles.load(SeqCst),
            0,
            "nothing was written, so nothing to give back"
        );
        for n in 0..4 {
            writer
                .record(pending(&format!("a{n}")).event)
                .await
                .unwrap();
            tokio::time::sleep(IDLE_AFTER / 2).await;
        }
        assert_eq!(idles.load(SeqCst), 0, "inserts kept coming");
        tokio::time::sleep(IDLE_AFTER * 4).await;
        assert_eq!(
            idles.load(SeqCst),
            1,
            "told once after the last insert, not again"
        );
        writer.close().await;
    }

    /// Notes the thread each batch ran on.
    struct OnWhichThread(std::sync::mpsc::Sender<(usize, Option<String>)>);

    impl BlockingBatchWrite for OnWhichThread {
        fn write_batch(&mut self, batch: &[Pending]) -> StoreResult<Vec<Recorded>> {
            let thread = std::thread::current().name().map(str::to_owned);
            let _ = self.0.send((batch.len(), thread));
            Ok(batch.iter().map(|p| Recorded::New(p.id)).collect())
        }
    }

    #[tokio::test]
    async fn a_blocking_backend_writes_on_its_own_thread_and_close_waits_for_it() {
        let (batches, written) = std::sync::mpsc::channel();
        let writer =
            Writer::start_on_thread("inbox-test-writer", OnWhichThread(batches), 8, 16).unwrap();
        let (a, b) = tokio::join!(
            writer.record(pending("a").event),
            writer.record(pending("b").event)
        );
        assert!(matches!(a, Ok(Recorded::New(_))) && matches!(b, Ok(Recorded::New(_))));
        writer.close().await;
        let written: Vec<_> = written.try_iter().collect();
        assert_eq!(written.iter().map(|(n, _)| n).sum::<usize>(), 2);
        assert!(
            written
                .iter()
                .all(|(_, thread)| thread.as_deref() == Some("inbox-test-writer"))
        );
        let closed = writer.record(pending("c").event).await;
        assert!(matches!(closed, Err(StoreError::Unavailable(_))));
    }
}
