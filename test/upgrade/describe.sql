-- Describes every object of the pgsession extension in the current database as sorted
-- text lines, for comparing an upgraded database with a fresh install (test/upgrade/run.sh).
-- Nothing here depends on OIDs or on the order objects were created in, only on what
-- they are: two databases whose descriptions are equal have the same extension objects.
\pset tuples_only on
\pset format unaligned
WITH members AS (
    SELECT d.classid, d.objid
      FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
     WHERE d.refclassid = 'pg_extension'::regclass AND e.extname = 'pgsession'
       AND d.deptype = 'e'
), lines AS (
    -- Every member, by its description.
    SELECT 'member ' || pg_describe_object(classid, objid, 0) AS line FROM members
    UNION ALL
    -- Functions and procedures: the whole definition (arguments, defaults, result type,
    -- language, volatility, SECURITY DEFINER, SET clauses, body or C symbol), the ACL,
    -- the comment.
    SELECT 'function ' || p.oid::regprocedure || E'\n' || pg_get_functiondef(p.oid)
           || E'\nacl ' || coalesce(p.proacl::text, 'default')
           || E'\ncomment ' || coalesce(obj_description(p.oid, 'pg_proc'), '(none)')
           || E'\nparallel ' || p.proparallel::text || ' cost ' || p.procost || ' rows ' || p.prorows
      FROM members m JOIN pg_proc p ON p.oid = m.objid
     WHERE m.classid = 'pg_proc'::regclass
    UNION ALL
    -- Relations (the table, its indexes, the composite type's relation): kind, options,
    -- ACL, comment, and every live column in order with type, NOT NULL, default, storage
    -- and comment.
    SELECT 'relation ' || c.oid::regclass || ' kind ' || c.relkind::text
           || ' options ' || coalesce(c.reloptions::text, '{}')
           || ' acl ' || coalesce(c.relacl::text, 'default')
           || ' persistence ' || c.relpersistence::text
           || ' rowsecurity ' || c.relrowsecurity
           || E'\ncomment ' || coalesce(obj_description(c.oid, 'pg_class'), '(none)')
           || coalesce((SELECT string_agg(format(E'\ncolumn %s %s %s notnull=%s default=%s storage=%s comment=%s',
                                                 col.position, col.attname, col.type, col.attnotnull,
                                                 col.default_expr, col.attstorage, col.comment),
                                          '' ORDER BY col.position)
                          FROM (SELECT row_number() OVER (ORDER BY a.attnum) AS position,
                                       a.attname, format_type(a.atttypid, a.atttypmod) AS type,
                                       a.attnotnull, a.attstorage::text AS attstorage,
                                       coalesce(pg_get_expr(ad.adbin, ad.adrelid), '(none)') AS default_expr,
                                       coalesce(col_description(c.oid, a.attnum), '(none)') AS comment
                                  FROM pg_attribute a
                                  LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS col), '')
      FROM pg_class c
     WHERE c.relnamespace = 'pgsession'::regnamespace
    UNION ALL
    -- Indexes and constraints by their definitions.
    SELECT 'index ' || i.indexrelid::regclass || ' ' || pg_get_indexdef(i.indexrelid)
      FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
     WHERE c.relnamespace = 'pgsession'::regnamespace
    UNION ALL
    SELECT 'constraint ' || con.conname || ' on ' || con.conrelid::regclass || ' '
           || pg_get_constraintdef(con.oid)
      FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
     WHERE c.relnamespace = 'pgsession'::regnamespace
    UNION ALL
    -- Types: comment.
    SELECT 'type ' || t.oid::regtype || ' comment '
           || coalesce(obj_description(t.oid, 'pg_type'), '(none)')
      FROM members m JOIN pg_type t ON t.oid = m.objid
     WHERE m.classid = 'pg_type'::regclass
    UNION ALL
    -- Schema: ACL and comment.
    SELECT 'schema ' || n.nspname || ' acl ' || coalesce(n.nspacl::text, 'default')
           || ' comment ' || coalesce(obj_description(n.oid, 'pg_namespace'), '(none)')
      FROM pg_namespace n WHERE n.nspname = 'pgsession'
    UNION ALL
    -- Tables whose rows pg_dump keeps.
    SELECT 'config ' || cfg::regclass || ' condition '
           || coalesce(e.extcondition[array_position(e.extconfig, cfg)], '(none)')
      FROM pg_extension e, unnest(e.extconfig) AS cfg
     WHERE e.extname = 'pgsession'
    UNION ALL
    -- Triggers, rules, policies on the table (there should be none).
    SELECT 'trigger ' || tgname FROM pg_trigger WHERE tgrelid = 'pgsession.sessions'::regclass
    UNION ALL
    SELECT 'policy ' || polname FROM pg_policy WHERE polrelid = 'pgsession.sessions'::regclass
)
SELECT line FROM lines ORDER BY line;
