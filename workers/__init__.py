"""Sluice worker processes: the etl_job_queue stage worker and the scheduler."""
