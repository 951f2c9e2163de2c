-- Session-level statements used by the connection helpers in app/db.py.

-- name: session_set_app_role
SET ROLE sluice_app

-- name: session_set_system_role
SET LOCAL ROLE sluice_system

-- name: session_set_tenant
SELECT set_config('app.tenant_id', %(tenant_id)s, true)

-- name: tenant_id_by_name
SELECT id, name, tier FROM tenants WHERE lower(name) = lower(%(name)s)
