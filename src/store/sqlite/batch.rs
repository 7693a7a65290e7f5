//! One group-commit batch on SQLite, on the writer's own connection.

use async_trait::async_trait;
use sqlx::{Connection, SqliteConnection};

use crate::store::batch_sql::{insert_batch, select_stored, stored_ids};
use crate::store::writer::{BatchWrite, Pending, outcomes};
use crate::store::{Recorded, StoreResult};

/// SQLite has one writer at a time anyway, so the writer keeps its own connection.
pub struct SqliteBatch(pub SqliteConnection);

#[async_trait]
impl BatchWrite for SqliteBatch {
    async fn write_batch(&mut self, batch: &[Pending]) -> StoreResult<Vec<Recorded>> {
        let mut tx = self.0.begin().await?;
        let mut insert = insert_batch(batch, |row, p| {
            row.push_bind(p.id.0.to_string());
        });
        let written = insert.build().persistent(false).execute(&mut *tx).await?;
        let mut stored = None;
        if written.rows_affected() < batch.len() as u64 {
            let mut select = select_stored(batch, "id");
            let rows = select.build().persistent(false).fetch_all(&mut *tx).await?;
            stored = Some(stored_ids(&rows)?);
        }
        tx.commit().await?;
        outcomes(batch, stored.as_ref())
    }
}
