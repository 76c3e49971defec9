"""Monthly-report reminders: the worker's cron defers one job per department on the 20th (``shared.worker``)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import service
from shared.jobs import tenant_job


@tenant_job("reporting.remind_monthly")
async def remind_monthly(session: AsyncSession, tenant_id: uuid.UUID, *, day: str) -> None:
    await service.remind_monthly(session, tenant_id, dt.date.fromisoformat(day))
