-- The orchestrator: the per-tenant job chain (etl_jobs), the runs it opens, manual control,
-- and the scheduler's maintenance (retention). Chain queries name the tenant explicitly so
-- that they work both as the tenant (sluice_app) and as sluice_system.

-- name: chain_tenants
-- Cross-tenant (sluice_system): active tenants with their stored settings.
SELECT t.id, t.name,
       coalesce(jsonb_object_agg(s.setting_key, s.setting_value)
                FILTER (WHERE s.setting_key IS NOT NULL), '{}'::jsonb) AS settings
FROM tenants t
LEFT JOIN system_settings s ON s.tenant_id = t.id
WHERE t.active
GROUP BY t.id, t.name
ORDER BY t.id

-- name: chain_lock
-- The tenant's chain in execution order, locked until the transaction ends, with the state
-- of each job's integration and of its current run.
SELECT j.id, j.job_name, j.provider, j.integration_id, j.execution_order, j.status, j.active,
       j.checkpoint_data, j.last_run_started_at, j.last_success_at, j.next_run_at,
       j.retry_count, j.error_message, i.active AS integration_active, r.status AS run_status
FROM etl_jobs j
LEFT JOIN integrations i ON i.tenant_id = j.tenant_id AND i.id = j.integration_id
LEFT JOIN etl_runs r ON r.tenant_id = j.tenant_id
                    AND r.id = (j.checkpoint_data ->> 'run_id')::bigint
WHERE j.tenant_id = %(tenant_id)s
ORDER BY j.execution_order
FOR UPDATE OF j

-- name: chain_list
-- As chain_lock, without locking (to look before taking locks in the usual order).
SELECT j.id, j.job_name, j.provider, j.integration_id, j.execution_order, j.status, j.active,
       j.checkpoint_data, j.last_run_started_at, j.last_success_at, j.next_run_at,
       j.retry_count, j.error_message, i.active AS integration_active, r.status AS run_status
FROM etl_jobs j
LEFT JOIN integrations i ON i.tenant_id = j.tenant_id AND i.id = j.integration_id
LEFT JOIN etl_runs r ON r.tenant_id = j.tenant_id
                    AND r.id = (j.checkpoint_data ->> 'run_id')::bigint
WHERE j.tenant_id = %(tenant_id)s
ORDER BY j.execution_order

-- name: chain_job_update
UPDATE etl_jobs
SET status = %(status)s,
    next_run_at = %(next_run_at)s,
    last_run_started_at = %(last_run_started_at)s,
    last_success_at = %(last_success_at)s,
    retry_count = %(retry_count)s,
    error_message = %(error_message)s,
    checkpoint_data = %(checkpoint)s,
    updated_at = now()
WHERE tenant_id = %(tenant_id)s AND id = %(id)s

-- name: chain_db_now
SELECT now() AS now

-- name: chain_run_summary
-- What a run did, for the job's checkpoint_data: jobs by status and the failed ones.
SELECT r.status, r.error_message,
       (SELECT coalesce(jsonb_object_agg(c.status, c.jobs), '{}'::jsonb)
        FROM (SELECT q.status, count(*) AS jobs FROM etl_job_queue q
              WHERE q.tenant_id = r.tenant_id AND q.run_id = r.id
              GROUP BY q.status) c) AS jobs,
       (SELECT coalesce(jsonb_agg(f ORDER BY f.id), '[]'::jsonb)
        FROM (SELECT q.id, q.job_type, q.entity_type, q.last_error,
                     q.progress -> 'checkpoint' AS checkpoint
              FROM etl_job_queue q
              WHERE q.tenant_id = r.tenant_id AND q.run_id = r.id AND q.status = 'failed'
              ORDER BY q.id LIMIT 20) f) AS failed
FROM etl_runs r
WHERE r.tenant_id = %(tenant_id)s AND r.id = %(run_id)s

-- name: chain_run_set_stats
UPDATE etl_runs SET stats = stats || %(stats)s::jsonb
WHERE tenant_id = %(tenant_id)s AND id = %(run_id)s

-- name: chain_adoptable_jobs
-- The dead-lettered jobs of a failed run, which a retry takes over with their checkpoints.
SELECT q.id FROM etl_job_queue q
JOIN etl_runs r ON r.tenant_id = q.tenant_id AND r.id = q.run_id
WHERE q.tenant_id = %(tenant_id)s AND q.run_id = %(run_id)s AND q.status = 'failed'
  AND r.status = 'failed'
ORDER BY q.id
FOR UPDATE OF q

-- name: chain_adopt_jobs
-- Move a failed run's dead letters into the retry run: pending again with a fresh retry
-- budget, their progress (the extract checkpoint) and error history kept. The queue runs
-- on the database clock.
UPDATE etl_job_queue
SET run_id = %(new_run_id)s,
    status = 'pending',
    retry_count = 0,
    scheduled_at = now(),
    started_at = NULL,
    completed_at = NULL,
    heartbeat_at = NULL,
    locked_by = NULL
WHERE tenant_id = %(tenant_id)s AND id = ANY (%(ids)s::bigint[]) AND status = 'failed'
RETURNING id

-- name: chain_vectorize_candidates
-- Work items and pull requests loaded since the job's last successful run started (minus a
-- safety margin for loads that were committing then); all of them on the first run.
WITH since AS (
    SELECT max(r.started_at) - interval '5 minutes' AS at
    FROM etl_runs r
    WHERE r.tenant_id = %(tenant_id)s AND r.etl_job_id = %(etl_job_id)s AND r.status = 'finished'
)
SELECT (SELECT coalesce(array_agg(w.id ORDER BY w.id), '{}')
        FROM work_items w, since
        WHERE w.tenant_id = %(tenant_id)s AND (since.at IS NULL OR w.loaded_at >= since.at))
           AS work_item_ids,
       (SELECT coalesce(array_agg(p.id ORDER BY p.id), '{}')
        FROM prs p, since
        WHERE p.tenant_id = %(tenant_id)s AND (since.at IS NULL OR p.loaded_at >= since.at))
           AS pr_ids,
       (SELECT at FROM since) AS since

-- name: control_run_lock
SELECT id, status, etl_job_id, integration_id FROM etl_runs
WHERE tenant_id = %(tenant_id)s AND id = %(run_id)s
FOR UPDATE

-- name: control_run_set_status
UPDATE etl_runs
SET status = %(status)s,
    finished_at = CASE WHEN %(status)s IN ('finished', 'failed', 'cancelled')
                       THEN coalesce(%(now)s::timestamptz, now()) END,
    error_message = %(error_message)s
WHERE tenant_id = %(tenant_id)s AND id = %(run_id)s
RETURNING id, status, etl_job_id

-- name: control_retry_failed_jobs
-- Dead letters (of the given run and/or ids) back to pending with a fresh retry budget;
-- jobs of cancelled or paused runs stay where they are.
UPDATE etl_job_queue q
SET status = 'pending', retry_count = 0, scheduled_at = now(), started_at = NULL,
    completed_at = NULL, heartbeat_at = NULL, locked_by = NULL
WHERE q.tenant_id = %(tenant_id)s AND q.status = 'failed'
  AND (%(run_id)s::bigint IS NULL OR q.run_id = %(run_id)s::bigint)
  AND (%(job_ids)s::bigint[] IS NULL OR q.id = ANY (%(job_ids)s::bigint[]))
  AND (q.run_id IS NULL OR EXISTS (
      SELECT 1 FROM etl_runs r
      WHERE r.tenant_id = q.tenant_id AND r.id = q.run_id AND r.status IN ('running', 'failed')))
RETURNING q.id, q.run_id

-- name: control_job_park
-- Between two pages of a running handler: when its run was paused or cancelled, the job is
-- given back as paused (resumable from its checkpoint) or cancelled, without an attempt.
UPDATE etl_job_queue q
SET status = CASE r.status WHEN 'paused' THEN 'paused' ELSE 'cancelled' END,
    completed_at = CASE r.status WHEN 'cancelled' THEN now() END,
    started_at = NULL,
    heartbeat_at = NULL,
    locked_by = NULL
FROM etl_runs r
WHERE q.tenant_id = %(tenant_id)s AND q.id = %(id)s AND q.status = 'running'
  AND q.locked_by = %(worker)s
  AND r.tenant_id = q.tenant_id AND r.id = q.run_id AND r.status IN ('paused', 'cancelled')
RETURNING q.status

-- name: control_sweep_stopped_runs
-- Cross-tenant (sluice_system): a job handed to a run in the instant it was paused or
-- cancelled (or a retry of one) follows its run. Driven by the few stopped runs (paused,
-- or cancelled within the day) through the open-jobs index.
UPDATE etl_job_queue q
SET status = CASE r.status WHEN 'paused' THEN 'paused' ELSE 'cancelled' END,
    completed_at = CASE r.status WHEN 'cancelled' THEN now() END
FROM etl_runs r
WHERE (r.status = 'paused' OR (r.status = 'cancelled' AND r.finished_at > now() - interval '1 day'))
  AND q.tenant_id = r.tenant_id AND q.run_id = r.id AND q.status = 'pending'
RETURNING q.tenant_id, q.id, q.status

-- name: retention_purge_queue
-- Finished queue jobs of one tenant completed before the cutoff, a bounded batch at a time.
WITH old AS (
    SELECT tenant_id, id FROM etl_job_queue
    WHERE tenant_id = %(tenant_id)s
      AND status IN ('completed', 'failed', 'cancelled')
      AND completed_at < %(cutoff)s::timestamptz
    ORDER BY completed_at
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
)
DELETE FROM etl_job_queue q USING old
WHERE q.tenant_id = old.tenant_id AND q.id = old.id

-- name: retention_purge_raw
-- Loaded raw rows of one tenant extracted before the cutoff and superseded by a newer
-- version of the same record; the newest version of each record stays for `sluice reprocess`.
WITH old AS (
    SELECT r.tenant_id, r.id FROM raw_extraction_data r
    WHERE r.tenant_id = %(tenant_id)s
      AND r.processing_status = 'loaded'
      AND r.created_at < %(cutoff)s::timestamptz
      AND r.external_id IS NOT NULL
      AND EXISTS (
          SELECT 1 FROM raw_extraction_data n
          WHERE n.tenant_id = r.tenant_id AND n.integration_id = r.integration_id
            AND n.entity_type = r.entity_type AND n.external_id = r.external_id
            AND n.id > r.id)
    ORDER BY r.id
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
)
DELETE FROM raw_extraction_data d USING old
WHERE d.tenant_id = old.tenant_id AND d.id = old.id

-- name: chain_try_turn
-- One scheduler at a time handles a tenant's chain: all or nothing, unlike row locks taken
-- one by one with SKIP LOCKED (two ticks could each get part of the chain and both pass).
SELECT pg_try_advisory_xact_lock(7358, %(tenant_id)s) AS acquired
