-- Reads and writes of the JSON API (app/web). All run in the caller's tenant transaction, so
-- row-level security limits them to that tenant; the metrics queries also run as the system
-- role for the all-tenant view. Lists are keyset-paginated: fetch limit + 1 rows.

-- name: integration_page
SELECT id, provider, name, base_url, username, base_search, settings, active, last_sync_at,
       created_at, updated_at, credentials IS NOT NULL AS has_token
FROM integrations
WHERE (%(cursor)s::bigint IS NULL OR id > %(cursor)s::bigint)
  AND (%(provider)s::text IS NULL OR provider = %(provider)s::text)
  AND (%(active)s::boolean IS NULL OR active = %(active)s::boolean)
ORDER BY id
LIMIT %(limit)s

-- name: integration_detail
SELECT id, provider, name, base_url, username, base_search, settings, active, last_sync_at,
       created_at, updated_at, credentials IS NOT NULL AS has_token
FROM integrations WHERE id = %(id)s

-- name: integration_update
-- Only the keys present in `changes` are written; credentials only when a token is given.
UPDATE integrations i SET
    name = CASE WHEN p.c ? 'name' THEN p.c->>'name' ELSE i.name END,
    base_url = CASE WHEN p.c ? 'base_url' THEN p.c->>'base_url' ELSE i.base_url END,
    username = CASE WHEN p.c ? 'username' THEN p.c->>'username' ELSE i.username END,
    base_search = CASE WHEN p.c ? 'base_search' THEN p.c->>'base_search' ELSE i.base_search END,
    settings = CASE WHEN p.c ? 'settings' THEN p.c->'settings' ELSE i.settings END,
    active = CASE WHEN p.c ? 'active' THEN (p.c->>'active')::boolean ELSE i.active END,
    credentials = coalesce(%(credentials)s::bytea, i.credentials),
    updated_at = now()
FROM (SELECT %(changes)s::jsonb AS c) p
WHERE i.id = %(id)s
RETURNING i.id

-- name: integration_unlink_jobs
UPDATE etl_jobs SET integration_id = NULL, updated_at = now() WHERE integration_id = %(id)s

-- name: integration_delete
DELETE FROM integrations WHERE id = %(id)s RETURNING id

-- name: etl_job_page
SELECT id, job_name, provider, integration_id, execution_order, status, active,
       checkpoint_data, last_run_started_at, last_success_at, next_run_at, retry_count,
       error_message, created_at, updated_at
FROM etl_jobs
WHERE (%(cursor)s::bigint IS NULL OR execution_order > %(cursor)s::bigint)
ORDER BY execution_order
LIMIT %(limit)s

-- name: etl_job_detail
SELECT id, job_name, provider, integration_id, execution_order, status, active,
       checkpoint_data, last_run_started_at, last_success_at, next_run_at, retry_count,
       error_message, created_at, updated_at
FROM etl_jobs WHERE id = %(id)s

-- name: etl_job_recent_runs
SELECT id, etl_job_id, integration_id, status, trigger, triggered_by, started_at, finished_at,
       stats, error_message
FROM etl_runs WHERE etl_job_id = %(id)s
ORDER BY id DESC
LIMIT 5

-- name: run_page
SELECT id, etl_job_id, integration_id, status, trigger, triggered_by, started_at, finished_at,
       stats, error_message
FROM etl_runs
WHERE (%(cursor)s::bigint IS NULL OR id < %(cursor)s::bigint)
  AND (%(status)s::text IS NULL OR status = %(status)s::text)
  AND (%(etl_job_id)s::bigint IS NULL OR etl_job_id = %(etl_job_id)s::bigint)
  AND (%(integration_id)s::bigint IS NULL OR integration_id = %(integration_id)s::bigint)
ORDER BY id DESC
LIMIT %(limit)s

-- name: run_detail
SELECT id, etl_job_id, integration_id, status, trigger, triggered_by, started_at, finished_at,
       stats, error_message
FROM etl_runs WHERE id = %(id)s

-- name: queue_job_page
SELECT id, run_id, etl_job_id, integration_id, job_type, entity_type, priority, status,
       scheduled_at, created_at, started_at, completed_at, heartbeat_at, locked_by, progress,
       last_error, retry_count, max_retries
FROM etl_job_queue
WHERE (%(cursor)s::bigint IS NULL OR id < %(cursor)s::bigint)
  AND (%(status)s::text IS NULL OR status = %(status)s::text)
  AND (%(job_type)s::text IS NULL OR job_type = %(job_type)s::text)
  AND (%(run_id)s::bigint IS NULL OR run_id = %(run_id)s::bigint)
  AND (%(entity_type)s::text IS NULL OR entity_type = %(entity_type)s::text)
ORDER BY id DESC
LIMIT %(limit)s

-- name: queue_job_detail
SELECT id, run_id, etl_job_id, integration_id, job_type, entity_type, priority, status,
       scheduled_at, created_at, started_at, completed_at, heartbeat_at, locked_by, progress,
       last_error, retry_count, max_retries, payload, error_details
FROM etl_job_queue WHERE id = %(id)s

-- name: raw_page
SELECT id, integration_id, run_id, entity_type, external_id, processing_status, error_details,
       created_at, processed_at, pg_column_size(raw_data) AS raw_bytes
FROM raw_extraction_data
WHERE (%(cursor)s::bigint IS NULL OR id < %(cursor)s::bigint)
  AND (%(entity_type)s::text IS NULL OR entity_type = %(entity_type)s::text)
  AND (%(processing_status)s::text IS NULL OR processing_status = %(processing_status)s::text)
  AND (%(integration_id)s::bigint IS NULL OR integration_id = %(integration_id)s::bigint)
  AND (%(since)s::timestamptz IS NULL OR created_at >= %(since)s::timestamptz)
  AND (%(until)s::timestamptz IS NULL OR created_at < %(until)s::timestamptz)
ORDER BY id DESC
LIMIT %(limit)s

-- name: raw_detail
SELECT id, integration_id, run_id, entity_type, external_id, processing_status, error_details,
       created_at, processed_at, pg_column_size(raw_data) AS raw_bytes, raw_data,
       extraction_metadata
FROM raw_extraction_data WHERE id = %(id)s

-- name: raw_existing_ids
SELECT id FROM raw_extraction_data WHERE id = ANY (%(ids)s::bigint[])

-- name: raw_select_for_transform
-- Raw rows matching the filters, oldest first; with latest_only, a row is skipped when a
-- newer version of the same record is stored (rows without an external id always count).
SELECT r.id FROM raw_extraction_data r
WHERE (%(entity_type)s::text IS NULL OR r.entity_type = %(entity_type)s::text)
  AND (%(processing_status)s::text IS NULL OR r.processing_status = %(processing_status)s::text)
  AND (%(integration_id)s::bigint IS NULL OR r.integration_id = %(integration_id)s::bigint)
  AND (%(since)s::timestamptz IS NULL OR r.created_at >= %(since)s::timestamptz)
  AND (%(until)s::timestamptz IS NULL OR r.created_at < %(until)s::timestamptz)
  AND (NOT %(latest_only)s OR NOT EXISTS (
        SELECT 1 FROM raw_extraction_data n
        WHERE n.tenant_id = r.tenant_id AND n.entity_type = r.entity_type
          AND n.external_id = r.external_id AND n.integration_id = r.integration_id
          AND n.id > r.id))
ORDER BY r.id
LIMIT %(max_rows)s

-- name: metrics_queue_jobs
SELECT t.name AS tenant, q.job_type AS stage, q.status, count(*) AS jobs
FROM etl_job_queue q JOIN tenants t ON t.id = q.tenant_id
WHERE q.status IN ('pending', 'running', 'paused', 'failed')
GROUP BY t.name, q.job_type, q.status
ORDER BY 1, 2, 3

-- name: metrics_queue_oldest_pending
SELECT t.name AS tenant, q.job_type AS stage,
       extract(epoch FROM %(now)s::timestamptz - min(q.scheduled_at))::float8 AS seconds
FROM etl_job_queue q JOIN tenants t ON t.id = q.tenant_id
WHERE q.status = 'pending' AND q.scheduled_at <= %(now)s::timestamptz
GROUP BY t.name, q.job_type
ORDER BY 1, 2

-- name: metrics_queue_finished
SELECT t.name AS tenant, q.job_type AS stage, q.status, count(*) AS jobs
FROM etl_job_queue q JOIN tenants t ON t.id = q.tenant_id
WHERE q.status IN ('completed', 'failed', 'cancelled')
  AND q.completed_at > %(now)s::timestamptz - interval '1 hour'
GROUP BY t.name, q.job_type, q.status
ORDER BY 1, 2, 3

-- name: metrics_runs
SELECT t.name AS tenant, r.status, count(*) AS runs
FROM etl_runs r JOIN tenants t ON t.id = r.tenant_id
WHERE r.status IN ('running', 'paused') OR r.finished_at > %(now)s::timestamptz - interval '1 day'
GROUP BY t.name, r.status
ORDER BY 1, 2

-- name: metrics_run_durations
SELECT t.name AS tenant, count(*) AS runs,
       sum(extract(epoch FROM r.finished_at - r.started_at))::float8 AS total_seconds,
       percentile_cont(ARRAY[0.5, 0.9, 0.99]::float8[])
           WITHIN GROUP (ORDER BY extract(epoch FROM r.finished_at - r.started_at)) AS quantiles
FROM etl_runs r JOIN tenants t ON t.id = r.tenant_id
WHERE r.finished_at > %(now)s::timestamptz - interval '1 day'
GROUP BY t.name
ORDER BY 1

-- name: migration_history_versions
SELECT component, version FROM migration_history
