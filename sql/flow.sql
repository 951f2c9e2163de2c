-- Flow metrics of the dashboard (app/pages/flow.py), in the user's tenant transaction. An item
-- counts in the month (UTC) of its last completion while it has a cycle or a lead time: the
-- transform sets both only while the item sits in a done step (app/transform/workflow_metrics.py).

-- name: flow_monthly
-- Per completion month of [start, end): completed items and the median, 75th and 90th
-- percentile of their cycle and lead times in days (percentile_cont interpolates, and skips
-- items without that time).
SELECT to_char(w.work_last_completed_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month,
       count(*) AS items,
       count(w.cycle_time_seconds) AS cycle_items,
       count(w.lead_time_seconds) AS lead_items,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY w.cycle_time_seconds) / 86400.0 AS cycle_p50,
       percentile_cont(0.75) WITHIN GROUP (ORDER BY w.cycle_time_seconds) / 86400.0 AS cycle_p75,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY w.cycle_time_seconds) / 86400.0 AS cycle_p90,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY w.lead_time_seconds) / 86400.0 AS lead_p50,
       percentile_cont(0.75) WITHIN GROUP (ORDER BY w.lead_time_seconds) / 86400.0 AS lead_p75,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY w.lead_time_seconds) / 86400.0 AS lead_p90
FROM work_items w
LEFT JOIN wits t ON t.tenant_id = w.tenant_id AND t.id = w.wit_id
WHERE w.tenant_id = current_setting('app.tenant_id')::integer
  AND w.work_last_completed_at >= %(start)s::timestamptz
  AND w.work_last_completed_at < %(end)s::timestamptz
  AND (w.cycle_time_seconds IS NOT NULL OR w.lead_time_seconds IS NOT NULL)
  AND (%(project_id)s::bigint IS NULL OR w.project_id = %(project_id)s::bigint)
  AND (%(wit_name)s::text IS NULL OR t.original_name = %(wit_name)s::text)
GROUP BY 1
ORDER BY 1

-- name: flow_items
-- The items behind one month's point, by id (keyset: fetch limit + 1 rows).
SELECT w.id, w.key, w.summary, t.original_name AS wit_name,
       w.cycle_time_seconds / 86400.0 AS cycle_days, w.lead_time_seconds / 86400.0 AS lead_days,
       w.work_last_completed_at AS completed_at, i.provider, i.base_url
FROM work_items w
JOIN integrations i ON i.tenant_id = w.tenant_id AND i.id = w.integration_id
LEFT JOIN wits t ON t.tenant_id = w.tenant_id AND t.id = w.wit_id
WHERE w.tenant_id = current_setting('app.tenant_id')::integer
  AND w.work_last_completed_at >= %(start)s::timestamptz
  AND w.work_last_completed_at < %(end)s::timestamptz
  AND (w.cycle_time_seconds IS NOT NULL OR w.lead_time_seconds IS NOT NULL)
  AND (%(project_id)s::bigint IS NULL OR w.project_id = %(project_id)s::bigint)
  AND (%(wit_name)s::text IS NULL OR t.original_name = %(wit_name)s::text)
  AND (%(cursor)s::bigint IS NULL OR w.id > %(cursor)s::bigint)
ORDER BY w.id
LIMIT %(limit)s

-- name: flow_project_choices
SELECT id, key, name FROM projects ORDER BY key, id

-- name: flow_type_choices
SELECT DISTINCT original_name FROM wits ORDER BY original_name
