-- Figure 10 (churn): record an access to one of the sessions still in use (as
-- churn_get.sql picks them).
\set back random(:lo, :hi)
SELECT session_touch('churnsession' || lpad((floor((extract(epoch from statement_timestamp())
      - :start::float8) * :rate::float8)::bigint - :back)::text, 12, '0'));
