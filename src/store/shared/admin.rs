//! The admin API's queries on either backend: event listings without bodies, an event's
//! action log, dead and open counts per connection, and the audit log. A backend's
//! `Store` impl delegates its admin methods to the inherent `admin_*` methods made here.

/// Implements the inherent `admin_*` methods of `$store`, whose database is `$db`.
macro_rules! shared_admin {
    ($store:ty, $db:ty) => {
        const _: () = {
            use sqlx::{QueryBuilder, Row};

            use $crate::store::rows::{json, parse_id};
            use $crate::store::{
                AuditEntry, AuditQuery, ConnectionBacklog, DeadErrors, EventAction, EventId, EventQuery,
                EventStatus, EventSummary, Millis, NewAuditEntry, Source, StoreError, StoreResult,
            };

            type DbRow = <$db as sqlx::Database>::Row;

            const SUMMARY_COLUMNS: &str = "seq, CAST(id AS TEXT) AS id, source, connection_id, event_type, \
                entity_key, status, attempts, received_at, next_attempt_at, updated_at, last_error";

            fn corrupt(what: &str, value: &str) -> StoreError {
                StoreError::Corrupt(format!("unknown {what} `{value}`"))
            }

            fn status_of(text: &str) -> StoreResult<EventStatus> {
                EventStatus::parse(text).ok_or_else(|| corrupt("status", text))
            }

            fn count_of(row: &DbRow, index: usize) -> StoreResult<u64> {
                Ok(u64::try_from(row.try_get::<i64, _>(index)?).unwrap_or_default())
            }

            fn summary_from_row(row: &DbRow) -> StoreResult<EventSummary> {
                let source: String = row.try_get("source")?;
                let attempts: i64 = row.try_get("attempts")?;
                Ok(EventSummary {
                    seq: row.try_get("seq")?,
                    id: parse_id(&row.try_get::<String, _>("id")?)?,
                    source: Source::parse(&source).ok_or_else(|| corrupt("source", &source))?,
                    connection_id: row.try_get("connection_id")?,
                    event_type: row.try_get("event_type")?,
                    entity_key: row.try_get("entity_key")?,
                    status: status_of(&row.try_get::<String, _>("status")?)?,
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                    received_at: Millis(row.try_get("received_at")?),
                    next_attempt_at: Millis(row.try_get("next_attempt_at")?),
                    updated_at: Millis(row.try_get("updated_at")?),
                    last_error: row.try_get("last_error")?,
                })
            }

            fn audit_from_row(row: &DbRow) -> StoreResult<AuditEntry> {
                Ok(AuditEntry {
                    seq: row.try_get("seq")?,
                    entry: NewAuditEntry {
                        at: Millis(row.try_get("at")?),
                        token_id: row.try_get("token_id")?,
                        action: row.try_get("action")?,
                        connection_id: row.try_get("connection_id")?,
                        target: row.try_get("target")?,
                        detail: json(&row.try_get::<String, _>("detail")?)?,
                    },
                })
            }

            /// `%text%` for LIKE, lower case, with LIKE's own characters escaped by `\`.
            fn contains_pattern(text: &str) -> String {
                let mut pattern = String::from("%");
                for c in text.to_lowercase().chars() {
                    if matches!(c, '%' | '_' | '\\') {
                        pattern.push('\\');
                    }
                    pattern.push(c);
                }
                pattern.push('%');
                pattern
            }

            #[async_trait::async_trait]
            impl $crate::store::AdminQueries for $store {
                async fn record_audit(&self, entry: &NewAuditEntry) -> StoreResult<()> {
                    let sql = "INSERT INTO audit_log (at, token_id, action, connection_id, target, detail) \
                               VALUES ($1, $2, $3, $4, $5, $6)";
                    sqlx::query(sql)
                        .bind(entry.at.0)
                        .bind(&entry.token_id)
                        .bind(&entry.action)
                        .bind(&entry.connection_id)
                        .bind(&entry.target)
                        .bind(entry.detail.to_string())
                        .execute(self.writes())
                        .await?;
                    Ok(())
                }

                async fn audit_entries(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
                    let mut sql = QueryBuilder::<$db>::new(
                        "SELECT seq, at, token_id, action, connection_id, target, detail FROM audit_log WHERE 1 = 1",
                    );
                    if let Some(connection) = &q.connection_id {
                        sql.push(" AND connection_id = ").push_bind(connection.clone());
                    }
                    if let Some(action) = &q.action {
                        sql.push(" AND action = ").push_bind(action.clone());
                    }
                    if let Some(since) = q.since {
                        sql.push(" AND at >= ").push_bind(since.0);
                    }
                    if let Some(until) = q.until {
                        sql.push(" AND at < ").push_bind(until.0);
                    }
                    if let Some(before) = q.before {
                        sql.push(" AND seq < ").push_bind(before);
                    }
                    sql.push(" ORDER BY seq DESC LIMIT ").push_bind(i64::from(q.limit));
                    let rows = sql.build().fetch_all(self.reads()).await?;
                    rows.iter().map(audit_from_row).collect()
                }

                async fn list_events(&self, q: &EventQuery) -> StoreResult<Vec<EventSummary>> {
                    let mut sql = QueryBuilder::<$db>::new(format!(
                        "SELECT {SUMMARY_COLUMNS} FROM inbox_events WHERE 1 = 1"
                    ));
                    if !q.statuses.is_empty() {
                        sql.push(" AND status IN (");
                        let mut list = sql.separated(", ");
                        for status in &q.statuses {
                            list.push_bind(status.as_str());
                        }
                        sql.push(")");
                    }
                    let texts = [
                        ("source", q.source.map(|s| s.as_str().to_owned())),
                        ("event_type", q.event_type.clone()),
                        ("connection_id", q.connection_id.clone()),
                        ("entity_key", q.entity_key.clone()),
                    ];
                    for (column, value) in texts {
                        if let Some(value) = value {
                            sql.push(format!(" AND {column} = ")).push_bind(value);
                        }
                    }
                    if let Some(from) = q.received_from {
                        sql.push(" AND received_at >= ").push_bind(from.0);
                    }
                    if let Some(until) = q.received_until {
                        sql.push(" AND received_at < ").push_bind(until.0);
                    }
                    if let Some(text) = &q.error_text {
                        sql.push(" AND LOWER(last_error) LIKE ")
                            .push_bind(contains_pattern(text))
                            .push(" ESCAPE '\\'");
                    }
                    if let Some(before) = q.before {
                        sql.push(" AND seq < ").push_bind(before);
                    }
                    sql.push(" ORDER BY seq DESC LIMIT ").push_bind(i64::from(q.limit));
                    let rows = sql.build().fetch_all(self.reads()).await?;
                    rows.iter().map(summary_from_row).collect()
                }

                async fn event_actions(&self, id: EventId) -> StoreResult<Vec<EventAction>> {
                    let sql = "SELECT idempotency_key, action, state, outcome, recorded_at FROM action_log \
                               WHERE event_id = $1 ORDER BY recorded_at, idempotency_key";
                    let rows = sqlx::query(sql)
                        .bind(Self::id_param(id))
                        .fetch_all(self.reads())
                        .await?;
                    rows.iter()
                        .map(|row| {
                            Ok(EventAction {
                                idempotency_key: row.try_get("idempotency_key")?,
                                action: row.try_get("action")?,
                                state: row.try_get("state")?,
                                outcome: json(&row.try_get::<String, _>("outcome")?)?,
                                recorded_at: Millis(row.try_get("recorded_at")?),
                            })
                        })
                        .collect()
                }

                async fn dead_event_errors(&self) -> StoreResult<Vec<DeadErrors>> {
                    let sql = "SELECT connection_id, last_error, COUNT(*) FROM inbox_events \
                               WHERE status = 'dead' GROUP BY connection_id, last_error";
                    let rows = sqlx::query(sql).fetch_all(self.reads()).await?;
                    rows.iter()
                        .map(|row| {
                            Ok(DeadErrors {
                                connection_id: row.try_get(0)?,
                                last_error: row.try_get(1)?,
                                count: count_of(row, 2)?,
                            })
                        })
                        .collect()
                }

                async fn open_events_by_connection(&self) -> StoreResult<Vec<ConnectionBacklog>> {
                    let sql = "SELECT connection_id, status, COUNT(*), MIN(received_at) FROM inbox_events \
                               WHERE status IN ('pending', 'processing', 'retrying', 'dead') \
                               GROUP BY connection_id, status";
                    let rows = sqlx::query(sql).fetch_all(self.reads()).await?;
                    rows.iter()
                        .map(|row| {
                            Ok(ConnectionBacklog {
                                connection_id: row.try_get(0)?,
                                status: status_of(&row.try_get::<String, _>(1)?)?,
                                count: count_of(row, 2)?,
                                oldest_received_at: Millis(row.try_get(3)?),
                            })
                        })
                        .collect()
                }
            }
        };
    };
}

pub(crate) use shared_admin;
