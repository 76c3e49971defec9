"""Deadline reminders: the worker's daily cron defers one job per department (``shared.worker``)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.disclosure import service
from shared.jobs import tenant_job


@tenant_job("disclosure.remind_due")
async def remind_due(session: AsyncSession, tenant_id: uuid.UUID, *, day: str) -> None:
    await service.remind_department(session, tenant_id, dt.date.fromisoformat(day))
