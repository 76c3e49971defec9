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
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.federation import repository as frepo
from services.federation.results import _json, _plain_dict, _plain_list
from shared import audit, notifications
from shared.context import Ctx
from shared.errors import Conflict, InvalidInput, NotFound
from shared.tenancy import acting_for

LIVE_CHECKS = (
    "SELECT s.uscc, o.name AS enterprise_name, d.tenant_id, dep.code AS department_code,"
    " dep.name AS department_name, t.id AS task_id, p.number AS plan_number, t.number AS task_number,"
    " t.name AS task_name, t.start_month, t.end_month FROM draw_selected s JOIN draws d ON d.id = s.draw_id"
    " JOIN tasks t ON t.id = d.task_id JOIN plans p ON p.id = t.plan_id JOIN departments dep ON dep.id = d.tenant_id"
    " JOIN registry_objects o ON o.id = s.object_id"
    " WHERE d.status = '已抽取' AND dep.region_code = :region AND p.year = :year"
)


class VisitCreate(msgspec.Struct, forbid_unknown_fields=True):
    task_id: uuid.UUID
    partner_department: str
    partner_task_id: uuid.UUID
    uscc: str
    visit_date: dt.date


async def overlaps(session: AsyncSession, region: str, year: int) -> list[dict[str, Any]]:
    """Pairs of checks of one enterprise by two departments of the county in overlapping month windows."""
    if not 2000 <= year <= 2100:
        raise InvalidInput("年度应在 2000–2100 之间", field="year")
    rows = await session.execute(
        text(
            f"WITH live AS ({LIVE_CHECKS}) SELECT a.uscc, a.enterprise_name, to_jsonb(a) AS a, to_jsonb(b) AS b,"
            " EXISTS (SELECT 1 FROM joint_visits v WHERE v.uscc = a.uscc AND ((v.task_id = a.task_id AND"
            " v.partner_task_id = b.task_id) OR (v.task_id = b.task_id AND v.partner_task_id = a.task_id)))"
            " AS merged FROM live a JOIN live b ON b.uscc = a.uscc AND a.tenant_id < b.tenant_id"
            " AND a.start_month <= b.end_month AND b.start_month <= a.end_month ORDER BY a.uscc"
        ),
        {"region": region, "year": year},
    )
    out = []
    for r in rows:
        checks = [_json(r.a), _json(r.b)]
        for c in checks:
            c.pop("tenant_id", None)
        out.append(
            {"uscc": r.uscc, "enterprise_name": r.enterprise_name, "checks": checks, "merged": r.merged}
        )
    return out


async def _live_window(
    session: AsyncSession, task_id: uuid.UUID, uscc: str
) -> tuple[dt.date, dt.date] | None:
    row = (
        await session.execute(
            text(
                "SELECT t.start_month, t.end_month FROM tasks t JOIN draws d ON d.task_id = t.id AND d.status = '已抽取'"
                " JOIN draw_selected s ON s.draw_id = d.id AND s.uscc = :u WHERE t.id = :t AND t.tenant_id = app_tenant()"
            ),
            {"t": task_id, "u": uscc},
        )
    ).first()
    return (row.start_month, row.end_month) if row else None


def _month_end(month: dt.date) -> dt.date:
    nxt = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt - dt.timedelta(days=1)


async def propose_visit(ctx: Ctx, data: VisitCreate) -> dict[str, Any]:
    ctx.require_writer()
    mine = await _live_window(ctx.session, data.task_id, data.uscc)
    if mine is None:
        raise NotFound("本部门该任务未抽中该企业", field="task_id")
    if data.partner_department == ctx.department.code:
        raise InvalidInput("请选择另一个部门的检查任务", field="partner_department")
    county = await frepo.departments_in_region(ctx.session, ctx.department.region_code)
    partner = county.get(data.partner_department)
    if partner is None:
        raise InvalidInput(f"本县没有编码为 {data.partner_department} 的部门", field="partner_department")
    async with acting_for(ctx.session, partner["id"]):
        # Validated above: a department of our county; only the window of a task that drew this enterprise is read.
        theirs = await _live_window(ctx.session, data.partner_task_id, data.uscc)
    if theirs is None:
        raise NotFound("该部门的任务未抽中该企业", field="partner_task_id")
    start, end = max(mine[0], theirs[0]), min(_month_end(mine[1]), _month_end(theirs[1]))
    if start > end:
        raise InvalidInput("两个检查任务的时间不重叠", field="partner_task_id")
    if not start <= data.visit_date <= end:
        raise InvalidInput(f"联合检查日期应在 {start} 至 {end} 之间", field="visit_date")
    visit_id = uuid.uuid4()
    try:
        async with ctx.session.begin_nested():
            await ctx.session.execute(
                text(
                    "INSERT INTO joint_visits (id, tenant_id, task_id, partner_tenant_id, partner_task_id, uscc,"
                    " visit_date, proposed_by) VALUES (:id, app_tenant(), :t, :pt, :ptask, :u, :d, :by)"
                ),
                {
                    "id": visit_id,
                    "t": data.task_id,
                    "pt": partner["id"],
                    "ptask": data.partner_task_id,
                    "u": data.uscc,
                    "d": data.visit_date,
                    "by": ctx.principal.name,
                },
            )
    except Exception as exc:
        if "joint_visits_task_id_partner_task_id_uscc_key" in str(exc):
            raise Conflict("这两个检查任务对该企业已约定联合检查", field="uscc") from None
        raise
    async with acting_for(ctx.session, partner["id"]):
        await notifications.create(
            ctx.session,
            partner["id"],
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


async def visit(ctx: Ctx, visit_id: uuid.UUID) -> dict[str, Any]:
    row = (await ctx.session.execute(text(f"{VISIT_SQL} WHERE v.id = :id"), {"id": visit_id})).first()
    if row is None:
        raise NotFound("联合检查约定不存在", field="visit_id")
    return _plain_dict(dict(row._mapping))


VISIT_SQL = (
    "SELECT v.id, v.task_id, v.partner_task_id, v.uscc, v.visit_date, v.status, v.proposed_by, v.confirmed_by,"
    " v.created_at, a.code AS department_code, a.name AS department_name, b.code AS partner_department_code,"
    " b.name AS partner_department_name FROM joint_visits v JOIN departments a ON a.id = v.tenant_id"
    " JOIN departments b ON b.id = v.partner_tenant_id"
)


async def confirm_visit(ctx: Ctx, visit_id: uuid.UUID) -> dict[str, Any]:
    ctx.require_writer()
    row = (
        await ctx.session.execute(
            text(
                "SELECT id, status, tenant_id, task_id, partner_tenant_id FROM joint_visits WHERE id = :id FOR UPDATE"
            ),
            {"id": visit_id},
        )
    ).first()
    if row is None:
        raise NotFound("联合检查约定不存在", field="visit_id")
    if row.partner_tenant_id != ctx.tenant_id:
        raise Conflict("由被邀请的部门确认联合检查", field="visit_id")
    if row.status != "待确认":
        raise Conflict(f"当前状态为“{row.status}”", field="status")
    await ctx.session.execute(
        text("UPDATE joint_visits SET status = '已确认', confirmed_by = :by WHERE id = :id"),
        {"by": ctx.principal.name, "id": visit_id},
    )
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


async def task_visits(ctx: Ctx, task_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await ctx.session.execute(
        text(f"{VISIT_SQL} WHERE v.task_id = :t OR v.partner_task_id = :t ORDER BY v.visit_date, v.uscc"),
        {"t": task_id},
    )
    return _plain_list([dict(r._mapping) for r in rows])


async def set_county_cap(admin_url: str, region: str, cap: int | None) -> None:
    """Operator command: the county's per-enterprise annual cap across departments (None removes it)."""
    import asyncpg

    from shared.db import asyncpg_dsn

    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        if await conn.fetchval("SELECT count(*) FROM regions WHERE code = $1", region) == 0:
            raise LookupError(region)
        await conn.execute(
            "INSERT INTO county_settings (region_code, annual_cap) VALUES ($1, $2) ON CONFLICT (region_code)"
            " DO UPDATE SET annual_cap = EXCLUDED.annual_cap, updated_at = now()",
            region,
            cap,
        )
    finally:
        await conn.close()
