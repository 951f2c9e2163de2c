"""The etl_job_queue: PostgreSQL as the pipeline's job queue."""
