//! The inbox statements whose text is PostgreSQL's own: the claim and its companions, and
//! the lease check of a coalescing. The rest of the inbox is shared (`store::shared::inbox`).

use super::PgStore;
use crate::store::WorkerSql;

/// The statements run around every claim. Each reads waiting or leased events through a
/// partial index of them alone, never the finished history.
pub const WORKER_SQL: WorkerSql = WorkerSql {
    // Walks `inbox_events_claimable` (waiting events in `seq` order) and stops at the
    // limit; the earlier-event check reads `inbox_events_entity_open`.
    claim: "WITH due AS ( \
              SELECT e.seq FROM inbox_events e \
              WHERE e.status IN ('pending', 'retrying') AND e.next_attempt_at <= $3 \
                AND NOT EXISTS (SELECT 1 FROM inbox_events p WHERE p.entity_key = e.entity_key \
                  AND p.seq < e.seq AND p.status IN ('pending', 'retrying', 'processing')) \
              ORDER BY e.seq LIMIT $4 FOR UPDATE SKIP LOCKED) \
            UPDATE inbox_events i SET status = 'processing', lease_owner = $1, lease_expires_at = $2, \
              attempts = i.attempts + 1, updated_at = $3 \
            FROM due WHERE i.seq = due.seq RETURNING i.seq, i.source, i.connection_id, \
              i.external_id, i.event_type, i.entity_key, i.headers, i.body, i.status, i.attempts, \
              i.received_at, i.next_attempt_at, i.lease_owner, i.lease_expires_at, i.last_error, \
              i.id::text AS id, \
              EXISTS (SELECT 1 FROM inbox_events n WHERE n.entity_key = i.entity_key \
                AND n.seq > i.seq AND n.status IN ('pending', 'retrying') \
                AND n.event_type = i.event_type) AS newer_waiting",
    // `inbox_events_leased` holds only leased events.
    reclaim: "UPDATE inbox_events SET status = 'retrying', next_attempt_at = $1, \
              last_error = 'lease expired: the worker holding it stopped', \
              lease_owner = NULL, lease_expires_at = NULL, updated_at = $1 \
              WHERE status = 'processing' AND lease_expires_at < $1",
    newest_open: "SELECT MAX(seq) FROM inbox_events WHERE entity_key = $1 AND seq > $2 \
              AND status IN ('pending', 'retrying') AND event_type = $3",
    // A row another transaction changed meanwhile is re-checked against the status
    // condition, so an event claimed or replayed in between is left alone.
    supersede: "UPDATE inbox_events SET status = 'superseded', lease_owner = NULL, \
              lease_expires_at = NULL, updated_at = $1 \
              WHERE seq = $2 OR (entity_key = $3 AND event_type = $4 AND seq < $5 \
                AND status IN ('pending', 'retrying'))",
};

impl PgStore {
    pub(super) const WORKER_SQL: WorkerSql = WORKER_SQL;
    /// The seq of an event while its owner holds it (id, owner), locked so a lease reclaim
    /// cannot interleave.
    pub(super) const LEASED_SEQ_SQL: &str = "SELECT seq FROM inbox_events WHERE id = $1 \
         AND status = 'processing' AND lease_owner = $2 FOR UPDATE";
}
