"""Result entry by the team that checked the enterprise (谁检查、谁录入): the draft, checked field by field."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from services.disclosure import deadlines
from services.inspection import repository as repo
from services.inspection.common import (
    EDITABLE,
    load_result,
    load_task,
    refuse,
    require_team,
    result_out,
    team_object,
)
from services.inspection.schemas import (
    ACTIONS,
    CATEGORIES,
    OUTCOMES,
    SEVERITIES,
    FollowUpStatus,
    NewResult,
    PointIn,
    ResultDraft,
    ResultOut,
)
from services.planning import service as planning
from services.planning.schemas import TaskStatus
from shared import audit, workdays
from shared.context import Ctx
from shared.errors import Conflict

ENTERABLE = (TaskStatus.MATCHED, TaskStatus.IN_PROGRESS)
NO_FOLLOW_UP = "无需后续处置"  # the one follow-up that is done as soon as it is chosen


def validate(data: ResultDraft, point_ids: set[uuid.UUID]) -> None:
    """What makes a draft wrong (not merely incomplete: completeness is checked on 提交审核), all at once."""
    errors: list[tuple[str, str]] = []
    seen: set[uuid.UUID] = set()
    for i, p in enumerate(data.points):
        if p.check_point_id not in point_ids:
            errors.append((f"points[{i}].check_point_id", "该检查要点不属于本任务的检查事项"))
        elif p.check_point_id in seen:
            errors.append((f"points[{i}].check_point_id", "检查要点重复填写"))
        seen.add(p.check_point_id)
        if p.outcome not in OUTCOMES:
            errors.append((f"points[{i}].outcome", "检查结论应为 符合、不符合 或 不涉及"))
    for i, c in enumerate(data.categories):
        if c not in CATEGORIES:
            errors.append((f"categories[{i}]", f"“{c}”不是全国平台的检查结果类别"))
    if len(set(data.categories)) != len(data.categories):
        errors.append(("categories", "检查结果类别重复"))
    for i, h in enumerate(data.hazards):
        if not h.description.strip():
            errors.append((f"hazards[{i}].description", "请填写隐患描述"))
        if h.severity not in SEVERITIES:
            errors.append((f"hazards[{i}].severity", "隐患等级应为 重大隐患 或 一般隐患"))
    for i, f in enumerate(data.follow_ups):
        if f.action not in ACTIONS:
            errors.append((f"follow_ups[{i}].action", f"“{f.action}”不是规定的后续处置方式"))
    if len({f.action for f in data.follow_ups}) != len(data.follow_ups):
        errors.append(("follow_ups", "后续处置方式重复"))
    if data.check_date is not None and data.check_date > dt.date.today():
        errors.append(("check_date", "检查日期不能晚于今天"))
    refuse(errors)


async def save_draft(ctx: Ctx, task_id: uuid.UUID, uscc: str, data: ResultDraft) -> ResultOut:
    task = await load_task(ctx, task_id, lock=True)
    await require_team(ctx, task_id, uscc)
    if task.status not in ENTERABLE:
        raise Conflict(f"任务当前状态为“{task.status}”，不能录入检查结果", field="status")
    points = await repo.check_points(ctx.session, list(task.item_ids), task.check_point_ids)
    validate(data, {p.id for p in points})
    # The check ends on the check date entered, else at the end of the task's last month.
    end = data.check_date or workdays.month_end(task.end_month)
    result = await repo.result_for(ctx.session, task_id, uscc, lock=True)
    started = False
    if result is None:
        # A first entry locks the task row before inserting: the insert's foreign-key share lock on the task, taken
        # first, would deadlock two concurrent first entries when both then move the task to 实施中. Under that
        # lock, look again: a concurrent first save of the same enterprise may have committed meanwhile.
        started = await planning.start_implementation(ctx.session, task_id)
        result = await repo.result_for(ctx.session, task_id, uscc, lock=True)
    if started:
        await audit.record(ctx.session, ctx.tenant_id, ctx.actor, "task.start", "task", task_id, {})
    if result is None:
        obj = await team_object(ctx, task_id, uscc)
        if obj is None:
            raise Conflict("该企业不在本部门的检查对象名录库中，请先在名录库中登记", field="uscc")
        result_id = uuid.uuid4()
        object_id = obj.object_id
        action = "result.create"
    else:
        result_id = result.id
        object_id = result.object_id
        if result.status not in EDITABLE:
            raise Conflict(f"检查结果当前状态为“{result.status}”，不能修改", field="status")
        action = "result.save"
    # 补录: the deadline counts from the day the record was first entered (see deadlines.deadline).
    entered_on = (result.created_at.date() if result else dt.date.today()) if task.back_entry else None
    due = await deadlines.deadline(ctx.session, end, entered_on)
    values = NewResult(
        id=result_id,
        tenant_id=ctx.tenant_id,
        task_id=task_id,
        uscc=uscc,
        object_id=object_id,
        check_end=end,
        due_on=due.due,
        due_uncertain=due.uncertain,
        entered_by=str(ctx.principal.user_id),
        entered_by_name=ctx.principal.name,
    )
    if result is None:
        await repo.insert_result(ctx.session, values)
    await repo.update_draft(
        ctx.session, result_id, values, data.check_date, data.categories, data.summary.strip()
    )
    await repo.replace_points(
        ctx.session,
        ctx.tenant_id,
        result_id,
        [
            PointIn(check_point_id=p.check_point_id, outcome=p.outcome, note=p.note.strip())
            for p in data.points
        ],
    )
    await repo.replace_hazards(
        ctx.session,
        ctx.tenant_id,
        result_id,
        [
            msgspec.structs.replace(h, id=h.id or uuid.uuid4(), description=h.description.strip())
            for h in data.hazards
        ],
    )
    await repo.replace_followups(
        ctx.session,
        ctx.tenant_id,
        result_id,
        [
            (
                msgspec.structs.replace(
                    f, id=f.id or uuid.uuid4(), target=f.target.strip(), note=f.note.strip()
                ),
                FollowUpStatus.CLOSED if f.action == NO_FOLLOW_UP else FollowUpStatus.OPEN,
            )
            for f in data.follow_ups
        ],
    )
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        action,
        "result",
        result_id,
        {
            "task_id": str(task_id),
            "uscc": uscc,
            "points": len(data.points),
            "categories": data.categories,
            "hazards": len(data.hazards),
            "follow_ups": [f.action for f in data.follow_ups],
            "due_on": due.due.isoformat(),
            "due_uncertain": due.uncertain,
        },
    )
    out = result_out(await load_result(ctx, result_id))
    if due.uncertain:
        out.warning = (
            f"{'、'.join(map(str, due.unknown_years))}年的法定节假日尚未公布，公示期限暂按周末计算，"
            "请管理员在国务院公布后导入当年安排"
        )
    return out
