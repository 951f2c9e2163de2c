-- Reads of the transform stage (tenant transaction) and raw-row status changes.

-- name: raw_get_many
SELECT id, integration_id, entity_type, external_id, raw_data, extraction_metadata
FROM raw_extraction_data WHERE id = ANY (%(ids)s::bigint[]) ORDER BY id

-- name: raw_mark_transformed
UPDATE raw_extraction_data
SET processing_status = 'transformed', error_details = NULL, processed_at = now()
WHERE id = ANY (%(ids)s::bigint[])

-- name: raw_mark_failed
UPDATE raw_extraction_data r
SET processing_status = 'failed', error_details = f.error, processed_at = now()
FROM unnest(%(ids)s::bigint[], %(errors)s::jsonb[]) AS f(id, error)
WHERE r.id = f.id

-- name: raw_mark_loaded
UPDATE raw_extraction_data
SET processing_status = 'loaded', processed_at = now()
WHERE id = ANY (%(ids)s::bigint[])

-- name: transform_workflow_steps
-- The tenant's status -> step mapping: the integration's own rows win over tenant defaults.
SELECT DISTINCT ON (lower(m.status_from)) m.status_from, w.step_name, w.step_category,
       w.step_number, w.is_commitment_point
FROM statuses_mappings m JOIN workflows w ON w.tenant_id = m.tenant_id AND w.id = m.workflow_id
WHERE m.active AND w.active
  AND (m.integration_id IS NULL OR m.integration_id = %(integration_id)s)
ORDER BY lower(m.status_from), m.integration_id NULLS LAST

-- name: transform_workflow_all_steps
-- Every active step, so a step that no status maps to still has its place (e.g. a commitment point).
SELECT DISTINCT ON (step_name) step_name, step_category, step_number, is_commitment_point
FROM workflows
WHERE active AND (integration_id IS NULL OR integration_id = %(integration_id)s)
ORDER BY step_name, integration_id NULLS LAST

-- name: transform_status_catalog
SELECT external_id, original_name, category FROM statuses
WHERE integration_id = %(integration_id)s OR %(integration_id)s::bigint IS NULL

-- name: transform_project_keys
SELECT DISTINCT key FROM projects WHERE active

-- name: raw_select_for_reprocess
-- The newest stored version of each record matching the filters (all failed rows with
-- failed_only), oldest first, for re-transformation without calling the source again.
SELECT id FROM (
    SELECT DISTINCT ON (integration_id, entity_type, coalesce(external_id, id::text)) id
    FROM raw_extraction_data
    WHERE (%(entity)s::text IS NULL OR entity_type = %(entity)s::text)
      AND (%(since)s::timestamptz IS NULL OR created_at >= %(since)s::timestamptz)
      AND (NOT %(failed_only)s OR processing_status = 'failed')
    ORDER BY integration_id, entity_type, coalesce(external_id, id::text), id DESC
) newest
ORDER BY id
