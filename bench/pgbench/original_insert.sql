-- Figure 4 baseline: the original design's createSession, an INSERT into its table with
-- both of its indexes.  The application supplies the id: 43 random characters (hex of
-- two digests of a random number, computed here), spread over the whole key space as
-- pgsession's digests are, so that both B-trees take their inserts at random leaves.
\set r random(1, 9000000000000000000)
INSERT INTO sessions (id, nonce, state, code_verifier, expires_at)
VALUES (md5(:r::text) || left(md5(:r::text || 'x'), 11), 'n-0S6_WzA2Mj-bench', 'af0ifjsldkj-bench',
        'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk', NOW() + INTERVAL '1 hour');
