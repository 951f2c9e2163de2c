-- Reads of the run detail page (app/pages/runs.py), in the user's tenant transaction.

-- name: run_page_summary
-- One run with the names of its chain job and integration.
SELECT r.id, r.etl_job_id, r.integration_id, r.status, r.trigger, r.triggered_by,
       r.started_at, r.finished_at, r.error_message,
       j.job_name, i.name AS integration_name, i.provider AS integration_provider
FROM etl_runs r
LEFT JOIN etl_jobs j ON j.id = r.etl_job_id
LEFT JOIN integrations i ON i.id = r.integration_id
WHERE r.id = %(id)s
