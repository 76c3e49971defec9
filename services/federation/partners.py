"""Correcting the partners of a joint plan before the draw (SPEC §10): the lead invites a department later, invites
again one that declined or left, removes one, or replaces one by another. Every change is audited in the lead's
trail and shown on the plan page; the departments concerned are notified.

Partners, like their items, are locked once a task of the plan is announced: the frozen list may have been narrowed
to the partners' registries and the teams take one inspector of each (a voided announcement unlocks them).
"""

from __future__ import annotations

import datetime as dt
import uuid

from services.federation import repository as frepo
from services.federation.rows import DepartmentRow, ParticipantRow
from services.federation.schemas import JointPlanView, ParticipationStatus, PartnerChange
from services.federation.service import joint_view, locking_task
from services.planning.service import plan_row
from shared import audit, notifications
from shared.context import Ctx
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.tenancy import acting_for
from shared.workdays import add_workdays

__all__ = ["PartnerChange", "change_partners"]

ACTIVE = (ParticipationStatus.INVITED, ParticipationStatus.ACCEPTED)


async def change_partners(ctx: Ctx, plan_id: uuid.UUID, data: PartnerChange) -> JointPlanView:
    ctx.require_writer()
    plan = await plan_row(ctx, plan_id)
    if plan.kind != "部门联合":
        raise NotFound("不是部门联合抽查计划", field="plan_id")
    participants = await frepo.participants(ctx.session, plan_id)
    if any(p.tenant_id == ctx.tenant_id for p in participants):
        raise Forbidden("只有牵头部门可以邀请、撤回或替换联合部门", field="plan_id")
    locked = await locking_task(ctx, plan_id)
    if locked is not None:
        raise Conflict(
            f"任务{locked.number}已公告抽取（{locked.status}），联合部门已锁定；如确需调整，须先作废该次公告",
            field="action",
        )
    reason = data.reason.strip()
    if data.action != "invite" and len(reason) < 2:
        raise InvalidInput("撤回或替换联合部门须说明理由", field="reason")
    if len(reason) > 500:
        raise InvalidInput("理由最多 500 个字", field="reason")
    departments = await frepo.departments_in_region(ctx.session, ctx.department.region_code)
    by_code = {p.department_code: p for p in participants}
    if data.action == "invite":
        await _invite(
            ctx, plan_id, _department(ctx, departments, data.department, "department"), by_code, reason
        )
        return await joint_view(ctx, plan_id)
    current = by_code.get(data.department)
    if current is None or current.status not in ACTIVE:
        raise InvalidInput(f"{data.department} 不是本计划邀请中或已接受的联合部门", field="department")
    replacement = None
    if data.action == "replace":
        if not data.replacement:
            raise InvalidInput("请选择替换后的联合部门", field="replacement")
        replacement = _department(ctx, departments, data.replacement, "replacement")
    await frepo.respond(ctx.session, current.id, ParticipationStatus.WITHDRAWN, ctx.principal.name, reason)
    async with acting_for(ctx.session, current.tenant_id):
        await notifications.create(
            ctx.session,
            current.tenant_id,
            "federation",
            f"{ctx.department.name}已撤回对贵部门参加{plan.number}部门联合抽查的邀请：{reason}",
            link="/federation",
        )
    if replacement is not None:
        await _invite(ctx, plan_id, replacement, by_code, reason, replaces=current)
    else:
        await _record(
            ctx,
            plan_id,
            "joint_plan.partner_remove",
            current.department_code,
            current.department_name,
            reason,
        )
    return await joint_view(ctx, plan_id)


def _department(ctx: Ctx, departments: dict[str, DepartmentRow], code: str, field: str) -> DepartmentRow:
    if code == ctx.department.code:
        raise InvalidInput("牵头部门不能邀请自己", field=field)
    found = departments.get(code)
    if found is None:
        raise InvalidInput(f"本县没有编码为 {code} 的部门", field=field)
    return found


async def _invite(
    ctx: Ctx,
    plan_id: uuid.UUID,
    department: DepartmentRow,
    by_code: dict[str, ParticipantRow],
    reason: str,
    *,
    replaces: ParticipantRow | None = None,
) -> None:
    """Invite a department, or again when it declined or left (its earlier answer stays in the audit trails)."""
    deadline = add_workdays(dt.date.today(), 2).due
    earlier = by_code.get(department.code)
    if earlier is not None and earlier.status in ACTIVE:
        raise Conflict(f"{department.name}已在本计划中（{earlier.status}）", field="department")
    if earlier is None:
        await frepo.invite(ctx.session, ctx.tenant_id, plan_id, department.id, deadline)
    else:
        await frepo.reinvite(ctx.session, earlier.id, deadline)
    async with acting_for(ctx.session, department.id):
        await notifications.create(
            ctx.session,
            department.id,
            "federation",
            f"{ctx.department.name}邀请贵部门参加部门联合抽查，请于{deadline}前确认",
            link=f"/plans/{plan_id}",
        )
    if replaces is not None:
        await _record(
            ctx,
            plan_id,
            "joint_plan.partner_replace",
            replaces.department_code,
            replaces.department_name,
            reason,
            replacement=department,
            respond_by=deadline,
        )
    else:
        action = "joint_plan.partner_invite" if earlier is None else "joint_plan.partner_reinvite"
        await _record(ctx, plan_id, action, department.code, department.name, reason, respond_by=deadline)


async def _record(
    ctx: Ctx,
    plan_id: uuid.UUID,
    action: str,
    code: str,
    name: str,
    reason: str,
    *,
    replacement: DepartmentRow | None = None,
    respond_by: dt.date | None = None,
) -> None:
    data: dict[str, object] = {"department": code, "department_name": name, "reason": reason}
    if replacement is not None:
        data |= {"replacement": replacement.code, "replacement_name": replacement.name}
    if respond_by is not None:
        data["respond_by"] = respond_by.isoformat()
    await audit.record(ctx.session, ctx.tenant_id, ctx.actor, action, "plan", plan_id, data)
