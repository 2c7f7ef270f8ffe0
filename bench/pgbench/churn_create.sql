-- Figure 10 (churn): a new session under an application id.  Each client counts its own
-- sessions (:seq persists across its transactions) and numbers them n = seq * :clients +
-- client_id, one client per pgbench thread at a fixed rate (-R), so that session n is
-- created about n / :rate seconds after :start and readers can compute the ids alive now.
\set n :seq * :clients + :client_id
\set seq :seq + 1
SELECT session_create(id => 'churnsession' || lpad(:n::text, 12, '0'), sub => 'user-' || :n,
                      data => :data::jsonb, idle_timeout => :idle::interval);
