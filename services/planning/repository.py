"""SQL of plans, tasks and what they refer to (sections, items, tags). Tenant rows are limited by RLS; ids come from
the caller's own scope. The draw's SQL is in ``draw_repository.py``, the teams' in ``teams_repository.py``."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.planning.rows import (
    ItemRow,
    NewPlan,
    NewTask,
    PlanRow,
    SectionRow,
    TaskRow,
    row,
    rows,
)
from services.planning.schemas import PlanStatus, TaskStatus


def _json(value: object) -> str:
    return msgspec.json.encode(value).decode()


async def county_name(session: AsyncSession, region_code: str) -> str:
    return str(
        (
            await session.execute(text("SELECT name FROM regions WHERE code = :c"), {"c": region_code})
        ).scalar_one()
    )


async def sections_by_code(session: AsyncSession) -> dict[str, SectionRow]:
    found = await session.execute(text("SELECT id, code, name FROM sections WHERE active ORDER BY code"))
    return {s.code: s for s in rows(found, SectionRow)}


async def sections_by_id(session: AsyncSession) -> dict[uuid.UUID, SectionRow]:
    found = await session.execute(text("SELECT id, code, name FROM sections"))
    return {s.id: s for s in rows(found, SectionRow)}


async def items_by_code(session: AsyncSession, codes: list[str]) -> dict[str, ItemRow]:
    found = await session.execute(
        text(
            "SELECT id, code, name, category, specialties FROM inspection_items WHERE active AND code = ANY(:c)"
        ),
        {"c": codes},
    )
    return {i.code: i for i in rows(found, ItemRow)}


async def active_items(session: AsyncSession) -> list[ItemRow]:
    found = await session.execute(
        text("SELECT id, code, name, category, specialties FROM inspection_items WHERE active ORDER BY code")
    )
    return rows(found, ItemRow)


async def tags_by_category(session: AsyncSession) -> dict[str, list[str]]:
    rows = await session.execute(text("SELECT category, name FROM tags WHERE active ORDER BY category, name"))
    result: dict[str, list[str]] = {}
    for category, name in rows:
        result.setdefault(category, []).append(name)
    return result


async def items_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> list[ItemRow]:
    found = await session.execute(
        text(
            "SELECT id, code, name, category, specialties FROM inspection_items WHERE id = ANY(:ids) ORDER BY code"
        ),
        {"ids": ids},
    )
    return rows(found, ItemRow)


async def next_number(session: AsyncSession, tenant_id: uuid.UUID, year: int, series: str) -> int:
    row = await session.execute(
        text(
            "INSERT INTO plan_counters (tenant_id, year, series, last_value) VALUES (:t, :y, :s, 1) "
            "ON CONFLICT (tenant_id, year, series) DO UPDATE SET last_value = plan_counters.last_value + 1 "
            "RETURNING last_value"
        ),
        {"t": tenant_id, "y": year, "s": series},
    )
    return int(row.scalar_one())


async def insert_plan(session: AsyncSession, plan: NewPlan) -> None:
    await session.execute(
        text(
            "INSERT INTO plans (id, tenant_id, number, seq, name, year, kind, initiating_section_id,"
            " joint_section_ids, table_date, created_by, back_entry) VALUES (:id, :tenant_id, :number, :seq, :name,"
            " :year, :kind, :initiating_section_id, :joint_section_ids, :table_date, :created_by, :back_entry)"
        ),
        msgspec.structs.asdict(plan),
    )


PLAN_COLUMNS = (
    "id, number, seq, name, year, kind, initiating_section_id, joint_section_ids, table_date, status, created_by,"
    " back_entry"
)


async def list_plans(session: AsyncSession, year: int | None = None) -> list[PlanRow]:
    sql = f"SELECT {PLAN_COLUMNS} FROM plans"
    params: dict[str, int] = {}
    if year is not None:
        sql += " WHERE year = :y"
        params["y"] = year
    return rows(await session.execute(text(sql + " ORDER BY year DESC, number"), params), PlanRow)


async def get_plan(session: AsyncSession, plan_id: uuid.UUID, *, lock: bool = False) -> PlanRow | None:
    sql = f"SELECT {PLAN_COLUMNS} FROM plans WHERE id = :id" + (" FOR UPDATE" if lock else "")
    return row((await session.execute(text(sql), {"id": plan_id})).first(), PlanRow)


async def set_plan_status(session: AsyncSession, plan_id: uuid.UUID, status: PlanStatus) -> None:
    await session.execute(
        text("UPDATE plans SET status = :s, updated_at = now() WHERE id = :id"), {"s": status, "id": plan_id}
    )


TASK_COLUMNS = (
    "t.id, t.plan_id, t.number, t.seq, t.name, t.draw_type, t.ratio_mode, t.ratios, t.ratio_note, t.item_ids,"
    " t.item_note, t.scope, t.scope_note, t.initiating_section_id, t.joint_section_ids, t.start_month, t.end_month,"
    " t.min_inspectors, t.exclude_checked_within_months, t.annual_cap, t.status,"
    " (SELECT d.id FROM draws d WHERE d.task_id = t.id ORDER BY d.announced_at DESC LIMIT 1) AS draw_id,"
    " t.check_point_ids"
)


async def insert_task(session: AsyncSession, task: NewTask) -> None:
    await session.execute(
        text(
            "INSERT INTO tasks (id, tenant_id, plan_id, number, seq, name, draw_type, ratio_mode, ratios, ratio_note,"
            " item_ids, item_note, scope, scope_note, initiating_section_id, joint_section_ids, start_month,"
            " end_month, min_inspectors, exclude_checked_within_months, annual_cap, created_by, check_point_ids)"
            " VALUES (:id,"
            " :tenant_id, :plan_id, :number, :seq, :name, :draw_type, :ratio_mode, CAST(:ratios AS jsonb),"
            " :ratio_note, :item_ids, :item_note, CAST(:scope AS jsonb), :scope_note, :initiating_section_id,"
            " :joint_section_ids, :start_month, :end_month, :min_inspectors, :exclude_checked_within_months,"
            " :annual_cap, :created_by, :check_point_ids)"
        ),
        {**msgspec.structs.asdict(task), "ratios": _json(task.ratios), "scope": _json(task.scope)},
    )


async def list_tasks(session: AsyncSession, plan_id: uuid.UUID) -> list[TaskRow]:
    found = await session.execute(
        text(f"SELECT {TASK_COLUMNS} FROM tasks t WHERE t.plan_id = :p ORDER BY t.seq"), {"p": plan_id}
    )
    return rows(found, TaskRow)


async def get_task(session: AsyncSession, task_id: uuid.UUID, *, lock: bool = False) -> TaskRow | None:
    sql = f"SELECT {TASK_COLUMNS} FROM tasks t WHERE t.id = :id" + (" FOR UPDATE OF t" if lock else "")
    return row((await session.execute(text(sql), {"id": task_id})).first(), TaskRow)


async def set_task_status(session: AsyncSession, task_id: uuid.UUID, status: TaskStatus) -> None:
    await session.execute(
        text("UPDATE tasks SET status = :s, updated_at = now() WHERE id = :id"), {"s": status, "id": task_id}
    )


async def owns_plan(session: AsyncSession, plan_id: uuid.UUID, tenant_id: uuid.UUID) -> bool:
    found = await session.execute(
        text("SELECT 1 FROM plans WHERE id = :id AND tenant_id = :t"), {"id": plan_id, "t": tenant_id}
    )
    return found.first() is not None


async def update_plan(
    session: AsyncSession,
    plan_id: uuid.UUID,
    table_date: dt.date,
    initiating_section_id: uuid.UUID | None,
    joint_section_ids: list[uuid.UUID],
) -> None:
    await session.execute(
        text(
            "UPDATE plans SET table_date = :d, initiating_section_id = :i, joint_section_ids = :j, updated_at = now()"
            " WHERE id = :id"
        ),
        {"d": table_date, "i": initiating_section_id, "j": joint_section_ids, "id": plan_id},
    )


_TASK_CONTENT = (
    "name", "draw_type", "ratio_mode", "ratios", "ratio_note", "item_ids", "item_note", "scope", "scope_note",
    "initiating_section_id", "joint_section_ids", "start_month", "end_month", "min_inspectors",
    "exclude_checked_within_months", "annual_cap", "check_point_ids",
)  # fmt: skip


async def update_task(session: AsyncSession, task_id: uuid.UUID, values: dict[str, object]) -> None:
    """Replace a task's content (the columns a planner fills in; number, plan and status stay)."""
    params = {k: values[k] for k in _TASK_CONTENT}
    params["ratios"], params["scope"] = _json(params["ratios"]), _json(params["scope"])
    sets = ", ".join(
        f"{k} = CAST(:{k} AS jsonb)" if k in ("ratios", "scope") else f"{k} = :{k}" for k in _TASK_CONTENT
    )
    await session.execute(
        text(f"UPDATE tasks SET {sets}, updated_at = now() WHERE id = :id"), {**params, "id": task_id}
    )
