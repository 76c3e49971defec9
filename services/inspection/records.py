"""Inspection's records as other services (federation's unified records and referrals) read them.

Only inspection's repository touches the result tables; these functions read them in the caller's transaction and
tenant scope (``acting_for`` a partner where federation has checked that it may). The answers are the rows' Structs
of ``services.inspection.schemas``.
"""

from __future__ import annotations

import datetime as dt
import uuid

from services.inspection import repository as repo
from services.inspection.schemas import AttachmentRow, FollowUpRow, HazardRow, ResultRow, TaskRow
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
