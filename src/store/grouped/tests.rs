//! Tests of `store::grouped`: batches, a failing write among them, a failed commit, reruns,
//! rows of one statement merged.

use std::str::FromStr as _;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{Sqlite, SqliteConnection};

use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::store::row_writes::{RowStatement, Value};

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

async fn insert(writes: &GroupedWrites<Sqlite>, id: i64, parent: Option<i64>) -> StoreResult<u64> {
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

/// An insert that counts how often it ran.
async fn counted(
    writes: &GroupedWrites<Sqlite>,
    id: i64,
    runs: &Arc<AtomicUsize>,
) -> StoreResult<u64> {
    let runs = Arc::clone(runs);
    writes
        .run(move |c: &mut SqliteConnection| {
            runs.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                let done = sqlx::query("INSERT INTO item (id) VALUES ($1)")
                    .bind(id)
                    .execute(&mut *c)
                    .await?;
                Ok(done.rows_affected())
            })
        })
        .await
}

#[tokio::test]
async fn a_clean_batch_runs_each_write_once_and_a_failed_one_runs_the_rest_again() {
    let dir = tempfile::tempdir().unwrap();
    let pool = pool(&dir).await;
    let writes = grouped(&pool);
    let runs = Arc::new(AtomicUsize::new(0));
    let (a, b) = tokio::join!(counted(&writes, 1, &runs), counted(&writes, 2, &runs));
    assert_eq!((a.unwrap(), b.unwrap()), (1, 1));
    assert_eq!(
        runs.load(Ordering::SeqCst),
        2,
        "no second run without a failure"
    );

    // The duplicate fails the plain attempt, which is rolled back; the batch is then
    // written again with savepoints, so the neighbour runs twice and commits once.
    let neighbour_runs = Arc::new(AtomicUsize::new(0));
    let (neighbour, duplicate) = tokio::join!(
        counted(&writes, 3, &neighbour_runs),
        insert(&writes, 1, None)
    );
    assert_eq!(neighbour.unwrap(), 1);
    assert!(matches!(duplicate, Err(StoreError::Database(_))));
    assert_eq!(neighbour_runs.load(Ordering::SeqCst), 2);
    assert_eq!(items(&pool).await, [1, 2, 3]);
}

#[tokio::test]
async fn a_failed_commit_answers_every_write_of_the_batch_with_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let pool = pool(&dir).await;
    let writes = grouped(&pool);
    // The orphan passes its own statement (the key is checked at commit) and then
    // fails the commit of the whole batch, its innocent neighbour included.
    let (innocent, orphan) = tokio::join!(insert(&writes, 1, None), insert(&writes, 2, Some(99)));
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
    let (innocent, orphan) = tokio::join!(insert(&writes, 1, None), insert(&writes, 2, Some(99)));
    assert_eq!(innocent.unwrap(), 1);
    assert!(orphan.is_err());
    assert_eq!(items(&pool).await, [1]);
}

/// Rows stamped with how many rows the table held when their statement began: rows
/// written by one statement share a stamp, rows written one by one do not.
static STAMPED: RowStatement = RowStatement {
    columns: &[("id", crate::store::row_writes::Kind::Int)],
    key: 1,
    text: "INSERT INTO stamped (id, stamp) SELECT u.id, (SELECT COUNT(*) FROM stamped) FROM {rows} WHERE true \
           ON CONFLICT (id) DO UPDATE SET stamp = excluded.stamp RETURNING CAST(id AS TEXT)",
};

/// The same rows, but a row already there is a failure.
static STAMPED_NEW: RowStatement = RowStatement {
    columns: &[("id", crate::store::row_writes::Kind::Int)],
    key: 1,
    text: "INSERT INTO stamped (id, stamp) SELECT u.id, (SELECT COUNT(*) FROM stamped) FROM {rows} \
           RETURNING CAST(id AS TEXT)",
};

async fn stamped_pool(dir: &tempfile::TempDir) -> SqlitePool {
    let pool = pool(dir).await;
    sqlx::raw_sql("CREATE TABLE stamped (id INTEGER PRIMARY KEY, stamp INTEGER NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    pool
}

async fn stamps(pool: &SqlitePool) -> Vec<(i64, i64)> {
    sqlx::query_as("SELECT id, stamp FROM stamped ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap()
}

fn stamp(
    writes: &GroupedWrites<Sqlite>,
    statement: &'static RowStatement,
    id: i64,
) -> impl Future<Output = StoreResult<bool>> {
    writes.write_row(statement, vec![Value::Int(Some(id))])
}

#[tokio::test]
async fn rows_of_one_statement_in_a_batch_are_written_by_one_statement() {
    let dir = tempfile::tempdir().unwrap();
    let pool = stamped_pool(&dir).await;
    let writes = grouped(&pool);
    let (a, b, c) = tokio::join!(
        stamp(&writes, &STAMPED, 1),
        stamp(&writes, &STAMPED, 2),
        stamp(&writes, &STAMPED, 3)
    );
    assert_eq!((a.unwrap(), b.unwrap(), c.unwrap()), (true, true, true));
    assert_eq!(stamps(&pool).await, [(1, 0), (2, 0), (3, 0)]);
    // Alone, a row is written by its own statement.
    assert!(stamp(&writes, &STAMPED, 4).await.unwrap());
    assert_eq!(stamps(&pool).await[3], (4, 3));
}

#[tokio::test]
async fn two_writes_of_one_row_in_a_batch_are_written_one_after_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let pool = stamped_pool(&dir).await;
    let writes = grouped(&pool);
    let (a, again, b) = tokio::join!(
        stamp(&writes, &STAMPED, 1),
        stamp(&writes, &STAMPED, 1),
        stamp(&writes, &STAMPED, 2)
    );
    assert_eq!((a.unwrap(), again.unwrap(), b.unwrap()), (true, true, true));
    // The second write of row 1 saw the first: one statement would have stamped it 0.
    assert_eq!(stamps(&pool).await, [(1, 1), (2, 1)]);
}

#[tokio::test]
async fn a_row_that_fails_a_merged_statement_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let pool = stamped_pool(&dir).await;
    let writes = grouped(&pool);
    assert!(stamp(&writes, &STAMPED_NEW, 2).await.unwrap());
    let (a, taken, c) = tokio::join!(
        stamp(&writes, &STAMPED_NEW, 1),
        stamp(&writes, &STAMPED_NEW, 2),
        stamp(&writes, &STAMPED_NEW, 3)
    );
    assert!(a.unwrap() && c.unwrap());
    assert!(matches!(taken, Err(StoreError::Database(_))));
    // Rerun one by one after the merged attempt was rolled back.
    assert_eq!(stamps(&pool).await, [(1, 1), (2, 0), (3, 2)]);
}

#[tokio::test]
async fn a_merged_write_says_which_rows_it_changed() {
    let dir = tempfile::tempdir().unwrap();
    let pool = stamped_pool(&dir).await;
    sqlx::query("INSERT INTO stamped (id, stamp) VALUES (2, 7)")
        .execute(&pool)
        .await
        .unwrap();
    static UNLESS_THERE: RowStatement = RowStatement {
        columns: &[("id", crate::store::row_writes::Kind::Int)],
        key: 1,
        text: "INSERT INTO stamped (id, stamp) SELECT u.id, 0 FROM {rows} WHERE true \
               ON CONFLICT (id) DO NOTHING RETURNING CAST(id AS TEXT)",
    };
    let writes = grouped(&pool);
    let (a, there, c) = tokio::join!(
        stamp(&writes, &UNLESS_THERE, 1),
        stamp(&writes, &UNLESS_THERE, 2),
        stamp(&writes, &UNLESS_THERE, 3)
    );
    assert_eq!(
        (a.unwrap(), there.unwrap(), c.unwrap()),
        (true, false, true)
    );
    assert_eq!(stamps(&pool).await, [(1, 0), (2, 7), (3, 0)]);
}
