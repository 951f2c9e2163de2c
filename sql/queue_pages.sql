-- Reads of the queue page (app/pages/queue.py), in the user's tenant transaction. The views
-- obey row-level security on PostgreSQL 15+; the tenant condition keeps them to the tenant
-- on older servers too.

-- name: queue_page_overview
-- Queue jobs by stage and status, with the age of the oldest pending job.
SELECT job_type, status, jobs, extract(epoch FROM oldest_pending_age)::float8 AS oldest_pending_s
FROM queue_overview
WHERE tenant_id = current_setting('app.tenant_id')::bigint

-- name: queue_page_throughput
-- Completions per minute over the last hour (minutes without any are absent).
SELECT minute, sum(completed)::bigint AS completed
FROM queue_throughput
WHERE tenant_id = current_setting('app.tenant_id')::bigint
GROUP BY minute
ORDER BY minute

-- name: queue_page_dead_letters
-- Failed queue jobs, most recently failed first; limit + 1 rows.
SELECT id, run_id, job_type, entity_type, retry_count, max_retries, last_error, failed_at
FROM queue_failed
WHERE tenant_id = current_setting('app.tenant_id')::bigint
ORDER BY failed_at DESC NULLS LAST, id DESC
LIMIT %(limit)s

-- name: queue_page_job_status
-- The status of the given queue jobs of the tenant (unknown ids are absent).
SELECT id, status FROM etl_job_queue WHERE id = ANY (%(ids)s::bigint[])
