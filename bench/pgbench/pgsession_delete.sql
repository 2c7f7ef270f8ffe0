-- Figure 9 (d, e): an express-session store's destroy().  Client c's k-th call takes
-- number c * :per_client + k - 1, permuted over :total (so that each number is taken
-- once, in random order), as the id :prefix || n with n = 10^18 + number * :step + :tag.
-- :k is the client's counter (pgbench keeps a client's variables between transactions;
-- bench.py starts it at 0).
\set k :k + 1
\set n 1000000000000000000 + permute(:client_id * :per_client + :k - 1, :total, :seed) * :step + :tag
SELECT session_delete(:prefix || :n);
