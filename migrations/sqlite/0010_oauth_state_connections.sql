-- OAuth install states bound to a connection: an install link the admin API issued for
-- one connection. The state is signed as any other; its nonce is kept here with the
-- connection, so the callback saves the grant into that connection instead of looking
-- one up by location. No browser cookie carries such a state (the link may be opened
-- anywhere), so being listed here is what makes it acceptable without one. Kept until
-- the state would have expired.
CREATE TABLE oauth_state_connections (
    nonce            TEXT PRIMARY KEY,
    connection_id    TEXT NOT NULL,
    expires_at       INTEGER NOT NULL
);
CREATE INDEX oauth_state_connections_expiry ON oauth_state_connections (expires_at);
