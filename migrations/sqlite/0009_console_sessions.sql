-- The console's sessions, shared by every replica: a sign-in on one is known to all, and
-- a sign-out on one ends it everywhere. `id_hash` is the hex SHA-256 of the random id the
-- cookie carries (the id itself is kept nowhere); `token_id` names the admin token
-- signed in with (never the token); `access` is `full` or `read_only`. Times are
-- milliseconds since the epoch: a session ends at `expires_at` (its absolute lifetime) or
-- once unused for the idle timeout after `last_seen_at`.
CREATE TABLE console_sessions (
    id_hash          TEXT    PRIMARY KEY,
    token_id         TEXT    NOT NULL,
    access           TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    last_seen_at     INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL
);
-- Pruning finds the ended sessions by either clock.
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
CREATE INDEX console_sessions_last_seen ON console_sessions (last_seen_at);
