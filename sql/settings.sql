-- Per-tenant dynamic settings (system_settings), read and changed at run time.

-- name: settings_list
SELECT setting_key, setting_value, setting_type, description, updated_at, updated_by
FROM system_settings
WHERE tenant_id = %(tenant_id)s
ORDER BY setting_key

-- name: settings_upsert
-- One row per changed key; unchanged values are not rewritten (their updated_by stays).
INSERT INTO system_settings (tenant_id, setting_key, setting_value, setting_type, description,
                             updated_at, updated_by)
SELECT %(tenant_id)s, c.key, c.value, c.type, c.description, now(), %(actor)s
FROM jsonb_to_recordset(%(changes)s::jsonb)
     AS c(key text, value jsonb, type text, description text)
ON CONFLICT (tenant_id, setting_key) DO UPDATE
SET setting_value = EXCLUDED.setting_value,
    setting_type = EXCLUDED.setting_type,
    updated_at = EXCLUDED.updated_at,
    updated_by = EXCLUDED.updated_by
WHERE system_settings.setting_value IS DISTINCT FROM EXCLUDED.setting_value
RETURNING setting_key

-- name: settings_notify
-- Delivered on commit to every LISTEN sluice_settings (workers, schedulers, web).
SELECT pg_notify('sluice_settings', %(payload)s)

-- name: settings_retime_waiting_jobs
-- A changed interval re-times the chain jobs waiting on it, from when they started waiting.
UPDATE etl_jobs
SET next_run_at = (checkpoint_data #>> '{wait,since}')::timestamptz
                  + make_interval(mins => %(minutes)s),
    updated_at = now()
WHERE tenant_id = %(tenant_id)s AND status = 'PENDING'
  AND checkpoint_data #>> '{wait,reason}' = %(reason)s
  AND checkpoint_data #>> '{wait,since}' IS NOT NULL
RETURNING id, next_run_at
