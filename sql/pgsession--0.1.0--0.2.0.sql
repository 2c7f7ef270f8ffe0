-- pgsession 0.1.0 -> 0.2.0.  Every object this script changes ends up exactly as
-- sql/pgsession--0.2.0.sql creates it (test/upgrade checks that, object by object).
\echo Use "ALTER EXTENSION pgsession UPDATE TO '0.2.0'" to load this file. \quit
