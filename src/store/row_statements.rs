//! The worker's writes of one row each, as statements the group commit merges across a
//! batch (`row_writes`): what an event's processing remembers (snapshots, fingerprints,
//! applied times, links of objects), its action log, its outcome and its attempt.
//! Each names its key first, so a batch never merges two writes of one row. Public so
//! that a test can ask each database how it would run them.

use super::row_writes::Kind::{Int, Json, Text, Uuid};
use super::row_writes::RowStatement;

pub static SNAPSHOT: RowStatement = RowStatement {
    columns: &[
        ("connection_id", Text),
        ("entity_key", Text),
        ("digest", Text),
        ("state", Text),
        ("updated_at", Int),
    ],
    key: 2,
    text: "INSERT INTO poll_snapshots (connection_id, entity_key, digest, state, updated_at) \
           SELECT u.connection_id, u.entity_key, u.digest, u.state, u.updated_at FROM {rows} WHERE true \
           ON CONFLICT (connection_id, entity_key) DO UPDATE SET \
           digest = excluded.digest, state = excluded.state, updated_at = excluded.updated_at \
           RETURNING connection_id, entity_key",
};

pub static FINGERPRINT: RowStatement = RowStatement {
    columns: &[
        ("connection_id", Text),
        ("entity_key", Text),
        ("direction", Text),
        ("fingerprint", Text),
        ("written_at", Int),
    ],
    key: 3,
    text: "INSERT INTO written_fingerprints (connection_id, entity_key, direction, fingerprint, written_at) \
           SELECT u.connection_id, u.entity_key, u.direction, u.fingerprint, u.written_at FROM {rows} WHERE true \
           ON CONFLICT (connection_id, entity_key, direction) DO UPDATE SET \
           fingerprint = excluded.fingerprint, written_at = excluded.written_at \
           RETURNING connection_id, entity_key, direction",
};

/// Two workers may apply updates of one entity out of order; the later time wins
/// whichever commits last.
pub static APPLIED: RowStatement = RowStatement {
    columns: &[
        ("connection_id", Text),
        ("entity", Text),
        ("applied_at", Int),
    ],
    key: 2,
    text: "INSERT INTO applied_states (connection_id, entity, applied_at) \
           SELECT u.connection_id, u.entity, u.applied_at FROM {rows} WHERE true \
           ON CONFLICT (connection_id, entity) DO UPDATE SET applied_at = excluded.applied_at \
           WHERE applied_states.applied_at < excluded.applied_at \
           RETURNING connection_id, entity",
};

pub static OBJECT: RowStatement = RowStatement {
    columns: &[
        ("connection_id", Text),
        ("kind", Text),
        ("object_key", Text),
        ("remote_id", Text),
        ("updated_at", Int),
    ],
    key: 3,
    text: "INSERT INTO object_links (connection_id, kind, object_key, remote_id, updated_at) \
           SELECT u.connection_id, u.kind, u.object_key, u.remote_id, u.updated_at FROM {rows} WHERE true \
           ON CONFLICT (connection_id, kind, object_key) DO UPDATE SET \
           remote_id = excluded.remote_id, updated_at = excluded.updated_at \
           RETURNING connection_id, kind, object_key",
};

/// An action's intent; changes nothing (returns no key) when its record exists.
pub static ACTION_BEGIN: RowStatement = RowStatement {
    columns: &[
        ("idempotency_key", Text),
        ("event_id", Uuid),
        ("action", Text),
        ("recorded_at", Int),
    ],
    key: 1,
    text: "INSERT INTO action_log (idempotency_key, event_id, action, outcome, recorded_at, state) \
           SELECT u.idempotency_key, u.event_id, u.action, 'null', u.recorded_at, 'started' FROM {rows} WHERE true \
           ON CONFLICT (idempotency_key) DO NOTHING \
           RETURNING idempotency_key",
};

/// An action's outcome. Without a begin there is no event or action to name: the nil id
/// and "" stand in.
pub static ACTION_FINISH: RowStatement = RowStatement {
    columns: &[
        ("idempotency_key", Text),
        ("event_id", Uuid),
        ("outcome", Text),
        ("recorded_at", Int),
    ],
    key: 1,
    text: "INSERT INTO action_log (idempotency_key, event_id, action, outcome, recorded_at, state) \
           SELECT u.idempotency_key, u.event_id, '', u.outcome, u.recorded_at, 'done' FROM {rows} WHERE true \
           ON CONFLICT (idempotency_key) DO UPDATE SET \
           outcome = excluded.outcome, recorded_at = excluded.recorded_at, state = 'done' \
           RETURNING idempotency_key",
};

/// A finished action recorded in one step. A started record is this action's own
/// intent, so the outcome finishes it; a finished one stands (no key returned).
pub static ACTION_RECORD: RowStatement = RowStatement {
    columns: &[
        ("idempotency_key", Text),
        ("event_id", Uuid),
        ("action", Text),
        ("outcome", Text),
        ("recorded_at", Int),
    ],
    key: 1,
    text: "INSERT INTO action_log (idempotency_key, event_id, action, outcome, recorded_at, state) \
           SELECT u.idempotency_key, u.event_id, u.action, u.outcome, u.recorded_at, 'done' FROM {rows} WHERE true \
           ON CONFLICT (idempotency_key) DO UPDATE SET \
           event_id = excluded.event_id, action = excluded.action, outcome = excluded.outcome, \
           recorded_at = excluded.recorded_at, state = 'done' WHERE action_log.state = 'started' \
           RETURNING idempotency_key",
};

/// An event's attempt in the event log; every row is new.
pub static ATTEMPT: RowStatement = RowStatement {
    columns: &[
        ("event_id", Uuid),
        ("attempt", Int),
        ("started_at", Int),
        ("finished_at", Int),
        ("outcome", Text),
        ("error", Text),
        ("requests", Json),
    ],
    key: 0,
    text: "INSERT INTO event_attempts (event_id, attempt, started_at, finished_at, outcome, error, requests) \
           SELECT u.event_id, u.attempt, u.started_at, u.finished_at, u.outcome, u.error, u.requests FROM {rows}",
};

/// A claimed event ended well, only while its owner still holds the lease (returns its
/// id when so). Reads each event by its unique id.
pub static COMPLETE: RowStatement = RowStatement {
    columns: &[
        ("event_id", Uuid),
        ("owner", Text),
        ("new_status", Text),
        ("at", Int),
    ],
    key: 1,
    text: "UPDATE inbox_events SET status = u.new_status, lease_owner = NULL, lease_expires_at = NULL, \
           updated_at = u.at FROM {rows} \
           WHERE inbox_events.id = u.event_id AND inbox_events.status = 'processing' \
           AND inbox_events.lease_owner = u.owner \
           RETURNING CAST(id AS TEXT)",
};

/// A Tovuti user and a GHL contact linked, unless either is linked already (then no key
/// is returned and the caller relinks them).
pub static NEW_LINK: RowStatement = RowStatement {
    columns: &[
        ("connection_id", Text),
        ("tovuti_user_id", Text),
        ("ghl_contact_id", Text),
        ("linked_at", Int),
    ],
    key: 2,
    text: "INSERT INTO identity_links (connection_id, tovuti_user_id, ghl_contact_id, linked_at) \
           SELECT u.connection_id, u.tovuti_user_id, u.ghl_contact_id, u.linked_at FROM {rows} WHERE true \
           ON CONFLICT DO NOTHING RETURNING connection_id, tovuti_user_id",
};
