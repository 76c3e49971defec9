"""Inspection's records as other services (federation's unified records and referrals) read them.

Only inspection's repository touches the result tables; these functions read them in the caller's transaction and
tenant scope (``acting_for`` a partner where federation has checked that it may). The answers are the rows' Structs
of ``services.inspection.schemas``.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.inspection import repository as repo
from services.inspection import stats_repository
from services.inspection.schemas import (
    AttachmentRow,
    ClassFindingsRow,
    FollowUpRow,
    HazardRow,
    ResultRow,
    TaskRow,
)
from shared.context import Ctx


async def result(ctx: Ctx, result_id: uuid.UUID) -> ResultRow | None:
    return await repo.get_result(ctx.session, result_id)


async def task_info(ctx: Ctx, task_id: uuid.UUID) -> TaskRow | None:
    """The task as result entry sees it (numbers, names, items, window and its current draw)."""
    return await repo.task_info(ctx.session, task_id)


async def hazards(ctx: Ctx, result_id: uuid.UUID) -> list[HazardRow]:
    return await repo.hazards(ctx.session, result_id)


async def followups(ctx: Ctx, result_id: uuid.UUID) -> list[FollowUpRow]:
    return await repo.followups(ctx.session, result_id)


async def attachments(ctx: Ctx, result_id: uuid.UUID) -> list[AttachmentRow]:
    return await repo.attachments(ctx.session, result_id)


async def set_part_published(ctx: Ctx, result_id: uuid.UUID, at: dt.datetime) -> None:
    """An approved (已通过) part of a joint record becomes 已公示 when the lead publishes the unified record."""
    await repo.set_part_published(ctx.session, result_id, at)


async def findings_by_class(session: AsyncSession, year: int) -> list[ClassFindingsRow]:
    """Published checks of ``year`` per department and credit-risk class, and how many found problems (the rows the
    session's scope shows: the county overseer's, the county's)."""
    return await stats_repository.findings_by_class(session, year)
