"""Matching inspectors to drawn enterprises (`spotcheck-match-v1`), the teams as shown, assignments (manual
adjustment of teams, internal and joint alike, is in adjust.py)."""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from typing import Any

import msgspec

from services.draw import matching
from services.planning import draw_repository as drepo
from services.planning import records
from services.planning import repository as repo
from services.planning import teams_repository as trepo
from services.planning.extension import joint_plans
from services.planning.lookups import plan_row, task_row
from services.planning.rows import InspectorRow, PlanRow, SectionRow, TaskRow
from services.planning.schemas import (
    AdjustmentOut,
    Assignment,
    JointTeamsOut,
    MatchRequest,
    TaskAssignment,
    TaskStatus,
    TeamMemberOut,
    TeamOut,
    TeamsOut,
)
from shared import audit
from shared.context import Ctx
from shared.errors import Conflict, DomainError, InvalidInput

__all__ = [
    "MatchInfeasible",
    "MatchRequest",
    "assignments",
    "build_slots",
    "check_end",
    "match_task",
    "my_assignments",
    "teams_view",
]

MATCHABLE = (TaskStatus.DRAWN,)
ADJUSTABLE = (TaskStatus.MATCHED, TaskStatus.IN_PROGRESS)


class MatchInfeasible(DomainError):
    """Constraints cannot all hold: report every object and slot, never relax a rule."""

    status_code = 409
    code = "match_infeasible"

    def __init__(self, unfilled: list[matching.Unfilled]) -> None:
        super().__init__(f"有 {len(unfilled)} 个检查岗位无法按规则匹配，未保存任何分组", field="unfilled")
        self.unfilled = unfilled

    def body(self) -> dict[str, Any]:  # the shared error body (DomainError.body)
        body = super().body()
        body["error"]["unfilled"] = [msgspec.to_builtins(u) for u in self.unfilled]
        return body


def check_end(task: TaskRow) -> dt.date:
    end = task.end_month
    return end.replace(day=calendar.monthrange(end.year, end.month)[1])


def match_inspector(inspector: InspectorRow, department: str) -> matching.Inspector:
    """An inspector as the matching protocol sees it."""
    return matching.Inspector(
        id=str(inspector.id),
        department=department,
        section=inspector.section or "",
        specialties=list(inspector.specialties),
        licence_expiry=inspector.licence_expiry.isoformat() if inspector.licence_expiry else None,
    )


def build_slots(
    ctx: Ctx,
    plan: PlanRow,
    task: TaskRow,
    inspectors: list[matching.Inspector],
    sections_by_id: dict[uuid.UUID, SectionRow],
    specialty: str | None,
    end: str,
) -> list[matching.Slot]:
    """Team composition by construction: internal joint tasks take one member from each joint section (the first
    one with the items' specialty); other tasks take a specialist first; the rest come from the whole department."""
    code = ctx.department.code
    specs: list[tuple[str, str | None, str | None]] = []
    joint = [sections_by_id[s] for s in task.joint_section_ids if s in sections_by_id]
    if plan.kind == "内部联合" and joint:
        for index, section in enumerate(joint):
            specs.append((section.name, section.code, specialty if index == 0 else None))
    else:
        specs.append(("具备专业特长的检查人员" if specialty else "检查人员1", None, specialty))
    while len(specs) < task.min_inspectors:
        specs.append((f"检查人员{len(specs) + 1}", None, None))
    slots = []
    for label, section_code, spec in specs:
        draft = matching.Slot(label=label, pool=[], department=code, section=section_code, specialty=spec)
        pool = [i.id for i in inspectors if matching._eligible(i, draft, end)]
        slots.append(msgspec.structs.replace(draft, pool=pool))
    return slots


async def match_task(ctx: Ctx, task_id: uuid.UUID, data: MatchRequest) -> TeamsOut | JointTeamsOut:
    ctx.require_writer()
    if not 0 <= data.load_slack <= 5:
        raise InvalidInput("工作量浮动上限应在 0–5 之间", field="load_slack")
    task = await task_row(ctx, task_id, lock=True)
    plan = await plan_row(ctx, task.plan_id)
    if plan.kind == "部门联合":
        return await joint_plans().match(ctx, task_id, data.load_slack)
    if task.status not in MATCHABLE:
        raise Conflict(f"任务当前状态为“{task.status}”，抽取完成后才能匹配检查人员", field="status")
    assert task.draw_id is not None
    draw = await drepo.get_draw(ctx.session, task.draw_id)
    assert draw is not None and draw.seed
    selected = await records.selected_by_stratum(ctx, draw.id)
    order = matching.draw_order(selected)
    inspectors = [match_inspector(r, ctx.department.code) for r in await trepo.active_inspectors(ctx.session)]
    published = {i.id for i in inspectors}
    conflicts = await trepo.conflicts(ctx.session, order)
    previous = await trepo.previous_inspectors(ctx.session, order, task_id)
    objects = [
        matching.MatchObject(
            uscc=u, excluded=sorted((conflicts.get(u, set()) | previous.get(u, set())) & published)
        )
        for u in order
    ]
    items = await repo.items_by_id(ctx.session, list(task.item_ids))
    specialty = next((s for item in items for s in item.specialties), None)
    end = check_end(task)
    slots = build_slots(
        ctx, plan, task, inspectors, await repo.sections_by_id(ctx.session), specialty, end.isoformat()
    )
    seed = bytes.fromhex(draw.seed)
    result = matching.match(
        seed, objects, slots, inspectors, check_end=end.isoformat(), load_slack=data.load_slack
    )
    if not result.feasible:
        raise MatchInfeasible(result.unfilled)
    object_ids = {s.uscc: s.object_id for s in await drepo.selected_objects(ctx.session, draw.id)}
    members = [
        (uscc, object_ids[uscc], slot, uuid.UUID(inspector))
        for uscc, team in result.teams.items()
        for slot, inspector in enumerate(team)
        if inspector is not None
    ]
    await trepo.save_matching(
        ctx.session,
        ctx.tenant_id,
        task_id,
        draw.id,
        data.load_slack,
        end,
        result.caps,
        [s.label for s in slots],
        ctx.principal.name,
        members,
    )
    await repo.set_task_status(ctx.session, task_id, TaskStatus.MATCHED)
    proof = matching.matching_proof(
        seed, objects, slots, inspectors, result, check_end=end.isoformat(), load_slack=data.load_slack
    )
    await trepo.publish_matching(ctx.session, draw.id, proof)
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "task.match",
        "task",
        task_id,
        {
            "version": result.version,
            "teams": len(result.teams),
            "load_slack": data.load_slack,
            "caps": result.caps,
        },
    )
    return await teams_view(ctx, task_id)


async def teams_view(ctx: Ctx, task_id: uuid.UUID) -> TeamsOut | JointTeamsOut:
    task = await task_row(ctx, task_id)
    if (await plan_row(ctx, task.plan_id)).kind == "部门联合":
        return await joint_plans().teams(ctx, task_id)
    matched = await trepo.get_matching(ctx.session, task_id)
    if matched is None:
        return TeamsOut(matched=False)
    labels = matched.slot_labels
    teams: dict[str, TeamOut] = {}
    for row in await trepo.team_rows(ctx.session, task_id):
        team = teams.setdefault(row.uscc, TeamOut(row.uscc, row.object_name, row.address, []))
        team.members.append(
            TeamMemberOut(
                slot=row.slot,
                slot_label=labels[row.slot],
                inspector_id=row.inspector_id,
                name=row.inspector_name,
                licence_no=row.licence_no,
                section=row.section_name,
                adjusted=row.adjusted,
            )
        )
    return TeamsOut(
        matched=True,
        matched_at=matched.matched_at,
        matched_by=matched.matched_by,
        load_slack=matched.load_slack,
        caps=matched.caps,
        slot_labels=labels,
        teams=list(teams.values()),
        adjustments=await adjustment_views(ctx, task_id),
    )


async def adjustment_views(ctx: Ctx, task_id: uuid.UUID) -> list[AdjustmentOut]:
    """The recorded adjustments of a task's teams the department may see (a joint task's lead: every department's)."""
    return [
        AdjustmentOut(
            uscc=a.uscc,
            slot=a.slot,
            reason=a.reason,
            adjusted_by=a.adjusted_by,
            adjusted_at=a.adjusted_at.isoformat(),
            old_name=a.old_name,
            new_name=a.new_name,
            department_name=a.department_name,
        )
        for a in await trepo.adjustments(ctx.session, task_id)
    ]


async def assignments(ctx: Ctx) -> list[Assignment]:
    """The enterprises on whose (internal) teams the signed-in inspector sits."""
    return await trepo.assignments_for_user(ctx.session, ctx.principal.user_id)


async def my_assignments(ctx: Ctx) -> list[TaskAssignment]:
    """``assignments`` for result entry's task list, which inspection merges with the joint assignments."""
    return list(await assignments(ctx))
