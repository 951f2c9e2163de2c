-- Reads of the integrations page (app/pages/integrations.py), in the user's tenant transaction.
-- Never the credentials themselves: only whether a token is stored.

-- name: integration_cards
-- Each integration (or one, when id is given) with its latest run.
SELECT i.id, i.provider, i.name, i.base_url, i.username, i.base_search, i.active,
       i.last_sync_at, i.credentials IS NOT NULL AS has_token,
       r.id AS run_id, r.status AS run_status, r.started_at AS run_started_at,
       r.finished_at AS run_finished_at, r.error_message AS run_error
FROM integrations i
LEFT JOIN LATERAL (
    SELECT id, status, started_at, finished_at, error_message FROM etl_runs
    WHERE integration_id = i.id ORDER BY id DESC LIMIT 1
) r ON true
WHERE (%(id)s::bigint IS NULL OR i.id = %(id)s::bigint)
ORDER BY i.id
