-- What the sync engine needs beyond the initial schema: a `superseded` status, replay,
-- an attempt log, action intents and links to objects the service created.

-- SQLite cannot alter a CHECK constraint, so inbox_events is rebuilt with `superseded`
-- (an older state update replaced by a newer one of the same entity; never processed).
CREATE TABLE inbox_events_new (
    seq              INTEGER PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,
    source           TEXT    NOT NULL,
    connection_id    TEXT,
    external_id      TEXT    NOT NULL,
    event_type       TEXT    NOT NULL,
    entity_key       TEXT,
    received_at      INTEGER NOT NULL,
    headers          TEXT    NOT NULL,
    body             BLOB    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN
                        ('pending', 'processing', 'done', 'ignored', 'echo', 'retrying', 'dead',
                         'superseded')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    last_error       TEXT,
    updated_at       INTEGER NOT NULL,
    UNIQUE (source, external_id)
);
INSERT INTO inbox_events_new (seq, id, source, connection_id, external_id, event_type, entity_key,
        received_at, headers, body, status, attempts, next_attempt_at, lease_owner,
        lease_expires_at, last_error, updated_at)
    SELECT seq, id, source, connection_id, external_id, event_type, entity_key,
        received_at, headers, body, status, attempts, next_attempt_at, lease_owner,
        lease_expires_at, last_error, updated_at
    FROM inbox_events;
-- Dropping the old table drops its indexes, among them the full `inbox_events_status`,
-- which is not recreated: it cost every insert a B-tree write, and only the whole-table
-- count for tests and tools wanted it.
DROP TABLE inbox_events;
ALTER TABLE inbox_events_new RENAME TO inbox_events;

CREATE INDEX inbox_events_due ON inbox_events (next_attempt_at, seq)
    WHERE status IN ('pending', 'retrying');
CREATE INDEX inbox_events_entity_open ON inbox_events (entity_key, seq)
    WHERE status IN ('pending', 'retrying', 'processing');
CREATE INDEX inbox_events_leased ON inbox_events (lease_expires_at)
    WHERE status = 'processing';

-- One row per attempt at an event, with the downstream requests it made (operators see
-- what happened; `requests` is a JSON array).
CREATE TABLE event_attempts (
    seq              INTEGER PRIMARY KEY,
    event_id         TEXT    NOT NULL,
    attempt          INTEGER NOT NULL,
    started_at       INTEGER NOT NULL,
    finished_at      INTEGER NOT NULL,
    outcome          TEXT    NOT NULL,
    error            TEXT,
    requests         TEXT    NOT NULL
);
CREATE INDEX event_attempts_event ON event_attempts (event_id, seq);

-- An action is logged as 'started' before its effect and 'done' after, so an attempt
-- after a crash knows the effect may already have happened. While 'started',
-- recorded_at is when it started and outcome is JSON null. Existing rows are done.
ALTER TABLE action_log ADD COLUMN state TEXT NOT NULL DEFAULT 'done'
    CHECK (state IN ('started', 'done'));

-- Remote ids of objects the service created under a stable key (a milestone's task, a
-- registration's appointment), so later events update them instead of creating more.
CREATE TABLE object_links (
    connection_id    TEXT    NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    kind             TEXT    NOT NULL,
    object_key       TEXT    NOT NULL,
    remote_id        TEXT    NOT NULL,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (connection_id, kind, object_key)
);
