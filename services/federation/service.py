"""Rules of cross-department joint checks (部门联合抽查): invitations, responses, partner items, merged teams.

The lead department owns the joint plan, its tasks and its draw (tenant rows of the lead). Partners see them through
their participation row (``joint_read`` policies) and never write them. Where a joint task needs a partner's own data
(its inspectors, its registry's USCCs) or writes a partner's own rows (its team members), the code acts for that
partner inside the same transaction with ``shared.tenancy.acting_for`` — only for partners that accepted.
"""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from services.draw import matching
from services.federation import repository as frepo
from services.federation.rows import ParticipantRow
from services.federation.schemas import (
    InvitationOut,
    JointPlanCreate,
    JointPlanView,
    ParticipantOut,
    ParticipationStatus,
    PartnerChangeOut,
    PartnerItems,
    Respond,
    ResponseOut,
)
from services.planning import records
from services.planning import teams as pteams
from services.planning.schemas import JointMemberOut, JointTeamOut, JointTeamsOut, TaskStatus
from services.planning.service import plan_detail, plan_row, task_row
from shared import audit, notifications
from shared.context import Ctx
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.tenancy import acting_for
from shared.workdays import add_workdays

__all__ = [
    "JointPlanCreate",
    "PartnerItems",
    "Respond",
    "accepted_partners",
    "create_joint_plan",
    "invitations",
    "joint_teams",
    "joint_view",
    "match_joint_task",
    "respond",
    "set_partner_items",
    "shared_population",
]

RESPONSES = {
    "accept": ParticipationStatus.ACCEPTED,
    "decline": ParticipationStatus.DECLINED,
    "withdraw": ParticipationStatus.WITHDRAWN,
}
# The state a participation must be in for each answer.
ALLOWED = {
    "accept": (ParticipationStatus.INVITED,),
    "decline": (ParticipationStatus.INVITED,),
    "withdraw": (ParticipationStatus.ACCEPTED,),
}


async def create_joint_plan(ctx: Ctx, data: JointPlanCreate) -> JointPlanView:
    ctx.require_writer()
    if not 2000 <= data.year <= 2100:
        raise InvalidInput("年度应在 2000–2100 之间", field="year")
    if not data.partners:
        raise InvalidInput("部门联合抽查至少邀请一个联合部门", field="partners")
    departments = await frepo.departments_in_region(ctx.session, ctx.department.region_code)
    partner_ids = []
    for index, code in enumerate(data.partners):
        if code == ctx.department.code:
            raise InvalidInput("牵头部门不能邀请自己", field=f"partners[{index}]")
        if code not in departments:
            raise InvalidInput(f"本县没有编码为 {code} 的部门", field=f"partners[{index}]")
        partner_ids.append(departments[code].id)
    if len(set(partner_ids)) != len(partner_ids):
        raise InvalidInput("联合部门不能重复", field="partners")
    plan_id = await records.create_joint_plan(ctx, data.year, data.table_date, data.back_entry)
    deadline = add_workdays(dt.date.today(), 2)
    for partner_id in partner_ids:
        await frepo.invite(ctx.session, ctx.tenant_id, plan_id, partner_id, deadline.due)
        async with acting_for(ctx.session, partner_id):
            await notifications.create(
                ctx.session,
                partner_id,
                "federation",
                f"{ctx.department.name}邀请贵部门参加部门联合抽查，请于{deadline.due}前确认",
                link=f"/plans/{plan_id}",
            )
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "joint_plan.create",
        "plan",
        plan_id,
        {"partners": data.partners, "respond_by": deadline.due.isoformat()},
    )
    return await joint_view(ctx, plan_id)


def _participant_out(p: ParticipantRow) -> ParticipantOut:
    return ParticipantOut(
        id=p.id,
        plan_id=p.plan_id,
        lead_tenant_id=p.lead_tenant_id,
        tenant_id=p.tenant_id,
        department_code=p.department_code,
        department_name=p.department_name,
        status=p.status,
        invited_at=p.invited_at.isoformat(),
        respond_by=p.respond_by,
        responded_at=p.responded_at.isoformat() if p.responded_at else None,
        responded_by=p.responded_by,
        reason=p.reason,
        item_names=p.item_names,
    )


async def joint_view(ctx: Ctx, plan_id: uuid.UUID) -> JointPlanView:
    plan = await plan_detail(ctx, plan_id)
    if plan.kind != "部门联合":
        raise NotFound("不是部门联合抽查计划", field="plan_id")
    participants = await frepo.participants(ctx.session, plan_id)
    lead = await plan_row(ctx, plan_id)
    mine = next((p for p in participants if p.tenant_id == ctx.tenant_id), None)
    locked = await locking_task(ctx, plan_id)
    return JointPlanView(
        plan=plan,
        is_lead=mine is None,
        my_status=mine.status if mine else "牵头",
        lead_created_by=lead.created_by,
        participants=[_participant_out(p) for p in participants],
        partner_changes=await _partner_changes(ctx, plan_id) if mine is None else [],
        locked_by=f"{locked.number}（{locked.status}）" if locked else None,
    )


CHANGE_LABELS = {
    "joint_plan.partner_invite": "邀请",
    "joint_plan.partner_reinvite": "重新邀请",
    "joint_plan.partner_remove": "撤回邀请",
    "joint_plan.partner_replace": "替换",
}


async def _partner_changes(ctx: Ctx, plan_id: uuid.UUID) -> list[PartnerChangeOut]:
    """The lead's corrections of the partners, from its own audit trail (hash-chained, so never rewritten)."""
    return [
        PartnerChangeOut(
            at=e.at,
            actor=e.actor_name,
            action=CHANGE_LABELS[e.action],
            department=str(e.data.get("department_name", "")),
            replacement=str(e.data["replacement_name"]) if e.data.get("replacement_name") else None,
            reason=str(e.data.get("reason", "")),
        )
        for e in await audit.events(ctx.session, ctx.tenant_id, entity_type="plan", entity_id=str(plan_id))
        if e.action in CHANGE_LABELS
    ]


async def locking_task(ctx: Ctx, plan_id: uuid.UUID) -> records.TaskRow | None:
    """The first task of the joint plan announced (or further): from then on the draw depends on the partners and
    their items, which are locked (a voided announcement no longer locks anything)."""
    return next(
        (
            t
            for t in await records.plan_tasks(ctx, plan_id)
            if t.status not in (TaskStatus.DRAFT, TaskStatus.VOIDED)
        ),
        None,
    )


async def respond(ctx: Ctx, plan_id: uuid.UUID, data: Respond) -> JointPlanView | ResponseOut:
    ctx.require_writer()
    status = RESPONSES.get(data.action)
    if status is None:
        raise InvalidInput("操作应为 accept、decline 或 withdraw", field="action")
    mine = await frepo.my_participation(ctx.session, plan_id, ctx.tenant_id, lock=True)
    if mine is None:
        raise NotFound("本部门未受邀参加该联合抽查", field="plan_id")
    if mine.status not in ALLOWED[data.action]:
        raise Conflict(f"当前状态为“{mine.status}”，不能执行该操作", field="action")
    if data.action != "accept" and not (data.reason or "").strip():
        raise InvalidInput("拒绝或退出须说明理由", field="reason")
    if data.action == "withdraw":
        drawn = [
            t
            for t in await records.plan_tasks(ctx, plan_id)
            if t.status not in (TaskStatus.DRAFT, TaskStatus.VOIDED)
        ]
        if drawn:
            raise Conflict("联合抽查已开始抽取，不能退出；请与牵头部门协商", field="action")
    await frepo.respond(ctx.session, mine.id, status, ctx.principal.name, (data.reason or "").strip() or None)
    async with acting_for(ctx.session, mine.lead_tenant_id):
        await notifications.create(
            ctx.session,
            mine.lead_tenant_id,
            "federation",
            f"{ctx.department.name}{status}部门联合抽查",
            link=f"/plans/{plan_id}",
        )
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        f"joint_plan.{data.action}",
        "plan",
        plan_id,
        {"reason": data.reason},
    )
    if status != ParticipationStatus.ACCEPTED:
        # Once out of the plan the department no longer sees it; answer with its own participation only.
        return ResponseOut(plan_id=plan_id, my_status=status, reason=(data.reason or "").strip())
    return await joint_view(ctx, plan_id)


async def set_partner_items(ctx: Ctx, plan_id: uuid.UUID, data: PartnerItems) -> JointPlanView:
    """A partner adds its own check items (from its own list) to the joint plan (谁检查、谁录入 later)."""
    ctx.require_writer()
    mine = await frepo.my_participation(ctx.session, plan_id, ctx.tenant_id, lock=True)
    if mine is None or mine.status != ParticipationStatus.ACCEPTED:
        raise Forbidden("接受邀请后才能添加本部门的检查事项", field="plan_id")
    locked = await locking_task(ctx, plan_id)
    if locked is not None:
        raise Conflict(
            f"任务{locked.number}已公告抽取（{locked.status}），联合部门的检查事项已锁定，不能再修改",
            field="item_codes",
        )
    if not data.item_codes:
        raise InvalidInput("请至少选择一项本部门的检查事项", field="item_codes")
    items = await records.items_by_code(ctx, data.item_codes)
    for index, code in enumerate(data.item_codes):
        if code not in items:
            raise InvalidInput(f"检查事项 {code} 不在本部门事项清单中", field=f"item_codes[{index}]")
    await frepo.set_items(
        ctx.session,
        mine.id,
        [items[c].id for c in data.item_codes],
        [items[c].name for c in data.item_codes],
    )
    await audit.record(
        ctx.session, ctx.tenant_id, ctx.actor, "joint_plan.items", "plan", plan_id, {"items": data.item_codes}
    )
    return await joint_view(ctx, plan_id)


async def accepted_partners(ctx: Ctx, plan_id: uuid.UUID) -> list[ParticipantRow]:
    participants = await frepo.participants(ctx.session, plan_id)
    pending = [p.department_name for p in participants if p.status == ParticipationStatus.INVITED]
    if pending:
        raise Conflict(f"尚有部门未确认：{'、'.join(pending)}", field="participants")
    accepted = [p for p in participants if p.status == ParticipationStatus.ACCEPTED]
    if not accepted:
        raise Conflict("没有部门接受邀请，不能开展部门联合抽查", field="participants")
    return accepted


async def shared_population(ctx: Ctx, plan_id: uuid.UUID, intersect_partners: bool, lines: bytes) -> bytes:
    """One draw for all participants from the lead's registry scope, optionally intersected with every accepted
    partner's registry by USCC (only the USCC set of each partner is read)."""
    if not intersect_partners:
        return lines
    keep: set[str] | None = None
    for partner in await accepted_partners(ctx, plan_id):
        async with acting_for(ctx.session, partner.tenant_id):
            theirs = await frepo.usccs(ctx.session)
        keep = theirs if keep is None else keep & theirs
    if keep is None:
        return lines
    kept = [line for line in lines.splitlines(keepends=True) if line[:18].decode() in keep]
    return b"".join(kept)


class _Fact(msgspec.Struct, frozen=True):
    """An inspector of one of the departments, with what a merged team row records of them."""

    tenant_id: uuid.UUID
    department_code: str
    id: uuid.UUID
    name: str
    licence_no: str


async def match_joint_task(ctx: Ctx, task_id: uuid.UUID, load_slack: int) -> JointTeamsOut:
    """Merged teams: a specialist of the lead plus one inspector of every accepted partner, each drawn from its own
    department's registry by `spotcheck-match-v1` from the shared draw's seed."""
    ctx.require_writer()
    task = await task_row(ctx, task_id, lock=True)
    if task.status != TaskStatus.DRAWN:
        raise Conflict(f"任务当前状态为“{task.status}”，抽取完成后才能匹配", field="status")
    plan = await plan_row(ctx, task.plan_id)
    partners = await accepted_partners(ctx, plan.id)
    assert task.draw_id is not None
    draw = await records.draw_row(ctx, task.draw_id)
    assert draw is not None and draw.seed
    order = matching.draw_order(await records.selected_by_stratum(ctx, draw.id))

    departments = [(ctx.tenant_id, ctx.department.code, ctx.department.name)] + [
        (p.tenant_id, p.department_code, p.department_name) for p in partners
    ]
    inspectors: list[matching.Inspector] = []
    facts: dict[str, _Fact] = {}
    excluded: dict[str, set[str]] = {}
    for dept_id, code, _ in departments:
        async with acting_for(ctx.session, dept_id):
            for r in await records.active_inspectors(ctx):
                inspectors.append(pteams.match_inspector(r, code))
                facts[str(r.id)] = _Fact(dept_id, code, r.id, r.name, r.licence_no)
            # 回避 (SPEC §5): declared conflicts, and whoever of the department checked the enterprise last time.
            for uscc, ids in (await records.conflicts(ctx, order)).items():
                excluded.setdefault(uscc, set()).update(ids)
            for uscc, ids in (await records.previous_inspectors(ctx, order, task_id)).items():
                excluded.setdefault(uscc, set()).update(ids)
    objects = [
        matching.MatchObject(uscc=u, excluded=sorted(excluded.get(u, set()) & set(facts))) for u in order
    ]
    items = await records.items_by_id(ctx, list(task.item_ids))
    specialty = next((s for item in items for s in item.specialties), None)
    end = pteams.check_end(task)
    slots = []
    for index, (_, code, name) in enumerate(departments):
        draft = matching.Slot(
            label=name, pool=[], department=code, specialty=specialty if index == 0 else None
        )
        slots.append(
            msgspec.structs.replace(
                draft, pool=[i.id for i in inspectors if matching._eligible(i, draft, end.isoformat())]
            )
        )
    while len(slots) < task.min_inspectors:
        draft = matching.Slot(
            label=f"{ctx.department.name}（第{len(slots) + 1}人）", pool=[], department=ctx.department.code
        )
        slots.append(
            msgspec.structs.replace(
                draft, pool=[i.id for i in inspectors if matching._eligible(i, draft, end.isoformat())]
            )
        )
    seed = bytes.fromhex(draw.seed)
    result = matching.match(
        seed, objects, slots, inspectors, check_end=end.isoformat(), load_slack=load_slack
    )
    if not result.feasible:
        raise pteams.MatchInfeasible(result.unfilled)
    by_department: dict[uuid.UUID, list[JointMemberOut]] = {}
    for uscc, team in result.teams.items():
        for slot, inspector in enumerate(team):
            assert inspector is not None
            fact = facts[inspector]
            by_department.setdefault(fact.tenant_id, []).append(
                JointMemberOut(
                    uscc=uscc,
                    slot=slot,
                    inspector_id=fact.id,
                    inspector_name=fact.name,
                    licence_no=fact.licence_no,
                    department_code=fact.department_code,
                    slot_label=slots[slot].label,
                )
            )
    for dept_id, rows in by_department.items():
        async with acting_for(ctx.session, dept_id):
            await records.insert_joint_members(ctx, dept_id, task_id, rows)
    await records.set_task_status(ctx, task_id, TaskStatus.MATCHED)
    proof = matching.matching_proof(
        seed, objects, slots, inspectors, result, check_end=end.isoformat(), load_slack=load_slack
    )
    await records.publish_matching(ctx, draw.id, proof)
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "task.match",
        "task",
        task_id,
        {"version": result.version, "teams": len(result.teams), "departments": [d[1] for d in departments]},
    )
    return await joint_teams(ctx, task_id)


async def joint_teams(ctx: Ctx, task_id: uuid.UUID) -> JointTeamsOut:
    """The lead sees whole teams and every department's adjustments; a partner only its own members and adjustments
    (row-level security decides)."""
    await task_row(ctx, task_id)
    teams: dict[str, list[JointMemberOut]] = {}
    for row in await records.joint_members(ctx, task_id):
        teams.setdefault(row.uscc, []).append(row)
    return JointTeamsOut(
        matched=bool(teams),
        teams=[JointTeamOut(u, m) for u, m in teams.items()],
        adjustments=await records.team_adjustments(ctx, task_id),
    )


async def invitations(ctx: Ctx) -> list[InvitationOut]:
    return await frepo.invitations(ctx.session, ctx.tenant_id)
