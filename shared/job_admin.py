"""`spotcheck jobs`: what operators need to see of the background jobs — the failed ones — and a way to retry one.

It reads ``job_outbox`` across departments with the sweeper's policy (``app.job_sweeper``), as the runtime role.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.jobs import SWEEPER_SCOPE_SQL


@dataclass(frozen=True)
class FailedJob:
    id: uuid.UUID
    department: str
    function: str
    attempts: int
    created_at: dt.datetime
    failed_at: dt.datetime
    last_error: str


@dataclass(frozen=True)
class JobOverview:
    failed: list[FailedJob]
    pending: int
    oldest_pending: dt.datetime | None


@asynccontextmanager
async def _sweeper_session(url: str) -> AsyncIterator[AsyncSession]:
    """One transaction on a one-connection pool, in the sweeper's scope."""
    db = Database.connect(url, pool_size=1)
    try:
        async with db.sessionmaker() as session, session.begin():
            await session.execute(text(SWEEPER_SCOPE_SQL))
            yield session
    finally:
        await db.dispose()


async def overview(url: str, limit: int = 50) -> JobOverview:
    async with _sweeper_session(url) as session:
        failed = [
            FailedJob(*row)
            for row in await session.execute(
                text(
                    "SELECT j.id, d.code, j.function, j.attempts, j.created_at, j.failed_at, j.last_error "
                    "FROM job_outbox j JOIN departments d ON d.id = j.tenant_id WHERE j.failed_at IS NOT NULL "
                    "ORDER BY j.failed_at DESC LIMIT :limit"
                ),
                {"limit": limit},
            )
        ]
        pending, oldest = (
            await session.execute(
                text(
                    "SELECT count(*), min(created_at) FROM job_outbox WHERE completed_at IS NULL "
                    "AND failed_at IS NULL"
                )
            )
        ).one()
    return JobOverview(failed, int(pending), oldest)


async def retry(url: str, job_id: uuid.UUID) -> bool:
    """Give a failed job a fresh count of attempts; the next sweep sends it to a worker. False if no such failed job."""
    async with _sweeper_session(url) as session:
        row = await session.execute(
            text(
                "UPDATE job_outbox SET failed_at = NULL, attempts = 0, last_error = '', enqueued_at = NULL "
                "WHERE id = :id AND failed_at IS NOT NULL AND completed_at IS NULL RETURNING id"
            ),
            {"id": job_id},
        )
        return row.first() is not None


def render(view: JobOverview) -> str:
    lines = [f"failed jobs: {len(view.failed)}"]
    for job in view.failed:
        lines.append(
            f"  {job.id}  {job.department}  {job.function}  attempts={job.attempts}  "
            f"failed {job.failed_at:%Y-%m-%d %H:%M:%S}  {job.last_error[:200]}"
        )
    oldest = f" (oldest queued {view.oldest_pending:%Y-%m-%d %H:%M:%S})" if view.oldest_pending else ""
    lines.append(f"pending jobs: {view.pending}{oldest}")
    return "\n".join(lines)
