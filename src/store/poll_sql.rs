//! The SQL of the poller's batch reads and writes of snapshots, built once for both
//! backends (`QueryBuilder` numbers the placeholders each backend's way).
//!
//! A page's keys go in as a generated `IN (…)` list of bound values rather than one
//! array or JSON parameter: SQLite has no arrays, and `json_each` versus PostgreSQL's
//! `unnest` would need two texts. The list is bounded by the page size (at most 1,000),
//! far below either backend's limit on bound values.

use sqlx::{ColumnIndex, Database, Decode, Encode, QueryBuilder, Row, Type};

use super::rows::json;
use super::{Millis, Snapshot, StoreResult};

/// Rows per upsert statement: 5 values each, well inside every backend's bind limit.
pub const UPSERT_CHUNK: usize = 200;

/// `SELECT entity_key, digest, state, updated_at` of the given keys that exist.
pub fn select_snapshots<'a, DB>(connection: &'a str, keys: &'a [String]) -> QueryBuilder<'a, DB>
where
    DB: Database,
    &'a str: Encode<'a, DB> + Type<DB>,
{
    let mut select = QueryBuilder::new(
        "SELECT entity_key, digest, state, updated_at FROM poll_snapshots WHERE connection_id = ",
    );
    select.push_bind(connection);
    select.push(" AND entity_key IN (");
    let mut list = select.separated(", ");
    for key in keys {
        list.push_bind(key.as_str());
    }
    select.push(")");
    select
}

/// One multi-row upsert of snapshots; `states` holds each row's state as JSON text.
pub fn upsert_snapshots<'a, DB>(
    connection: &'a str,
    rows: &'a [(String, Snapshot)],
    states: &'a [String],
) -> QueryBuilder<'a, DB>
where
    DB: Database,
    &'a str: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut upsert = QueryBuilder::new(
        "INSERT INTO poll_snapshots (connection_id, entity_key, digest, state, updated_at) ",
    );
    upsert.push_values(
        rows.iter().zip(states),
        |mut row, ((key, snapshot), state)| {
            row.push_bind(connection)
                .push_bind(key.as_str())
                .push_bind(snapshot.digest.as_str())
                .push_bind(state.as_str())
                .push_bind(snapshot.updated_at.0);
        },
    );
    upsert.push(
        " ON CONFLICT (connection_id, entity_key) DO UPDATE SET digest = excluded.digest, \
         state = excluded.state, updated_at = excluded.updated_at",
    );
    upsert
}

/// One row of [`select_snapshots`] as (entity key, snapshot).
pub fn snapshot_row<R>(row: &R) -> StoreResult<(String, Snapshot)>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let state: String = row.try_get(2)?;
    let snapshot = Snapshot {
        digest: row.try_get(1)?,
        state: json(&state)?,
        updated_at: Millis(row.try_get(3)?),
    };
    Ok((row.try_get(0)?, snapshot))
}
