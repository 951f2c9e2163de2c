"""What a stage handler raises to tell the worker how a failure should be treated."""

from __future__ import annotations


class JobError(Exception):
    """A handler failure; anything else a handler raises is treated as retryable."""


class PermanentJobError(JobError):
    """Retrying cannot help (401, bad JQL, bad payload): fail the job at once."""


class RetryableJobError(JobError):
    """Try again later; `retry_after` (seconds) is honoured when the provider gave one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
