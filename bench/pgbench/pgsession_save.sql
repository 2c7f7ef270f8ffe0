-- Figure 9 (a, b): an express-session store's set(): the whole session under the id the
-- framework chose, its lifetime from the cookie's maxAge.  The id is :prefix (13
-- base64url characters) and a 19-digit number n, 32 characters as uid-safe's; n's last
-- three digits say whose id it is (:tag, plus the client's number when :by_client is 1,
-- so that clients never draw the same new id) and the digits before them pick one of
-- :slots ids, :step apart (bench.py explains the layout).
\set n 1000000000000000000 + random(0, :slots - 1) * :step + :tag + :client_id * :by_client
SELECT session_save(:prefix || :n, :sess, idle_timeout => :idle);
