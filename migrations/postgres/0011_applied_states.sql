-- When each entity's whole-record state was last applied: the time of the update that
-- carried it, so an older update arriving late is superseded instead of rolling the
-- record back. It was kept among the poller's snapshots under an `applied:` key; it is
-- the sync engine's own fact, written on every applied update, and moves to a table of
-- its own (the existing values with it).
CREATE TABLE applied_states (
    connection_id    TEXT   NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    entity           TEXT   NOT NULL,
    applied_at       BIGINT NOT NULL,
    PRIMARY KEY (connection_id, entity)
);
INSERT INTO applied_states (connection_id, entity, applied_at)
SELECT connection_id, substr(entity_key, 9), (state::jsonb ->> 'at_ms')::bigint
FROM poll_snapshots
WHERE entity_key LIKE 'applied:%' AND (state::jsonb ->> 'at_ms') IS NOT NULL;
DELETE FROM poll_snapshots WHERE entity_key LIKE 'applied:%';
