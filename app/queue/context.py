"""What a stage handler receives: its job, the tenant's database, and the handoff."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from psycopg_pool import AsyncConnectionPool

from app.db import Connection, tenant_transaction
from app.events import publish
from app.queue import ops
from app.queue.model import ClaimedJob
from app.runs import finish_run_if_done


class LostJobError(Exception):
    """The worker no longer holds this job (it was rescued or cancelled): roll back."""


@dataclass
class JobContext:
    """One running job. A handler that writes output does so in `ctx.transaction()`,
    which also completes the job and enqueues the next stage atomically."""

    job: ClaimedJob
    worker: str
    pool: AsyncConnectionPool[Connection]
    services: Any = None  # app.services.Services in a real worker; tests may pass None
    completed: bool = False
    progress: dict[str, Any] = field(default_factory=dict)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """The tenant's transaction; on success the job is marked completed in it."""
        async with tenant_transaction(self.pool, self.job.tenant_id) as conn:
            yield conn
            if not await ops.complete_one(conn, self.worker, self.job, self.progress):
                raise LostJobError(
                    f"job {self.job.id} is no longer held by {self.worker}; its output is rolled back"
                )
            await publish(
                conn,
                self.job.tenant_id,
                "job",
                job_id=self.job.id,
                run_id=self.job.run_id,
                job_type=self.job.job_type,
                status="completed",
                progress=self.progress,
            )
            if self.job.run_id is not None:
                await finish_run_if_done(conn, self.job.tenant_id, self.job.run_id)
        self.completed = True

    async def save_progress(self, conn: Connection, **progress: Any) -> None:
        """Advance this job's progress/checkpoint inside the caller's transaction."""
        self.progress.update(progress)
        if not await ops.update_progress(conn, self.worker, self.job, progress):
            raise LostJobError(
                f"job {self.job.id} is no longer held by {self.worker}; this page is rolled back"
            )


Handler = Callable[[JobContext], Awaitable[None]]
HandlerRegistry = dict[str, Handler]
