"""Correcting mistakes in a plan, with a trail (issue #17 item 1).

What can change depends on what is already public:

- A task is edited while it is a draft. Once announced (the eligible list and the commitment are public) it can still
  be corrected before the draw: the announcement is voided *publicly* with the reason — the old commitment stays on
  the public register, marked 已作废 — and the task goes back to draft, to be announced again.
- A task or a whole plan is cancelled, with a reason, at any state before one of its results is published; a live
  draw is voided publicly with the same reason, so that whoever saw it announced sees why it stopped.
- A plan's own fields (table date, sections) are edited while none of its tasks has been announced.

Every change is audited in the department's hash chain and listed on the plan page (:func:`plan_changes`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated
from zoneinfo import ZoneInfo

import msgspec

from services.planning import draw_repository as drepo
from services.planning import repository as repo
from services.planning.extension import task_results
from services.planning.lookups import plan_row, task_row
from services.planning.rows import PlanRow, TaskRow
from services.planning.schemas import (
    DrawStatus,
    PlanOut,
    PlanStatus,
    SectionCode,
    TaskCreate,
    TaskOut,
    TaskStatus,
)
from shared import audit
from shared.boundary import Input, Reason, text
from shared.context import Ctx
from shared.errors import Conflict, InvalidInput, NotFound

CancelReason = Annotated[str, text(500, min_length=5, lines=True, description="撤销理由（至少5个字）")]

# Task states in which nothing has been drawn yet.
_BEFORE_DRAW = (TaskStatus.DRAFT, TaskStatus.ANNOUNCED)
_ENDED = (TaskStatus.VOIDED, TaskStatus.COMPLETED)


class TaskEdit(TaskCreate):
    """The task's whole content as it should be; ``reason`` is required once the task has been announced."""

    reason: Reason = ""


class PlanEdit(Input):
    table_date: dt.date | None = None
    initiating_section: SectionCode | None = None
    joint_sections: list[SectionCode] | None = None
    reason: Reason = ""


class CancelRequest(Input):
    reason: CancelReason


class ChangeOut(msgspec.Struct):
    at: str
    actor: str
    action: str
    what: str
    reason: str


ACTION_LABELS = {
    "plan.create": "创建计划",
    "plan.publish": "发布计划",
    "plan.edit": "修改计划",
    "plan.cancel": "撤销计划",
    "task.create": "添加任务",
    "task.edit": "更正任务",
    "task.cancel": "撤销任务",
    "draw.announce": "公告",
    "draw.void": "作废抽取",
    "draw.run": "执行抽取",
    "task.match": "匹配检查人员",
    "team.adjust": "调整检查人员",
}
_CHINA = ZoneInfo("Asia/Shanghai")


async def _own_plan(ctx: Ctx, plan_id: uuid.UUID) -> PlanRow:
    """The plan, locked, if the current department owns it: a partner of a joint plan reads it but never edits it."""
    plan = await plan_row(ctx, plan_id, lock=True)
    if not await repo.owns_plan(ctx.session, plan_id, ctx.tenant_id):
        raise NotFound("抽查计划不存在", field="plan_id")
    return plan


async def _void_live_draw(ctx: Ctx, task: TaskRow, reason: str) -> None:
    """Void the task's draw, if it has a live one, on the public register too."""
    if task.draw_id is None:
        return
    draw = await drepo.get_draw(ctx.session, task.draw_id, lock=True)
    if draw is None or draw.status == DrawStatus.VOIDED:
        return
    voided_at = await drepo.mark_voided(ctx.session, draw.id, reason, ctx.principal.name)
    await drepo.publish_void(ctx.session, draw.id, voided_at, reason)


async def _refuse_if_published(ctx: Ctx, task_id: uuid.UUID, what: str) -> None:
    published = await task_results().published(ctx.session, task_id)
    if published:
        raise Conflict(f"{what}已有 {published} 家企业的检查结果公示，不能撤销", field="status")


async def edit_task(ctx: Ctx, task_id: uuid.UUID, data: TaskEdit) -> TaskOut:
    from services.planning import service  # the task rules and views live there; service imports this module

    ctx.require_writer()
    task = await task_row(ctx, task_id, lock=True)
    plan = await _own_plan(ctx, task.plan_id)
    if plan.status not in (PlanStatus.DRAFT, PlanStatus.PUBLISHED):
        raise Conflict(f"计划当前状态为“{plan.status}”，不能更正任务", field="status")
    if task.status not in _BEFORE_DRAW:
        raise Conflict(
            f"任务当前状态为“{task.status}”：抽取结果已公开，不能更正；如需重来请撤销该任务后重新添加",
            field="status",
        )
    announced = task.status == TaskStatus.ANNOUNCED
    if announced and len(data.reason) < 5:
        raise InvalidInput(
            "任务已公告，更正需要填写理由（至少5个字），理由将随原公告一并公开", field="reason"
        )
    values = await service.validated_task(ctx, plan, data)
    if announced:
        await _void_live_draw(ctx, task, f"任务更正后重新公告：{data.reason}")
        await repo.set_task_status(ctx.session, task_id, TaskStatus.DRAFT)
    await repo.update_task(ctx.session, task_id, msgspec.structs.asdict(values))
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "task.edit",
        "task",
        task_id,
        {
            "plan": plan.number,
            "task": task.number,
            "reason": data.reason,
            "reannounce": announced,
            "before": {"name": task.name, "ratios": task.ratios, "scope": task.scope},
            "after": {"name": values.name, "ratios": values.ratios, "scope": values.scope},
        },
    )
    out, _ = await service.task_detail(ctx, task_id)
    return out


async def _cancel_task(ctx: Ctx, task: TaskRow, reason: str, plan: PlanRow) -> bool:
    if task.status in _ENDED:
        return False
    await _refuse_if_published(ctx, task.id, f"任务{task.number}")
    await _void_live_draw(ctx, task, f"任务已撤销：{reason}")
    await repo.set_task_status(ctx.session, task.id, TaskStatus.VOIDED)
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "task.cancel",
        "task",
        task.id,
        {"plan": plan.number, "task": task.number, "reason": reason, "status_before": task.status},
    )
    return True


async def cancel_task(ctx: Ctx, task_id: uuid.UUID, data: CancelRequest) -> TaskOut:
    from services.planning import service

    ctx.require_writer()
    task = await task_row(ctx, task_id, lock=True)
    plan = await _own_plan(ctx, task.plan_id)
    if task.status in _ENDED:
        raise Conflict(f"任务当前状态为“{task.status}”，无需撤销", field="status")
    await _cancel_task(ctx, task, data.reason, plan)
    out, _ = await service.task_detail(ctx, task_id)
    return out


async def cancel_plan(ctx: Ctx, plan_id: uuid.UUID, data: CancelRequest) -> PlanOut:
    from services.planning import service

    ctx.require_writer()
    plan = await _own_plan(ctx, plan_id)
    if plan.status in (PlanStatus.CANCELLED, PlanStatus.COMPLETED):
        raise Conflict(f"计划当前状态为“{plan.status}”，不能撤销", field="status")
    tasks = await repo.list_tasks(ctx.session, plan_id)
    for task in tasks:  # check all first: a refusal must leave every task as it was
        if task.status not in _ENDED:
            await _refuse_if_published(ctx, task.id, f"任务{task.number}")
    for task in tasks:
        await _cancel_task(ctx, task, data.reason, plan)
    await repo.set_plan_status(ctx.session, plan_id, PlanStatus.CANCELLED)
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "plan.cancel",
        "plan",
        plan_id,
        {"plan": plan.number, "reason": data.reason},
    )
    return await service.plan_detail(ctx, plan_id)


async def edit_plan(ctx: Ctx, plan_id: uuid.UUID, data: PlanEdit) -> PlanOut:
    from services.planning import service

    ctx.require_writer()
    plan = await _own_plan(ctx, plan_id)
    if plan.status not in (PlanStatus.DRAFT, PlanStatus.PUBLISHED):
        raise Conflict(f"计划当前状态为“{plan.status}”，不能修改", field="status")
    tasks = await repo.list_tasks(ctx.session, plan_id)
    if any(t.status not in (TaskStatus.DRAFT, TaskStatus.VOIDED) for t in tasks):
        raise Conflict("计划已有任务公告，计划本身不能再修改；请更正或撤销相应任务", field="status")
    sections = await repo.sections_by_code(ctx.session)
    initiating = plan.initiating_section_id
    if data.initiating_section is not None:
        if data.initiating_section not in sections:
            raise InvalidInput(f"股室 {data.initiating_section} 不存在", field="initiating_section")
        initiating = sections[data.initiating_section].id
    joint = list(plan.joint_section_ids)
    if data.joint_sections is not None:
        for index, code in enumerate(data.joint_sections):
            if code not in sections:
                raise InvalidInput(f"股室 {code} 不存在", field=f"joint_sections[{index}]")
        joint = [sections[c].id for c in data.joint_sections]
    if plan.kind == "内部联合" and not joint:
        raise InvalidInput("内部联合抽查需要联合股室", field="joint_sections")
    table_date = data.table_date or plan.table_date
    await repo.update_plan(ctx.session, plan_id, table_date, initiating, joint)
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "plan.edit",
        "plan",
        plan_id,
        {"plan": plan.number, "reason": data.reason, "table_date": table_date.isoformat()},
    )
    return await service.plan_detail(ctx, plan_id)


async def plan_changes(ctx: Ctx, plan_id: uuid.UUID) -> list[ChangeOut]:
    """The plan's trail: its own events and its tasks', oldest first, as the plan page lists them."""
    await plan_row(ctx, plan_id)
    task_numbers = {str(t.id): t.number for t in await repo.list_tasks(ctx.session, plan_id)}
    events = [
        *await audit.events(ctx.session, ctx.tenant_id, entity_type="plan", entity_id=str(plan_id)),
        *[
            e
            for task_id in task_numbers
            for e in await audit.events(ctx.session, ctx.tenant_id, entity_type="task", entity_id=task_id)
        ],
    ]
    changes = []
    for event in sorted(events, key=lambda e: e.seq):
        data = event.data if isinstance(event.data, dict) else {}
        what = f"任务{task_numbers[event.entity_id]}" if event.entity_type == "task" else "计划"
        changes.append(
            ChangeOut(
                at=dt.datetime.fromisoformat(event.at).astimezone(_CHINA).strftime("%Y-%m-%d %H:%M"),
                actor=event.actor_name,
                action=ACTION_LABELS.get(event.action, "其他变更"),
                what=what,
                reason=str(data.get("reason") or ""),
            )
        )
    return changes
