"""Fewer visits: overlapping checks across the county's departments, merged joint visits, the county annual cap.

* The county overseer lists enterprises drawn in live draws of two departments whose month windows overlap
  (read-only overseer scope: ``overseer_read`` shows the county's draws and tasks).
* A department proposes merging its check with another department's check of the same enterprise into one visit;
  the other department confirms. The row belongs to the proposer; the other department reads and confirms it through
  the ``partner_rw`` policy. To validate the other department's task the service acts for that department
  (``acting_for``) after checking it is a department of the same county, and reads only whether the task drew the
  enterprise and its month window.
* The county's per-enterprise annual cap (``county_settings``) is set by operators (``spotcheck county-cap``) and
  applied by draws through ``county_draw_counts(year)`` (see migration 0050 and services/planning/repository.py).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.federation import repository as frepo
from services.federation import visits_repository as vrepo
from services.federation.rows import VisitRow
from services.federation.schemas import OverlapOut, VisitCreate, VisitOut, VisitStatus
from shared import audit, notifications
from shared.context import Ctx
from shared.errors import Conflict, InvalidInput, NotFound
from shared.tenancy import acting_for

__all__ = [
    "VisitCreate",
    "confirm_visit",
    "overlaps",
    "propose_visit",
    "set_county_cap",
    "task_visits",
    "visit",
]


async def overlaps(session: AsyncSession, region: str, year: int) -> list[OverlapOut]:
    """Pairs of checks of one enterprise by two departments of the county in overlapping month windows."""
    if not 2000 <= year <= 2100:
        raise InvalidInput("年度应在 2000–2100 之间", field="year")
    return await vrepo.overlaps(session, region, year)


def _month_end(month: dt.date) -> dt.date:
    nxt = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt - dt.timedelta(days=1)


async def propose_visit(ctx: Ctx, data: VisitCreate) -> VisitOut:
    ctx.require_writer()
    mine = await vrepo.live_window(ctx.session, data.task_id, data.uscc)
    if mine is None:
        raise NotFound("本部门该任务未抽中该企业", field="task_id")
    if data.partner_department == ctx.department.code:
        raise InvalidInput("请选择另一个部门的检查任务", field="partner_department")
    county = await frepo.departments_in_region(ctx.session, ctx.department.region_code)
    partner = county.get(data.partner_department)
    if partner is None:
        raise InvalidInput(f"本县没有编码为 {data.partner_department} 的部门", field="partner_department")
    async with acting_for(ctx.session, partner.id):
        # Validated above: a department of our county; only the window of a task that drew this enterprise is read.
        theirs = await vrepo.live_window(ctx.session, data.partner_task_id, data.uscc)
    if theirs is None:
        raise NotFound("该部门的任务未抽中该企业", field="partner_task_id")
    start, end = max(mine[0], theirs[0]), min(_month_end(mine[1]), _month_end(theirs[1]))
    if start > end:
        raise InvalidInput("两个检查任务的时间不重叠", field="partner_task_id")
    if not start <= data.visit_date <= end:
        raise InvalidInput(f"联合检查日期应在 {start} 至 {end} 之间", field="visit_date")
    visit_id = uuid.uuid4()
    try:
        await vrepo.insert_visit(
            ctx.session,
            visit_id,
            data.task_id,
            partner.id,
            data.partner_task_id,
            data.uscc,
            data.visit_date,
            ctx.principal.name,
        )
    except vrepo.VisitExists:
        raise Conflict("这两个检查任务对该企业已约定联合检查", field="uscc") from None
    async with acting_for(ctx.session, partner.id):
        await notifications.create(
            ctx.session,
            partner.id,
            "federation",
            f"{ctx.department.name}提议对同一企业合并检查（{data.visit_date}），请确认",
            link=f"/api/federation/tasks/{data.partner_task_id}/visits",
        )
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "joint_visit.propose",
        "task",
        data.task_id,
        {
            "visit_id": str(visit_id),
            "partner": data.partner_department,
            "uscc": data.uscc,
            "visit_date": data.visit_date.isoformat(),
        },
    )
    return await visit(ctx, visit_id)


def _visit_out(row: VisitRow) -> VisitOut:
    return VisitOut(
        id=row.id,
        task_id=row.task_id,
        partner_task_id=row.partner_task_id,
        uscc=row.uscc,
        visit_date=row.visit_date,
        status=row.status,
        proposed_by=row.proposed_by,
        confirmed_by=row.confirmed_by,
        created_at=row.created_at.isoformat(),
        department_code=row.department_code,
        department_name=row.department_name,
        partner_department_code=row.partner_department_code,
        partner_department_name=row.partner_department_name,
    )


async def visit(ctx: Ctx, visit_id: uuid.UUID) -> VisitOut:
    found = await vrepo.get_visit(ctx.session, visit_id)
    if found is None:
        raise NotFound("联合检查约定不存在", field="visit_id")
    return _visit_out(found)


async def confirm_visit(ctx: Ctx, visit_id: uuid.UUID) -> VisitOut:
    ctx.require_writer()
    row = await vrepo.lock_visit(ctx.session, visit_id)
    if row is None:
        raise NotFound("联合检查约定不存在", field="visit_id")
    if row.partner_tenant_id != ctx.tenant_id:
        raise Conflict("由被邀请的部门确认联合检查", field="visit_id")
    if row.status != VisitStatus.PROPOSED:
        raise Conflict(f"当前状态为“{row.status}”", field="status")
    await vrepo.confirm_visit(ctx.session, visit_id, ctx.principal.name)
    async with acting_for(ctx.session, row.tenant_id):
        await notifications.create(
            ctx.session,
            row.tenant_id,
            "federation",
            f"{ctx.department.name}已确认联合检查",
            link=f"/api/federation/tasks/{row.task_id}/visits",
        )
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "joint_visit.confirm",
        "task",
        row.task_id,
        {"visit_id": str(visit_id)},
    )
    return await visit(ctx, visit_id)


async def task_visits(ctx: Ctx, task_id: uuid.UUID) -> list[VisitOut]:
    return [_visit_out(r) for r in await vrepo.task_visits(ctx.session, task_id)]


async def set_county_cap(admin_url: str, region: str, cap: int | None) -> None:
    """Operator command: the county's per-enterprise annual cap across departments (None removes it)."""
    import asyncpg

    from shared.db import asyncpg_dsn

    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        await vrepo.set_county_cap(conn, region, cap)
    finally:
        await conn.close()
