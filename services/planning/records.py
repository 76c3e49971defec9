"""Planning's records as other services (federation's joint checks) read and change them.

Only planning's repositories touch ``plans``, ``tasks``, ``draws`` and the team tables; a service above planning
calls these functions instead, inside the caller's transaction and tenant scope.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.draw.matching import MatchingProof
from services.planning import draw_repository as drepo
from services.planning import joint_teams_repository as jrepo
from services.planning import repository as repo
from services.planning import service, teams
from services.planning import teams_repository as trepo
from services.planning.rows import DrawRow, InspectorRow, ItemRow, JointMemberInspector, NewPlan, TaskRow
from services.planning.schemas import AdjustmentOut, DrawnObject, JointMemberOut, TaskStatus
from shared.context import Ctx

__all__ = [
    "DrawRow",
    "InspectorRow",
    "ItemRow",
    "TaskRow",
    "active_inspectors",
    "conflicts",
    "create_joint_plan",
    "draw_row",
    "eligible_list",
    "items_by_code",
    "items_by_id",
    "plan_tasks",
    "previous_inspectors",
    "publish_matching",
    "selected_by_stratum",
    "set_task_status",
    "team_adjustments",
]


async def create_joint_plan(
    ctx: Ctx, year: int, table_date: dt.date | None, back_entry: bool | None = None
) -> uuid.UUID:
    """A 部门联合 plan of the lead department, numbered in the lead's joint series (联YYYYNNN); 补录 as
    ``service.back_entry_for`` decides."""
    entered_late = service.back_entry_for(year, back_entry)
    seq = await repo.next_number(ctx.session, ctx.tenant_id, year, "joint")
    county = await repo.county_name(ctx.session, ctx.department.region_code)
    plan = NewPlan(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        number=service.plan_number(year, "部门联合", seq),
        seq=seq,
        name=service.plan_name(year, county, ctx.department.name, "部门联合", seq),
        year=year,
        kind="部门联合",
        initiating_section_id=None,
        joint_section_ids=[],
        table_date=table_date or dt.date.today(),
        created_by=ctx.principal.name,
        back_entry=entered_late,
    )
    await repo.insert_plan(ctx.session, plan)
    return plan.id


async def plan_tasks(ctx: Ctx, plan_id: uuid.UUID) -> list[TaskRow]:
    return await repo.list_tasks(ctx.session, plan_id)


async def set_task_status(ctx: Ctx, task_id: uuid.UUID, status: TaskStatus) -> None:
    await repo.set_task_status(ctx.session, task_id, status)


async def items_by_code(ctx: Ctx, codes: list[str]) -> dict[str, ItemRow]:
    """The current department's check items with these codes."""
    return await repo.items_by_code(ctx.session, codes)


async def items_by_id(ctx: Ctx, ids: list[uuid.UUID]) -> list[ItemRow]:
    return await repo.items_by_id(ctx.session, ids)


async def draw_row(ctx: Ctx, draw_id: uuid.UUID) -> DrawRow | None:
    return await drepo.get_draw(ctx.session, draw_id)


async def eligible_list(ctx: Ctx, draw_id: uuid.UUID) -> bytes:
    """The frozen eligible list of a draw (canonical lines ``USCC<TAB>STRATUM``), as published after the draw."""
    return await drepo.eligible_list(ctx.session, draw_id)


async def selected_by_stratum(ctx: Ctx, draw_id: uuid.UUID) -> dict[str, list[str]]:
    """The drawn USCCs of each stratum, in the order they were drawn."""
    selected: dict[str, list[str]] = {}
    for row in await drepo.selected_objects(ctx.session, draw_id):
        selected.setdefault(row.stratum, []).append(row.uscc)
    return selected


async def drawn_objects(session: AsyncSession, draw_id: uuid.UUID) -> list[DrawnObject]:
    """The drawn enterprises of a draw in rank order, with the registry row the scope may read (the county overseer:
    the drawing department's): reporting's drill-down from a task to its enterprises."""
    return await drepo.selected_objects(session, draw_id)


async def active_inspectors(ctx: Ctx) -> list[InspectorRow]:
    """The inspectors of the department in scope (call inside ``acting_for`` for a partner's)."""
    return await trepo.active_inspectors(ctx.session)


async def conflicts(ctx: Ctx, usccs: list[str]) -> dict[str, set[str]]:
    """Declared conflicts of interest of the department in scope: USCC → inspector ids."""
    return await trepo.conflicts(ctx.session, usccs)


async def previous_inspectors(ctx: Ctx, usccs: list[str], task_id: uuid.UUID) -> dict[str, set[str]]:
    """The department in scope's members of the last earlier team (internal or joint) of each enterprise: USCC →
    inspector ids (回避: not the inspector who checked it last time)."""
    return await trepo.previous_inspectors(ctx.session, usccs, task_id)


async def team_adjustments(ctx: Ctx, task_id: uuid.UUID) -> list[AdjustmentOut]:
    """The recorded adjustments of a task's teams the current department may see."""
    return await teams.adjustment_views(ctx, task_id)


async def publish_matching(ctx: Ctx, draw_id: uuid.UUID, proof: MatchingProof) -> None:
    await trepo.publish_matching(ctx.session, draw_id, proof)


# ---- merged teams of 部门联合 tasks (the rows are planning's, written for each department in its own scope) ----


async def insert_joint_members(
    ctx: Ctx, department_id: uuid.UUID, task_id: uuid.UUID, members: list[JointMemberOut]
) -> None:
    """One department's members of the merged teams (call inside ``acting_for`` that department)."""
    await jrepo.insert_joint_members(ctx.session, department_id, task_id, members)


async def joint_members(ctx: Ctx, task_id: uuid.UUID) -> list[JointMemberOut]:
    """The merged teams' members the current department may see (the lead all, a partner its own)."""
    return await jrepo.joint_members(ctx.session, task_id)


async def my_joint_members(
    session: AsyncSession, task_id: uuid.UUID, uscc: str
) -> list[JointMemberInspector]:
    """The current department's own members of the joint team of one enterprise."""
    return await jrepo.my_joint_members(session, task_id, uscc)


async def joint_team_usccs(ctx: Ctx, task_id: uuid.UUID) -> list[str]:
    """The enterprises of a joint task's merged teams."""
    return await jrepo.joint_team_usccs(ctx.session, task_id)
