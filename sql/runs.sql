-- ETL runs: creation, progress and the end of a run.

-- name: run_create
INSERT INTO etl_runs (tenant_id, etl_job_id, integration_id, trigger, triggered_by)
VALUES (%(tenant_id)s, %(etl_job_id)s, %(integration_id)s, %(trigger)s, %(triggered_by)s)
RETURNING id

-- name: run_lock
SELECT id FROM etl_runs
WHERE tenant_id = %(tenant_id)s AND id = %(run_id)s AND status = 'running'
FOR UPDATE

-- name: run_finish_if_done
-- Run after run_lock in the same transaction: the lock serialises the last two completing
-- jobs, and this statement's fresh snapshot sees the other's committed completion.
UPDATE etl_runs r
SET status = CASE WHEN EXISTS (
                 SELECT 1 FROM etl_job_queue q
                 WHERE q.tenant_id = r.tenant_id AND q.run_id = r.id AND q.status = 'failed')
             THEN 'failed' ELSE 'finished' END,
    finished_at = coalesce(%(now)s::timestamptz, now()),
    error_message = (SELECT q.last_error FROM etl_job_queue q
                     WHERE q.tenant_id = r.tenant_id AND q.run_id = r.id AND q.status = 'failed'
                     ORDER BY q.completed_at DESC LIMIT 1)
WHERE r.tenant_id = %(tenant_id)s AND r.id = %(run_id)s AND r.status = 'running'
  AND NOT EXISTS (
      SELECT 1 FROM etl_job_queue q
      WHERE q.tenant_id = r.tenant_id AND q.run_id = r.id
        AND q.status IN ('pending', 'running', 'paused'))
RETURNING r.id, r.status, r.etl_job_id

-- name: run_get
SELECT id, tenant_id, status, started_at, finished_at, error_message FROM etl_runs
WHERE id = %(run_id)s

-- name: run_progress
-- Counts for a progress bar: jobs by stage and status, and records extracted so far.
SELECT q.job_type, q.status, count(*) AS jobs,
       coalesce(sum((q.progress->>'records')::bigint), 0) AS records
FROM etl_job_queue q
WHERE q.tenant_id = %(tenant_id)s AND q.run_id = %(run_id)s
GROUP BY q.job_type, q.status
