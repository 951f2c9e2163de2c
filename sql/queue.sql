-- The etl_job_queue: enqueue, fair batched claims, completion, retries, heartbeats,
-- rescue, control and retention. The claim, completion, heartbeat and rescue queries
-- are cross-tenant and run as sluice_system; `now` is a parameter so tests can fix it.

-- name: job_enqueue_many
-- The jobs arrive as one JSON array (one parse, however large the payloads). A job handed
-- to a paused or cancelled run is born paused or cancelled: a pause holds for handoffs.
INSERT INTO etl_job_queue (tenant_id, run_id, etl_job_id, integration_id, job_type,
                           entity_type, payload, priority, scheduled_at, max_retries,
                           status, completed_at)
SELECT j.tenant_id, j.run_id, j.etl_job_id, j.integration_id, j.job_type, j.entity_type,
       coalesce(j.payload, '{}'::jsonb), j.priority,
       coalesce(j.scheduled_at, %(now)s::timestamptz, now()), j.max_retries,
       coalesce(stopped.status, 'pending'),
       CASE WHEN stopped.status = 'cancelled' THEN coalesce(%(now)s::timestamptz, now()) END
FROM ROWS FROM (jsonb_to_recordset(%(jobs)s::jsonb)
         AS (tenant_id integer, run_id bigint, etl_job_id bigint, integration_id bigint,
             job_type text, entity_type text, payload jsonb, priority smallint,
             scheduled_at timestamptz, max_retries integer)) WITH ORDINALITY
     AS j(tenant_id, run_id, etl_job_id, integration_id, job_type, entity_type, payload,
          priority, scheduled_at, max_retries, n)
LEFT JOIN LATERAL (
    SELECT r.status FROM etl_runs r
    WHERE r.tenant_id = j.tenant_id AND r.id = j.run_id AND r.status IN ('paused', 'cancelled')
) stopped ON true
ORDER BY j.n
RETURNING id

-- name: job_claim
-- Weighted fair claim. Each tenant with ready work gets a quota of the batch in proportion
-- to its tier weight (plus one, so rounding never starves a small weight), read in its own
-- (priority, scheduled_at, id) order under SKIP LOCKED; the k-th job of a tenant with
-- weight w has virtual time k / w and the batch takes the smallest virtual times. A tenant
-- with a huge backlog therefore shares claims with the others in proportion to the tiers.
WITH active AS (
    SELECT t.id AS tenant_id,
           coalesce((%(tier_weights)s::jsonb ->> t.tier)::integer, 1) AS weight
    FROM tenants t
    WHERE t.active
      AND (%(tenant_id)s::integer IS NULL OR t.id = %(tenant_id)s::integer)
      AND (%(tier)s::text IS NULL OR t.tier = %(tier)s::text)
      AND NOT EXISTS (
          SELECT 1 FROM system_settings s
          WHERE s.tenant_id = t.id AND s.setting_key = 'global_pause'
            AND s.setting_value = 'true'::jsonb)
      AND (SELECT q.id FROM etl_job_queue q
           WHERE q.tenant_id = t.id AND q.status = 'pending'
             AND q.scheduled_at <= coalesce(%(now)s::timestamptz, now())
             AND q.job_type = ANY (%(job_types)s::text[])
           ORDER BY q.priority, q.scheduled_at, q.id
           LIMIT 1) IS NOT NULL  -- the first ready job, read from the ready index
),
quota AS (
    SELECT a.tenant_id, a.weight,
           least(%(limit)s::integer,
                 ceil(%(limit)s::numeric * a.weight / sum(a.weight) OVER ())::integer + 1) AS n
    FROM active a
),
candidates AS (
    SELECT c.tenant_id, c.id,
           (row_number() OVER (PARTITION BY c.tenant_id
                               ORDER BY c.priority, c.scheduled_at, c.id))::float8
               / a.weight AS vtime,
           c.priority, c.scheduled_at
    FROM quota a
    CROSS JOIN LATERAL (
        SELECT q.tenant_id, q.id, q.priority, q.scheduled_at
        FROM etl_job_queue q
        WHERE q.tenant_id = a.tenant_id
          AND q.status = 'pending'
          AND q.scheduled_at <= coalesce(%(now)s::timestamptz, now())
          AND q.job_type = ANY (%(job_types)s::text[])
        ORDER BY q.priority, q.scheduled_at, q.id
        LIMIT a.n
        FOR UPDATE SKIP LOCKED
    ) c
),
chosen AS (
    SELECT tenant_id, id FROM candidates
    ORDER BY vtime, priority, scheduled_at, id
    LIMIT %(limit)s
)
UPDATE etl_job_queue q
SET status = 'running',
    started_at = coalesce(%(now)s::timestamptz, now()),
    heartbeat_at = coalesce(%(now)s::timestamptz, now()),
    locked_by = %(worker)s
FROM chosen
WHERE q.tenant_id = chosen.tenant_id AND q.id = chosen.id
RETURNING q.tenant_id, q.id, q.run_id, q.etl_job_id, q.integration_id, q.job_type,
          q.entity_type, q.payload, q.priority, q.retry_count, q.max_retries, q.progress

-- name: job_complete_batch
UPDATE etl_job_queue q
SET status = 'completed',
    completed_at = coalesce(%(now)s::timestamptz, now()),
    heartbeat_at = NULL
FROM unnest(%(tenant_ids)s::integer[], %(ids)s::bigint[]) AS d(tenant_id, id)
WHERE q.tenant_id = d.tenant_id AND q.id = d.id
  AND q.status = 'running' AND q.locked_by = %(worker)s
RETURNING q.tenant_id, q.id

-- name: job_complete_one
UPDATE etl_job_queue
SET status = 'completed',
    completed_at = coalesce(%(now)s::timestamptz, now()),
    heartbeat_at = NULL,
    progress = progress || %(progress)s::jsonb
WHERE tenant_id = %(tenant_id)s AND id = %(id)s
  AND status = 'running' AND locked_by = %(worker)s
RETURNING id

-- name: job_fail
-- One failed attempt: back to pending after `delay_seconds`, or dead-lettered when it
-- was permanent or the retries are used up. Every attempt's error is kept. retry_count
-- counts failed attempts in a row without progress: an attempt that committed a
-- checkpoint (job_progress_update) starts the count again at 1, so a long job that keeps
-- advancing is never dead-lettered by failures spread over its pages.
WITH attempt AS (
    SELECT tenant_id, id,
           CASE WHEN (progress->>'checkpoint_at')::timestamptz >= started_at THEN 1
                ELSE retry_count + 1 END AS streak
    FROM etl_job_queue
    WHERE tenant_id = %(tenant_id)s AND id = %(id)s
      AND status = 'running' AND locked_by = %(worker)s
    FOR UPDATE
)
UPDATE etl_job_queue q
SET retry_count = a.streak,
    status = CASE WHEN %(permanent)s OR a.streak > q.max_retries THEN 'failed' ELSE 'pending' END,
    scheduled_at = CASE WHEN %(permanent)s OR a.streak > q.max_retries THEN q.scheduled_at
                        ELSE coalesce(%(now)s::timestamptz, now())
                             + make_interval(secs => %(delay_seconds)s) END,
    completed_at = CASE WHEN %(permanent)s OR a.streak > q.max_retries
                        THEN coalesce(%(now)s::timestamptz, now()) END,
    last_error = %(error)s,
    error_details = q.error_details || jsonb_build_array(jsonb_build_object(
        'attempt', jsonb_array_length(q.error_details) + 1, 'error', %(error)s::text,
        'permanent', %(permanent)s, 'worker', %(worker)s::text,
        'at', coalesce(%(now)s::timestamptz, now()))),
    locked_by = NULL,
    heartbeat_at = NULL
FROM attempt a
WHERE q.tenant_id = a.tenant_id AND q.id = a.id
RETURNING q.status, q.retry_count, q.scheduled_at

-- name: job_heartbeat
UPDATE etl_job_queue q
SET heartbeat_at = coalesce(%(now)s::timestamptz, now())
FROM unnest(%(tenant_ids)s::integer[], %(ids)s::bigint[]) AS d(tenant_id, id)
WHERE q.tenant_id = d.tenant_id AND q.id = d.id
  AND q.status = 'running' AND q.locked_by = %(worker)s

-- name: job_release
-- Give back jobs a stopping worker did not start or finish; not counted as an attempt.
UPDATE etl_job_queue q
SET status = 'pending', started_at = NULL, heartbeat_at = NULL, locked_by = NULL
FROM unnest(%(tenant_ids)s::integer[], %(ids)s::bigint[]) AS d(tenant_id, id)
WHERE q.tenant_id = d.tenant_id AND q.id = d.id
  AND q.status = 'running' AND q.locked_by = %(worker)s
RETURNING q.id

-- name: job_rescue_stalled
-- Running jobs whose heartbeat is older than the timeout go back as a new attempt (one
-- that committed a checkpoint starts the count of attempts without progress again).
WITH stalled AS (
    SELECT tenant_id, id,
           CASE WHEN (progress->>'checkpoint_at')::timestamptz >= started_at THEN 1
                ELSE retry_count + 1 END AS streak
    FROM etl_job_queue
    WHERE status = 'running'
      AND heartbeat_at < coalesce(%(now)s::timestamptz, now())
                         - make_interval(secs => %(timeout_seconds)s)
    FOR UPDATE SKIP LOCKED
)
UPDATE etl_job_queue q
SET retry_count = s.streak,
    status = CASE WHEN s.streak > q.max_retries THEN 'failed' ELSE 'pending' END,
    completed_at = CASE WHEN s.streak > q.max_retries
                        THEN coalesce(%(now)s::timestamptz, now()) END,
    scheduled_at = coalesce(%(now)s::timestamptz, now()),
    last_error = 'heartbeat lost: worker ' || coalesce(q.locked_by, '?') || ' stopped responding',
    error_details = q.error_details || jsonb_build_array(jsonb_build_object(
        'attempt', jsonb_array_length(q.error_details) + 1,
        'error', 'heartbeat lost: worker ' || coalesce(q.locked_by, '?') || ' stopped responding',
        'permanent', false, 'worker', q.locked_by, 'at', coalesce(%(now)s::timestamptz, now()))),
    locked_by = NULL,
    heartbeat_at = NULL
FROM stalled s
WHERE q.tenant_id = s.tenant_id AND q.id = s.id
RETURNING q.tenant_id, q.id, q.status

-- name: job_rescue_orphaned
-- Running jobs of workers that are gone, put back at once instead of after the heartbeat
-- timeout. A worker holds its presence lock (worker_presence_lock) for as long as its
-- claim session lives, and PostgreSQL drops the lock when that session ends (the process
-- was killed, its host died, the server restarted), so a running job whose worker holds
-- no presence lock in this database has no one left to finish it. Counted like a lost
-- heartbeat; `grace_seconds` spares jobs claimed or heartbeated just now.
WITH live AS (
    SELECT l.objid FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.granted
      AND l.classid = (hashtext('sluice.worker')::bigint & 4294967295)::oid
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
),
orphaned AS (
    SELECT q.tenant_id, q.id,
           CASE WHEN (q.progress->>'checkpoint_at')::timestamptz >= q.started_at THEN 1
                ELSE q.retry_count + 1 END AS streak
    FROM etl_job_queue q
    WHERE q.status = 'running'
      AND q.heartbeat_at < coalesce(%(now)s::timestamptz, now())
                           - make_interval(secs => %(grace_seconds)s)
      AND (hashtext(q.locked_by)::bigint & 4294967295)::oid NOT IN (SELECT objid FROM live)
    FOR UPDATE OF q SKIP LOCKED
)
UPDATE etl_job_queue q
SET retry_count = o.streak,
    status = CASE WHEN o.streak > q.max_retries THEN 'failed' ELSE 'pending' END,
    completed_at = CASE WHEN o.streak > q.max_retries
                        THEN coalesce(%(now)s::timestamptz, now()) END,
    scheduled_at = coalesce(%(now)s::timestamptz, now()),
    last_error = 'worker gone: ' || q.locked_by || ' ended its database session',
    error_details = q.error_details || jsonb_build_array(jsonb_build_object(
        'attempt', jsonb_array_length(q.error_details) + 1,
        'error', 'worker gone: ' || q.locked_by || ' ended its database session',
        'permanent', false, 'worker', q.locked_by, 'at', coalesce(%(now)s::timestamptz, now()))),
    locked_by = NULL,
    heartbeat_at = NULL
FROM orphaned o
WHERE q.tenant_id = o.tenant_id AND q.id = o.id
RETURNING q.tenant_id, q.id, q.status

-- name: worker_presence_lock
-- Taken by a worker on its claim connection when it opens, held until the session ends.
SELECT pg_try_advisory_lock(hashtext('sluice.worker'), hashtext(%(worker)s)) AS held

-- name: job_set_status
-- Control: move jobs matching the filters from one set of statuses to another.
UPDATE etl_job_queue
SET status = %(to_status)s,
    completed_at = CASE WHEN %(to_status)s IN ('cancelled', 'failed', 'completed')
                        THEN coalesce(%(now)s::timestamptz, now()) ELSE completed_at END,
    scheduled_at = CASE WHEN %(to_status)s = 'pending'
                        THEN least(scheduled_at, coalesce(%(now)s::timestamptz, now()))
                        ELSE scheduled_at END,
    retry_count = CASE WHEN %(reset_retries)s THEN 0 ELSE retry_count END
WHERE status = ANY (%(from_statuses)s::text[])
  AND (%(tenant_id)s::integer IS NULL OR tenant_id = %(tenant_id)s::integer)
  AND (%(job_type)s::text IS NULL OR job_type = %(job_type)s::text)
  AND (%(run_id)s::bigint IS NULL OR run_id = %(run_id)s::bigint)
  AND (%(job_ids)s::bigint[] IS NULL OR id = ANY (%(job_ids)s::bigint[]))
RETURNING tenant_id, id

-- name: job_progress_update
-- Guarded by the holder: a job rescued from this worker cannot have its checkpoint moved.
-- `checkpoint_at` records that this attempt made progress (see job_fail).
UPDATE etl_job_queue
SET progress = progress || %(progress)s::jsonb
               || jsonb_build_object('checkpoint_at', coalesce(%(now)s::timestamptz, now())),
    heartbeat_at = coalesce(%(now)s::timestamptz, now())
WHERE tenant_id = %(tenant_id)s AND id = %(id)s AND status = 'running'
  AND locked_by = %(worker)s
RETURNING id

-- name: job_get
SELECT * FROM etl_job_queue WHERE tenant_id = %(tenant_id)s AND id = %(id)s

-- name: job_purge_finished
-- Retention: delete finished jobs older than the cutoff, a bounded batch at a time.
WITH old AS (
    SELECT tenant_id, id FROM etl_job_queue
    WHERE status IN ('completed', 'failed', 'cancelled')
      AND completed_at < %(cutoff)s::timestamptz
    ORDER BY completed_at
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
)
DELETE FROM etl_job_queue q USING old
WHERE q.tenant_id = old.tenant_id AND q.id = old.id

-- name: queue_notify
SELECT pg_notify('sluice_queue', %(payload)s)

-- name: queue_overview_all
SELECT tenant, job_type, status, jobs, extract(epoch FROM oldest_pending_age) AS oldest_pending_s
FROM queue_overview ORDER BY tenant, job_type, status

-- name: queue_failed_recent
SELECT tenant, id, run_id, job_type, entity_type, retry_count, last_error, failed_at
FROM queue_failed ORDER BY failed_at DESC NULLS LAST LIMIT %(limit)s

-- name: queue_throughput_recent
SELECT tenant, job_type, minute, completed FROM queue_throughput ORDER BY minute DESC, tenant
