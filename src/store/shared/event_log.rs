//! The attempt log and the pruning of finished history on either backend. How a prune
//! names its events (and locks them) is the backend's `doomed_events` and `delete_doomed`.

/// Implements `EventLog` for `$store`.
macro_rules! shared_event_log {
    ($store:ty) => {
        const _: () = {
            use async_trait::async_trait;

            use $crate::store::row_writes::Value;
            use $crate::store::rows::attempt_from_row;
            use $crate::store::{AttemptRecord, EventId, EventLog, Millis, StoreResult};

            /// The tables a prune deletes from and the column naming the event, the
            /// events themselves last (the others refer to them).
            const PRUNED: [(&str, &str); 3] = [
                ("event_attempts", "event_id"),
                ("action_log", "event_id"),
                ("inbox_events", "id"),
            ];

            #[async_trait]
            impl EventLog for $store {
                async fn record_attempt(&self, a: &AttemptRecord) -> StoreResult<()> {
                    let row = vec![
                        Value::text(a.event_id.0.to_string()),
                        Value::Int(Some(i64::from(a.attempt))),
                        Value::Int(Some(a.started_at.0)),
                        Value::Int(Some(a.finished_at.0)),
                        Value::text(a.outcome.as_str()),
                        Value::Text(a.error.clone()),
                        Value::text(a.requests.to_string()),
                    ];
                    self.grouped.write_row(&$crate::store::row_statements::ATTEMPT, row).await.map(drop)
                }

                async fn event_attempts(&self, id: EventId) -> StoreResult<Vec<AttemptRecord>> {
                    let sql = "SELECT CAST(event_id AS TEXT) AS event_id, attempt, started_at, \
                               finished_at, outcome, error, CAST(requests AS TEXT) AS requests \
                               FROM event_attempts WHERE event_id = $1 ORDER BY seq";
                    let rows = sqlx::query(sql)
                        .bind(Self::id_param(id))
                        .fetch_all(self.reads())
                        .await?;
                    rows.iter().map(attempt_from_row).collect()
                }

                async fn prune_finished_events(
                    &self,
                    received_before: Millis,
                    limit: u32,
                ) -> StoreResult<u64> {
                    let mut tx = self.begin_write().await?;
                    let doomed = Self::doomed_events(&mut tx, received_before, limit).await?;
                    let mut deleted = 0;
                    for (table, column) in PRUNED {
                        deleted = Self::delete_doomed(&mut tx, table, column, &doomed).await?;
                    }
                    tx.commit().await?;
                    // The last table is the events'.
                    Ok(deleted)
                }
            }
        };
    };
}

pub(crate) use shared_event_log;
