"""Inspection's records as other services (federation's unified records and referrals) read them.

Only inspection's repository touches the result tables; these functions read them in the caller's transaction and
tenant scope (``acting_for`` a partner where federation has checked that it may).

The answers are plain dicts with the columns as keys (the rows' structs, field for field): this interface is frozen
until federation is typed against the structs of ``services.inspection.schemas``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec

from services.inspection import repository as repo
from shared.context import Ctx


def _plain(row: msgspec.Struct) -> dict[str, Any]:  # the frozen interface's shape (see the module docstring)
    return msgspec.structs.asdict(row)


async def result(ctx: Ctx, result_id: uuid.UUID) -> dict[str, Any] | None:
    found = await repo.get_result(ctx.session, result_id)
    return _plain(found) if found is not None else None


async def task_info(ctx: Ctx, task_id: uuid.UUID) -> dict[str, Any] | None:
    """The task as result entry sees it (numbers, names, items, window and its current draw)."""
    found = await repo.task_info(ctx.session, task_id)
    return _plain(found) if found is not None else None


async def hazards(ctx: Ctx, result_id: uuid.UUID) -> list[dict[str, Any]]:
    return [_plain(h) for h in await repo.hazards(ctx.session, result_id)]


async def followups(ctx: Ctx, result_id: uuid.UUID) -> list[dict[str, Any]]:
    return [_plain(f) for f in await repo.followups(ctx.session, result_id)]


async def attachments(ctx: Ctx, result_id: uuid.UUID) -> list[dict[str, Any]]:
    return [_plain(a) for a in await repo.attachments(ctx.session, result_id)]


async def set_part_published(ctx: Ctx, result_id: uuid.UUID, at: dt.datetime) -> None:
    """An approved (已通过) part of a joint record becomes 已公示 when the lead publishes the unified record."""
    await repo.set_part_published(ctx.session, result_id, at)
