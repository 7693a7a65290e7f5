//! The statements the worker runs around every claim, one set per backend. They are
//! public so that a test can ask each database how it would run them over a large inbox.

/// One backend's statements, with their parameters in order.
#[derive(Debug, Clone, Copy)]
pub struct WorkerSql {
    /// Leases due events: owner, lease end, now, limit.
    pub claim: &'static str,
    /// Makes expired leases claimable again: now.
    pub reclaim: &'static str,
    /// The newest waiting event of an entity and type: entity key, after seq, type.
    pub newest_open: &'static str,
    /// Marks a claimed event and the older waiting ones superseded: now, claimed seq,
    /// entity key, type, newest seq.
    pub supersede: &'static str,
}

pub use super::postgres::WORKER_SQL as POSTGRES;
pub use super::sqlite::WORKER_SQL as SQLITE;
