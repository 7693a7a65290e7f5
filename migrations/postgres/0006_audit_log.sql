-- The admin API's audit log: one row per mutating call (and per read of personal data,
-- such as an event's stored payload). `token_id` is the first 8 hex digits of the
-- SHA-256 of the bearer token used, never the token; `detail` is a JSON object that never
-- holds a secret. Its `seq` is the entry's public id.
CREATE TABLE audit_log (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at               BIGINT NOT NULL,
    token_id         TEXT   NOT NULL,
    action           TEXT   NOT NULL,
    connection_id    TEXT,
    target           TEXT,
    detail           TEXT   NOT NULL
);
-- Newest first is the primary key backwards; this serves the filter on a connection.
CREATE INDEX audit_log_connection ON audit_log (connection_id, seq);

