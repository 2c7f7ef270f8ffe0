-- The benchmark database: pgsession, and the two alternatives it is measured against,
-- written from their documented shapes as plain tables.
CREATE EXTENSION pgsession;

-- The original design's table, with both of its indexes (idx_sessions_id duplicates
-- the primary key; it is kept because the original had it and pays for it).
CREATE TABLE sessions (
    id VARCHAR(255) PRIMARY KEY,
    nonce VARCHAR(255),
    state TEXT,
    access_token TEXT,
    code_verifier VARCHAR(255),
    sub VARCHAR(255),
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
    last_accessed_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);
CREATE INDEX idx_sessions_expires_at ON sessions (expires_at);
CREATE INDEX idx_sessions_id ON sessions (id);

-- connect-pg-simple's table: the session id, the session as JSON, its expiry, and an
-- index on the expiry for pruning.
CREATE TABLE session (
    sid varchar PRIMARY KEY,
    sess json NOT NULL,
    expire timestamp(6) NOT NULL
);
CREATE INDEX session_expire_idx ON session (expire);
