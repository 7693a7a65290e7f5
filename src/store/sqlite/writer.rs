//! Group commit for inbox inserts. SQLite has one writer at a time and each commit costs
//! an fsync, so one task takes every insert waiting in the queue, writes them in one
//! transaction, and answers each caller after that transaction commits.

use std::collections::HashMap;

use sqlx::{Connection, QueryBuilder, Row, Sqlite, SqliteConnection};
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::store::{EventId, NewEvent, Recorded, StoreError, StoreResult};

type Reply = oneshot::Sender<StoreResult<Recorded>>;

struct Request {
    id: EventId,
    event: NewEvent,
    reply: Reply,
}

/// The handle callers use; cloning the sender is cheap.
pub struct Writer {
    queue: mpsc::Sender<Request>,
    closing: CancellationToken,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    pub fn start(conn: SqliteConnection, batch_max: usize, capacity: usize) -> Self {
        let (queue, rx) = mpsc::channel(capacity);
        let closing = CancellationToken::new();
        let task = tokio::spawn(run(conn, rx, batch_max, closing.clone()));
        Self {
            queue,
            closing,
            task: Mutex::new(Some(task)),
        }
    }

    /// Queues one insert and waits for its batch to commit. A full queue is reported at
    /// once as unavailable, which the webhook routes turn into 429 + Retry-After.
    pub async fn record(&self, event: NewEvent) -> StoreResult<Recorded> {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            id: EventId::generate(),
            event,
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
        if let Some(task) = self.task.lock().await.take() {
            let _ = task.await;
        }
    }
}

async fn run(
    mut conn: SqliteConnection,
    mut rx: mpsc::Receiver<Request>,
    batch_max: usize,
    closing: CancellationToken,
) {
    let mut batch = Vec::with_capacity(batch_max);
    loop {
        let received = tokio::select! {
            received = rx.recv_many(&mut batch, batch_max) => received,
            () = closing.cancelled() => {
                // Refuse new inserts but commit what callers are already waiting on.
                rx.close();
                rx.recv_many(&mut batch, batch_max).await
            }
        };
        if received == 0 {
            break;
        }
        let requests = std::mem::take(&mut batch);
        match write_batch(&mut conn, &requests).await {
            Ok(outcomes) => answer_all(requests, outcomes),
            // One bad row must not fail its neighbours: fall back to one transaction each.
            Err(_) if requests.len() > 1 => {
                for request in requests {
                    let outcome = write_batch(&mut conn, std::slice::from_ref(&request)).await;
                    let _ = request.reply.send(outcome.map(|mut o| o.remove(0)));
                }
            }
            Err(e) => answer_all_err(requests, &e),
        }
    }
    let _ = conn.close().await;
}

fn answer_all(requests: Vec<Request>, outcomes: Vec<Recorded>) {
    for (request, outcome) in requests.into_iter().zip(outcomes) {
        let _ = request.reply.send(Ok(outcome));
    }
}

fn answer_all_err(requests: Vec<Request>, error: &StoreError) {
    for request in requests {
        let _ = request
            .reply
            .send(Err(StoreError::Unavailable(error.to_string())));
    }
}

/// Inserts the batch in one transaction; the first request for a new (source, external
/// id) wins, every other one learns the id already stored.
async fn write_batch(
    conn: &mut SqliteConnection,
    requests: &[Request],
) -> StoreResult<Vec<Recorded>> {
    let mut tx = conn.begin().await?;
    let mut insert = QueryBuilder::<Sqlite>::new(
        "INSERT INTO inbox_events (id, source, connection_id, external_id, event_type, entity_key, \
         received_at, headers, body, status, next_attempt_at, last_error, updated_at) ",
    );
    insert.push_values(requests, |mut row, r| {
        let e = &r.event;
        row.push_bind(r.id.0.to_string())
            .push_bind(e.source.as_str())
            .push_bind(e.connection_id.as_deref())
            .push_bind(e.external_id.as_str())
            .push_bind(e.event_type.as_str())
            .push_bind(e.entity_key.as_deref())
            .push_bind(e.received_at.0)
            .push_bind(e.headers.to_string())
            .push_bind(e.body.as_slice())
            .push_bind(e.status.as_str())
            .push_bind(e.received_at.0)
            .push_bind(e.note.as_deref())
            .push_bind(e.received_at.0);
    });
    insert.push(" ON CONFLICT (source, external_id) DO NOTHING RETURNING id");
    let inserted: Vec<String> = insert
        .build()
        .persistent(false)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let existing = existing_ids(&mut tx, requests, &inserted).await?;
    tx.commit().await?;
    requests
        .iter()
        .map(|r| {
            let id = r.id.0.to_string();
            if inserted.contains(&id) {
                return Ok(Recorded::New(r.id));
            }
            let key = (
                r.event.source.as_str().to_owned(),
                r.event.external_id.clone(),
            );
            existing
                .get(&key)
                .copied()
                .map(Recorded::Duplicate)
                .ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "event {} neither inserted nor found",
                        r.event.external_id
                    ))
                })
        })
        .collect()
}

/// The stored ids of the requests that were not inserted (duplicates).
async fn existing_ids(
    tx: &mut SqliteConnection,
    requests: &[Request],
    inserted: &[String],
) -> StoreResult<HashMap<(String, String), EventId>> {
    let duplicates: Vec<&Request> = requests
        .iter()
        .filter(|r| !inserted.contains(&r.id.0.to_string()))
        .collect();
    if duplicates.is_empty() {
        return Ok(HashMap::new());
    }
    let mut select = QueryBuilder::<Sqlite>::new(
        "SELECT source, external_id, id FROM inbox_events WHERE (source, external_id) IN (VALUES ",
    );
    let mut values = select.separated(", ");
    for r in &duplicates {
        values.push("(");
        values.push_bind_unseparated(r.event.source.as_str());
        values.push_unseparated(", ");
        values.push_bind_unseparated(r.event.external_id.as_str());
        values.push_unseparated(")");
    }
    select.push(")");
    let rows = select.build().persistent(false).fetch_all(&mut *tx).await?;
    rows.iter()
        .map(|row| {
            let id: String = row.get(2);
            let id = crate::store::rows::parse_id(&id)?;
            Ok(((row.get(0), row.get(1)), id))
        })
        .collect()
}
