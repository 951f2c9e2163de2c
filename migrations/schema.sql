-- Sluice schema, as `sluice db schema` prints it. Do not edit by hand.

TABLE api_tokens -- row level security (forced)
    tenant_id integer NOT NULL
    id bigint NOT NULL IDENTITY
    user_id bigint NOT NULL
    name text NOT NULL
    token_prefix text NOT NULL
    token_hash text NOT NULL
    role text NOT NULL
    created_at timestamp with time zone NOT NULL DEFAULT now()
    last_used_at timestamp with time zone
    expires_at timestamp with time zone
    revoked_at timestamp with time zone

TABLE changelogs -- row level security (forced)
    tenant_id integer NOT NULL
    id bigint NOT NULL IDENTITY
    integration_id bigint NOT NULL
    work_item_id bigint NOT NULL
    external_id text NOT NULL
    from_status_id bigint
    to_status_id bigint
    from_status_name text
    to_status_name text
    transition_start_date timestamp with time zone
    transition_change_date timestamp with time zone NOT NULL
    time_in_status_seconds bigint
    changed_by text

TABLE etl_job_queue -- row level security (forced)
    tenant_id integer NOT NULL
    id bigint NOT NULL IDENTITY
    run_id bigint
    etl_job_id bigint
    integration_id bigint
    job_type text NOT NULL
    entity_type text NOT NULL DEFAULT ''::text
    payload jsonb NOT NULL DEFAULT '{}'::jsonb
    priority smallint NOT NULL DEFAULT 5
    status text NOT NULL DEFAULT 'pending'::text
    scheduled_at timestamp with time zone NOT NULL DEFAULT now()
    created_at timestamp with time zone NOT NULL DEFAULT now()
    started_at timestamp with time zone
    completed_at timestamp with time zone
    heartbeat_at timestamp with time zone
    locked_by text
    progress jsonb NOT NULL DEFAULT '{}'::jsonb
    error_details jsonb NOT NULL DEFAULT '[]'::jsonb
    last_error text
    retry_count integer NOT NULL DEFAULT 0
    max_retries integer NOT NULL DEFAULT 5

TABLE etl_jobs -- row level security (forced)
    tenant_id integer NOT NULL
    id bigint NOT NULL IDENTITY
    job_name text NOT NULL
    provider text NOT NULL
    integration_id bigint
    execution_order integer NOT NULL
    status text NOT NULL DEFAULT 'READY'::text
    active boolean NOT NULL DEFAULT true
    checkpoint_data jsonb NOT NULL DEFAULT '{}'::jsonb
    last_run_started_at timestamp with time zone
    last_success_at timestamp with time zone
    next_run_at timestamp with time zone
    retry_count integer NOT NULL DEFAULT 0
    error_message text
    created_at timestamp with time zone NOT NULL DEFAULT now()
    updated_at timestamp with time zone NOT NULL DEFAULT now()

TABLE etl_runs -- row level security (forced)
    tenant_id integer NOT NULL
    id bigint NOT NULL IDENTITY
    etl_job_id bigint
    integration_id bigint
    status text NOT NULL DEFAULT 'running'::text
    trigger text NOT NULL DEFAULT 'schedule'::text
    triggered_by text
    started_at timestamp with time zone NOT NULL DEFAULT now()
    finished_at timestamp with time zone
    stats jsonb NOT NULL DEFAULT '{}'::jsonb
    error_message text

TABLE extraction_watermarks -- row level security (forced)
    tenant_id integer NOT NULL
    integration_id bigint NOT NULL
    entity_type text NOT NULL
    watermark timestamp with time zone NOT NULL
    updated_at timestamp with time zone NOT NULL DEFAULT now()

TABLE integrations -- row level security (forced)
    tenant_id integer NOT NULL
    id bigint NOT NULL IDENTITY
    provider text NOT NULL
    name text NOT NULL
    base_url text NOT NULL
    username text
    credentials bytea
    base_search text
    settings jsonb NOT NULL DEFAULT '{}'::jsonb
    active boolean NOT NULL DEFAULT true
    last_sync_at timestamp with time zone
    created_at timestamp with time zone NOT NULL DEFAULT now()
    updated_at timestamp with time zone NOT NULL DEFAULT now()

TABLE job_logs -- row level security (forced)
    tenant_id integer NOT NULL
    id bigint NOT NULL IDENTITY
    run_id bigint
    etl_job_id bigint
    queue_job_id bigint
    level text NOT NULL
    message text NOT NULL
    context jsonb NOT NULL DEFAULT '{}'::jsonb
    actor text
    created_at timestamp with time zone NOT NULL DEFAULT now()

TABLE migration_history
    component text NOT NULL
    version text NOT NULL
    name text NOT NULL
    applied_at timestamp with time zone NOT NULL DEFAULT now()

TABLE projects -- row level security (forced)
    tenant_id integer NOT NULL
    id bigint NOT NULL IDENTITY
    integration_id bigint NOT NULL
    external_id text NOT NULL
    key text NOT NULL
    name text NOT NULL
    project_type text
    active boolean NOT NULL DEFAULT true
    created_at timestamp with time zone NOT NULL DEFAULT now()
    updated_at timestamp with time zone NOT NULL DEFAULT now()

TABLE projects_statuses -- row level security (forced)
    tenant_id integer NOT NULL
    project_id bigint NOT NULL
    status_id bigint NOT NULL

TABLE projects_wits -- row level security (forced)
    tenant_id integer NOT NULL
    project_id bigint NOT NULL
    wit_id bigint NOT NULL

TABLE prs -- row level security (forced)
    tenant_id integer NOT NULL
    id bigint NOT NULL IDENTITY
    integration_id bigint NOT NULL
    external_id text NOT NULL
    repository_id bigint
    repository_full_name text NOT NULL
    number integer NOT NULL
    title text
    body text
    state text NOT NULL
    author text
    head_branch text
    base_branch text
    url text
    pr_created_at timestamp with time zone
    pr_updated_at timestamp with time zone
    merged_at timestamp with time zone
    closed_at timestamp with time zone
    first_review_at timestamp with time zone
    additions integer
    deletions integer
    changed_files integer
    commit_count integer NOT NULL DEFAULT 0
    review_count integer NOT NULL DEFAULT 0
    comment_count integer NOT NULL DEFAULT 0
    review_thread_count integer NOT NULL DEFAULT 0
    raw_data_id bigint
    loaded_at timestamp with time zone NOT NULL DEFAULT now()

TABLE prs_comments -- row level security (forced)
    tenant_id integer NOT NULL
    id bigint NOT NULL IDENTITY
    integration_id bigint NOT NULL
    pr_id bigint NOT NULL
    external_id text NOT NULL
    comment_type text NOT NULL
    author text
    body text
    path text
    line integer
    comment_created_at timestamp with time zone
    comment_updated_at timestamp with time zone

TABLE prs_commits -- row level security (forced)
    tenant_id integer NOT NULL
    id bigint NOT NULL IDENTITY
    integration_id bigint NOT NULL
    pr_id bigint NOT NULL
    external_id text NOT NULL
    message text
    author_name text
    author_email text
    authored_at timestamp with time zone
    committed_at timestamp with time zone
    additions integer
    deletions integer

TABLE prs_reviews -- row level security (forced)
    tenant_id integer NOT NULL
    id bigint NOT NULL IDENTITY
    integration_id bigint NOT NULL
    pr_id bigint NOT NULL
    external_id text NOT NULL
    author text
    state text
    body text
    submitted_at timestamp with time zone

VIEW queue_failed
    tenant_id integer
    tenant text
    id bigint
    run_id bigint
    job_type text
    entity_type text
    retry_count integer
    max_retries integer
    last_error text
    failed_at timestamp with time zone
    payload jsonb

VIEW queue_overview
    tenant_id integer
    tenant text
    job_type text
    status text
    jobs bigint
    oldest_pending_age interval

VIEW queue_throughput
    tenant_id integer
    tenant text
    job_type text
    minute timestamp with time zone
    completed bigint

TABLE raw_extraction_data -- row level security (forced)
    tenant_id integer NOT NULL
    id bigint NOT NULL IDENTITY
    integration_id bigint NOT NULL
    run_id bigint
    entity_type text NOT NULL
    external_id text
    raw_data jsonb NOT NULL
    extraction_metadata jsonb NOT NULL DEFAULT '{}'::jsonb
    processing_status text NOT NULL DEFAULT 'pending'::text
    error_details jsonb
    created_at timestamp with time zone NOT NULL DEFAULT now()
    processed_at timestamp with time zone

TABLE repositories -- row level security (forced)
    tenant_id integer NOT NULL
    id bigint NOT NULL IDENTITY
    integration_id bigint NOT NULL
    external_id text NOT NULL
    name text NOT NULL
    full_name text NOT NULL
    owner text
    description text
    url text
    is_private boolean NOT NULL DEFAULT false
    archived boolean NOT NULL DEFAULT false
    default_branch text
    language text
    repo_created_at timestamp with time zone
    repo_updated_at timestamp with time zone
    pushed_at timestamp with time zone
    loaded_at timestamp with time zone NOT NULL DEFAULT now()

TABLE statuses -- row level security (forced)
    tenant_id integer NOT NULL
    id bigint NOT NULL IDENTITY
    integration_id bigint NOT NULL
    external_id text NOT NULL
    original_name text NOT NULL
    category text NOT NULL
    description text
    created_at timestamp with time zone NOT NULL DEFAULT now()
    updated_at timestamp with time zone NOT NULL DEFAULT now()

TABLE statuses_mappings -- row level security (forced)
    tenant_id integer NOT NULL
    id bigint NOT NULL IDENTITY
    integration_id bigint
    status_from text NOT NULL
    workflow_id bigint NOT NULL
    active boolean NOT NULL DEFAULT true

TABLE system_settings -- row level security (forced)
    tenant_id integer NOT NULL
    id bigint NOT NULL IDENTITY
    setting_key text NOT NULL
    setting_value jsonb NOT NULL
    setting_type text NOT NULL
    description text NOT NULL DEFAULT ''::text
    updated_at timestamp with time zone NOT NULL DEFAULT now()
    updated_by text

TABLE tenants -- row level security (forced)
    id integer NOT NULL IDENTITY
    name text NOT NULL
    tier text NOT NULL
    active boolean NOT NULL DEFAULT true
    created_at timestamp with time zone NOT NULL DEFAULT now()
    updated_at timestamp with time zone NOT NULL DEFAULT now()

TABLE user_sessions -- row level security (forced)
    tenant_id integer NOT NULL
    id bigint NOT NULL IDENTITY
    user_id bigint NOT NULL
    token_hash text NOT NULL
    created_at timestamp with time zone NOT NULL DEFAULT now()
    expires_at timestamp with time zone NOT NULL
    revoked_at timestamp with time zone

TABLE users -- row level security (forced)
    tenant_id integer NOT NULL
    id bigint NOT NULL IDENTITY
    email text NOT NULL
    display_name text NOT NULL DEFAULT ''::text
    role text NOT NULL
    password_hash text NOT NULL
    active boolean NOT NULL DEFAULT true
    failed_logins integer NOT NULL DEFAULT 0
    locked_until timestamp with time zone
    last_login_at timestamp with time zone
    created_at timestamp with time zone NOT NULL DEFAULT now()
    updated_at timestamp with time zone NOT NULL DEFAULT now()

TABLE wits -- row level security (forced)
    tenant_id integer NOT NULL
    id bigint NOT NULL IDENTITY
    integration_id bigint NOT NULL
    external_id text NOT NULL
    original_name text NOT NULL
    description text
    hierarchy_level integer NOT NULL DEFAULT 0
    subtask boolean NOT NULL DEFAULT false
    created_at timestamp with time zone NOT NULL DEFAULT now()
    updated_at timestamp with time zone NOT NULL DEFAULT now()

TABLE wits_hierarchies -- row level security (forced)
    tenant_id integer NOT NULL
    id bigint NOT NULL IDENTITY
    level_number integer NOT NULL
    level_name text NOT NULL
    description text

TABLE wits_mappings -- row level security (forced)
    tenant_id integer NOT NULL
    id bigint NOT NULL IDENTITY
    integration_id bigint
    wit_from text NOT NULL
    wit_to text NOT NULL
    hierarchy_level integer NOT NULL

TABLE work_item_pr_links -- row level security (forced)
    tenant_id integer NOT NULL
    id bigint NOT NULL IDENTITY
    work_item_key text NOT NULL
    repository_full_name text NOT NULL
    pr_number integer NOT NULL
    source text NOT NULL
    work_item_id bigint
    pr_id bigint
    created_at timestamp with time zone NOT NULL DEFAULT now()

TABLE work_items -- row level security (forced)
    tenant_id integer NOT NULL
    id bigint NOT NULL IDENTITY
    integration_id bigint NOT NULL
    external_id text NOT NULL
    key text NOT NULL
    project_id bigint
    wit_id bigint
    status_id bigint
    summary text
    description text
    priority text
    assignee text
    reporter text
    labels text[] NOT NULL DEFAULT '{}'::text[]
    story_points numeric
    parent_key text
    created timestamp with time zone
    updated timestamp with time zone
    resolved timestamp with time zone
    due_date date
    custom_field_01 text
    custom_field_02 text
    custom_field_03 text
    custom_field_04 text
    custom_field_05 text
    custom_field_06 text
    custom_field_07 text
    custom_field_08 text
    custom_field_09 text
    custom_field_10 text
    custom_fields_overflow jsonb
    work_first_committed_at timestamp with time zone
    work_first_started_at timestamp with time zone
    work_last_started_at timestamp with time zone
    work_first_completed_at timestamp with time zone
    work_last_completed_at timestamp with time zone
    total_work_starts integer NOT NULL DEFAULT 0
    total_completions integer NOT NULL DEFAULT 0
    total_backlog_returns integer NOT NULL DEFAULT 0
    total_work_time_seconds bigint
    total_review_time_seconds bigint
    cycle_time_seconds bigint
    lead_time_seconds bigint
    time_in_steps jsonb NOT NULL DEFAULT '{}'::jsonb
    workflow_complexity_score integer NOT NULL DEFAULT 0
    rework_indicator boolean NOT NULL DEFAULT false
    direct_completion boolean NOT NULL DEFAULT false
    raw_data_id bigint
    loaded_at timestamp with time zone NOT NULL DEFAULT now()

TABLE workflows -- row level security (forced)
    tenant_id integer NOT NULL
    id bigint NOT NULL IDENTITY
    integration_id bigint
    step_name text NOT NULL
    step_number integer NOT NULL
    step_category text NOT NULL
    is_commitment_point boolean NOT NULL DEFAULT false
    active boolean NOT NULL DEFAULT true

-- constraints
api_tokens.api_tokens_created_at_not_null: NOT NULL created_at
api_tokens.api_tokens_id_not_null: NOT NULL id
api_tokens.api_tokens_name_not_null: NOT NULL name
api_tokens.api_tokens_pkey: PRIMARY KEY (tenant_id, id)
api_tokens.api_tokens_role_check: CHECK ((role = ANY (ARRAY['admin'::text, 'operator'::text, 'viewer'::text])))
api_tokens.api_tokens_role_not_null: NOT NULL role
api_tokens.api_tokens_tenant_id_not_null: NOT NULL tenant_id
api_tokens.api_tokens_tenant_id_user_id_fkey: FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE
api_tokens.api_tokens_token_hash_key: UNIQUE (token_hash)
api_tokens.api_tokens_token_hash_not_null: NOT NULL token_hash
api_tokens.api_tokens_token_prefix_not_null: NOT NULL token_prefix
api_tokens.api_tokens_user_id_not_null: NOT NULL user_id
changelogs.changelogs_external_id_not_null: NOT NULL external_id
changelogs.changelogs_id_not_null: NOT NULL id
changelogs.changelogs_integration_id_not_null: NOT NULL integration_id
changelogs.changelogs_pkey: PRIMARY KEY (tenant_id, id)
changelogs.changelogs_tenant_id_integration_id_external_id_key: UNIQUE (tenant_id, integration_id, external_id)
changelogs.changelogs_tenant_id_integration_id_fkey: FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations(tenant_id, id) ON DELETE CASCADE
changelogs.changelogs_tenant_id_not_null: NOT NULL tenant_id
changelogs.changelogs_tenant_id_work_item_id_fkey: FOREIGN KEY (tenant_id, work_item_id) REFERENCES work_items(tenant_id, id) ON DELETE CASCADE
changelogs.changelogs_transition_change_date_not_null: NOT NULL transition_change_date
changelogs.changelogs_work_item_id_not_null: NOT NULL work_item_id
etl_job_queue.etl_job_queue_created_at_not_null: NOT NULL created_at
etl_job_queue.etl_job_queue_entity_type_not_null: NOT NULL entity_type
etl_job_queue.etl_job_queue_error_details_not_null: NOT NULL error_details
etl_job_queue.etl_job_queue_id_not_null: NOT NULL id
etl_job_queue.etl_job_queue_job_type_check: CHECK ((job_type = ANY (ARRAY['extract'::text, 'transform'::text, 'load'::text, 'vectorize'::text])))
etl_job_queue.etl_job_queue_job_type_not_null: NOT NULL job_type
etl_job_queue.etl_job_queue_max_retries_check: CHECK ((max_retries >= 0))
etl_job_queue.etl_job_queue_max_retries_not_null: NOT NULL max_retries
etl_job_queue.etl_job_queue_payload_not_null: NOT NULL payload
etl_job_queue.etl_job_queue_pkey: PRIMARY KEY (tenant_id, id)
etl_job_queue.etl_job_queue_priority_check: CHECK (((priority >= 1) AND (priority <= 10)))
etl_job_queue.etl_job_queue_priority_not_null: NOT NULL priority
etl_job_queue.etl_job_queue_progress_not_null: NOT NULL progress
etl_job_queue.etl_job_queue_retry_count_not_null: NOT NULL retry_count
etl_job_queue.etl_job_queue_scheduled_at_not_null: NOT NULL scheduled_at
etl_job_queue.etl_job_queue_status_check: CHECK ((status = ANY (ARRAY['pending'::text, 'running'::text, 'completed'::text, 'failed'::text, 'cancelled'::text, 'paused'::text])))
etl_job_queue.etl_job_queue_status_not_null: NOT NULL status
etl_job_queue.etl_job_queue_tenant_id_fkey: FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
etl_job_queue.etl_job_queue_tenant_id_not_null: NOT NULL tenant_id
etl_jobs.etl_jobs_active_not_null: NOT NULL active
etl_jobs.etl_jobs_checkpoint_data_not_null: NOT NULL checkpoint_data
etl_jobs.etl_jobs_created_at_not_null: NOT NULL created_at
etl_jobs.etl_jobs_execution_order_not_null: NOT NULL execution_order
etl_jobs.etl_jobs_id_not_null: NOT NULL id
etl_jobs.etl_jobs_job_name_not_null: NOT NULL job_name
etl_jobs.etl_jobs_pkey: PRIMARY KEY (tenant_id, id)
etl_jobs.etl_jobs_provider_not_null: NOT NULL provider
etl_jobs.etl_jobs_retry_count_not_null: NOT NULL retry_count
etl_jobs.etl_jobs_status_check: CHECK ((status = ANY (ARRAY['READY'::text, 'PENDING'::text, 'RUNNING'::text, 'FINISHED'::text, 'FAILED'::text, 'PAUSED'::text, 'INACTIVE'::text])))
etl_jobs.etl_jobs_status_not_null: NOT NULL status
etl_jobs.etl_jobs_tenant_id_execution_order_key: UNIQUE (tenant_id, execution_order)
etl_jobs.etl_jobs_tenant_id_fkey: FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
etl_jobs.etl_jobs_tenant_id_integration_id_fkey: FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations(tenant_id, id)
etl_jobs.etl_jobs_tenant_id_job_name_key: UNIQUE (tenant_id, job_name)
etl_jobs.etl_jobs_tenant_id_not_null: NOT NULL tenant_id
etl_jobs.etl_jobs_updated_at_not_null: NOT NULL updated_at
etl_runs.etl_runs_id_not_null: NOT NULL id
etl_runs.etl_runs_pkey: PRIMARY KEY (tenant_id, id)
etl_runs.etl_runs_started_at_not_null: NOT NULL started_at
etl_runs.etl_runs_stats_not_null: NOT NULL stats
etl_runs.etl_runs_status_check: CHECK ((status = ANY (ARRAY['running'::text, 'finished'::text, 'failed'::text, 'cancelled'::text, 'paused'::text])))
etl_runs.etl_runs_status_not_null: NOT NULL status
etl_runs.etl_runs_tenant_id_etl_job_id_fkey: FOREIGN KEY (tenant_id, etl_job_id) REFERENCES etl_jobs(tenant_id, id)
etl_runs.etl_runs_tenant_id_integration_id_fkey: FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations(tenant_id, id)
etl_runs.etl_runs_tenant_id_not_null: NOT NULL tenant_id
etl_runs.etl_runs_trigger_check: CHECK ((trigger = ANY (ARRAY['schedule'::text, 'manual'::text, 'cli'::text, 'api'::text])))
etl_runs.etl_runs_trigger_not_null: NOT NULL trigger
extraction_watermarks.extraction_watermarks_entity_type_not_null: NOT NULL entity_type
extraction_watermarks.extraction_watermarks_integration_id_not_null: NOT NULL integration_id
extraction_watermarks.extraction_watermarks_pkey: PRIMARY KEY (tenant_id, integration_id, entity_type)
extraction_watermarks.extraction_watermarks_tenant_id_integration_id_fkey: FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations(tenant_id, id) ON DELETE CASCADE
extraction_watermarks.extraction_watermarks_tenant_id_not_null: NOT NULL tenant_id
extraction_watermarks.extraction_watermarks_updated_at_not_null: NOT NULL updated_at
extraction_watermarks.extraction_watermarks_watermark_not_null: NOT NULL watermark
integrations.integrations_active_not_null: NOT NULL active
integrations.integrations_base_url_not_null: NOT NULL base_url
integrations.integrations_created_at_not_null: NOT NULL created_at
integrations.integrations_id_not_null: NOT NULL id
integrations.integrations_name_not_null: NOT NULL name
integrations.integrations_pkey: PRIMARY KEY (tenant_id, id)
integrations.integrations_provider_check: CHECK ((provider ~ '^[a-z][a-z0-9_]*$'::text))
integrations.integrations_provider_not_null: NOT NULL provider
integrations.integrations_settings_not_null: NOT NULL settings
integrations.integrations_tenant_id_fkey: FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
integrations.integrations_tenant_id_name_key: UNIQUE (tenant_id, name)
integrations.integrations_tenant_id_not_null: NOT NULL tenant_id
integrations.integrations_updated_at_not_null: NOT NULL updated_at
job_logs.job_logs_context_not_null: NOT NULL context
job_logs.job_logs_created_at_not_null: NOT NULL created_at
job_logs.job_logs_id_not_null: NOT NULL id
job_logs.job_logs_level_check: CHECK ((level = ANY (ARRAY['debug'::text, 'info'::text, 'warning'::text, 'error'::text])))
job_logs.job_logs_level_not_null: NOT NULL level
job_logs.job_logs_message_not_null: NOT NULL message
job_logs.job_logs_pkey: PRIMARY KEY (tenant_id, id)
job_logs.job_logs_tenant_id_fkey: FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
job_logs.job_logs_tenant_id_not_null: NOT NULL tenant_id
migration_history.migration_history_applied_at_not_null: NOT NULL applied_at
migration_history.migration_history_component_not_null: NOT NULL component
migration_history.migration_history_name_not_null: NOT NULL name
migration_history.migration_history_pkey: PRIMARY KEY (component, version)
migration_history.migration_history_version_not_null: NOT NULL version
projects.projects_active_not_null: NOT NULL active
projects.projects_created_at_not_null: NOT NULL created_at
projects.projects_external_id_not_null: NOT NULL external_id
projects.projects_id_not_null: NOT NULL id
projects.projects_integration_id_not_null: NOT NULL integration_id
projects.projects_key_not_null: NOT NULL key
projects.projects_name_not_null: NOT NULL name
projects.projects_pkey: PRIMARY KEY (tenant_id, id)
projects.projects_tenant_id_integration_id_external_id_key: UNIQUE (tenant_id, integration_id, external_id)
projects.projects_tenant_id_integration_id_fkey: FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations(tenant_id, id) ON DELETE CASCADE
projects.projects_tenant_id_not_null: NOT NULL tenant_id
projects.projects_updated_at_not_null: NOT NULL updated_at
projects_statuses.projects_statuses_pkey: PRIMARY KEY (tenant_id, project_id, status_id)
projects_statuses.projects_statuses_project_id_not_null: NOT NULL project_id
projects_statuses.projects_statuses_status_id_not_null: NOT NULL status_id
projects_statuses.projects_statuses_tenant_id_not_null: NOT NULL tenant_id
projects_statuses.projects_statuses_tenant_id_project_id_fkey: FOREIGN KEY (tenant_id, project_id) REFERENCES projects(tenant_id, id) ON DELETE CASCADE
projects_statuses.projects_statuses_tenant_id_status_id_fkey: FOREIGN KEY (tenant_id, status_id) REFERENCES statuses(tenant_id, id) ON DELETE CASCADE
projects_wits.projects_wits_pkey: PRIMARY KEY (tenant_id, project_id, wit_id)
projects_wits.projects_wits_project_id_not_null: NOT NULL project_id
projects_wits.projects_wits_tenant_id_not_null: NOT NULL tenant_id
projects_wits.projects_wits_tenant_id_project_id_fkey: FOREIGN KEY (tenant_id, project_id) REFERENCES projects(tenant_id, id) ON DELETE CASCADE
projects_wits.projects_wits_tenant_id_wit_id_fkey: FOREIGN KEY (tenant_id, wit_id) REFERENCES wits(tenant_id, id) ON DELETE CASCADE
projects_wits.projects_wits_wit_id_not_null: NOT NULL wit_id
prs.prs_comment_count_not_null: NOT NULL comment_count
prs.prs_commit_count_not_null: NOT NULL commit_count
prs.prs_external_id_not_null: NOT NULL external_id
prs.prs_id_not_null: NOT NULL id
prs.prs_integration_id_not_null: NOT NULL integration_id
prs.prs_loaded_at_not_null: NOT NULL loaded_at
prs.prs_number_not_null: NOT NULL number
prs.prs_pkey: PRIMARY KEY (tenant_id, id)
prs.prs_repository_full_name_not_null: NOT NULL repository_full_name
prs.prs_review_count_not_null: NOT NULL review_count
prs.prs_review_thread_count_not_null: NOT NULL review_thread_count
prs.prs_state_not_null: NOT NULL state
prs.prs_tenant_id_integration_id_external_id_key: UNIQUE (tenant_id, integration_id, external_id)
prs.prs_tenant_id_integration_id_fkey: FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations(tenant_id, id) ON DELETE CASCADE
prs.prs_tenant_id_not_null: NOT NULL tenant_id
prs.prs_tenant_id_repository_id_fkey: FOREIGN KEY (tenant_id, repository_id) REFERENCES repositories(tenant_id, id)
prs_comments.prs_comments_comment_type_check: CHECK ((comment_type = ANY (ARRAY['issue'::text, 'review'::text])))
prs_comments.prs_comments_comment_type_not_null: NOT NULL comment_type
prs_comments.prs_comments_external_id_not_null: NOT NULL external_id
prs_comments.prs_comments_id_not_null: NOT NULL id
prs_comments.prs_comments_integration_id_not_null: NOT NULL integration_id
prs_comments.prs_comments_pkey: PRIMARY KEY (tenant_id, id)
prs_comments.prs_comments_pr_id_not_null: NOT NULL pr_id
prs_comments.prs_comments_tenant_id_integration_id_external_id_key: UNIQUE (tenant_id, integration_id, external_id)
prs_comments.prs_comments_tenant_id_not_null: NOT NULL tenant_id
prs_comments.prs_comments_tenant_id_pr_id_fkey: FOREIGN KEY (tenant_id, pr_id) REFERENCES prs(tenant_id, id) ON DELETE CASCADE
prs_commits.prs_commits_external_id_not_null: NOT NULL external_id
prs_commits.prs_commits_id_not_null: NOT NULL id
prs_commits.prs_commits_integration_id_not_null: NOT NULL integration_id
prs_commits.prs_commits_pkey: PRIMARY KEY (tenant_id, id)
prs_commits.prs_commits_pr_id_not_null: NOT NULL pr_id
prs_commits.prs_commits_tenant_id_integration_id_pr_id_external_id_key: UNIQUE (tenant_id, integration_id, pr_id, external_id)
prs_commits.prs_commits_tenant_id_not_null: NOT NULL tenant_id
prs_commits.prs_commits_tenant_id_pr_id_fkey: FOREIGN KEY (tenant_id, pr_id) REFERENCES prs(tenant_id, id) ON DELETE CASCADE
prs_reviews.prs_reviews_external_id_not_null: NOT NULL external_id
prs_reviews.prs_reviews_id_not_null: NOT NULL id
prs_reviews.prs_reviews_integration_id_not_null: NOT NULL integration_id
prs_reviews.prs_reviews_pkey: PRIMARY KEY (tenant_id, id)
prs_reviews.prs_reviews_pr_id_not_null: NOT NULL pr_id
prs_reviews.prs_reviews_tenant_id_integration_id_external_id_key: UNIQUE (tenant_id, integration_id, external_id)
prs_reviews.prs_reviews_tenant_id_not_null: NOT NULL tenant_id
prs_reviews.prs_reviews_tenant_id_pr_id_fkey: FOREIGN KEY (tenant_id, pr_id) REFERENCES prs(tenant_id, id) ON DELETE CASCADE
raw_extraction_data.raw_extraction_data_created_at_not_null: NOT NULL created_at
raw_extraction_data.raw_extraction_data_entity_type_not_null: NOT NULL entity_type
raw_extraction_data.raw_extraction_data_extraction_metadata_not_null: NOT NULL extraction_metadata
raw_extraction_data.raw_extraction_data_id_not_null: NOT NULL id
raw_extraction_data.raw_extraction_data_integration_id_not_null: NOT NULL integration_id
raw_extraction_data.raw_extraction_data_pkey: PRIMARY KEY (tenant_id, id)
raw_extraction_data.raw_extraction_data_processing_status_check: CHECK ((processing_status = ANY (ARRAY['pending'::text, 'transformed'::text, 'loaded'::text, 'failed'::text])))
raw_extraction_data.raw_extraction_data_processing_status_not_null: NOT NULL processing_status
raw_extraction_data.raw_extraction_data_raw_data_not_null: NOT NULL raw_data
raw_extraction_data.raw_extraction_data_tenant_id_integration_id_fkey: FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations(tenant_id, id) ON DELETE CASCADE
raw_extraction_data.raw_extraction_data_tenant_id_not_null: NOT NULL tenant_id
repositories.repositories_archived_not_null: NOT NULL archived
repositories.repositories_external_id_not_null: NOT NULL external_id
repositories.repositories_full_name_not_null: NOT NULL full_name
repositories.repositories_id_not_null: NOT NULL id
repositories.repositories_integration_id_not_null: NOT NULL integration_id
repositories.repositories_is_private_not_null: NOT NULL is_private
repositories.repositories_loaded_at_not_null: NOT NULL loaded_at
repositories.repositories_name_not_null: NOT NULL name
repositories.repositories_pkey: PRIMARY KEY (tenant_id, id)
repositories.repositories_tenant_id_integration_id_external_id_key: UNIQUE (tenant_id, integration_id, external_id)
repositories.repositories_tenant_id_integration_id_fkey: FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations(tenant_id, id) ON DELETE CASCADE
repositories.repositories_tenant_id_not_null: NOT NULL tenant_id
statuses.statuses_category_check: CHECK ((category = ANY (ARRAY['new'::text, 'indeterminate'::text, 'done'::text, 'undefined'::text])))
statuses.statuses_category_not_null: NOT NULL category
statuses.statuses_created_at_not_null: NOT NULL created_at
statuses.statuses_external_id_not_null: NOT NULL external_id
statuses.statuses_id_not_null: NOT NULL id
statuses.statuses_integration_id_not_null: NOT NULL integration_id
statuses.statuses_original_name_not_null: NOT NULL original_name
statuses.statuses_pkey: PRIMARY KEY (tenant_id, id)
statuses.statuses_tenant_id_integration_id_external_id_key: UNIQUE (tenant_id, integration_id, external_id)
statuses.statuses_tenant_id_integration_id_fkey: FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations(tenant_id, id) ON DELETE CASCADE
statuses.statuses_tenant_id_not_null: NOT NULL tenant_id
statuses.statuses_updated_at_not_null: NOT NULL updated_at
statuses_mappings.statuses_mappings_active_not_null: NOT NULL active
statuses_mappings.statuses_mappings_id_not_null: NOT NULL id
statuses_mappings.statuses_mappings_pkey: PRIMARY KEY (tenant_id, id)
statuses_mappings.statuses_mappings_status_from_not_null: NOT NULL status_from
statuses_mappings.statuses_mappings_tenant_id_fkey: FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
statuses_mappings.statuses_mappings_tenant_id_integration_id_fkey: FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations(tenant_id, id) ON DELETE CASCADE
statuses_mappings.statuses_mappings_tenant_id_not_null: NOT NULL tenant_id
statuses_mappings.statuses_mappings_tenant_id_workflow_id_fkey: FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows(tenant_id, id) ON DELETE CASCADE
statuses_mappings.statuses_mappings_workflow_id_not_null: NOT NULL workflow_id
system_settings.system_settings_description_not_null: NOT NULL description
system_settings.system_settings_id_not_null: NOT NULL id
system_settings.system_settings_pkey: PRIMARY KEY (tenant_id, id)
system_settings.system_settings_setting_key_not_null: NOT NULL setting_key
system_settings.system_settings_setting_type_check: CHECK ((setting_type = ANY (ARRAY['integer'::text, 'boolean'::text, 'string'::text])))
system_settings.system_settings_setting_type_not_null: NOT NULL setting_type
system_settings.system_settings_setting_value_not_null: NOT NULL setting_value
system_settings.system_settings_tenant_id_fkey: FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
system_settings.system_settings_tenant_id_not_null: NOT NULL tenant_id
system_settings.system_settings_tenant_id_setting_key_key: UNIQUE (tenant_id, setting_key)
system_settings.system_settings_updated_at_not_null: NOT NULL updated_at
tenants.tenants_active_not_null: NOT NULL active
tenants.tenants_created_at_not_null: NOT NULL created_at
tenants.tenants_id_not_null: NOT NULL id
tenants.tenants_name_not_null: NOT NULL name
tenants.tenants_pkey: PRIMARY KEY (id)
tenants.tenants_tier_check: CHECK ((tier = ANY (ARRAY['enterprise'::text, 'professional'::text, 'standard'::text])))
tenants.tenants_tier_not_null: NOT NULL tier
tenants.tenants_updated_at_not_null: NOT NULL updated_at
user_sessions.user_sessions_created_at_not_null: NOT NULL created_at
user_sessions.user_sessions_expires_at_not_null: NOT NULL expires_at
user_sessions.user_sessions_id_not_null: NOT NULL id
user_sessions.user_sessions_pkey: PRIMARY KEY (tenant_id, id)
user_sessions.user_sessions_tenant_id_not_null: NOT NULL tenant_id
user_sessions.user_sessions_tenant_id_user_id_fkey: FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE
user_sessions.user_sessions_token_hash_key: UNIQUE (token_hash)
user_sessions.user_sessions_token_hash_not_null: NOT NULL token_hash
user_sessions.user_sessions_user_id_not_null: NOT NULL user_id
users.users_active_not_null: NOT NULL active
users.users_created_at_not_null: NOT NULL created_at
users.users_display_name_not_null: NOT NULL display_name
users.users_email_not_null: NOT NULL email
users.users_failed_logins_not_null: NOT NULL failed_logins
users.users_id_not_null: NOT NULL id
users.users_password_hash_not_null: NOT NULL password_hash
users.users_pkey: PRIMARY KEY (tenant_id, id)
users.users_role_check: CHECK ((role = ANY (ARRAY['admin'::text, 'operator'::text, 'viewer'::text])))
users.users_role_not_null: NOT NULL role
users.users_tenant_id_fkey: FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
users.users_tenant_id_not_null: NOT NULL tenant_id
users.users_updated_at_not_null: NOT NULL updated_at
wits.wits_created_at_not_null: NOT NULL created_at
wits.wits_external_id_not_null: NOT NULL external_id
wits.wits_hierarchy_level_not_null: NOT NULL hierarchy_level
wits.wits_id_not_null: NOT NULL id
wits.wits_integration_id_not_null: NOT NULL integration_id
wits.wits_original_name_not_null: NOT NULL original_name
wits.wits_pkey: PRIMARY KEY (tenant_id, id)
wits.wits_subtask_not_null: NOT NULL subtask
wits.wits_tenant_id_integration_id_external_id_key: UNIQUE (tenant_id, integration_id, external_id)
wits.wits_tenant_id_integration_id_fkey: FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations(tenant_id, id) ON DELETE CASCADE
wits.wits_tenant_id_not_null: NOT NULL tenant_id
wits.wits_updated_at_not_null: NOT NULL updated_at
wits_hierarchies.wits_hierarchies_id_not_null: NOT NULL id
wits_hierarchies.wits_hierarchies_level_name_not_null: NOT NULL level_name
wits_hierarchies.wits_hierarchies_level_number_not_null: NOT NULL level_number
wits_hierarchies.wits_hierarchies_pkey: PRIMARY KEY (tenant_id, id)
wits_hierarchies.wits_hierarchies_tenant_id_fkey: FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
wits_hierarchies.wits_hierarchies_tenant_id_level_number_key: UNIQUE (tenant_id, level_number)
wits_hierarchies.wits_hierarchies_tenant_id_not_null: NOT NULL tenant_id
wits_mappings.wits_mappings_hierarchy_level_not_null: NOT NULL hierarchy_level
wits_mappings.wits_mappings_id_not_null: NOT NULL id
wits_mappings.wits_mappings_pkey: PRIMARY KEY (tenant_id, id)
wits_mappings.wits_mappings_tenant_id_fkey: FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
wits_mappings.wits_mappings_tenant_id_hierarchy_level_fkey: FOREIGN KEY (tenant_id, hierarchy_level) REFERENCES wits_hierarchies(tenant_id, level_number) ON DELETE CASCADE
wits_mappings.wits_mappings_tenant_id_integration_id_fkey: FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations(tenant_id, id) ON DELETE CASCADE
wits_mappings.wits_mappings_tenant_id_not_null: NOT NULL tenant_id
wits_mappings.wits_mappings_wit_from_not_null: NOT NULL wit_from
wits_mappings.wits_mappings_wit_to_not_null: NOT NULL wit_to
work_item_pr_links.work_item_pr_links_created_at_not_null: NOT NULL created_at
work_item_pr_links.work_item_pr_links_id_not_null: NOT NULL id
work_item_pr_links.work_item_pr_links_pkey: PRIMARY KEY (tenant_id, id)
work_item_pr_links.work_item_pr_links_pr_number_not_null: NOT NULL pr_number
work_item_pr_links.work_item_pr_links_repository_full_name_not_null: NOT NULL repository_full_name
work_item_pr_links.work_item_pr_links_source_check: CHECK ((source = ANY (ARRAY['dev_status'::text, 'pattern'::text])))
work_item_pr_links.work_item_pr_links_source_not_null: NOT NULL source
work_item_pr_links.work_item_pr_links_tenant_id_fkey: FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
work_item_pr_links.work_item_pr_links_tenant_id_not_null: NOT NULL tenant_id
work_item_pr_links.work_item_pr_links_tenant_id_pr_id_fkey: FOREIGN KEY (tenant_id, pr_id) REFERENCES prs(tenant_id, id)
work_item_pr_links.work_item_pr_links_tenant_id_work_item_id_fkey: FOREIGN KEY (tenant_id, work_item_id) REFERENCES work_items(tenant_id, id)
work_item_pr_links.work_item_pr_links_work_item_key_not_null: NOT NULL work_item_key
work_items.work_items_direct_completion_not_null: NOT NULL direct_completion
work_items.work_items_external_id_not_null: NOT NULL external_id
work_items.work_items_id_not_null: NOT NULL id
work_items.work_items_integration_id_not_null: NOT NULL integration_id
work_items.work_items_key_not_null: NOT NULL key
work_items.work_items_labels_not_null: NOT NULL labels
work_items.work_items_loaded_at_not_null: NOT NULL loaded_at
work_items.work_items_pkey: PRIMARY KEY (tenant_id, id)
work_items.work_items_rework_indicator_not_null: NOT NULL rework_indicator
work_items.work_items_tenant_id_integration_id_external_id_key: UNIQUE (tenant_id, integration_id, external_id)
work_items.work_items_tenant_id_integration_id_fkey: FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations(tenant_id, id) ON DELETE CASCADE
work_items.work_items_tenant_id_not_null: NOT NULL tenant_id
work_items.work_items_tenant_id_project_id_fkey: FOREIGN KEY (tenant_id, project_id) REFERENCES projects(tenant_id, id)
work_items.work_items_tenant_id_status_id_fkey: FOREIGN KEY (tenant_id, status_id) REFERENCES statuses(tenant_id, id)
work_items.work_items_tenant_id_wit_id_fkey: FOREIGN KEY (tenant_id, wit_id) REFERENCES wits(tenant_id, id)
work_items.work_items_time_in_steps_not_null: NOT NULL time_in_steps
work_items.work_items_total_backlog_returns_not_null: NOT NULL total_backlog_returns
work_items.work_items_total_completions_not_null: NOT NULL total_completions
work_items.work_items_total_work_starts_not_null: NOT NULL total_work_starts
work_items.work_items_workflow_complexity_score_not_null: NOT NULL workflow_complexity_score
workflows.workflows_active_not_null: NOT NULL active
workflows.workflows_id_not_null: NOT NULL id
workflows.workflows_is_commitment_point_not_null: NOT NULL is_commitment_point
workflows.workflows_pkey: PRIMARY KEY (tenant_id, id)
workflows.workflows_step_category_check: CHECK ((step_category = ANY (ARRAY['to_do'::text, 'in_progress'::text, 'done'::text])))
workflows.workflows_step_category_not_null: NOT NULL step_category
workflows.workflows_step_name_not_null: NOT NULL step_name
workflows.workflows_step_number_not_null: NOT NULL step_number
workflows.workflows_tenant_id_fkey: FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
workflows.workflows_tenant_id_integration_id_fkey: FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations(tenant_id, id) ON DELETE CASCADE
workflows.workflows_tenant_id_not_null: NOT NULL tenant_id

-- indexes
CREATE UNIQUE INDEX api_tokens_pkey ON public.api_tokens USING btree (tenant_id, id)
CREATE UNIQUE INDEX api_tokens_token_hash_key ON public.api_tokens USING btree (token_hash)
CREATE UNIQUE INDEX changelogs_pkey ON public.changelogs USING btree (tenant_id, id)
CREATE UNIQUE INDEX changelogs_tenant_id_integration_id_external_id_key ON public.changelogs USING btree (tenant_id, integration_id, external_id)
CREATE INDEX changelogs_work_item_idx ON public.changelogs USING btree (tenant_id, work_item_id, transition_change_date)
CREATE INDEX etl_job_queue_finished_idx ON public.etl_job_queue USING btree (completed_at) WHERE (status = ANY (ARRAY['completed'::text, 'failed'::text, 'cancelled'::text]))
CREATE UNIQUE INDEX etl_job_queue_pkey ON public.etl_job_queue USING btree (tenant_id, id)
CREATE INDEX etl_job_queue_ready_idx ON public.etl_job_queue USING btree (tenant_id, priority, scheduled_at, id) INCLUDE (job_type) WHERE (status = 'pending'::text)
CREATE INDEX etl_job_queue_run_idx ON public.etl_job_queue USING btree (tenant_id, run_id, status)
CREATE INDEX etl_job_queue_running_idx ON public.etl_job_queue USING btree (heartbeat_at) WHERE (status = 'running'::text)
CREATE UNIQUE INDEX etl_jobs_pkey ON public.etl_jobs USING btree (tenant_id, id)
CREATE UNIQUE INDEX etl_jobs_tenant_id_execution_order_key ON public.etl_jobs USING btree (tenant_id, execution_order)
CREATE UNIQUE INDEX etl_jobs_tenant_id_job_name_key ON public.etl_jobs USING btree (tenant_id, job_name)
CREATE UNIQUE INDEX etl_runs_pkey ON public.etl_runs USING btree (tenant_id, id)
CREATE INDEX etl_runs_started_idx ON public.etl_runs USING btree (tenant_id, started_at DESC)
CREATE UNIQUE INDEX extraction_watermarks_pkey ON public.extraction_watermarks USING btree (tenant_id, integration_id, entity_type)
CREATE UNIQUE INDEX integrations_pkey ON public.integrations USING btree (tenant_id, id)
CREATE UNIQUE INDEX integrations_tenant_id_name_key ON public.integrations USING btree (tenant_id, name)
CREATE INDEX job_logs_created_idx ON public.job_logs USING btree (tenant_id, created_at DESC)
CREATE UNIQUE INDEX job_logs_pkey ON public.job_logs USING btree (tenant_id, id)
CREATE INDEX job_logs_run_idx ON public.job_logs USING btree (tenant_id, run_id, created_at)
CREATE UNIQUE INDEX migration_history_pkey ON public.migration_history USING btree (component, version)
CREATE INDEX projects_key_idx ON public.projects USING btree (tenant_id, key)
CREATE UNIQUE INDEX projects_pkey ON public.projects USING btree (tenant_id, id)
CREATE UNIQUE INDEX projects_tenant_id_integration_id_external_id_key ON public.projects USING btree (tenant_id, integration_id, external_id)
CREATE UNIQUE INDEX projects_statuses_pkey ON public.projects_statuses USING btree (tenant_id, project_id, status_id)
CREATE UNIQUE INDEX projects_wits_pkey ON public.projects_wits USING btree (tenant_id, project_id, wit_id)
CREATE UNIQUE INDEX prs_pkey ON public.prs USING btree (tenant_id, id)
CREATE INDEX prs_repo_number_idx ON public.prs USING btree (tenant_id, lower(repository_full_name), number)
CREATE UNIQUE INDEX prs_tenant_id_integration_id_external_id_key ON public.prs USING btree (tenant_id, integration_id, external_id)
CREATE UNIQUE INDEX prs_comments_pkey ON public.prs_comments USING btree (tenant_id, id)
CREATE INDEX prs_comments_pr_idx ON public.prs_comments USING btree (tenant_id, pr_id)
CREATE UNIQUE INDEX prs_comments_tenant_id_integration_id_external_id_key ON public.prs_comments USING btree (tenant_id, integration_id, external_id)
CREATE UNIQUE INDEX prs_commits_pkey ON public.prs_commits USING btree (tenant_id, id)
CREATE UNIQUE INDEX prs_commits_tenant_id_integration_id_pr_id_external_id_key ON public.prs_commits USING btree (tenant_id, integration_id, pr_id, external_id)
CREATE UNIQUE INDEX prs_reviews_pkey ON public.prs_reviews USING btree (tenant_id, id)
CREATE INDEX prs_reviews_pr_idx ON public.prs_reviews USING btree (tenant_id, pr_id)
CREATE UNIQUE INDEX prs_reviews_tenant_id_integration_id_external_id_key ON public.prs_reviews USING btree (tenant_id, integration_id, external_id)
CREATE INDEX idx_raw_data_created ON public.raw_extraction_data USING btree (created_at)
CREATE INDEX idx_raw_data_external_id ON public.raw_extraction_data USING btree (tenant_id, entity_type, external_id)
CREATE INDEX idx_raw_data_status ON public.raw_extraction_data USING btree (tenant_id, processing_status) WHERE (processing_status = ANY (ARRAY['pending'::text, 'failed'::text]))
CREATE INDEX idx_raw_data_tenant_type ON public.raw_extraction_data USING btree (tenant_id, entity_type, created_at)
CREATE UNIQUE INDEX raw_extraction_data_pkey ON public.raw_extraction_data USING btree (tenant_id, id)
CREATE INDEX repositories_full_name_idx ON public.repositories USING btree (tenant_id, lower(full_name))
CREATE UNIQUE INDEX repositories_pkey ON public.repositories USING btree (tenant_id, id)
CREATE UNIQUE INDEX repositories_tenant_id_integration_id_external_id_key ON public.repositories USING btree (tenant_id, integration_id, external_id)
CREATE UNIQUE INDEX statuses_pkey ON public.statuses USING btree (tenant_id, id)
CREATE UNIQUE INDEX statuses_tenant_id_integration_id_external_id_key ON public.statuses USING btree (tenant_id, integration_id, external_id)
CREATE UNIQUE INDEX statuses_mappings_key ON public.statuses_mappings USING btree (tenant_id, COALESCE(integration_id, (0)::bigint), lower(status_from))
CREATE UNIQUE INDEX statuses_mappings_pkey ON public.statuses_mappings USING btree (tenant_id, id)
CREATE UNIQUE INDEX system_settings_pkey ON public.system_settings USING btree (tenant_id, id)
CREATE UNIQUE INDEX system_settings_tenant_id_setting_key_key ON public.system_settings USING btree (tenant_id, setting_key)
CREATE UNIQUE INDEX tenants_name_key ON public.tenants USING btree (lower(name))
CREATE UNIQUE INDEX tenants_pkey ON public.tenants USING btree (id)
CREATE UNIQUE INDEX user_sessions_pkey ON public.user_sessions USING btree (tenant_id, id)
CREATE UNIQUE INDEX user_sessions_token_hash_key ON public.user_sessions USING btree (token_hash)
CREATE UNIQUE INDEX users_email_key ON public.users USING btree (tenant_id, lower(email))
CREATE INDEX users_login_idx ON public.users USING btree (lower(email))
CREATE UNIQUE INDEX users_pkey ON public.users USING btree (tenant_id, id)
CREATE UNIQUE INDEX wits_pkey ON public.wits USING btree (tenant_id, id)
CREATE UNIQUE INDEX wits_tenant_id_integration_id_external_id_key ON public.wits USING btree (tenant_id, integration_id, external_id)
CREATE UNIQUE INDEX wits_hierarchies_pkey ON public.wits_hierarchies USING btree (tenant_id, id)
CREATE UNIQUE INDEX wits_hierarchies_tenant_id_level_number_key ON public.wits_hierarchies USING btree (tenant_id, level_number)
CREATE UNIQUE INDEX wits_mappings_key ON public.wits_mappings USING btree (tenant_id, COALESCE(integration_id, (0)::bigint), lower(wit_from))
CREATE UNIQUE INDEX wits_mappings_pkey ON public.wits_mappings USING btree (tenant_id, id)
CREATE UNIQUE INDEX work_item_pr_links_key ON public.work_item_pr_links USING btree (tenant_id, work_item_key, lower(repository_full_name), pr_number, source)
CREATE UNIQUE INDEX work_item_pr_links_pkey ON public.work_item_pr_links USING btree (tenant_id, id)
CREATE INDEX work_item_pr_links_pr_idx ON public.work_item_pr_links USING btree (tenant_id, lower(repository_full_name), pr_number)
CREATE INDEX work_items_completed_idx ON public.work_items USING btree (tenant_id, work_first_completed_at)
CREATE INDEX work_items_key_idx ON public.work_items USING btree (tenant_id, key)
CREATE UNIQUE INDEX work_items_pkey ON public.work_items USING btree (tenant_id, id)
CREATE UNIQUE INDEX work_items_tenant_id_integration_id_external_id_key ON public.work_items USING btree (tenant_id, integration_id, external_id)
CREATE INDEX work_items_updated_idx ON public.work_items USING btree (tenant_id, updated)
CREATE UNIQUE INDEX workflows_commitment_point_key ON public.workflows USING btree (tenant_id, COALESCE(integration_id, (0)::bigint)) WHERE is_commitment_point
CREATE UNIQUE INDEX workflows_pkey ON public.workflows USING btree (tenant_id, id)
CREATE UNIQUE INDEX workflows_step_key ON public.workflows USING btree (tenant_id, COALESCE(integration_id, (0)::bigint), step_name)

-- policies
api_tokens.system_access ALL TO {sluice_system} USING (true) CHECK (true)
api_tokens.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
changelogs.system_access ALL TO {sluice_system} USING (true) CHECK (true)
changelogs.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
etl_job_queue.system_access ALL TO {sluice_system} USING (true) CHECK (true)
etl_job_queue.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
etl_jobs.system_access ALL TO {sluice_system} USING (true) CHECK (true)
etl_jobs.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
etl_runs.system_access ALL TO {sluice_system} USING (true) CHECK (true)
etl_runs.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
extraction_watermarks.system_access ALL TO {sluice_system} USING (true) CHECK (true)
extraction_watermarks.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
integrations.system_access ALL TO {sluice_system} USING (true) CHECK (true)
integrations.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
job_logs.system_access ALL TO {sluice_system} USING (true) CHECK (true)
job_logs.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
projects.system_access ALL TO {sluice_system} USING (true) CHECK (true)
projects.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
projects_statuses.system_access ALL TO {sluice_system} USING (true) CHECK (true)
projects_statuses.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
projects_wits.system_access ALL TO {sluice_system} USING (true) CHECK (true)
projects_wits.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
prs.system_access ALL TO {sluice_system} USING (true) CHECK (true)
prs.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
prs_comments.system_access ALL TO {sluice_system} USING (true) CHECK (true)
prs_comments.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
prs_commits.system_access ALL TO {sluice_system} USING (true) CHECK (true)
prs_commits.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
prs_reviews.system_access ALL TO {sluice_system} USING (true) CHECK (true)
prs_reviews.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
raw_extraction_data.system_access ALL TO {sluice_system} USING (true) CHECK (true)
raw_extraction_data.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
repositories.system_access ALL TO {sluice_system} USING (true) CHECK (true)
repositories.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
statuses.system_access ALL TO {sluice_system} USING (true) CHECK (true)
statuses.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
statuses_mappings.system_access ALL TO {sluice_system} USING (true) CHECK (true)
statuses_mappings.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
system_settings.system_access ALL TO {sluice_system} USING (true) CHECK (true)
system_settings.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
tenants.system_access ALL TO {sluice_system} USING (true) CHECK (true)
tenants.tenant_isolation ALL TO {sluice_app} USING ((id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
user_sessions.system_access ALL TO {sluice_system} USING (true) CHECK (true)
user_sessions.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
users.system_access ALL TO {sluice_system} USING (true) CHECK (true)
users.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
wits.system_access ALL TO {sluice_system} USING (true) CHECK (true)
wits.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
wits_hierarchies.system_access ALL TO {sluice_system} USING (true) CHECK (true)
wits_hierarchies.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
wits_mappings.system_access ALL TO {sluice_system} USING (true) CHECK (true)
wits_mappings.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
work_item_pr_links.system_access ALL TO {sluice_system} USING (true) CHECK (true)
work_item_pr_links.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
work_items.system_access ALL TO {sluice_system} USING (true) CHECK (true)
work_items.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))
workflows.system_access ALL TO {sluice_system} USING (true) CHECK (true)
workflows.tenant_isolation ALL TO {sluice_app} USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer)) CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::integer))

-- triggers
CREATE TRIGGER etl_job_queue_notify AFTER INSERT ON public.etl_job_queue FOR EACH STATEMENT EXECUTE FUNCTION etl_job_queue_notify()

-- functions
etl_job_queue_notify()
