-- The sandbox audit (app/sandbox/audit.py): what a database holds after a sync, read by
-- the database owner across tenants. Used by the crash and fault tests and the chaos
-- benchmark, never by the pipeline itself.

-- name: audit_final_rows
SELECT (SELECT count(*) FROM work_items) AS work_items,
       (SELECT count(*) FROM changelogs) AS changelogs,
       (SELECT count(*) FROM projects) AS projects,
       (SELECT count(*) FROM statuses) AS statuses,
       (SELECT count(*) FROM wits) AS wits,
       (SELECT count(*) FROM repositories) AS repositories,
       (SELECT count(*) FROM prs) AS prs,
       (SELECT count(*) FROM prs_reviews) AS prs_reviews,
       (SELECT count(*) FROM prs_commits) AS prs_commits,
       (SELECT count(*) FROM prs_comments) AS prs_comments,
       (SELECT count(*) FROM work_item_pr_links) AS work_item_pr_links

-- name: audit_duplicate_keys
-- Natural keys held by more than one row: the business identity of each record (an issue
-- key, a repository and PR number, a commit of a PR), not only the unique constraints.
SELECT 'work_items' AS table_name, count(*) AS keys FROM (
    SELECT 1 FROM work_items GROUP BY tenant_id, integration_id, key HAVING count(*) > 1) d
UNION ALL
SELECT 'changelogs', count(*) FROM (
    SELECT 1 FROM changelogs GROUP BY tenant_id, integration_id, external_id
    HAVING count(*) > 1) d
UNION ALL
SELECT 'projects', count(*) FROM (
    SELECT 1 FROM projects GROUP BY tenant_id, integration_id, key HAVING count(*) > 1) d
UNION ALL
SELECT 'statuses', count(*) FROM (
    SELECT 1 FROM statuses GROUP BY tenant_id, integration_id, external_id
    HAVING count(*) > 1) d
UNION ALL
SELECT 'wits', count(*) FROM (
    SELECT 1 FROM wits GROUP BY tenant_id, integration_id, external_id HAVING count(*) > 1) d
UNION ALL
SELECT 'repositories', count(*) FROM (
    SELECT 1 FROM repositories GROUP BY tenant_id, integration_id, lower(full_name)
    HAVING count(*) > 1) d
UNION ALL
SELECT 'prs', count(*) FROM (
    SELECT 1 FROM prs GROUP BY tenant_id, integration_id, lower(repository_full_name), number
    HAVING count(*) > 1) d
UNION ALL
SELECT 'prs_reviews', count(*) FROM (
    SELECT 1 FROM prs_reviews GROUP BY tenant_id, integration_id, external_id
    HAVING count(*) > 1) d
UNION ALL
SELECT 'prs_commits', count(*) FROM (
    SELECT 1 FROM prs_commits GROUP BY tenant_id, integration_id, pr_id, external_id
    HAVING count(*) > 1) d
UNION ALL
SELECT 'prs_comments', count(*) FROM (
    SELECT 1 FROM prs_comments GROUP BY tenant_id, integration_id, external_id
    HAVING count(*) > 1) d
UNION ALL
SELECT 'work_item_pr_links', count(*) FROM (
    SELECT 1 FROM work_item_pr_links
    GROUP BY tenant_id, work_item_key, lower(repository_full_name), pr_number, source
    HAVING count(*) > 1) d

-- name: audit_unresolved_links
SELECT count(*) AS n FROM work_item_pr_links WHERE work_item_id IS NULL OR pr_id IS NULL

-- name: audit_raw_by_status
SELECT processing_status AS status, count(*) AS n FROM raw_extraction_data GROUP BY 1

-- name: audit_jobs_by_status
SELECT status, count(*) AS n FROM etl_job_queue GROUP BY 1

-- name: audit_runs_by_status
SELECT status, count(*) AS n FROM etl_runs GROUP BY 1
