//! One group-commit batch on PostgreSQL, on a pooled connection.

use async_trait::async_trait;
use sqlx::PgPool;

use crate::store::batch_sql::{insert_batch, select_stored, stored_ids};
use crate::store::writer::{BatchWrite, Pending, outcomes};
use crate::store::{Recorded, StoreResult};

/// Batches borrow a pooled connection, so a database restart heals with the pool.
pub struct PgBatch(pub PgPool);

#[async_trait]
impl BatchWrite for PgBatch {
    async fn write_batch(&mut self, batch: &[Pending]) -> StoreResult<Vec<Recorded>> {
        let mut tx = self.0.begin().await?;
        let mut insert = insert_batch(batch, |row, p| {
            row.push_bind(p.id.0);
        });
        let written = insert.build().persistent(false).execute(&mut *tx).await?;
        let mut stored = None;
        if written.rows_affected() < batch.len() as u64 {
            let mut select = select_stored(batch, "id::text");
            let rows = select.build().persistent(false).fetch_all(&mut *tx).await?;
            stored = Some(stored_ids(&rows)?);
        }
        tx.commit().await?;
        outcomes(batch, stored.as_ref())
    }
}
