-- Integrations, their watermarks, and raw extraction storage.

-- name: integration_insert
INSERT INTO integrations (tenant_id, provider, name, base_url, username, credentials, base_search,
                          settings, active)
VALUES (%(tenant_id)s, %(provider)s, %(name)s, %(base_url)s, %(username)s, %(credentials)s,
        %(base_search)s, %(settings)s, %(active)s)
RETURNING id

-- name: integration_get
SELECT id, tenant_id, provider, name, base_url, username, credentials, base_search, settings,
       active, last_sync_at
FROM integrations WHERE id = %(id)s

-- name: integration_list_active
SELECT id, provider, name FROM integrations
WHERE active AND (%(id)s::bigint IS NULL OR id = %(id)s::bigint)
ORDER BY id

-- name: integration_touch_last_sync
UPDATE integrations SET last_sync_at = %(at)s WHERE id = %(id)s

-- name: etl_job_link_integration
-- Point the tenant's chain job for this provider at the new integration, if it has none.
UPDATE etl_jobs SET integration_id = %(integration_id)s, updated_at = now()
WHERE provider = %(provider)s AND integration_id IS NULL

-- name: watermark_get
SELECT watermark FROM extraction_watermarks
WHERE integration_id = %(integration_id)s AND entity_type = %(entity_type)s

-- name: watermark_set
INSERT INTO extraction_watermarks (tenant_id, integration_id, entity_type, watermark)
VALUES (%(tenant_id)s, %(integration_id)s, %(entity_type)s, %(watermark)s)
ON CONFLICT (tenant_id, integration_id, entity_type)
DO UPDATE SET watermark = greatest(extraction_watermarks.watermark, EXCLUDED.watermark),
              updated_at = now()

-- name: raw_insert_page
-- One JSON array of records in, one id per record out (in order): a single parse of the
-- page instead of an escaped array literal per record.
INSERT INTO raw_extraction_data (tenant_id, integration_id, run_id, entity_type, external_id,
                                 raw_data, extraction_metadata)
SELECT %(tenant_id)s, %(integration_id)s, %(run_id)s, r.value->>'entity_type',
       r.value->>'external_id', r.value->'raw_data', r.value->'metadata'
FROM jsonb_array_elements(%(records)s::jsonb) WITH ORDINALITY AS r(value, n)
ORDER BY r.n
RETURNING id
