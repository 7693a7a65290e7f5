-- Connections as records an operator manages: a display name, how the Tovuti API is
-- authenticated, a pause flag apart from the credential status (a paused connection
-- keeps its tokens; a disconnected one has none), an optional mapping file and poller
-- overrides (a JSON object, `{}` for none).
ALTER TABLE connections ADD COLUMN name TEXT;
ALTER TABLE connections ADD COLUMN tovuti_auth_mode TEXT NOT NULL DEFAULT 'bearer';
ALTER TABLE connections ADD COLUMN paused_at INTEGER;
ALTER TABLE connections ADD COLUMN mapping_path TEXT;
ALTER TABLE connections ADD COLUMN poller TEXT NOT NULL DEFAULT '{}';

-- A connection's Tovuti webhook signing secrets, one row each, encrypted like the
-- credentials (the associated data names the connection and the secret id). Several
-- verify at once during a rotation; one past `expires_at` no longer does. Secrets kept
-- in the older single credential (kind `tovuti_webhook_secret`) keep verifying too.
CREATE TABLE tovuti_webhook_secrets (
    id               TEXT PRIMARY KEY,
    connection_id    TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    ciphertext       BLOB NOT NULL,
    -- First 8 hex digits of the secret's SHA-256, to tell secrets apart without showing one.
    fingerprint      TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER
);
CREATE INDEX tovuti_webhook_secrets_connection
    ON tovuti_webhook_secrets (connection_id, created_at);
