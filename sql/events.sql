-- Live events (LISTEN sluice_events) and job log lines. A notification is delivered only
-- when its transaction commits, so listeners never see a state that did not happen.

-- name: event_publish
SELECT pg_notify('sluice_events', %(payload)s)

-- name: job_log_insert
INSERT INTO job_logs (tenant_id, run_id, etl_job_id, queue_job_id, level, message, context, actor)
VALUES (%(tenant_id)s, %(run_id)s, %(etl_job_id)s, %(queue_job_id)s, %(level)s, %(message)s,
        %(context)s, %(actor)s)
RETURNING id, created_at
