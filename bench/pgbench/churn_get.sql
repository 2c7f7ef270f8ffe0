-- Figure 10 (churn): read one of the sessions still in use, those created between :lo and
-- :hi sessions ago (the creators make :rate a second from :start); session_get records the
-- access once per pgsession.touch_interval.
\set back random(:lo, :hi)
SELECT * FROM session_get('churnsession' || lpad((floor((extract(epoch from statement_timestamp())
      - :start::float8) * :rate::float8)::bigint - :back)::text, 12, '0'));
