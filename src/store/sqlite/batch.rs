//! One group-commit batch on SQLite, on the writer's own connection.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use sqlx::{Connection, Row, SqliteConnection};

use crate::store::batch_sql::{insert_batch, select_existing};
use crate::store::rows::parse_id;
use crate::store::writer::{BatchWrite, Pending, outcomes};
use crate::store::{Recorded, StoreResult};

/// SQLite has one writer at a time anyway, so the writer keeps its own connection.
pub struct SqliteBatch(pub SqliteConnection);

#[async_trait]
impl BatchWrite for SqliteBatch {
    async fn write_batch(&mut self, batch: &[Pending]) -> StoreResult<Vec<Recorded>> {
        let mut tx = self.0.begin().await?;
        let mut insert = insert_batch(
            batch,
            |row, p| {
                row.push_bind(p.id.0.to_string());
            },
            "id",
        );
        let rows = insert.build().persistent(false).fetch_all(&mut *tx).await?;
        let inserted: HashSet<String> = rows.iter().map(|r| r.get(0)).collect();
        let skipped: Vec<&Pending> = batch
            .iter()
            .filter(|p| !inserted.contains(&p.id.0.to_string()))
            .collect();
        let mut existing = HashMap::new();
        if !skipped.is_empty() {
            let mut select = select_existing(&skipped, "id");
            for row in select.build().persistent(false).fetch_all(&mut *tx).await? {
                let id = parse_id(&row.try_get::<String, _>("id")?)?;
                existing.insert((row.try_get(0)?, row.try_get(1)?), id);
            }
        }
        tx.commit().await?;
        outcomes(batch, &inserted, &existing)
    }
}
