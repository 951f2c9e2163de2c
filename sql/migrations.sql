-- Queries of the migration runner (migrations/runner.py).

-- name: migration_lock
SELECT pg_advisory_lock(%(key)s)

-- name: migration_unlock
SELECT pg_advisory_unlock(%(key)s)

-- name: migration_history_create
CREATE TABLE IF NOT EXISTS migration_history (
    component text NOT NULL,
    version text NOT NULL,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (component, version)
)

-- name: migration_history_list
SELECT version, applied_at FROM migration_history WHERE component = %(component)s ORDER BY version

-- name: migration_history_insert
INSERT INTO migration_history (component, version, name) VALUES (%(component)s, %(version)s, %(name)s)

-- name: migration_history_delete
DELETE FROM migration_history WHERE component = %(component)s AND version = %(version)s

-- name: procrastinate_schema_exists
SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS present

-- name: schema_drop_all
DROP SCHEMA public CASCADE

-- name: schema_create
CREATE SCHEMA public;
GRANT USAGE ON SCHEMA public TO PUBLIC
