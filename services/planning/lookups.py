"""A plan or task of the current department (or visible to it as a partner), or 404: shared by the rules modules."""

from __future__ import annotations

import uuid

from services.planning import repository as repo
from services.planning.rows import PlanRow, TaskRow
from services.registry import service as registry
from services.registry.schemas import CheckPointRef
from shared.context import Ctx
from shared.errors import NotFound


async def plan_row(ctx: Ctx, plan_id: uuid.UUID, *, lock: bool = False) -> PlanRow:
    """A plan of the current department (or visible to it as a partner); 404 otherwise."""
    plan = await repo.get_plan(ctx.session, plan_id, lock=lock)
    if plan is None:
        raise NotFound("抽查计划不存在", field="plan_id")
    return plan


async def task_row(ctx: Ctx, task_id: uuid.UUID, *, lock: bool = False) -> TaskRow:
    """A task visible to the current department; 404 otherwise."""
    task = await repo.get_task(ctx.session, task_id, lock=lock)
    if task is None:
        raise NotFound("抽查任务不存在", field="task_id")
    return task


async def points_by_item(ctx: Ctx, item_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[CheckPointRef]]:
    """The check points of the items, grouped by item, for choosing a task's subset on the task form."""
    points: dict[uuid.UUID, list[CheckPointRef]] = {}
    for point in await registry.check_points(ctx.session, item_ids):
        points.setdefault(point.item_id, []).append(point)
    return points
