"""What every rule of result entry, review and follow-up needs: loading the task and the result, the team of an
enterprise (谁检查、谁录入), who reviews, and a result as the API answers it (deadline state included)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec

from services.inspection import repository as repo
from services.inspection.extension import joint_parts
from services.inspection.schemas import (
    MemberRow,
    ObjectRow,
    ResultOut,
    ResultRow,
    ResultStatus,
    TaskRow,
    TaskView,
)
from shared import workdays
from shared.context import Ctx
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound

REVIEWERS = ("reviewer", "dept-admin")


class FieldErrors(InvalidInput):
    """Every refusal of one draft or submission at once, each naming its field. ``field`` and ``message`` are the
    first (the one shape of every error body); ``errors`` in the body lists them all, so that a page can show each
    beside its field."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        field, message = errors[0]
        super().__init__(message, field=field)
        self.errors = errors

    def body(self) -> dict[str, Any]:
        body = super().body()
        body["error"]["errors"] = [{"field": f, "message": m} for f, m in self.errors]
        return body


def refuse(errors: list[tuple[str, str]]) -> None:
    if errors:
        raise FieldErrors(errors)


EDITABLE = (ResultStatus.DRAFT, ResultStatus.RETURNED)


def is_overdue(result: ResultRow, today: dt.date) -> bool:
    if result.status == ResultStatus.PUBLISHED:
        return result.published_at is not None and result.published_at.date() > result.due_on
    return today > result.due_on


def result_out(result: ResultRow, today: dt.date | None = None) -> ResultOut:
    """The result with its deadline state: overdue, and the working days left until it is published."""
    today = today or dt.date.today()
    left = (
        workdays.workdays_between(today, result.due_on) if result.status != ResultStatus.PUBLISHED else None
    )
    return ResultOut(**msgspec.structs.asdict(result), overdue=is_overdue(result, today), workdays_left=left)


def is_reviewer(ctx: Ctx) -> bool:
    return ctx.principal.has_any_role(*REVIEWERS)


async def team(ctx: Ctx, task_id: uuid.UUID, uscc: str) -> list[MemberRow]:
    members = await repo.team_members(ctx.session, task_id, uscc) or await joint_members(ctx, task_id, uscc)
    if not members:
        raise NotFound("该企业不在本任务的检查分组中", field="uscc")
    return members


async def require_team(ctx: Ctx, task_id: uuid.UUID, uscc: str) -> None:
    members = await team(ctx, task_id, uscc)
    if ctx.principal.user_id not in {m.user_id for m in members}:
        raise Forbidden("只有该企业检查组的检查人员可以录入检查结果（谁检查、谁录入）", field="uscc")


async def require_team_or_reviewer(ctx: Ctx, result: ResultRow) -> None:
    if is_reviewer(ctx):
        return
    await require_team(ctx, result.task_id, result.uscc)


async def load_task(ctx: Ctx, task_id: uuid.UUID, *, lock: bool = False) -> TaskView:
    task = await repo.task_info(ctx.session, task_id, lock=lock)
    if task is None and lock:
        # A partner of a joint plan sees the lead's task read-only (joint_read): it cannot lock it.
        task = await repo.task_info(ctx.session, task_id)
    if task is None:
        raise NotFound("抽查任务不存在", field="task_id")
    return await joint_task(ctx, task)


async def load_result(ctx: Ctx, result_id: uuid.UUID, *, lock: bool = False) -> ResultRow:
    result = await repo.get_result(ctx.session, result_id, lock=lock)
    if result is None:
        raise NotFound("检查结果不存在", field="result_id")
    return result


# ---- joint tasks (部门联合抽查, 一企一表) -----------------------------------------------------------------------------
# Each participating department enters its own part for its own items (its own tenant rows, keyed by the lead's task
# id and the USCC); the team is in ``joint_team_members``; a part approved by its department waits as 已通过 until the
# lead publishes the unified record (services/federation/results.py).


async def joint_task(ctx: Ctx, task: TaskRow) -> TaskView:
    view = TaskView(**msgspec.structs.asdict(task))
    joint = await joint_parts().joint_task(ctx.session, task.id)
    if joint is None:
        return view
    view.joint = joint
    if joint.is_lead:
        return view
    # federation's ParticipationStatus.ACCEPTED: inspection sits below federation and cannot import its enum.
    if joint.my_status != "已接受":
        raise NotFound("抽查任务不存在", field="task_id")
    if not joint.my_item_ids:
        raise Conflict("本部门尚未在联合抽查计划中添加本部门的检查事项", field="item_ids")
    # A partner checks (and enters) its own items only; the lead's items are not its to answer.
    view.item_ids = list(joint.my_item_ids)
    view.check_point_ids = None  # the lead's chosen check points are of the lead's items
    return view


async def joint_members(ctx: Ctx, task_id: uuid.UUID, uscc: str) -> list[MemberRow]:
    return await joint_parts().my_members(ctx.session, task_id, uscc)


async def team_object(ctx: Ctx, task_id: uuid.UUID, uscc: str) -> ObjectRow | None:
    """The enterprise in the department's own registry (a joint team row carries no object of ours)."""
    found = await repo.team_object(ctx.session, task_id, uscc)
    if found is not None:
        return found
    return await joint_parts().own_object(ctx.session, uscc)
