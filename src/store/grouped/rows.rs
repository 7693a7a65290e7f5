//! Writes of one row in the group commit (`row_writes`): queued like any write, but the
//! lane runs all rows of one statement in a batch as one statement.

use std::collections::HashSet;

use futures::future::BoxFuture;
use tokio::sync::oneshot;

use super::{GroupedWrites, Job, Mode, Queued, answer, enqueue};
use crate::store::row_writes::{RowBackend, RowStatement, Value};
use crate::store::{StoreError, StoreResult};

/// A queued write of one row (`row_writes`): alone it runs its statement over its row;
/// in a batch with others of its statement, the lane runs it once over all of them.
struct PendingRow {
    statement: &'static RowStatement,
    values: Vec<Value>,
    result: Option<StoreResult<bool>>,
    caller: oneshot::Sender<StoreResult<bool>>,
}

impl<DB: RowBackend> Job<DB> for PendingRow {
    fn run<'c>(&'c mut self, connection: &'c mut DB::Connection) -> BoxFuture<'c, bool> {
        Box::pin(async move {
            let statement = self.statement;
            let result = DB::write_rows(connection, statement, vec![&self.values])
                .await
                .map(|keys| statement.changed(&keys, &self.values));
            let failed = result.is_err();
            self.result = Some(result);
            failed
        })
    }

    fn deliver(self: Box<Self>, committed: Result<(), &StoreError>) {
        answer(self.caller, self.result, committed);
    }

    fn row(&self) -> Option<(&'static RowStatement, &[Value])> {
        Some((self.statement, &self.values))
    }

    fn merged(&mut self, changed: bool) {
        self.result = Some(Ok(changed));
    }
}

impl<DB: RowBackend> GroupedWrites<DB> {
    /// Runs `statement` over one row in the next batch, merged there with the other rows
    /// of the same statement; returns once the batch committed whether it changed the row.
    pub async fn write_row(
        &self,
        statement: &'static RowStatement,
        values: Vec<Value>,
    ) -> StoreResult<bool> {
        let queue = match &self.0 {
            Mode::Batched(queue) => queue,
            Mode::Direct(pool) => {
                let mut connection = pool.acquire().await?;
                let keys = DB::write_rows(&mut connection, statement, vec![&values]).await?;
                return Ok(statement.changed(&keys, &values));
            }
        };
        let (caller, answer) = oneshot::channel();
        let job: Queued<DB> = Box::new(PendingRow {
            statement,
            values,
            result: None,
            caller,
        });
        enqueue(queue, job, answer).await
    }
}

/// Runs each statement with rows from two jobs or more once over all of them, unless
/// two of its rows share a key; says which jobs it ran. An error fails the attempt (the
/// rerun then runs each job alone, so the one whose row fails gets the error).
pub(super) async fn merge_rows<DB: RowBackend>(
    connection: &mut DB::Connection,
    jobs: &mut [Queued<DB>],
) -> Result<Vec<bool>, ()> {
    let mut merged = vec![false; jobs.len()];
    let mut groups: Vec<(&'static RowStatement, Vec<usize>)> = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let Some((statement, _)) = job.row() else {
            continue;
        };
        match groups.iter_mut().find(|(s, _)| std::ptr::eq(*s, statement)) {
            Some((_, members)) => members.push(i),
            None => groups.push((statement, vec![i])),
        }
    }
    for (statement, members) in groups {
        let rows: Vec<&[Value]> = members
            .iter()
            .filter_map(|&i| jobs[i].row().map(|(_, values)| values))
            .collect();
        let wanted: Vec<Vec<String>> = rows.iter().map(|row| statement.key_of(row)).collect();
        let distinct: HashSet<&Vec<String>> = wanted.iter().collect();
        if members.len() < 2 || (statement.key > 0 && distinct.len() < wanted.len()) {
            continue;
        }
        let changed: HashSet<Vec<String>> = DB::write_rows(&mut *connection, statement, rows)
            .await
            .map_err(|_| ())?
            .into_iter()
            .collect();
        for (&i, key) in members.iter().zip(&wanted) {
            jobs[i].merged(statement.key == 0 || changed.contains(key));
            merged[i] = true;
        }
    }
    Ok(merged)
}
