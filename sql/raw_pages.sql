-- Reads of the raw data pages (app/pages/raw.py), in the user's tenant transaction. The list
-- and the record itself are `raw_page` and `raw_detail` of sql/api.sql.

-- name: raw_entity_types
-- The entity types the tenant has stored, one index probe each (a loose index scan).
WITH RECURSIVE found AS (
    (SELECT entity_type FROM raw_extraction_data
     WHERE tenant_id = current_setting('app.tenant_id')::integer
     ORDER BY entity_type LIMIT 1)
    UNION ALL
    SELECT (SELECT r.entity_type FROM raw_extraction_data r
            WHERE r.tenant_id = current_setting('app.tenant_id')::integer
              AND r.entity_type > found.entity_type
            ORDER BY r.entity_type LIMIT 1)
    FROM found WHERE found.entity_type IS NOT NULL
)
SELECT entity_type FROM found WHERE entity_type IS NOT NULL

-- name: raw_integration_choices
SELECT id, name, provider FROM integrations ORDER BY name, id

-- name: raw_transform_run
-- A run of transform jobs as a reprocess opened it: its queue jobs and the raw rows they read.
SELECT q.run_id, array_agg(q.id ORDER BY q.id) AS job_ids,
       sum(jsonb_array_length(coalesce(q.payload->'raw_ids', '[]'::jsonb)))::bigint AS raw_count
FROM etl_job_queue q
WHERE q.tenant_id = current_setting('app.tenant_id')::integer
  AND q.run_id = %(id)s AND q.job_type = 'transform'
GROUP BY q.run_id
