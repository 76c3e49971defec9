"""Inspection's implementation of planning's ``TaskResults`` extension point (see services/planning/extension.py)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.inspection import repository as repo
from services.planning.extension import register_task_results


class _TaskResults:
    async def published(self, session: AsyncSession, task_id: uuid.UUID) -> int:
        return await repo.count_published(session, task_id)


def install() -> None:
    register_task_results(_TaskResults())
