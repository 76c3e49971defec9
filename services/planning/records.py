"""Planning's records as other services (federation's joint checks) read and change them.

Only planning's repositories touch ``plans``, ``tasks``, ``draws`` and the team tables; a service above planning
calls these functions instead, inside the caller's transaction and tenant scope.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from services.planning import repository as repo
from services.planning import service
from services.planning import teams_repository as trepo
from shared.context import Ctx


async def create_joint_plan(ctx: Ctx, year: int, table_date: dt.date | None) -> uuid.UUID:
    """A 部门联合 plan of the lead department, numbered in the lead's joint series (联YYYYNNN)."""
    seq = await repo.next_number(ctx.session, ctx.tenant_id, year, "joint")
    county = await service.county_name(ctx.session, ctx.department.region_code)
    plan_id = uuid.uuid4()
    await repo.insert_plan(
        ctx.session,
        {
            "id": plan_id,
            "tenant_id": ctx.tenant_id,
            "number": service.plan_number(year, "部门联合", seq),
            "seq": seq,
            "name": service.plan_name(year, county, ctx.department.name, "部门联合", seq),
            "year": year,
            "kind": "部门联合",
            "initiating_section_id": None,
            "joint_section_ids": [],
            "table_date": table_date or dt.date.today(),
            "created_by": ctx.principal.name,
        },
    )
    return plan_id


async def plan_tasks(ctx: Ctx, plan_id: uuid.UUID) -> list[dict[str, Any]]:
    return await repo.list_tasks(ctx.session, plan_id)


async def set_task_status(ctx: Ctx, task_id: uuid.UUID, status: str) -> None:
    await repo.set_task_status(ctx.session, task_id, status)


async def items_by_code(ctx: Ctx, codes: list[str]) -> dict[str, dict[str, Any]]:
    """The current department's check items with these codes."""
    return await repo.items_by_code(ctx.session, codes)


async def items_by_id(ctx: Ctx, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    return await repo.items_by_id(ctx.session, ids)


async def draw_row(ctx: Ctx, draw_id: uuid.UUID) -> dict[str, Any] | None:
    return await repo.get_draw(ctx.session, draw_id)


async def selected_by_stratum(ctx: Ctx, draw_id: uuid.UUID) -> dict[str, list[str]]:
    """The drawn USCCs of each stratum, in the order they were drawn."""
    selected: dict[str, list[str]] = {}
    for row in await repo.selected_objects(ctx.session, draw_id):
        selected.setdefault(row["stratum"], []).append(row["uscc"])
    return selected


async def active_inspectors(ctx: Ctx) -> list[dict[str, Any]]:
    """The inspectors of the department in scope (call inside ``acting_for`` for a partner's)."""
    return await trepo.active_inspectors(ctx.session)


async def conflicts(ctx: Ctx, usccs: list[str]) -> dict[str, set[str]]:
    """Declared conflicts of interest of the department in scope: USCC → inspector ids."""
    return await trepo.conflicts(ctx.session, usccs)


async def publish_matching(ctx: Ctx, draw_id: uuid.UUID, proof: dict[str, Any]) -> None:
    await trepo.publish_matching(ctx.session, draw_id, proof)
