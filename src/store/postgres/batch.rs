//! One group-commit batch on PostgreSQL, on a pooled connection: one multi-row insert,
//! since every statement is a network round trip.

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};

use crate::store::rows::parse_id;
use crate::store::writer::{BatchWrite, Pending};
use crate::store::{EventId, Recorded, StoreError, StoreResult};

/// Batches borrow a pooled connection, so a database restart heals with the pool.
pub struct PgBatch(pub PgPool);

#[async_trait]
impl BatchWrite for PgBatch {
    async fn write_batch(&mut self, batch: &[Pending]) -> StoreResult<Vec<Recorded>> {
        let mut tx = self.0.begin().await?;
        let written = insert(batch)
            .build()
            .persistent(false)
            .execute(&mut *tx)
            .await?;
        let mut stored = None;
        if written.rows_affected() < batch.len() as u64 {
            let rows = select_stored(batch)
                .build()
                .persistent(false)
                .fetch_all(&mut *tx)
                .await?;
            stored = Some(stored_ids(&rows)?);
        }
        tx.commit().await?;
        outcomes(batch, stored.as_ref())
    }
}

/// `INSERT … VALUES (…), (…) ON CONFLICT DO NOTHING`. Nothing is returned: when the
/// affected-row count equals the batch size every row went in, which is the common case,
/// and only otherwise are the stored ids read back (`select_stored`). A `RETURNING` clause
/// would send one row per insert back on every batch.
fn insert(batch: &[Pending]) -> QueryBuilder<'_, Postgres> {
    let mut insert = QueryBuilder::new(
        "INSERT INTO inbox_events (id, source, connection_id, external_id, event_type, entity_key, \
         received_at, headers, body, status, next_attempt_at, last_error, updated_at) ",
    );
    insert.push_values(batch, |mut row, p| {
        let e = &p.event;
        row.push_bind(p.id.0)
            .push_bind(e.source.as_str())
            .push_bind(e.connection_id.as_deref())
            .push_bind(e.external_id.as_str())
            .push_bind(e.event_type.as_str())
            .push_bind(e.entity_key.as_deref())
            .push_bind(e.received_at.0)
            .push_bind(e.headers.to_string())
            .push_bind(e.body.as_ref())
            .push_bind(e.status.as_str())
            .push_bind(e.received_at.0)
            .push_bind(e.note.as_deref())
            .push_bind(e.received_at.0);
    });
    // Rows keep arrival order, so seq stays the receive order. A concurrent insert of the
    // same key is waited for, then skipped.
    insert.push(" ON CONFLICT (source, external_id) DO NOTHING");
    insert
}

/// The id now stored under each key of a batch whose insert skipped some rows.
fn select_stored(batch: &[Pending]) -> QueryBuilder<'_, Postgres> {
    let mut select = QueryBuilder::new(
        "SELECT source, external_id, id::text AS id FROM inbox_events \
         WHERE (source, external_id) IN (VALUES ",
    );
    let mut values = select.separated(", ");
    for p in batch {
        values.push("(");
        values.push_bind_unseparated(p.event.source.as_str());
        values.push_unseparated(", ");
        values.push_bind_unseparated(p.event.external_id.as_str());
        values.push_unseparated(")");
    }
    select.push(")");
    select
}

/// The id stored under each (source, external id) of a batch whose insert skipped rows.
type StoredIds = HashMap<(String, String), EventId>;

fn stored_ids(rows: &[sqlx::postgres::PgRow]) -> StoreResult<StoredIds> {
    let mut ids = StoredIds::with_capacity(rows.len());
    for row in rows {
        let id = parse_id(&row.try_get::<String, _>("id")?)?;
        ids.insert((row.try_get(0)?, row.try_get(1)?), id);
    }
    Ok(ids)
}

/// Each request's outcome after a batch. When the insert wrote every row (`stored` is
/// `None`), all are new. Otherwise a request is new if the id stored under its key is its
/// own, and a duplicate of the stored one if not: that covers redeliveries of events stored
/// before and several deliveries of one event within the same batch.
fn outcomes(batch: &[Pending], stored: Option<&StoredIds>) -> StoreResult<Vec<Recorded>> {
    let Some(stored) = stored else {
        return Ok(batch.iter().map(|p| Recorded::New(p.id)).collect());
    };
    batch
        .iter()
        .map(|p| {
            let key = (
                p.event.source.as_str().to_owned(),
                p.event.external_id.clone(),
            );
            match stored.get(&key) {
                Some(id) if *id == p.id => Ok(Recorded::New(p.id)),
                Some(id) => Ok(Recorded::Duplicate(*id)),
                None => Err(StoreError::Corrupt(format!(
                    "event {} neither inserted nor found",
                    p.event.external_id
                ))),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::writer::tests::pending;

    #[test]
    fn a_batch_that_skipped_rows_tells_new_from_duplicate_by_the_stored_id() {
        let earlier = EventId::generate();
        let batch = [pending("a"), pending("b"), pending("b"), pending("c")];
        let key = |p: &Pending| ("ghl".to_owned(), p.event.external_id.clone());
        let stored: StoredIds = [
            (key(&batch[0]), earlier),
            (key(&batch[1]), batch[1].id),
            (key(&batch[3]), batch[3].id),
        ]
        .into();

        let outcomes = outcomes(&batch, Some(&stored)).unwrap();

        assert_eq!(
            outcomes,
            [
                Recorded::Duplicate(earlier),
                Recorded::New(batch[1].id),
                Recorded::Duplicate(batch[1].id),
                Recorded::New(batch[3].id),
            ]
        );
        let all_written = super::outcomes(&batch[..1], None).unwrap();
        assert_eq!(all_written, [Recorded::New(batch[0].id)]);
        let lost = super::outcomes(&batch[..1], Some(&StoredIds::new()));
        assert!(matches!(lost, Err(StoreError::Corrupt(_))));
    }
}
