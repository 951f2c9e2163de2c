-- The load stage: COPY into per-session staging tables, then INSERT … ON CONFLICT DO UPDATE.
-- An update happens only when a value differs (loading the same data twice changes no row)
-- and never moves a work item back to an older version of itself.

-- name: load_stage_tables
CREATE TEMP TABLE IF NOT EXISTS stage_wits (
    external_id text, original_name text, description text, hierarchy_level integer,
    subtask boolean) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_projects (
    external_id text, key text, name text, project_type text) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_projects_wits (
    project_external_id text, wit_external_id text) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_statuses (
    external_id text, original_name text, category text, description text) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_repositories (
    external_id text, name text, full_name text, owner text, description text, url text,
    is_private boolean, archived boolean, default_branch text, language text,
    repo_created_at timestamptz, repo_updated_at timestamptz, pushed_at timestamptz)
    ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_work_items (
    external_id text, key text, project_external_id text, wit_external_id text,
    status_external_id text, summary text, description text, priority text, assignee text,
    reporter text, labels text[], story_points numeric, parent_key text, created timestamptz,
    updated timestamptz, resolved timestamptz, due_date date,
    custom_field_01 text, custom_field_02 text, custom_field_03 text, custom_field_04 text,
    custom_field_05 text, custom_field_06 text, custom_field_07 text, custom_field_08 text,
    custom_field_09 text, custom_field_10 text, custom_fields_overflow jsonb,
    work_first_committed_at timestamptz, work_first_started_at timestamptz,
    work_last_started_at timestamptz, work_first_completed_at timestamptz,
    work_last_completed_at timestamptz, total_work_starts integer, total_completions integer,
    total_backlog_returns integer, total_work_time_seconds bigint,
    total_review_time_seconds bigint, cycle_time_seconds bigint, lead_time_seconds bigint,
    time_in_steps jsonb, workflow_complexity_score integer, rework_indicator boolean,
    direct_completion boolean, raw_data_id bigint) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_changelogs (
    external_id text, work_item_external_id text, from_status_external_id text,
    to_status_external_id text, from_status_name text, to_status_name text,
    transition_start_date timestamptz, transition_change_date timestamptz,
    time_in_status_seconds bigint, changed_by text) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_prs (
    external_id text, repository_full_name text, number integer, title text, body text,
    state text, author text, head_branch text, base_branch text, url text,
    pr_created_at timestamptz, pr_updated_at timestamptz, merged_at timestamptz,
    closed_at timestamptz, first_review_at timestamptz, additions integer, deletions integer,
    changed_files integer, commit_count integer, review_count integer, comment_count integer,
    review_thread_count integer, raw_data_id bigint) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_prs_reviews (
    external_id text, pr_external_id text, author text, state text, body text,
    submitted_at timestamptz) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_prs_commits (
    external_id text, pr_external_id text, message text, author_name text, author_email text,
    authored_at timestamptz, committed_at timestamptz, additions integer, deletions integer)
    ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_prs_comments (
    external_id text, pr_external_id text, comment_type text, author text, body text,
    path text, line integer, comment_created_at timestamptz, comment_updated_at timestamptz)
    ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_links (
    work_item_key text, repository_full_name text, pr_number integer, source text)
    ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_loaded_items (id bigint, external_id text, key text)
    ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_loaded_prs (id bigint, external_id text,
    repository_full_name text, number integer) ON COMMIT DELETE ROWS

-- name: load_wits
INSERT INTO wits (tenant_id, integration_id, external_id, original_name, description,
                  hierarchy_level, subtask)
SELECT DISTINCT ON (external_id) %(tenant_id)s, %(integration_id)s, external_id, original_name,
       description, hierarchy_level, subtask
FROM stage_wits ORDER BY external_id
ON CONFLICT (tenant_id, integration_id, external_id) DO UPDATE
SET original_name = EXCLUDED.original_name, description = EXCLUDED.description,
    hierarchy_level = EXCLUDED.hierarchy_level, subtask = EXCLUDED.subtask, updated_at = now()
WHERE (wits.original_name, wits.description, wits.hierarchy_level, wits.subtask)
      IS DISTINCT FROM (EXCLUDED.original_name, EXCLUDED.description, EXCLUDED.hierarchy_level,
                        EXCLUDED.subtask)

-- name: load_projects
INSERT INTO projects (tenant_id, integration_id, external_id, key, name, project_type)
SELECT DISTINCT ON (external_id) %(tenant_id)s, %(integration_id)s, external_id, key, name,
       project_type
FROM stage_projects ORDER BY external_id
ON CONFLICT (tenant_id, integration_id, external_id) DO UPDATE
SET key = EXCLUDED.key, name = EXCLUDED.name, project_type = EXCLUDED.project_type,
    updated_at = now()
WHERE (projects.key, projects.name, projects.project_type)
      IS DISTINCT FROM (EXCLUDED.key, EXCLUDED.name, EXCLUDED.project_type)

-- name: load_projects_wits
INSERT INTO projects_wits (tenant_id, project_id, wit_id)
SELECT DISTINCT %(tenant_id)s, p.id, w.id
FROM stage_projects_wits s
JOIN projects p ON p.tenant_id = %(tenant_id)s AND p.integration_id = %(integration_id)s
               AND p.external_id = s.project_external_id
JOIN wits w ON w.tenant_id = %(tenant_id)s AND w.integration_id = %(integration_id)s
           AND w.external_id = s.wit_external_id
ON CONFLICT DO NOTHING

-- name: load_statuses
INSERT INTO statuses (tenant_id, integration_id, external_id, original_name, category, description)
SELECT DISTINCT ON (external_id) %(tenant_id)s, %(integration_id)s, external_id, original_name,
       category, description
FROM stage_statuses ORDER BY external_id
ON CONFLICT (tenant_id, integration_id, external_id) DO UPDATE
SET original_name = EXCLUDED.original_name, category = EXCLUDED.category,
    description = EXCLUDED.description, updated_at = now()
WHERE (statuses.original_name, statuses.category, statuses.description)
      IS DISTINCT FROM (EXCLUDED.original_name, EXCLUDED.category, EXCLUDED.description)

-- name: load_repositories
INSERT INTO repositories (tenant_id, integration_id, external_id, name, full_name, owner,
                          description, url, is_private, archived, default_branch, language,
                          repo_created_at, repo_updated_at, pushed_at)
SELECT DISTINCT ON (external_id) %(tenant_id)s, %(integration_id)s, external_id, name,
       full_name, owner, description, url, coalesce(is_private, false),
       coalesce(archived, false), default_branch, language, repo_created_at, repo_updated_at,
       pushed_at
FROM stage_repositories ORDER BY external_id, repo_updated_at DESC NULLS LAST
ON CONFLICT (tenant_id, integration_id, external_id) DO UPDATE
SET name = EXCLUDED.name, full_name = EXCLUDED.full_name, owner = EXCLUDED.owner,
    description = EXCLUDED.description, url = EXCLUDED.url, is_private = EXCLUDED.is_private,
    archived = EXCLUDED.archived, default_branch = EXCLUDED.default_branch,
    language = EXCLUDED.language, repo_created_at = EXCLUDED.repo_created_at,
    repo_updated_at = EXCLUDED.repo_updated_at, pushed_at = EXCLUDED.pushed_at, loaded_at = now()
WHERE (repositories.name, repositories.full_name, repositories.owner, repositories.description,
       repositories.url, repositories.is_private, repositories.archived,
       repositories.default_branch, repositories.language, repositories.repo_created_at,
       repositories.repo_updated_at, repositories.pushed_at)
      IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.full_name, EXCLUDED.owner, EXCLUDED.description,
       EXCLUDED.url, EXCLUDED.is_private, EXCLUDED.archived, EXCLUDED.default_branch,
       EXCLUDED.language, EXCLUDED.repo_created_at, EXCLUDED.repo_updated_at, EXCLUDED.pushed_at)

-- name: load_work_items
WITH upserted AS (
    INSERT INTO work_items AS wi (
        tenant_id, integration_id, external_id, key, project_id, wit_id, status_id, summary,
        description, priority, assignee, reporter, labels, story_points, parent_key, created,
        updated, resolved, due_date, custom_field_01, custom_field_02, custom_field_03,
        custom_field_04, custom_field_05, custom_field_06, custom_field_07, custom_field_08,
        custom_field_09, custom_field_10, custom_fields_overflow, work_first_committed_at,
        work_first_started_at, work_last_started_at, work_first_completed_at,
        work_last_completed_at, total_work_starts, total_completions, total_backlog_returns,
        total_work_time_seconds, total_review_time_seconds, cycle_time_seconds,
        lead_time_seconds, time_in_steps, workflow_complexity_score, rework_indicator,
        direct_completion, raw_data_id)
    SELECT DISTINCT ON (s.external_id)
        %(tenant_id)s, %(integration_id)s, s.external_id, s.key, p.id, w.id, st.id, s.summary,
        s.description, s.priority, s.assignee, s.reporter, coalesce(s.labels, '{}'),
        s.story_points, s.parent_key, s.created, s.updated, s.resolved, s.due_date,
        s.custom_field_01, s.custom_field_02, s.custom_field_03, s.custom_field_04,
        s.custom_field_05, s.custom_field_06, s.custom_field_07, s.custom_field_08,
        s.custom_field_09, s.custom_field_10, s.custom_fields_overflow,
        s.work_first_committed_at, s.work_first_started_at, s.work_last_started_at,
        s.work_first_completed_at, s.work_last_completed_at, s.total_work_starts,
        s.total_completions, s.total_backlog_returns, s.total_work_time_seconds,
        s.total_review_time_seconds, s.cycle_time_seconds, s.lead_time_seconds,
        coalesce(s.time_in_steps, '{}'), s.workflow_complexity_score, s.rework_indicator,
        s.direct_completion, s.raw_data_id
    FROM stage_work_items s
    LEFT JOIN projects p ON p.tenant_id = %(tenant_id)s AND p.integration_id = %(integration_id)s
                        AND p.external_id = s.project_external_id
    LEFT JOIN wits w ON w.tenant_id = %(tenant_id)s AND w.integration_id = %(integration_id)s
                    AND w.external_id = s.wit_external_id
    LEFT JOIN statuses st ON st.tenant_id = %(tenant_id)s AND st.integration_id = %(integration_id)s
                         AND st.external_id = s.status_external_id
    ORDER BY s.external_id, s.updated DESC NULLS LAST, s.raw_data_id DESC
    ON CONFLICT (tenant_id, integration_id, external_id) DO UPDATE
    SET key = EXCLUDED.key, project_id = EXCLUDED.project_id, wit_id = EXCLUDED.wit_id,
        status_id = EXCLUDED.status_id, summary = EXCLUDED.summary,
        description = EXCLUDED.description, priority = EXCLUDED.priority,
        assignee = EXCLUDED.assignee, reporter = EXCLUDED.reporter, labels = EXCLUDED.labels,
        story_points = EXCLUDED.story_points, parent_key = EXCLUDED.parent_key,
        created = EXCLUDED.created, updated = EXCLUDED.updated, resolved = EXCLUDED.resolved,
        due_date = EXCLUDED.due_date, custom_field_01 = EXCLUDED.custom_field_01,
        custom_field_02 = EXCLUDED.custom_field_02, custom_field_03 = EXCLUDED.custom_field_03,
        custom_field_04 = EXCLUDED.custom_field_04, custom_field_05 = EXCLUDED.custom_field_05,
        custom_field_06 = EXCLUDED.custom_field_06, custom_field_07 = EXCLUDED.custom_field_07,
        custom_field_08 = EXCLUDED.custom_field_08, custom_field_09 = EXCLUDED.custom_field_09,
        custom_field_10 = EXCLUDED.custom_field_10,
        custom_fields_overflow = EXCLUDED.custom_fields_overflow,
        work_first_committed_at = EXCLUDED.work_first_committed_at,
        work_first_started_at = EXCLUDED.work_first_started_at,
        work_last_started_at = EXCLUDED.work_last_started_at,
        work_first_completed_at = EXCLUDED.work_first_completed_at,
        work_last_completed_at = EXCLUDED.work_last_completed_at,
        total_work_starts = EXCLUDED.total_work_starts,
        total_completions = EXCLUDED.total_completions,
        total_backlog_returns = EXCLUDED.total_backlog_returns,
        total_work_time_seconds = EXCLUDED.total_work_time_seconds,
        total_review_time_seconds = EXCLUDED.total_review_time_seconds,
        cycle_time_seconds = EXCLUDED.cycle_time_seconds,
        lead_time_seconds = EXCLUDED.lead_time_seconds, time_in_steps = EXCLUDED.time_in_steps,
        workflow_complexity_score = EXCLUDED.workflow_complexity_score,
        rework_indicator = EXCLUDED.rework_indicator,
        direct_completion = EXCLUDED.direct_completion, raw_data_id = EXCLUDED.raw_data_id,
        loaded_at = now()
    WHERE (EXCLUDED.updated IS NULL OR wi.updated IS NULL OR EXCLUDED.updated >= wi.updated)
      AND (wi.key, wi.project_id, wi.wit_id, wi.status_id, wi.summary, wi.description,
           wi.priority, wi.assignee, wi.reporter, wi.labels, wi.story_points, wi.parent_key,
           wi.created, wi.updated, wi.resolved, wi.due_date, wi.custom_field_01,
           wi.custom_field_02, wi.custom_field_03, wi.custom_field_04, wi.custom_field_05,
           wi.custom_field_06, wi.custom_field_07, wi.custom_field_08, wi.custom_field_09,
           wi.custom_field_10, wi.custom_fields_overflow, wi.work_first_committed_at,
           wi.work_first_started_at, wi.work_last_started_at, wi.work_first_completed_at,
           wi.work_last_completed_at, wi.total_work_starts, wi.total_completions,
           wi.total_backlog_returns, wi.total_work_time_seconds, wi.total_review_time_seconds,
           wi.cycle_time_seconds, wi.lead_time_seconds, wi.time_in_steps,
           wi.workflow_complexity_score, wi.rework_indicator, wi.direct_completion)
          IS DISTINCT FROM
          (EXCLUDED.key, EXCLUDED.project_id, EXCLUDED.wit_id, EXCLUDED.status_id,
           EXCLUDED.summary, EXCLUDED.description, EXCLUDED.priority, EXCLUDED.assignee,
           EXCLUDED.reporter, EXCLUDED.labels, EXCLUDED.story_points, EXCLUDED.parent_key,
           EXCLUDED.created, EXCLUDED.updated, EXCLUDED.resolved, EXCLUDED.due_date,
           EXCLUDED.custom_field_01, EXCLUDED.custom_field_02, EXCLUDED.custom_field_03,
           EXCLUDED.custom_field_04, EXCLUDED.custom_field_05, EXCLUDED.custom_field_06,
           EXCLUDED.custom_field_07, EXCLUDED.custom_field_08, EXCLUDED.custom_field_09,
           EXCLUDED.custom_field_10, EXCLUDED.custom_fields_overflow,
           EXCLUDED.work_first_committed_at, EXCLUDED.work_first_started_at,
           EXCLUDED.work_last_started_at, EXCLUDED.work_first_completed_at,
           EXCLUDED.work_last_completed_at, EXCLUDED.total_work_starts,
           EXCLUDED.total_completions, EXCLUDED.total_backlog_returns,
           EXCLUDED.total_work_time_seconds, EXCLUDED.total_review_time_seconds,
           EXCLUDED.cycle_time_seconds, EXCLUDED.lead_time_seconds, EXCLUDED.time_in_steps,
           EXCLUDED.workflow_complexity_score, EXCLUDED.rework_indicator,
           EXCLUDED.direct_completion)
    RETURNING wi.id, wi.external_id, wi.key
)
INSERT INTO stage_loaded_items (id, external_id, key)
SELECT id, external_id, key FROM upserted

-- name: load_changelogs_delete_stale
-- A reloaded work item keeps exactly the transitions of its newest version.
DELETE FROM changelogs c
USING stage_loaded_items li
WHERE c.tenant_id = %(tenant_id)s AND c.work_item_id = li.id
  AND NOT EXISTS (SELECT 1 FROM stage_changelogs s
                  WHERE s.work_item_external_id = li.external_id
                    AND s.work_item_external_id || '/' || s.external_id = c.external_id)

-- name: load_changelogs
INSERT INTO changelogs AS c (tenant_id, integration_id, work_item_id, external_id,
                        from_status_id, to_status_id, from_status_name, to_status_name,
                        transition_start_date, transition_change_date,
                        time_in_status_seconds, changed_by)
SELECT DISTINCT ON (s.work_item_external_id, s.external_id)
       %(tenant_id)s, %(integration_id)s, li.id, s.work_item_external_id || '/' || s.external_id,
       fs.id, ts.id, s.from_status_name, s.to_status_name, s.transition_start_date,
       s.transition_change_date, s.time_in_status_seconds, s.changed_by
FROM stage_changelogs s
JOIN stage_loaded_items li ON li.external_id = s.work_item_external_id
LEFT JOIN statuses fs ON fs.tenant_id = %(tenant_id)s AND fs.integration_id = %(integration_id)s
                     AND fs.external_id = s.from_status_external_id
LEFT JOIN statuses ts ON ts.tenant_id = %(tenant_id)s AND ts.integration_id = %(integration_id)s
                     AND ts.external_id = s.to_status_external_id
ORDER BY s.work_item_external_id, s.external_id
ON CONFLICT (tenant_id, integration_id, external_id) DO UPDATE
SET work_item_id = EXCLUDED.work_item_id, from_status_id = EXCLUDED.from_status_id,
    to_status_id = EXCLUDED.to_status_id, from_status_name = EXCLUDED.from_status_name,
    to_status_name = EXCLUDED.to_status_name,
    transition_start_date = EXCLUDED.transition_start_date,
    transition_change_date = EXCLUDED.transition_change_date,
    time_in_status_seconds = EXCLUDED.time_in_status_seconds, changed_by = EXCLUDED.changed_by
WHERE (c.work_item_id, c.from_status_id, c.to_status_id, c.from_status_name, c.to_status_name,
       c.transition_start_date, c.transition_change_date, c.time_in_status_seconds,
       c.changed_by)
      IS DISTINCT FROM (EXCLUDED.work_item_id, EXCLUDED.from_status_id, EXCLUDED.to_status_id,
       EXCLUDED.from_status_name, EXCLUDED.to_status_name, EXCLUDED.transition_start_date,
       EXCLUDED.transition_change_date, EXCLUDED.time_in_status_seconds, EXCLUDED.changed_by)

-- name: load_prs
WITH upserted AS (
    INSERT INTO prs AS pr (tenant_id, integration_id, external_id, repository_id,
                     repository_full_name, number, title, body, state, author, head_branch,
                     base_branch, url, pr_created_at, pr_updated_at, merged_at, closed_at,
                     first_review_at, additions, deletions, changed_files, commit_count,
                     review_count, comment_count, review_thread_count, raw_data_id)
    SELECT DISTINCT ON (s.external_id)
           %(tenant_id)s, %(integration_id)s, s.external_id, r.id, s.repository_full_name,
           s.number, s.title, s.body, s.state, s.author, s.head_branch, s.base_branch, s.url,
           s.pr_created_at, s.pr_updated_at, s.merged_at, s.closed_at, s.first_review_at,
           s.additions, s.deletions, s.changed_files, s.commit_count, s.review_count,
           s.comment_count, s.review_thread_count, s.raw_data_id
    FROM stage_prs s
    LEFT JOIN repositories r ON r.tenant_id = %(tenant_id)s
                            AND r.integration_id = %(integration_id)s
                            AND lower(r.full_name) = lower(s.repository_full_name)
    ORDER BY s.external_id, s.pr_updated_at DESC NULLS LAST, s.raw_data_id DESC
    ON CONFLICT (tenant_id, integration_id, external_id) DO UPDATE
    SET repository_id = EXCLUDED.repository_id,
        repository_full_name = EXCLUDED.repository_full_name, number = EXCLUDED.number,
        title = EXCLUDED.title, body = EXCLUDED.body, state = EXCLUDED.state,
        author = EXCLUDED.author, head_branch = EXCLUDED.head_branch,
        base_branch = EXCLUDED.base_branch, url = EXCLUDED.url,
        pr_created_at = EXCLUDED.pr_created_at, pr_updated_at = EXCLUDED.pr_updated_at,
        merged_at = EXCLUDED.merged_at, closed_at = EXCLUDED.closed_at,
        first_review_at = EXCLUDED.first_review_at, additions = EXCLUDED.additions,
        deletions = EXCLUDED.deletions, changed_files = EXCLUDED.changed_files,
        commit_count = EXCLUDED.commit_count, review_count = EXCLUDED.review_count,
        comment_count = EXCLUDED.comment_count,
        review_thread_count = EXCLUDED.review_thread_count, raw_data_id = EXCLUDED.raw_data_id,
        loaded_at = now()
    WHERE (EXCLUDED.pr_updated_at IS NULL OR pr.pr_updated_at IS NULL
           OR EXCLUDED.pr_updated_at >= pr.pr_updated_at)
      AND (pr.repository_id, pr.repository_full_name, pr.number, pr.title, pr.body, pr.state,
           pr.author, pr.head_branch, pr.base_branch, pr.url, pr.pr_created_at,
           pr.pr_updated_at, pr.merged_at, pr.closed_at, pr.first_review_at, pr.additions,
           pr.deletions, pr.changed_files, pr.commit_count, pr.review_count, pr.comment_count,
           pr.review_thread_count)
          IS DISTINCT FROM
          (EXCLUDED.repository_id, EXCLUDED.repository_full_name, EXCLUDED.number,
           EXCLUDED.title, EXCLUDED.body, EXCLUDED.state, EXCLUDED.author, EXCLUDED.head_branch,
           EXCLUDED.base_branch, EXCLUDED.url, EXCLUDED.pr_created_at, EXCLUDED.pr_updated_at,
           EXCLUDED.merged_at, EXCLUDED.closed_at, EXCLUDED.first_review_at,
           EXCLUDED.additions, EXCLUDED.deletions, EXCLUDED.changed_files,
           EXCLUDED.commit_count, EXCLUDED.review_count, EXCLUDED.comment_count,
           EXCLUDED.review_thread_count)
    RETURNING pr.id, pr.external_id, pr.repository_full_name, pr.number
)
INSERT INTO stage_loaded_prs (id, external_id, repository_full_name, number)
SELECT id, external_id, repository_full_name, number FROM upserted

-- name: load_prs_reviews_delete_stale
-- A reloaded pull request keeps exactly the reviews, commits and comments of its new version.
DELETE FROM prs_reviews c USING stage_loaded_prs lp
WHERE c.tenant_id = %(tenant_id)s AND c.pr_id = lp.id
  AND NOT EXISTS (SELECT 1 FROM stage_prs_reviews s
                  WHERE s.pr_external_id = lp.external_id AND s.external_id = c.external_id)

-- name: load_prs_commits_delete_stale
DELETE FROM prs_commits c USING stage_loaded_prs lp
WHERE c.tenant_id = %(tenant_id)s AND c.pr_id = lp.id
  AND NOT EXISTS (SELECT 1 FROM stage_prs_commits s
                  WHERE s.pr_external_id = lp.external_id AND s.external_id = c.external_id)

-- name: load_prs_comments_delete_stale
DELETE FROM prs_comments c USING stage_loaded_prs lp
WHERE c.tenant_id = %(tenant_id)s AND c.pr_id = lp.id
  AND NOT EXISTS (SELECT 1 FROM stage_prs_comments s
                  WHERE s.pr_external_id = lp.external_id AND s.external_id = c.external_id)

-- name: load_prs_reviews
INSERT INTO prs_reviews AS c (tenant_id, integration_id, pr_id, external_id, author, state, body,
                              submitted_at)
SELECT DISTINCT ON (s.external_id) %(tenant_id)s, %(integration_id)s, lp.id, s.external_id,
       s.author, s.state, s.body, s.submitted_at
FROM stage_prs_reviews s JOIN stage_loaded_prs lp ON lp.external_id = s.pr_external_id
ORDER BY s.external_id
ON CONFLICT (tenant_id, integration_id, external_id) DO UPDATE
SET pr_id = EXCLUDED.pr_id, author = EXCLUDED.author, state = EXCLUDED.state,
    body = EXCLUDED.body, submitted_at = EXCLUDED.submitted_at
WHERE (c.pr_id, c.author, c.state, c.body, c.submitted_at) IS DISTINCT FROM
      (EXCLUDED.pr_id, EXCLUDED.author, EXCLUDED.state, EXCLUDED.body, EXCLUDED.submitted_at)

-- name: load_prs_commits
INSERT INTO prs_commits AS c (tenant_id, integration_id, pr_id, external_id, message, author_name,
                              author_email, authored_at, committed_at, additions, deletions)
SELECT DISTINCT ON (lp.id, s.external_id) %(tenant_id)s, %(integration_id)s, lp.id,
       s.external_id, s.message, s.author_name, s.author_email, s.authored_at, s.committed_at,
       s.additions, s.deletions
FROM stage_prs_commits s JOIN stage_loaded_prs lp ON lp.external_id = s.pr_external_id
ORDER BY lp.id, s.external_id
ON CONFLICT (tenant_id, integration_id, pr_id, external_id) DO UPDATE
SET message = EXCLUDED.message, author_name = EXCLUDED.author_name,
    author_email = EXCLUDED.author_email, authored_at = EXCLUDED.authored_at,
    committed_at = EXCLUDED.committed_at, additions = EXCLUDED.additions,
    deletions = EXCLUDED.deletions
WHERE (c.message, c.author_name, c.author_email, c.authored_at, c.committed_at, c.additions,
       c.deletions) IS DISTINCT FROM
      (EXCLUDED.message, EXCLUDED.author_name, EXCLUDED.author_email, EXCLUDED.authored_at,
       EXCLUDED.committed_at, EXCLUDED.additions, EXCLUDED.deletions)

-- name: load_prs_comments
INSERT INTO prs_comments AS c (tenant_id, integration_id, pr_id, external_id, comment_type,
                               author, body, path, line, comment_created_at, comment_updated_at)
SELECT DISTINCT ON (s.external_id) %(tenant_id)s, %(integration_id)s, lp.id, s.external_id,
       s.comment_type, s.author, s.body, s.path, s.line, s.comment_created_at,
       s.comment_updated_at
FROM stage_prs_comments s JOIN stage_loaded_prs lp ON lp.external_id = s.pr_external_id
ORDER BY s.external_id
ON CONFLICT (tenant_id, integration_id, external_id) DO UPDATE
SET pr_id = EXCLUDED.pr_id, comment_type = EXCLUDED.comment_type, author = EXCLUDED.author,
    body = EXCLUDED.body, path = EXCLUDED.path, line = EXCLUDED.line,
    comment_created_at = EXCLUDED.comment_created_at,
    comment_updated_at = EXCLUDED.comment_updated_at
WHERE (c.pr_id, c.comment_type, c.author, c.body, c.path, c.line, c.comment_created_at,
       c.comment_updated_at) IS DISTINCT FROM
      (EXCLUDED.pr_id, EXCLUDED.comment_type, EXCLUDED.author, EXCLUDED.body, EXCLUDED.path,
       EXCLUDED.line, EXCLUDED.comment_created_at, EXCLUDED.comment_updated_at)

-- name: load_links_delete_stale
-- A reloaded pull request's pattern links are exactly the keys its new text names.
DELETE FROM work_item_pr_links l USING stage_loaded_prs lp
WHERE l.tenant_id = %(tenant_id)s AND l.source = 'pattern'
  AND lower(l.repository_full_name) = lower(lp.repository_full_name) AND l.pr_number = lp.number
  AND NOT EXISTS (SELECT 1 FROM stage_links s
                  WHERE s.source = 'pattern' AND s.work_item_key = l.work_item_key
                    AND lower(s.repository_full_name) = lower(l.repository_full_name)
                    AND s.pr_number = l.pr_number)

-- name: load_links
INSERT INTO work_item_pr_links AS l (tenant_id, work_item_key, repository_full_name, pr_number,
                                     source, work_item_id, pr_id)
SELECT DISTINCT ON (s.work_item_key, lower(s.repository_full_name), s.pr_number, s.source)
       %(tenant_id)s, s.work_item_key, s.repository_full_name, s.pr_number, s.source,
       (SELECT w.id FROM work_items w
        WHERE w.tenant_id = %(tenant_id)s AND w.key = s.work_item_key ORDER BY w.id LIMIT 1),
       (SELECT p.id FROM prs p
        WHERE p.tenant_id = %(tenant_id)s
          AND lower(p.repository_full_name) = lower(s.repository_full_name)
          AND p.number = s.pr_number ORDER BY p.id LIMIT 1)
FROM stage_links s
ORDER BY s.work_item_key, lower(s.repository_full_name), s.pr_number, s.source
ON CONFLICT (tenant_id, work_item_key, lower(repository_full_name), pr_number, source)
DO UPDATE SET work_item_id = coalesce(EXCLUDED.work_item_id, l.work_item_id),
              pr_id = coalesce(EXCLUDED.pr_id, l.pr_id)
WHERE (l.work_item_id, l.pr_id) IS DISTINCT FROM
      (coalesce(EXCLUDED.work_item_id, l.work_item_id), coalesce(EXCLUDED.pr_id, l.pr_id))

-- name: load_links_resolve_items
-- Links that arrived before their work item or pull request find them now.
UPDATE work_item_pr_links l SET work_item_id = li.id
FROM stage_loaded_items li
WHERE l.tenant_id = %(tenant_id)s AND l.work_item_key = li.key
  AND l.work_item_id IS DISTINCT FROM li.id

-- name: load_links_resolve_prs
UPDATE work_item_pr_links l SET pr_id = lp.id
FROM stage_loaded_prs lp
WHERE l.tenant_id = %(tenant_id)s AND lower(l.repository_full_name) = lower(lp.repository_full_name)
  AND l.pr_number = lp.number AND l.pr_id IS DISTINCT FROM lp.id

-- name: load_loaded_ids
SELECT (SELECT coalesce(array_agg(id), '{}') FROM stage_loaded_items) AS work_item_ids,
       (SELECT coalesce(array_agg(id), '{}') FROM stage_loaded_prs) AS pr_ids

-- name: load_payload_release
-- The batch is in the final tables now; keep the queue row small.
UPDATE etl_job_queue SET payload = payload - 'tables'
WHERE tenant_id = %(tenant_id)s AND id = %(id)s

-- name: load_links_lock
-- Link writes and resolutions of one tenant take turns: a link inserted while its pull
-- request's load is in flight is then always seen by that load's resolution, or sees it.
SELECT pg_advisory_xact_lock(7357, %(tenant_id)s)

-- name: load_projects_new_keys
-- Staged project keys the tenant does not know yet: pull requests may already name them.
SELECT DISTINCT s.key FROM stage_projects s
WHERE NOT EXISTS (SELECT 1 FROM projects p
                  WHERE p.tenant_id = %(tenant_id)s AND p.key = s.key AND p.active)
ORDER BY s.key

-- name: project_keys_lock
-- A load that adds project keys and the transforms that read them (pattern links) take
-- turns: a transform reads the keys under the shared lock (project_keys_lock_shared), so
-- once this lock is granted every pull request transformed with the old keys is committed
-- and visible to raw_pull_requests_to_relink, and every later one reads the new keys.
SELECT pg_advisory_xact_lock(7358, %(tenant_id)s)

-- name: project_keys_lock_shared
SELECT pg_advisory_xact_lock_shared(7358, %(tenant_id)s)

-- name: raw_pull_requests_to_relink
-- The newest stored version of each pull request already transformed whose text may name
-- one of the new keys: its pattern links were computed without them. (A superset: the
-- transform applies the precise rule.)
SELECT id FROM (
    SELECT DISTINCT ON (integration_id, external_id) id, processing_status, raw_data
    FROM raw_extraction_data
    WHERE tenant_id = %(tenant_id)s AND entity_type = 'github_pull_request'
    ORDER BY integration_id, external_id, id DESC
) newest
WHERE processing_status IN ('transformed', 'loaded')
  AND EXISTS (SELECT 1 FROM unnest(%(keys)s::text[]) AS k(key)
              WHERE concat_ws(' ', newest.raw_data->>'title', newest.raw_data->>'headRefName',
                              newest.raw_data->>'body') LIKE '%%' || k.key || '-%%')
ORDER BY id
