-- The demo's integrations: one Jira and one GitHub per tenant, pointed at this run's sandbox.

-- name: demo_integration_find
SELECT id FROM integrations WHERE name = %(name)s

-- name: demo_integration_repoint
UPDATE integrations SET base_url = %(base_url)s, credentials = %(credentials)s, active = true,
                        updated_at = now()
WHERE id = %(id)s

-- name: demo_tenants
SELECT id, name FROM tenants WHERE active ORDER BY id

-- name: demo_counts
SELECT (SELECT count(*) FROM work_items) AS work_items,
       (SELECT count(*) FROM changelogs) AS changelogs,
       (SELECT count(*) FROM prs) AS pull_requests,
       (SELECT count(*) FROM work_item_pr_links) AS links

-- name: demo_admins
SELECT u.tenant_id, u.id, u.email, t.name AS tenant
FROM users u JOIN tenants t ON t.id = u.tenant_id
WHERE u.role = 'admin' AND u.active ORDER BY u.tenant_id, u.id

-- name: demo_set_password
UPDATE users SET password_hash = %(password_hash)s, failed_logins = 0, locked_until = NULL,
                 updated_at = now()
WHERE tenant_id = %(tenant_id)s AND id = %(id)s
