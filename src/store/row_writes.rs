//! Writes of one row that the group commit may merge: the same statement for many rows of
//! one batch runs once, over all of them, instead of once per row. On PostgreSQL each
//! statement costs the server a round trip, a portal and an executor start whatever it
//! does; at a dozen small writes per event those, not the rows, used most of a core. A
//! statement is written once, with `{rows}` where its rows go; each backend spells that
//! relation its own way (`UNNEST` of one array per column, or a `VALUES` list), so the
//! same text serves one row or a hundred.

use futures::future::BoxFuture;
use sqlx::{Database, Postgres, Sqlite};

use super::StoreResult;

/// How a column's values are bound, and read back on PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    /// Bound as text; PostgreSQL casts it to `uuid`, SQLite stores the text.
    Uuid,
    /// Bound as text; PostgreSQL casts it to `jsonb`, SQLite stores the text.
    Json,
}

/// A value of one row for one column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(Option<String>),
    Int(Option<i64>),
}

impl Value {
    pub fn text(value: impl Into<String>) -> Self {
        Self::Text(Some(value.into()))
    }

    /// The value as the statement's `RETURNING` spells it.
    fn key_text(&self) -> String {
        match self {
            Self::Text(text) => text.clone().unwrap_or_default(),
            Self::Int(int) => int.map(|i| i.to_string()).unwrap_or_default(),
        }
    }
}

/// A statement over rows, written once for both backends.
#[derive(Debug)]
pub struct RowStatement {
    /// The rows' columns, as `u.<name>` in `text`, in the order of each row's values.
    pub columns: &'static [(&'static str, Kind)],
    /// How many leading columns name a row. Rows of one batch with the same key are never
    /// merged (one statement would then touch a row twice). With a key, `text` ends in
    /// `RETURNING` of those columns as text, naming the rows it changed; with none, every
    /// row counts as changed.
    pub key: usize,
    /// The statement, with `{rows}` for the relation `u` of the rows.
    pub text: &'static str,
}

impl RowStatement {
    /// The key of a row, as `RETURNING` gives it back.
    pub(super) fn key_of(&self, row: &[Value]) -> Vec<String> {
        row.iter().take(self.key).map(Value::key_text).collect()
    }

    /// Whether the statement changed `row`, given the keys it returned.
    pub(super) fn changed(&self, returned: &[Vec<String>], row: &[Value]) -> bool {
        self.key == 0 || returned.contains(&self.key_of(row))
    }

    /// The text PostgreSQL runs, for any number of rows: parameter N is the array of
    /// column N's values.
    pub fn postgres_sql(&self) -> String {
        let arrays: Vec<String> = (1..)
            .zip(self.columns)
            .map(|(n, (_, kind))| match kind {
                Kind::Text => format!("${n}::text[]"),
                Kind::Int => format!("${n}::int8[]"),
                Kind::Uuid => format!("${n}::text[]::uuid[]"),
                Kind::Json => format!("${n}::text[]::jsonb[]"),
            })
            .collect();
        let names: Vec<&str> = self.columns.iter().map(|(name, _)| *name).collect();
        let relation = format!("UNNEST({}) AS u({})", arrays.join(", "), names.join(", "));
        self.text.replace("{rows}", &relation)
    }

    /// The text SQLite runs for `rows` rows: their values in order, row after row.
    pub fn sqlite_sql(&self, rows: usize) -> String {
        let names: Vec<String> = (1..)
            .zip(self.columns)
            .map(|(n, (name, _))| format!("column{n} AS {name}"))
            .collect();
        let row = format!("({})", vec!["?"; self.columns.len()].join(", "));
        let values = vec![row.as_str(); rows].join(", ");
        let relation = format!("(SELECT {} FROM (VALUES {values})) AS u", names.join(", "));
        self.text.replace("{rows}", &relation)
    }
}

/// A backend that can run a `RowStatement` over rows.
pub trait RowBackend: Database {
    /// Runs `statement` over `rows` and returns the keys of the rows it changed.
    fn write_rows<'c>(
        connection: &'c mut Self::Connection,
        statement: &'static RowStatement,
        rows: Vec<&'c [Value]>,
    ) -> BoxFuture<'c, StoreResult<Vec<Vec<String>>>>;
}

impl RowBackend for Postgres {
    fn write_rows<'c>(
        connection: &'c mut Self::Connection,
        statement: &'static RowStatement,
        rows: Vec<&'c [Value]>,
    ) -> BoxFuture<'c, StoreResult<Vec<Vec<String>>>> {
        Box::pin(async move {
            let sql = statement.postgres_sql();
            let mut query = sqlx::query(&sql);
            for (i, (_, kind)) in statement.columns.iter().enumerate() {
                query = if *kind == Kind::Int {
                    query.bind(rows.iter().map(|row| int_at(row, i)).collect::<Vec<_>>())
                } else {
                    query.bind(rows.iter().map(|row| text_at(row, i)).collect::<Vec<_>>())
                };
            }
            let returned = query.fetch_all(&mut *connection).await?;
            keys(statement, &returned)
        })
    }
}

impl RowBackend for Sqlite {
    fn write_rows<'c>(
        connection: &'c mut Self::Connection,
        statement: &'static RowStatement,
        rows: Vec<&'c [Value]>,
    ) -> BoxFuture<'c, StoreResult<Vec<Vec<String>>>> {
        Box::pin(async move {
            let sql = statement.sqlite_sql(rows.len());
            let mut query = sqlx::query(&sql);
            for row in &rows {
                for value in row.iter() {
                    query = match value {
                        Value::Text(text) => query.bind(text.clone()),
                        Value::Int(int) => query.bind(*int),
                    };
                }
            }
            let returned = query.fetch_all(&mut *connection).await?;
            keys(statement, &returned)
        })
    }
}

fn text_at(row: &[Value], column: usize) -> Option<String> {
    match row.get(column) {
        Some(Value::Text(text)) => text.clone(),
        Some(Value::Int(int)) => int.map(|i| i.to_string()),
        None => None,
    }
}

fn int_at(row: &[Value], column: usize) -> Option<i64> {
    match row.get(column) {
        Some(Value::Int(int)) => *int,
        _ => None,
    }
}

/// The keys a statement's `RETURNING` gave back.
fn keys<R: sqlx::Row>(statement: &RowStatement, returned: &[R]) -> StoreResult<Vec<Vec<String>>>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    returned
        .iter()
        .map(|row| {
            (0..statement.key)
                .map(|i| Ok(row.try_get::<String, _>(i)?))
                .collect()
        })
        .collect()
}
