-- The whole schema the service starts with. Instants are unix milliseconds (INTEGER)
-- on both backends so that comparisons behave the same everywhere.

-- Every change from any source, stored before it is acknowledged.
CREATE TABLE inbox_events (
    -- Receive order; events of one entity are processed in this order.
    seq              INTEGER PRIMARY KEY,
    -- Public, time-ordered id (UUIDv7 text).
    id               TEXT    NOT NULL UNIQUE,
    source           TEXT    NOT NULL,
    connection_id    TEXT,
    -- The sender's delivery id; (source, external_id) dedupes redeliveries.
    external_id      TEXT    NOT NULL,
    event_type       TEXT    NOT NULL,
    entity_key       TEXT,
    received_at      INTEGER NOT NULL,
    -- Headers worth keeping, JSON object.
    headers          TEXT    NOT NULL,
    -- The raw body exactly as received.
    body             BLOB    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN
                        ('pending', 'processing', 'done', 'ignored', 'echo', 'retrying', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    last_error       TEXT,
    updated_at       INTEGER NOT NULL,
    UNIQUE (source, external_id)
);

-- Finding due work without scanning finished events.
CREATE INDEX inbox_events_due ON inbox_events (next_attempt_at, seq)
    WHERE status IN ('pending', 'retrying');
-- "Does this entity have an earlier unfinished event?"
CREATE INDEX inbox_events_entity_open ON inbox_events (entity_key, seq)
    WHERE status IN ('pending', 'retrying', 'processing');
CREATE INDEX inbox_events_leased ON inbox_events (lease_expires_at)
    WHERE status = 'processing';
CREATE INDEX inbox_events_status ON inbox_events (status);

-- A GHL location paired with a Tovuti tenant.
CREATE TABLE connections (
    id               TEXT PRIMARY KEY,
    ghl_location_id  TEXT UNIQUE,
    tovuti_base_url  TEXT,
    status           TEXT NOT NULL DEFAULT 'active'
                        CHECK (status IN ('active', 'needs_reauth', 'disconnected')),
    status_reason    TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

-- Credentials, encrypted (format byte, nonce, AEAD ciphertext); metadata holds only
-- non-secret facts such as expiry and scopes.
CREATE TABLE connection_credentials (
    connection_id    TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL,
    ciphertext       BLOB NOT NULL,
    metadata         TEXT NOT NULL,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (connection_id, kind)
);

-- Tovuti user <-> GHL contact, one-to-one per connection.
CREATE TABLE identity_links (
    connection_id    TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    tovuti_user_id   TEXT NOT NULL,
    ghl_contact_id   TEXT NOT NULL,
    linked_at        INTEGER NOT NULL,
    PRIMARY KEY (connection_id, tovuti_user_id),
    UNIQUE (connection_id, ghl_contact_id)
);

-- What the service last wrote to each side for an entity (echo suppression).
CREATE TABLE written_fingerprints (
    connection_id    TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    entity_key       TEXT NOT NULL,
    direction        TEXT NOT NULL CHECK (direction IN ('to_ghl', 'to_tovuti')),
    fingerprint      TEXT NOT NULL,
    written_at       INTEGER NOT NULL,
    PRIMARY KEY (connection_id, entity_key, direction)
);

-- Downstream actions done, by idempotency key, with what they produced.
CREATE TABLE action_log (
    idempotency_key  TEXT PRIMARY KEY,
    event_id         TEXT NOT NULL,
    action           TEXT NOT NULL,
    outcome          TEXT NOT NULL,
    recorded_at      INTEGER NOT NULL
);
CREATE INDEX action_log_event ON action_log (event_id);

CREATE TABLE poll_cursors (
    connection_id    TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    stream           TEXT NOT NULL,
    cursor           TEXT NOT NULL,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (connection_id, stream)
);

CREATE TABLE poll_snapshots (
    connection_id    TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    entity_key       TEXT NOT NULL,
    digest           TEXT NOT NULL,
    state            TEXT NOT NULL,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (connection_id, entity_key)
);

-- One holder at a time for a named piece of work, across replicas.
CREATE TABLE named_leases (
    name             TEXT PRIMARY KEY,
    owner            TEXT NOT NULL,
    expires_at       INTEGER NOT NULL
);
