-- Catalog queries behind `sluice db schema` (app/schema_dump.py). Objects of
-- procrastinate are left out: its own migrations own them.

-- name: schema_columns
SELECT c.relname AS table_name, a.attname AS column_name,
       format_type(a.atttypid, a.atttypmod) AS data_type, a.attnotnull AS not_null,
       pg_get_expr(d.adbin, d.adrelid) AS default_expr, a.attidentity AS identity,
       c.relkind AS kind, c.relrowsecurity AS rls, c.relforcerowsecurity AS force_rls
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v')
  AND c.relname NOT LIKE 'procrastinate%%'
ORDER BY c.relname, a.attnum

-- name: schema_constraints
SELECT c.relname AS table_name, k.conname AS name, pg_get_constraintdef(k.oid) AS definition
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relname NOT LIKE 'procrastinate%%'
ORDER BY c.relname, k.conname

-- name: schema_indexes
SELECT tablename AS table_name, indexname AS name, indexdef AS definition
FROM pg_indexes
WHERE schemaname = current_schema() AND tablename NOT LIKE 'procrastinate%%'
ORDER BY tablename, indexname

-- name: schema_policies
SELECT tablename AS table_name, policyname AS name, roles::text AS roles, cmd,
       qual, with_check
FROM pg_policies
WHERE schemaname = current_schema()
ORDER BY tablename, policyname

-- name: schema_triggers
SELECT c.relname AS table_name, t.tgname AS name, pg_get_triggerdef(t.oid) AS definition
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND NOT t.tgisinternal
  AND c.relname NOT LIKE 'procrastinate%%'
ORDER BY c.relname, t.tgname

-- name: schema_functions
SELECT p.proname AS name, pg_get_function_identity_arguments(p.oid) AS arguments
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = current_schema() AND p.proname NOT LIKE 'procrastinate%%'
ORDER BY p.proname, 2
