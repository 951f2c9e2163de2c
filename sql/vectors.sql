-- What the vectorize stage reads: the rows a load changed, as the tenant (row-level security).

-- name: vector_work_items
SELECT w.id, w.external_id, w.key, w.summary, left(w.description, %(text_chars)s) AS description,
       i.provider, i.base_url
FROM work_items w
JOIN integrations i ON i.tenant_id = w.tenant_id AND i.id = w.integration_id
WHERE w.tenant_id = %(tenant_id)s AND w.id = ANY(%(ids)s)
ORDER BY w.id

-- name: vector_prs
SELECT p.id, p.external_id, p.repository_full_name, p.number, p.title,
       left(p.body, %(text_chars)s) AS body, p.url
FROM prs p
WHERE p.tenant_id = %(tenant_id)s AND p.id = ANY(%(ids)s)
ORDER BY p.id
