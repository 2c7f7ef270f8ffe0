-- Figure 5 baseline reader: connect-pg-simple's read.  :now is the client's clock
-- (epoch seconds), passed as connect-pg-simple passes it.
\set i random(1, :range)
SELECT sess FROM session WHERE sid = 'benchtoken' || lpad(:i::text, 33, '0') AND expire >= to_timestamp(:now);
