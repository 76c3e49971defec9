"""SQL of fewer visits: the county's overlapping checks (overseer scope), joint visits, the county cap."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.federation.repository import jsonb, row, rows
from services.federation.rows import VisitLock, VisitRow
from services.federation.schemas import OverlapCheck, OverlapOut

# ---- fewer visits: overlapping checks, joint visits -----------------------------------------------------------------

LIVE_CHECKS = (
    "SELECT s.uscc, o.name AS enterprise_name, d.tenant_id, dep.code AS department_code,"
    " dep.name AS department_name, t.id AS task_id, p.number AS plan_number, t.number AS task_number,"
    " t.name AS task_name, t.start_month, t.end_month FROM draw_selected s JOIN draws d ON d.id = s.draw_id"
    " JOIN tasks t ON t.id = d.task_id JOIN plans p ON p.id = t.plan_id JOIN departments dep ON dep.id = d.tenant_id"
    " JOIN registry_objects o ON o.id = s.object_id"
    " WHERE d.status = '已抽取' AND dep.region_code = :region AND p.year = :year"
)


async def overlaps(session: AsyncSession, region: str, year: int) -> list[OverlapOut]:
    """Pairs of checks of one enterprise by two departments of the county in overlapping month windows."""
    found = await session.execute(
        text(
            f"WITH live AS ({LIVE_CHECKS}) SELECT a.uscc, a.enterprise_name, to_jsonb(a) AS a, to_jsonb(b) AS b,"
            " EXISTS (SELECT 1 FROM joint_visits v WHERE v.uscc = a.uscc AND ((v.task_id = a.task_id AND"
            " v.partner_task_id = b.task_id) OR (v.task_id = b.task_id AND v.partner_task_id = a.task_id)))"
            " AS merged FROM live a JOIN live b ON b.uscc = a.uscc AND a.tenant_id < b.tenant_id"
            " AND a.start_month <= b.end_month AND b.start_month <= a.end_month ORDER BY a.uscc"
        ),
        {"region": region, "year": year},
    )
    # Each check is the row as JSON; its tenant_id is left out (OverlapCheck has no such field).
    return [
        OverlapOut(
            uscc=r.uscc,
            enterprise_name=r.enterprise_name,
            checks=[msgspec.convert(jsonb(r.a), OverlapCheck), msgspec.convert(jsonb(r.b), OverlapCheck)],
            merged=r.merged,
        )
        for r in found
    ]


async def live_window(session: AsyncSession, task_id: uuid.UUID, uscc: str) -> tuple[dt.date, dt.date] | None:
    """The month window of a task of the department in scope whose live draw selected the enterprise."""
    found = (
        await session.execute(
            text(
                "SELECT t.start_month, t.end_month FROM tasks t JOIN draws d ON d.task_id = t.id AND d.status = '已抽取'"
                " JOIN draw_selected s ON s.draw_id = d.id AND s.uscc = :u WHERE t.id = :t AND t.tenant_id = app_tenant()"
            ),
            {"t": task_id, "u": uscc},
        )
    ).first()
    return (found.start_month, found.end_month) if found else None


class VisitExists(Exception):
    """The two tasks already agreed a joint visit of the enterprise."""


async def insert_visit(
    session: AsyncSession,
    visit_id: uuid.UUID,
    task_id: uuid.UUID,
    partner_tenant_id: uuid.UUID,
    partner_task_id: uuid.UUID,
    uscc: str,
    visit_date: dt.date,
    actor: str,
) -> None:
    """A proposed joint visit, a row of the proposing department; raises VisitExists on the unique pair."""
    try:
        async with session.begin_nested():
            await session.execute(
                text(
                    "INSERT INTO joint_visits (id, tenant_id, task_id, partner_tenant_id, partner_task_id, uscc,"
                    " visit_date, proposed_by) VALUES (:id, app_tenant(), :t, :pt, :ptask, :u, :d, :by)"
                ),
                {
                    "id": visit_id,
                    "t": task_id,
                    "pt": partner_tenant_id,
                    "ptask": partner_task_id,
                    "u": uscc,
                    "d": visit_date,
                    "by": actor,
                },
            )
    except Exception as exc:
        if "joint_visits_task_id_partner_task_id_uscc_key" in str(exc):
            raise VisitExists from None
        raise


VISIT_SQL = (
    "SELECT v.id, v.task_id, v.partner_task_id, v.uscc, v.visit_date, v.status, v.proposed_by, v.confirmed_by,"
    " v.created_at, a.code AS department_code, a.name AS department_name, b.code AS partner_department_code,"
    " b.name AS partner_department_name FROM joint_visits v JOIN departments a ON a.id = v.tenant_id"
    " JOIN departments b ON b.id = v.partner_tenant_id"
)


async def get_visit(session: AsyncSession, visit_id: uuid.UUID) -> VisitRow | None:
    return row(
        (await session.execute(text(f"{VISIT_SQL} WHERE v.id = :id"), {"id": visit_id})).first(), VisitRow
    )


async def lock_visit(session: AsyncSession, visit_id: uuid.UUID) -> VisitLock | None:
    found = (
        await session.execute(
            text(
                "SELECT id, status, tenant_id, task_id, partner_tenant_id FROM joint_visits WHERE id = :id FOR UPDATE"
            ),
            {"id": visit_id},
        )
    ).first()
    return row(found, VisitLock)


async def confirm_visit(session: AsyncSession, visit_id: uuid.UUID, actor: str) -> None:
    await session.execute(
        text("UPDATE joint_visits SET status = '已确认', confirmed_by = :by WHERE id = :id"),
        {"by": actor, "id": visit_id},
    )


async def task_visits(session: AsyncSession, task_id: uuid.UUID) -> list[VisitRow]:
    found = await session.execute(
        text(f"{VISIT_SQL} WHERE v.task_id = :t OR v.partner_task_id = :t ORDER BY v.visit_date, v.uscc"),
        {"t": task_id},
    )
    return rows(found, VisitRow)


# ---- the county cap (operator command, on its own admin connection) ---------------------------------------------


async def set_county_cap(conn: Any, region: str, cap: int | None) -> None:
    """``conn`` is an asyncpg connection of the migration role (the operator command runs outside any tenant)."""
    if await conn.fetchval("SELECT count(*) FROM regions WHERE code = $1", region) == 0:
        raise LookupError(region)
    await conn.execute(
        "INSERT INTO county_settings (region_code, annual_cap) VALUES ($1, $2) ON CONFLICT (region_code)"
        " DO UPDATE SET annual_cap = EXCLUDED.annual_cap, updated_at = now()",
        region,
        cap,
    )
