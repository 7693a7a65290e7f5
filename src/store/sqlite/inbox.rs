//! The inbox statements whose text is SQLite's own: the claim and its companions, and the
//! lease check of a coalescing. The rest of the inbox is shared (`store::shared::inbox`).

use super::SqliteStore;
use crate::store::WorkerSql;

/// The statements run around every claim. Each reads waiting or leased events through a
/// partial index of them alone, never the finished history. SQLite uses a partial index
/// only when the query repeats the index's condition word for word, hence the status
/// terms that look redundant.
pub const WORKER_SQL: WorkerSql = WorkerSql {
    // Walks `inbox_events_claimable` (waiting events in `seq` order) and stops at the
    // limit; the earlier-event check reads `inbox_events_entity_open`. Named, because
    // once analyzed SQLite preferred reading and sorting every due event.
    claim: "UPDATE inbox_events SET status = 'processing', lease_owner = ?1, lease_expires_at = ?2, \
              attempts = attempts + 1, updated_at = ?3 \
            WHERE seq IN ( \
              SELECT e.seq FROM inbox_events e INDEXED BY inbox_events_claimable \
              WHERE e.status IN ('pending', 'retrying') AND e.next_attempt_at <= ?3 \
                AND NOT EXISTS (SELECT 1 FROM inbox_events p WHERE p.entity_key = e.entity_key \
                  AND p.seq < e.seq AND p.status IN ('pending', 'retrying', 'processing')) \
              ORDER BY e.seq LIMIT ?4) \
            RETURNING seq, id, source, connection_id, external_id, event_type, entity_key, \
              headers, body, status, attempts, received_at, next_attempt_at, lease_owner, \
              lease_expires_at, last_error, \
              EXISTS (SELECT 1 FROM inbox_events n WHERE n.entity_key = inbox_events.entity_key \
                AND n.seq > inbox_events.seq AND n.status IN ('pending', 'retrying', 'processing') \
                AND n.status IN ('pending', 'retrying') \
                AND n.event_type = inbox_events.event_type) AS newer_waiting",
    // `inbox_events_leased` holds only leased events.
    reclaim: "UPDATE inbox_events SET status = 'retrying', next_attempt_at = ?1, \
              last_error = 'lease expired: the worker holding it stopped', \
              lease_owner = NULL, lease_expires_at = NULL, updated_at = ?1 \
              WHERE status = 'processing' AND lease_expires_at < ?1",
    newest_open: "SELECT MAX(seq) FROM inbox_events WHERE entity_key = ?1 AND seq > ?2 \
              AND status IN ('pending', 'retrying', 'processing') \
              AND status IN ('pending', 'retrying') AND event_type = ?3",
    supersede: "UPDATE inbox_events SET status = 'superseded', lease_owner = NULL, \
              lease_expires_at = NULL, updated_at = ?1 \
              WHERE seq = ?2 OR (entity_key = ?3 AND event_type = ?4 AND seq < ?5 \
                AND status IN ('pending', 'retrying', 'processing') \
                AND status IN ('pending', 'retrying'))",
};

impl SqliteStore {
    pub(super) const WORKER_SQL: WorkerSql = WORKER_SQL;
    /// The seq of an event while its owner holds it: id, owner. The coalescing runs in an
    /// IMMEDIATE transaction, so the write lock already keeps the row from changing.
    pub(super) const LEASED_SEQ_SQL: &str =
        "SELECT seq FROM inbox_events WHERE id = $1 AND status = 'processing' AND lease_owner = $2";
}
