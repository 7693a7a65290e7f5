-- Backfills run by the service as jobs (started from the admin API or the console): one
-- row per run with its options, its state and its counters, written after each page so
-- any replica can show its progress. `heartbeat_at` is renewed by the process running it
-- (`owner`, its instance id); a `running` row whose heartbeat is old belongs to a process
-- that stopped, and is marked failed. `cancel_requested` is the flag a cancel sets and
-- the run reads between pages. `seq` orders the listing and is its cursor.
CREATE TABLE backfill_runs (
    seq              INTEGER PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,
    connection_id    TEXT    NOT NULL,
    from_platform    TEXT    NOT NULL,
    dry_run          INTEGER NOT NULL,
    limit_count      INTEGER,
    since            INTEGER,
    state            TEXT    NOT NULL,
    stage            TEXT,
    pages            INTEGER NOT NULL DEFAULT 0,
    scanned          INTEGER NOT NULL DEFAULT 0,
    queued           INTEGER NOT NULL DEFAULT 0,
    already_queued   INTEGER NOT NULL DEFAULT 0,
    unreadable       INTEGER NOT NULL DEFAULT 0,
    total            INTEGER,
    error            TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    started_by       TEXT    NOT NULL,
    owner            TEXT    NOT NULL,
    started_at       INTEGER NOT NULL,
    heartbeat_at     INTEGER NOT NULL,
    finished_at      INTEGER
);
-- One running backfill per connection and platform: a second start is refused by this
-- index, atomically, on every replica.
CREATE UNIQUE INDEX backfill_runs_one_running
    ON backfill_runs (connection_id, from_platform) WHERE state = 'running';
CREATE INDEX backfill_runs_connection ON backfill_runs (connection_id, seq);
