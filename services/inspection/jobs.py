"""Jobs of inspection: the daily deadline reminders (deferred per department by ``shared.worker``)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.inspection import reminders
from shared.jobs import tenant_job


@tenant_job("inspection.remind_due")
async def remind_due(session: AsyncSession, tenant_id: uuid.UUID, *, day: str) -> None:
    await reminders.remind_department(session, tenant_id, dt.date.fromisoformat(day))
