-- What the sync engine needs beyond the initial schema: a `superseded` status, replay,
-- an attempt log, action intents and links to objects the service created.

-- `superseded`: an older state update replaced by a newer one of the same entity.
ALTER TABLE inbox_events DROP CONSTRAINT inbox_events_status_check;
ALTER TABLE inbox_events ADD CONSTRAINT inbox_events_status_check CHECK (status IN
    ('pending', 'processing', 'done', 'ignored', 'echo', 'retrying', 'dead', 'superseded'));
-- It cost every insert a B-tree write, and only the whole-table count for tests and
-- tools wanted it; the partial indexes serve the hot paths.
DROP INDEX inbox_events_status;

-- One row per attempt at an event, with the downstream requests it made (operators see
-- what happened; `requests` is a JSON array).
CREATE TABLE event_attempts (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id         UUID   NOT NULL,
    attempt          BIGINT NOT NULL,
    started_at       BIGINT NOT NULL,
    finished_at      BIGINT NOT NULL,
    outcome          TEXT   NOT NULL,
    error            TEXT,
    requests         JSONB  NOT NULL
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
    connection_id    TEXT   NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    kind             TEXT   NOT NULL,
    object_key       TEXT   NOT NULL,
    remote_id        TEXT   NOT NULL,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (connection_id, kind, object_key)
);
