"""Manual adjustment of a team after matching (SPEC §5, §10): one way for internal and joint teams.

A planner replaces one member of one enterprise's team with another of the department's own inspectors, with a
reason. Every rule of the matching still holds for the new member: active, licence valid through the check period,
the slot's declared requirements (section, specialty) as published in the matching proof, not already on the team,
no declared conflict of interest, not the inspector who checked the enterprise last time. The change is recorded
(``team_adjustments``), audited and published beside the draw.

Joint (部门联合) teams: each slot belongs to a department and its row is that department's. The lead's planner
adjusts the lead's slots; a partner's planner its own department's slots (the partner reads the lead's task through
its participation, never locks it); the lead sees every adjustment, a partner its own (and the public all).
"""

from __future__ import annotations

import datetime as dt
import uuid

from services.planning import joint_teams_repository as jrepo
from services.planning import teams_repository as trepo
from services.planning.lookups import plan_row, task_row
from services.planning.rows import InspectorRow, NewAdjustment, TaskRow
from services.planning.schemas import AdjustRequest, JointTeamsOut, PublicAdjustment, TeamsOut
from services.planning.teams import ADJUSTABLE, check_end, teams_view
from shared import audit
from shared.context import Ctx
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound

__all__ = ["adjust_team"]

NOT_ON_TEAMS = "该企业或岗位不在本任务的检查分组中"


async def adjust_team(ctx: Ctx, task_id: uuid.UUID, data: AdjustRequest) -> TeamsOut | JointTeamsOut:
    """A planner replaces one member, with a reason; the rules still hold and the change is public."""
    ctx.require_writer()
    reason = data.reason.strip()
    if len(reason) < 5:
        raise InvalidInput("调整理由至少 5 个字", field="reason")
    if len(reason) > 500:
        raise InvalidInput("调整理由最多 500 个字", field="reason")
    task = await task_row(ctx, task_id)
    joint = (await plan_row(ctx, task.plan_id)).kind == "部门联合"
    if not joint:
        task = await task_row(ctx, task_id, lock=True)
    if task.status not in ADJUSTABLE:
        raise Conflict(f"任务当前状态为“{task.status}”，不能调整检查人员", field="status")
    if joint:
        current, current_name, on_team = await _joint_slot(ctx, task, data)
    else:
        found = await trepo.member(ctx.session, task_id, data.uscc, data.slot)
        if found is None:
            raise NotFound(NOT_ON_TEAMS, field="uscc")
        current, current_name = found, None
        on_team = await trepo.team_of(ctx.session, task_id, data.uscc)
    inspector = await _replacement(ctx, task, data, on_team)
    if joint:
        await jrepo.replace_joint_member(
            ctx.session, task_id, data.uscc, data.slot, (inspector.id, inspector.name, inspector.licence_no)
        )
    else:
        await trepo.replace_member(ctx.session, task_id, data.uscc, data.slot, inspector.id)
    await trepo.insert_adjustment(
        ctx.session,
        NewAdjustment(
            id=uuid.uuid4(),
            tenant_id=ctx.tenant_id,
            task_id=task_id,
            uscc=data.uscc,
            slot=data.slot,
            old_inspector_id=current,
            new_inspector_id=inspector.id,
            reason=reason,
            adjusted_by=ctx.principal.name,
            department_name=ctx.department.name,
            old_name=current_name,
            new_name=inspector.name,
        ),
    )
    assert task.draw_id is not None
    await trepo.publish_adjustment(
        ctx.session,
        task.draw_id,
        PublicAdjustment(
            uscc=data.uscc,
            slot=data.slot,
            old=str(current),
            new=str(inspector.id),
            reason=reason,
            at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            department_name=ctx.department.name if joint else None,
        ),
    )
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "team.adjust",
        "task",
        task_id,
        {
            "uscc": data.uscc,
            "slot": data.slot,
            "old": str(current),
            "new": str(inspector.id),
            "reason": reason,
            "joint": joint,
        },
    )
    return await teams_view(ctx, task_id)


async def _joint_slot(ctx: Ctx, task: TaskRow, data: AdjustRequest) -> tuple[uuid.UUID, str, set[uuid.UUID]]:
    """The current member of a joint slot the department may change (its own), locked; and the team as seen."""
    seen = await jrepo.joint_slot(ctx.session, task.id, data.uscc, data.slot)
    if seen is None or seen.tenant_id != ctx.tenant_id:
        # A partner sees only its own slots; whether the slot exists at all is public (the matching proof).
        assert task.draw_id is not None
        if seen is None and not await trepo.published_team_slot(
            ctx.session, task.draw_id, data.uscc, data.slot
        ):
            raise NotFound(NOT_ON_TEAMS, field="uscc")
        raise Forbidden("该岗位属于其他部门，由其所属部门调整；本部门只能调整本部门的检查人员", field="slot")
    mine = await jrepo.joint_slot(ctx.session, task.id, data.uscc, data.slot, lock=True)
    assert mine is not None
    team = {m.inspector_id for m in await jrepo.joint_members(ctx.session, task.id) if m.uscc == data.uscc}
    return mine.inspector_id, mine.inspector_name, team


async def _replacement(ctx: Ctx, task: TaskRow, data: AdjustRequest, on_team: set[uuid.UUID]) -> InspectorRow:
    """The department's own inspector for the slot, if every matching rule holds for them."""
    inspector = next(
        (i for i in await trepo.active_inspectors(ctx.session) if i.id == data.inspector_id), None
    )
    if inspector is None:
        raise InvalidInput("检查人员不存在、已停用或不属于本部门", field="inspector_id")
    if inspector.id in on_team:
        raise Conflict("该检查人员已在这家企业的检查组中", field="inspector_id")
    end = check_end(task)
    if inspector.licence_expiry is None or inspector.licence_expiry < end:
        raise InvalidInput("该检查人员的执法证在检查期间不在有效期内", field="inspector_id")
    assert task.draw_id is not None
    slot = await trepo.matching_slot(ctx.session, task.draw_id, data.slot)
    if slot is None:
        raise NotFound(NOT_ON_TEAMS, field="slot")
    if slot.section is not None and inspector.section != slot.section:
        raise InvalidInput(f"该岗位（{slot.label}）须由本股室的检查人员担任", field="inspector_id")
    if slot.specialty is not None and slot.specialty not in inspector.specialties:
        raise InvalidInput(
            f"该岗位（{slot.label}）须由具备“{slot.specialty}”专业特长的检查人员担任", field="inspector_id"
        )
    conflicts = await trepo.conflicts(ctx.session, [data.uscc])
    if str(inspector.id) in conflicts.get(data.uscc, set()):
        raise Conflict("该检查人员已申报与该企业存在利害关系，须回避", field="inspector_id")
    previous = await trepo.previous_inspectors(ctx.session, [data.uscc], task.id)
    if str(inspector.id) in previous.get(data.uscc, set()):
        raise Conflict("该检查人员上次检查过这家企业，本次须回避", field="inspector_id")
    return inspector
