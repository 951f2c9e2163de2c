-- Users, sessions and API tokens (app/auth). Everything runs in the tenant's transaction
-- except the two lookups that must find the tenant first: login by email and bearer tokens.

-- name: login_candidates
-- System role: an email may exist in several tenants; the password decides which one.
SELECT u.tenant_id, t.name AS tenant_name, u.id, u.email, u.role, u.password_hash,
       u.failed_logins, u.locked_until
FROM users u JOIN tenants t ON t.id = u.tenant_id
WHERE lower(u.email) = lower(%(email)s) AND u.active AND t.active
  AND (%(tenant)s::text IS NULL OR lower(t.name) = lower(%(tenant)s::text))
ORDER BY u.tenant_id, u.id

-- name: login_failed
UPDATE users SET failed_logins = failed_logins + 1, updated_at = now()
WHERE id = %(user_id)s
RETURNING failed_logins

-- name: login_lock
UPDATE users SET locked_until = %(until)s WHERE id = %(user_id)s

-- name: login_succeeded
UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = %(now)s
WHERE id = %(user_id)s

-- name: session_insert
INSERT INTO user_sessions (tenant_id, user_id, token_hash, expires_at)
VALUES (%(tenant_id)s, %(user_id)s, %(token_hash)s, %(expires_at)s)
RETURNING id

-- name: session_principal
SELECT s.id AS session_id, u.id AS user_id, u.email, u.role, t.id AS tenant_id,
       t.name AS tenant_name
FROM user_sessions s
JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
JOIN tenants t ON t.id = s.tenant_id
WHERE s.token_hash = %(token_hash)s AND s.revoked_at IS NULL AND s.expires_at > %(now)s
  AND u.active AND t.active

-- name: session_revoke
UPDATE user_sessions SET revoked_at = %(now)s WHERE id = %(id)s AND revoked_at IS NULL

-- name: session_revoke_user
-- Every open session of a user except, optionally, the caller's own.
UPDATE user_sessions SET revoked_at = %(now)s
WHERE user_id = %(user_id)s AND revoked_at IS NULL
  AND (%(keep_id)s::bigint IS NULL OR id <> %(keep_id)s::bigint)

-- name: session_purge_expired
DELETE FROM user_sessions WHERE user_id = %(user_id)s AND expires_at < %(now)s

-- name: api_token_principal
-- System role: a bearer token names no tenant, so it is found by its hash.
SELECT k.tenant_id, k.id AS token_id, k.name AS token_name, k.role AS token_role,
       u.id AS user_id, u.email, u.role AS user_role, t.name AS tenant_name
FROM api_tokens k
JOIN users u ON u.tenant_id = k.tenant_id AND u.id = k.user_id
JOIN tenants t ON t.id = k.tenant_id
WHERE k.token_hash = %(token_hash)s AND k.revoked_at IS NULL
  AND (k.expires_at IS NULL OR k.expires_at > %(now)s) AND u.active AND t.active

-- name: api_token_touch
-- At most one write a minute per token, however busy it is.
UPDATE api_tokens SET last_used_at = %(now)s
WHERE tenant_id = %(tenant_id)s AND id = %(id)s
  AND (last_used_at IS NULL OR last_used_at < %(now)s - interval '1 minute')

-- name: api_token_insert
INSERT INTO api_tokens (tenant_id, user_id, name, token_prefix, token_hash, role, expires_at)
VALUES (%(tenant_id)s, %(user_id)s, %(name)s, %(token_prefix)s, %(token_hash)s, %(role)s,
        %(expires_at)s)
RETURNING id, user_id, name, token_prefix, role, created_at, last_used_at, expires_at, revoked_at

-- name: api_token_page
SELECT k.id, k.user_id, u.email AS user_email, k.name, k.token_prefix, k.role, k.created_at,
       k.last_used_at, k.expires_at, k.revoked_at
FROM api_tokens k JOIN users u ON u.tenant_id = k.tenant_id AND u.id = k.user_id
WHERE (%(cursor)s::bigint IS NULL OR k.id > %(cursor)s::bigint)
  AND (%(include_revoked)s OR k.revoked_at IS NULL)
ORDER BY k.id
LIMIT %(limit)s

-- name: api_token_detail
SELECT k.id, k.user_id, u.email AS user_email, k.name, k.token_prefix, k.role, k.created_at,
       k.last_used_at, k.expires_at, k.revoked_at
FROM api_tokens k JOIN users u ON u.tenant_id = k.tenant_id AND u.id = k.user_id
WHERE k.id = %(id)s

-- name: api_token_revoke
UPDATE api_tokens SET revoked_at = %(now)s WHERE id = %(id)s AND revoked_at IS NULL

-- name: api_token_revoke_user
UPDATE api_tokens SET revoked_at = %(now)s WHERE user_id = %(user_id)s AND revoked_at IS NULL

-- name: user_page
SELECT id, email, display_name, role, active, failed_logins, locked_until, last_login_at,
       created_at, updated_at
FROM users
WHERE (%(cursor)s::bigint IS NULL OR id > %(cursor)s::bigint)
  AND (%(include_inactive)s OR active)
ORDER BY id
LIMIT %(limit)s

-- name: user_detail
SELECT id, email, display_name, role, active, failed_logins, locked_until, last_login_at,
       created_at, updated_at
FROM users WHERE id = %(id)s

-- name: user_insert
INSERT INTO users (tenant_id, email, display_name, role, password_hash)
VALUES (%(tenant_id)s, %(email)s, %(display_name)s, %(role)s, %(password_hash)s)
RETURNING id

-- name: user_update
-- Only the keys present in `changes` are written; a new password also clears the lock.
UPDATE users u SET
    display_name = CASE WHEN p.c ? 'display_name' THEN p.c->>'display_name' ELSE u.display_name END,
    role = CASE WHEN p.c ? 'role' THEN p.c->>'role' ELSE u.role END,
    active = CASE WHEN p.c ? 'active' THEN (p.c->>'active')::boolean ELSE u.active END,
    password_hash = coalesce(%(password_hash)s, u.password_hash),
    failed_logins = CASE WHEN %(password_hash)s::text IS NULL THEN u.failed_logins ELSE 0 END,
    locked_until = CASE WHEN %(password_hash)s::text IS NULL THEN u.locked_until END,
    updated_at = now()
FROM (SELECT %(changes)s::jsonb AS c) p
WHERE u.id = %(id)s
RETURNING u.id
