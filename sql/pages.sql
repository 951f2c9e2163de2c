-- Reads of the dashboard pages (app/pages), in the user's tenant transaction.

-- name: pipeline_cards
-- The chain's jobs with their integration and latest run (one job when id is given).
SELECT j.id, j.job_name, j.provider, j.integration_id, j.execution_order, j.status, j.active,
       j.last_run_started_at, j.last_success_at, j.next_run_at, j.retry_count, j.error_message,
       i.name AS integration_name, i.provider AS integration_provider, i.active AS integration_active,
       r.id AS run_id, r.status AS run_status, r.started_at AS run_started_at,
       r.finished_at AS run_finished_at, r.error_message AS run_error, r.trigger AS run_trigger
FROM etl_jobs j
LEFT JOIN integrations i ON i.id = j.integration_id
LEFT JOIN LATERAL (
    SELECT id, status, started_at, finished_at, error_message, trigger FROM etl_runs
    WHERE etl_job_id = j.id ORDER BY id DESC LIMIT 1
) r ON true
WHERE (%(id)s::bigint IS NULL OR j.id = %(id)s::bigint)
ORDER BY j.execution_order

-- name: run_stage_counts
-- Per run and stage: queue jobs by outcome and the records, pages and points they report.
SELECT run_id, job_type,
       count(*) AS jobs,
       count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE status IN ('pending', 'running', 'paused')) AS open,
       coalesce(sum((progress->>'records')::bigint), 0) AS records,
       coalesce(sum((progress->>'pages')::bigint), 0) AS pages,
       coalesce(sum((progress->>'points')::bigint), 0) AS points,
       coalesce(sum((progress->>'rate_limit_wait_s')::numeric), 0) AS rate_limit_wait_s,
       min(started_at) AS started_at,
       max(completed_at) AS completed_at
FROM etl_job_queue
WHERE tenant_id = current_setting('app.tenant_id')::bigint
  AND run_id = ANY (%(run_ids)s::bigint[])
GROUP BY run_id, job_type
