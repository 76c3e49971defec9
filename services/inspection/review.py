"""Review of results: 草稿/退回 → 待审核 → 退回, or 通过 → 已公示 (the public record written in the same transaction);
a joint part (部门联合) approved by its department waits as 已通过 until the lead publishes the unified record."""

from __future__ import annotations

import datetime as dt
import uuid

from services.disclosure import service as disclosure
from services.disclosure.schemas import PublicRecord
from services.inspection import repository as repo
from services.inspection.common import (
    is_reviewer,
    load_result,
    load_task,
    refuse,
    require_team,
    result_out,
)
from services.inspection.schemas import ResultOut, ResultRow, ResultStatus, ReturnRequest, TaskRow
from services.registry import service as registry
from shared import audit, notifications
from shared.context import Ctx
from shared.errors import Conflict, Forbidden, InvalidInput

# The only legal moves; anything else is a 409 naming the current status.
TRANSITIONS = {
    "submit": (ResultStatus.DRAFT, ResultStatus.RETURNED),
    "approve": (ResultStatus.SUBMITTED,),
    "return": (ResultStatus.SUBMITTED,),
}
EXCLUSIVE = "未发现问题"
NO_FOLLOW_UP = "无需后续处置"
RECTIFY = "责令改正并跟踪"


async def _check_complete(ctx: Ctx, result: ResultRow) -> None:
    """A result goes to review only when it is complete and consistent; every gap is named at once. ``points[i]``
    and ``hazards[i]`` count in the order the entry view lists them (the task's check points, the hazards)."""
    errors: list[tuple[str, str]] = []
    task = await load_task(ctx, result.task_id)
    expected = await repo.check_points(ctx.session, list(task.item_ids), task.check_point_ids)
    answered = await repo.points(ctx.session, result.id)
    missing = [p for p in expected if p.id not in answered]
    if missing:
        errors.append(("points", f"还有 {len(missing)} 个检查要点未填写结论"))
    given = [answered[p.id] for p in expected if p.id in answered]
    for i, answer in enumerate(given):
        if answer.outcome == "不符合" and not answer.note.strip():
            errors.append((f"points[{i}].note", "不符合的检查要点须说明问题"))
    if result.check_date is None:
        errors.append(("check_date", "请填写检查日期"))
    categories = list(result.categories)
    hazards = await repo.hazards(ctx.session, result.id)
    problems = bool(hazards) or any(a.outcome == "不符合" for a in answered.values())
    if not categories:
        errors.append(("categories", "请选择至少一个检查结果类别"))
    elif EXCLUSIVE in categories and (len(categories) > 1 or problems):
        errors.append(("categories", "“未发现问题”不能与发现的问题或其他类别同时选择"))
    actions = {f.action for f in await repo.followups(ctx.session, result.id)}
    if not actions:
        errors.append(("follow_ups", "请选择后续处置方式"))
    elif hazards and actions == {NO_FOLLOW_UP}:
        errors.append(("follow_ups", "发现隐患时须选择后续处置（如责令改正并跟踪）"))
    if RECTIFY in actions:
        for i, h in enumerate(hazards):
            if h.rectify_by is None:
                errors.append((f"hazards[{i}].rectify_by", "责令改正的隐患须填写整改期限"))
    refuse(errors)


def _transition(result: ResultRow, move: str) -> None:
    if result.status not in TRANSITIONS[move]:
        label = {"submit": "提交审核", "approve": "审核通过", "return": "退回"}[move]
        raise Conflict(f"检查结果当前状态为“{result.status}”，不能{label}", field="status")


async def submit(ctx: Ctx, result_id: uuid.UUID) -> ResultOut:
    result = await load_result(ctx, result_id, lock=True)
    await require_team(ctx, result.task_id, result.uscc)
    _transition(result, "submit")
    await _check_complete(ctx, result)
    await repo.set_status(
        ctx.session, result_id, ResultStatus.SUBMITTED, submitted_at=dt.datetime.now(dt.UTC)
    )
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "result.submit",
        "result",
        result_id,
        {"from": str(result.status)},
    )
    await notifications.create(
        ctx.session,
        ctx.tenant_id,
        "result",
        f"待审核：{result.object_name}",
        link=f"/results/{result_id}",
        dedupe_key=f"submit:{result_id}:{dt.datetime.now(dt.UTC).isoformat()}",
    )
    return result_out(await load_result(ctx, result_id))


def _require_reviewer(ctx: Ctx) -> None:
    if not is_reviewer(ctx):
        raise Forbidden("只有审核人员或部门管理员可以审核检查结果")


async def return_result(ctx: Ctx, result_id: uuid.UUID, data: ReturnRequest) -> ResultOut:
    _require_reviewer(ctx)
    reason = data.reason.strip()
    if len(reason) < 2:
        raise InvalidInput("请填写退回理由", field="reason")
    result = await load_result(ctx, result_id, lock=True)
    _transition(result, "return")
    now = dt.datetime.now(dt.UTC)
    await repo.set_status(
        ctx.session,
        result_id,
        ResultStatus.RETURNED,
        return_reason=reason,
        reviewed_by=str(ctx.principal.user_id),
        reviewed_by_name=ctx.principal.name,
        reviewed_at=now,
    )
    await audit.record(
        ctx.session, ctx.tenant_id, ctx.actor, "result.return", "result", result_id, {"reason": reason}
    )
    await notifications.create(
        ctx.session,
        ctx.tenant_id,
        "result",
        f"检查结果被退回：{result.object_name}",
        body=reason,
        link=f"/results/{result_id}",
        recipient_id=result.entered_by,
        dedupe_key=f"return:{result_id}:{now.isoformat()}",
    )
    return result_out(await load_result(ctx, result_id))


async def approve(ctx: Ctx, result_id: uuid.UUID) -> ResultOut:
    """通过 → 已公示: the public record is written in the same transaction, so publication is all or nothing."""
    _require_reviewer(ctx)
    result = await load_result(ctx, result_id, lock=True)
    _transition(result, "approve")
    if (await load_task(ctx, result.task_id)).joint:
        return await _approve_joint_part(ctx, result)
    now = dt.datetime.now(dt.UTC)
    await repo.set_status(
        ctx.session,
        result_id,
        ResultStatus.PUBLISHED,
        reviewed_by=str(ctx.principal.user_id),
        reviewed_by_name=ctx.principal.name,
        reviewed_at=now,
        published_at=now,
        return_reason=None,
    )
    task = await load_task(ctx, result.task_id)
    items = await planning_items(ctx, task)
    hazards = await repo.hazards(ctx.session, result_id)
    follow = [f.action for f in await repo.followups(ctx.session, result_id)]
    assert result.check_date is not None  # a submitted result is complete (_check_complete)
    await disclosure.publish(
        ctx.session,
        PublicRecord(
            id=result_id,
            task_id=result.task_id,
            draw_id=task.draw_id,
            department_code=ctx.department.code,
            department_name=ctx.department.name,
            region_code=ctx.department.region_code,
            plan_number=result.plan_number,
            plan_name=result.plan_name,
            task_number=result.task_number,
            task_name=result.task_name,
            uscc=result.uscc,
            enterprise_name=result.object_name,
            address=result.address,
            items=items,
            check_date=result.check_date,
            categories=list(result.categories),
            hazard_count=len(hazards),
            follow_up="、".join(follow),
            published_at=now,
            back_entry=result.back_entry,
        ),
    )
    await registry.mark_checked(ctx.session, result.object_id, result.check_date)
    late = now.date() > result.due_on
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "result.approve",
        "result",
        result_id,
        {"published_at": now.isoformat(), "due_on": result.due_on.isoformat(), "late": late},
    )
    await notifications.create(
        ctx.session,
        ctx.tenant_id,
        "result",
        f"检查结果已公示：{result.object_name}",
        link=f"/results/{result_id}",
        recipient_id=result.entered_by,
        dedupe_key=f"approve:{result_id}",
    )
    return result_out(await load_result(ctx, result_id))


async def planning_items(ctx: Ctx, task: TaskRow) -> str:
    points = await repo.check_points(ctx.session, list(task.item_ids), task.check_point_ids)
    names = dict.fromkeys(p.item_name for p in points)
    return "；".join(names)


async def _approve_joint_part(ctx: Ctx, result: ResultRow) -> ResultOut:
    now = dt.datetime.now(dt.UTC)
    await repo.set_status(
        ctx.session,
        result.id,
        ResultStatus.APPROVED,
        reviewed_by=str(ctx.principal.user_id),
        reviewed_by_name=ctx.principal.name,
        reviewed_at=now,
        return_reason=None,
    )
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "result.approve_part",
        "result",
        result.id,
        {"task_id": str(result.task_id), "uscc": result.uscc},
    )
    await notifications.create(
        ctx.session,
        ctx.tenant_id,
        "result",
        f"联合检查本部门部分已审核通过，待牵头部门统一公示：{result.object_name}",
        link=f"/results/{result.id}",
        recipient_id=result.entered_by,
        dedupe_key=f"approve:{result.id}",
    )
    return result_out(await load_result(ctx, result.id))
