-- Job log lines for the logs page and the run page (app/pages/logs.py, app/pages/runs.py), in
-- the user's tenant transaction: row-level security keeps them to that tenant.

-- name: log_page
-- The newest lines matching the filters (before a cursor id), newest first; limit + 1 rows.
-- A scoped filter (chain job or integration) keeps the lines of its jobs and of their runs.
SELECT id, level, message, run_id, queue_job_id, etl_job_id, created_at AS at
FROM job_logs
WHERE (%(before)s::bigint IS NULL OR id < %(before)s::bigint)
  AND level = ANY (%(levels)s::text[])
  AND (%(run_id)s::bigint IS NULL OR run_id = %(run_id)s::bigint)
  AND (%(text)s::text IS NULL OR strpos(lower(message), lower(%(text)s::text)) > 0)
  AND (NOT %(scoped)s::boolean
       OR etl_job_id = ANY (%(job_ids)s::bigint[])
       OR run_id = ANY (%(run_ids)s::bigint[]))
ORDER BY id DESC
LIMIT %(limit)s

-- name: log_scope
-- The chain jobs a job and/or integration filter names, and the runs whose lines it keeps
-- (the runs of those jobs; with an integration alone, also its runs without a chain job).
WITH jobs AS (
    SELECT id FROM etl_jobs
    WHERE (%(job_id)s::bigint IS NULL OR id = %(job_id)s::bigint)
      AND (%(integration_id)s::bigint IS NULL OR integration_id = %(integration_id)s::bigint)
)
SELECT ARRAY(SELECT id FROM jobs ORDER BY id) AS job_ids,
       ARRAY(SELECT r.id FROM etl_runs r
             WHERE r.etl_job_id IN (SELECT id FROM jobs)
                OR (%(job_id)s::bigint IS NULL
                    AND r.integration_id = %(integration_id)s::bigint)
             ORDER BY r.id) AS run_ids

-- name: log_filter_jobs
-- The chain jobs a log filter may name, in chain order.
SELECT id, job_name FROM etl_jobs ORDER BY execution_order, id

-- name: log_filter_integrations
-- The integrations a log filter may name.
SELECT id, name, provider FROM integrations ORDER BY lower(name), id

-- name: log_run_tail
-- A run's newest lines, returned oldest first (newest last).
SELECT id, level, message, run_id, queue_job_id, etl_job_id, at FROM (
    SELECT id, level, message, run_id, queue_job_id, etl_job_id, created_at AS at
    FROM job_logs WHERE run_id = %(run_id)s::bigint
    ORDER BY id DESC
    LIMIT %(limit)s
) tail
ORDER BY id
