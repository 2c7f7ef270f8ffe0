-- Figure 4 baseline: the original design's createSession, an INSERT into its table with
-- both of its indexes.  The application supplies the id (43 characters, as pgsession's).
\set r random(1, 9000000000000000000)
INSERT INTO sessions (id, nonce, state, code_verifier, expires_at)
VALUES ('benchnew' || lpad(:r::text, 35, '0'), 'n-0S6_WzA2Mj-bench', 'af0ifjsldkj-bench',
        'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk', NOW() + INTERVAL '1 hour');
