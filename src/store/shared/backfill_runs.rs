//! Backfill runs on either backend: the partial unique index on running runs refuses a
//! second start; progress, cancel and the end are conditional updates on `state` (and the
//! owner), so a reclaimed run's late writes change nothing.

/// Implements `BackfillRuns` for `$store`, whose database is `$db`.
macro_rules! shared_backfill_runs {
    ($store:ty, $db:ty) => {
        const _: () = {
            use async_trait::async_trait;
            use sqlx::Row;

            use $crate::store::shared::connection_settings::conflict_or_error;
            use $crate::store::{
                BackfillCounts, BackfillEnd, BackfillFrom, BackfillOptions, BackfillProgress,
                BackfillRun, BackfillRuns, BackfillState, Millis, NewBackfillRun, StoreError,
                StoreResult,
            };

            type DbRow = <$db as sqlx::Database>::Row;

            const COLUMNS: &str = "seq, id, connection_id, from_platform, dry_run, limit_count, since, \
                state, stage, pages, scanned, queued, already_queued, unreadable, total, error, \
                cancel_requested, started_by, owner, started_at, heartbeat_at, finished_at";

            fn corrupt(what: &str, value: &str) -> StoreError {
                StoreError::Corrupt(format!("unknown backfill {what} `{value}`"))
            }

            fn count(row: &DbRow, name: &str) -> StoreResult<u64> {
                Ok(u64::try_from(row.try_get::<i64, _>(name)?).unwrap_or_default())
            }

            fn optional_count(row: &DbRow, name: &str) -> StoreResult<Option<u64>> {
                Ok(row.try_get::<Option<i64>, _>(name)?.map(|n| u64::try_from(n).unwrap_or_default()))
            }

            fn run_from_row(row: &DbRow) -> StoreResult<BackfillRun> {
                let from: String = row.try_get("from_platform")?;
                let state: String = row.try_get("state")?;
                let since = row
                    .try_get::<Option<i64>, _>("since")?
                    .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok());
                Ok(BackfillRun {
                    seq: row.try_get("seq")?,
                    run: NewBackfillRun {
                        id: row.try_get("id")?,
                        connection_id: row.try_get("connection_id")?,
                        from: BackfillFrom::parse(&from).ok_or_else(|| corrupt("platform", &from))?,
                        options: BackfillOptions {
                            dry_run: row.try_get("dry_run")?,
                            limit: optional_count(row, "limit_count")?,
                            since,
                        },
                        started_by: row.try_get("started_by")?,
                        owner: row.try_get("owner")?,
                        started_at: Millis(row.try_get("started_at")?),
                    },
                    state: BackfillState::parse(&state).ok_or_else(|| corrupt("state", &state))?,
                    progress: BackfillProgress {
                        counts: BackfillCounts {
                            pages: count(row, "pages")?,
                            scanned: count(row, "scanned")?,
                            queued: count(row, "queued")?,
                            already_queued: count(row, "already_queued")?,
                            unreadable: count(row, "unreadable")?,
                        },
                        stage: row.try_get("stage")?,
                        total: optional_count(row, "total")?,
                    },
                    error: row.try_get("error")?,
                    cancel_requested: row.try_get("cancel_requested")?,
                    heartbeat_at: Millis(row.try_get("heartbeat_at")?),
                    finished_at: row.try_get::<Option<i64>, _>("finished_at")?.map(Millis),
                })
            }

            fn signed(n: u64) -> i64 {
                i64::try_from(n).unwrap_or(i64::MAX)
            }

            #[async_trait]
            impl BackfillRuns for $store {
                async fn insert_backfill_run(&self, r: &NewBackfillRun) -> StoreResult<()> {
                    let sql = "INSERT INTO backfill_runs (id, connection_id, from_platform, dry_run, limit_count, \
                               since, state, started_by, owner, started_at, heartbeat_at) \
                               VALUES ($1, $2, $3, $4, $5, $6, 'running', $7, $8, $9, $9)";
                    sqlx::query(sql)
                        .bind(&r.id)
                        .bind(&r.connection_id)
                        .bind(r.from.as_str())
                        .bind(r.options.dry_run)
                        .bind(r.options.limit.map(signed))
                        .bind(r.options.since.map(|t| t.as_millisecond()))
                        .bind(&r.started_by)
                        .bind(&r.owner)
                        .bind(r.started_at.0)
                        .execute(self.writes())
                        .await
                        .map_err(|e| conflict_or_error(e, "a backfill of this connection from this platform is running"))?;
                    Ok(())
                }

                async fn backfill_run(&self, id: &str) -> StoreResult<Option<BackfillRun>> {
                    let sql = format!("SELECT {COLUMNS} FROM backfill_runs WHERE id = $1");
                    let row = sqlx::query(&sql).bind(id).fetch_optional(self.reads()).await?;
                    row.as_ref().map(run_from_row).transpose()
                }

                async fn backfill_runs(
                    &self,
                    connection_id: &str,
                    before: Option<i64>,
                    limit: u32,
                ) -> StoreResult<Vec<BackfillRun>> {
                    let sql = format!(
                        "SELECT {COLUMNS} FROM backfill_runs WHERE connection_id = $1 AND seq < $2 \
                         ORDER BY seq DESC LIMIT $3"
                    );
                    let rows = sqlx::query(&sql)
                        .bind(connection_id)
                        .bind(before.unwrap_or(i64::MAX))
                        .bind(i64::from(limit))
                        .fetch_all(self.reads())
                        .await?;
                    rows.iter().map(run_from_row).collect()
                }

                async fn record_backfill_progress(
                    &self,
                    id: &str,
                    owner: &str,
                    p: &BackfillProgress,
                    now: Millis,
                ) -> StoreResult<Option<bool>> {
                    let sql = "UPDATE backfill_runs SET pages = $3, scanned = $4, queued = $5, already_queued = $6, \
                               unreadable = $7, stage = $8, total = $9, heartbeat_at = $10 \
                               WHERE id = $1 AND owner = $2 AND state = 'running' RETURNING cancel_requested";
                    let c = &p.counts;
                    let row = sqlx::query(sql)
                        .bind(id)
                        .bind(owner)
                        .bind(signed(c.pages))
                        .bind(signed(c.scanned))
                        .bind(signed(c.queued))
                        .bind(signed(c.already_queued))
                        .bind(signed(c.unreadable))
                        .bind(&p.stage)
                        .bind(p.total.map(signed))
                        .bind(now.0)
                        .fetch_optional(self.writes())
                        .await?;
                    row.map(|r| r.try_get::<bool, _>(0)).transpose().map_err(Into::into)
                }

                async fn request_backfill_cancel(&self, id: &str) -> StoreResult<bool> {
                    let sql = "UPDATE backfill_runs SET cancel_requested = TRUE WHERE id = $1 AND state = 'running'";
                    let done = sqlx::query(sql).bind(id).execute(self.writes()).await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn finish_backfill_run(&self, id: &str, owner: &str, end: &BackfillEnd) -> StoreResult<bool> {
                    let sql = "UPDATE backfill_runs SET state = $3, pages = $4, scanned = $5, queued = $6, \
                               already_queued = $7, unreadable = $8, stage = $9, total = $10, error = $11, \
                               heartbeat_at = $12, finished_at = $12 \
                               WHERE id = $1 AND owner = $2 AND state = 'running'";
                    let c = &end.progress.counts;
                    let done = sqlx::query(sql)
                        .bind(id)
                        .bind(owner)
                        .bind(end.state.as_str())
                        .bind(signed(c.pages))
                        .bind(signed(c.scanned))
                        .bind(signed(c.queued))
                        .bind(signed(c.already_queued))
                        .bind(signed(c.unreadable))
                        .bind(&end.progress.stage)
                        .bind(end.progress.total.map(signed))
                        .bind(&end.error)
                        .bind(end.at.0)
                        .execute(self.writes())
                        .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn fail_stale_backfill_runs(
                    &self,
                    stale_before: Millis,
                    now: Millis,
                    error: &str,
                ) -> StoreResult<u64> {
                    let sql = "UPDATE backfill_runs SET state = 'failed', error = $1, finished_at = $2 \
                               WHERE state = 'running' AND heartbeat_at < $3";
                    let done = sqlx::query(sql)
                        .bind(error)
                        .bind(now.0)
                        .bind(stale_before.0)
                        .execute(self.writes())
                        .await?;
                    Ok(done.rows_affected())
                }
            }
        };
    };
}

pub(crate) use shared_backfill_runs;
