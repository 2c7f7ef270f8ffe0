-- Figure 9 (d, e) baseline: connect-pg-simple's destroy(), with the ids of
-- pgsession_delete.sql.
\set k :k + 1
\set n 1000000000000000000 + permute(:client_id * :per_client + :k - 1, :total, :seed) * :step + :tag
DELETE FROM session WHERE sid = :prefix || :n;
