-- pg_temp.error_of(query): what the error a statement raises says, as one line
-- "SQLSTATE: message | detail | hint" (the parts it has), or 'no error'.  For tests that
-- check more than throws_ok does; include it with \ir lib/error_of.sql after BEGIN (the
-- function lives as long as the session, the transaction rolls it back).
CREATE FUNCTION pg_temp.error_of(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE state text; message text; detail text; hint text;
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN format('%s: %s', state, message) || coalesce(' | ' || nullif(detail, ''), '')
           || coalesce(' | ' || nullif(hint, ''), '');
END $$;
