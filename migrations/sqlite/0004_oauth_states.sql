-- OAuth install states already used by a callback. A state is signed and carries its
-- own issue time, so nothing is stored when it is issued; its nonce is recorded here
-- when a callback spends it, and kept until the state would have expired anyway, so
-- the same state (and cookie) can never connect a second location.
CREATE TABLE oauth_states_used (
    nonce            TEXT PRIMARY KEY,
    expires_at       INTEGER NOT NULL
);
CREATE INDEX oauth_states_used_expiry ON oauth_states_used (expires_at);
