//! The SQL of a group-commit batch, built once for both backends (they differ only in how
//! the event id is bound and read back).

use sqlx::query_builder::Separated;
use sqlx::{ColumnIndex, Database, Decode, Encode, QueryBuilder, Row, Type};

use super::StoreResult;
use super::rows::parse_id;
use super::writer::{Pending, StoredIds};

/// `INSERT … VALUES (…), (…) ON CONFLICT DO NOTHING`; `bind_id` binds the event id in the
/// backend's column type. Nothing is returned: when the affected-row count equals the batch
/// size every row went in, which is the common case, and only otherwise are the stored ids
/// read back (`select_stored`). A `RETURNING` clause would send one row per insert back
/// through the driver on every batch.
pub fn insert_batch<'a, DB>(
    batch: &'a [Pending],
    bind_id: impl Fn(&mut Separated<'_, 'a, DB, &'static str>, &'a Pending),
) -> QueryBuilder<'a, DB>
where
    DB: Database,
    &'a str: Encode<'a, DB> + Type<DB>,
    Option<&'a str>: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
    &'a [u8]: Encode<'a, DB> + Type<DB>,
{
    let mut insert = QueryBuilder::<DB>::new(
        "INSERT INTO inbox_events (id, source, connection_id, external_id, event_type, entity_key, \
         received_at, headers, body, status, next_attempt_at, last_error, updated_at) ",
    );
    insert.push_values(batch, |mut row, p| {
        let e = &p.event;
        bind_id(&mut row, p);
        row.push_bind(e.source.as_str())
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
    // Rows keep arrival order, so seq stays the receive order. A concurrent insert of the
    // same key is waited for, then skipped.
    insert.push(" ON CONFLICT (source, external_id) DO NOTHING");
    insert
}

/// `SELECT source, external_id, <id> … WHERE (source, external_id) IN (…)`: the id now
/// stored under each key of a batch whose insert skipped some rows.
pub fn select_stored<'a, DB>(batch: &'a [Pending], id: &str) -> QueryBuilder<'a, DB>
where
    DB: Database,
    &'a str: Encode<'a, DB> + Type<DB>,
{
    let mut select = QueryBuilder::<DB>::new("SELECT source, external_id, ");
    select.push(id);
    select.push(" AS id FROM inbox_events WHERE (source, external_id) IN (VALUES ");
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

/// The rows of `select_stored` as a map from key to stored id.
pub fn stored_ids<R>(rows: &[R]) -> StoreResult<StoredIds>
where
    R: Row,
    String: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    usize: ColumnIndex<R>,
    for<'s> &'s str: ColumnIndex<R>,
{
    let mut ids = StoredIds::with_capacity(rows.len());
    for row in rows {
        let id = parse_id(&row.try_get::<String, _>("id")?)?;
        ids.insert((row.try_get(0)?, row.try_get(1)?), id);
    }
    Ok(ids)
}
