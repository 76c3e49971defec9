"""The public register of results: written at publication (tenant transaction), read with no scope at all."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

LIST_COLUMNS = (
    "id, task_id, draw_id, department_name, plan_number, task_number, task_name, uscc, enterprise_name,"
    " check_date, categories, hazard_count, follow_up, published_at"
)
# ``departments``: for a joint check (部门联合抽查), every department with its items and findings; [] otherwise.
RECORD_COLUMNS = LIST_COLUMNS + ", department_code, region_code, plan_name, address, items, departments"


async def insert_public_result(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(
        text(
            "INSERT INTO public_results (id, task_id, draw_id, department_code, department_name, region_code,"
            " plan_number, plan_name, task_number, task_name, uscc, enterprise_name, name_key, name_grams, address, items,"
            " check_date, categories, hazard_count, follow_up, published_at, departments) VALUES (:id, :task_id, :draw_id,"
            " :department_code, :department_name, :region_code, :plan_number, :plan_name, :task_number, :task_name,"
            " :uscc, :enterprise_name, :name_key, :name_grams, :address, :items, :check_date, :categories, :hazard_count,"
            " :follow_up, :published_at, CAST(:departments AS jsonb))"
        ),
        {"departments": "[]", **values},
    )


async def search_by_uscc(session: AsyncSession, uscc: str, limit: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(f"SELECT {LIST_COLUMNS} FROM public_results WHERE uscc = :u ORDER BY published_at DESC LIMIT :l"),
        {"u": uscc, "l": limit},
    )
    return [dict(r._mapping) for r in rows]


# Kept as one literal so that the benchmark's bare-asyncpg baseline runs exactly the same statement.
NAME_SQL = (
    f"SELECT {LIST_COLUMNS} FROM public_results WHERE name_grams @> $1::text[]"
    " AND name_key LIKE $2 ORDER BY published_at DESC LIMIT $3"
)
USCC_SQL = f"SELECT {LIST_COLUMNS} FROM public_results WHERE uscc = $1 ORDER BY published_at DESC LIMIT $2"


async def search_by_name(session: AsyncSession, grams: list[str], pattern: str, limit: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(f"SELECT {LIST_COLUMNS} FROM public_results WHERE name_grams @> CAST(:g AS text[])"
             " AND name_key LIKE :p ORDER BY published_at DESC LIMIT :l"),
        {"g": grams, "p": pattern, "l": limit},
    )
    return [dict(r._mapping) for r in rows]


async def get_record(session: AsyncSession, result_id: uuid.UUID) -> dict[str, Any] | None:
    row = (await session.execute(text(f"SELECT {RECORD_COLUMNS} FROM public_results WHERE id = :id"),
                                 {"id": result_id})).first()
    return dict(row._mapping) if row else None


async def task_results(session: AsyncSession, task_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(f"SELECT {LIST_COLUMNS} FROM public_results WHERE task_id = :t ORDER BY enterprise_name"), {"t": task_id})
    return [dict(r._mapping) for r in rows]


async def recent(session: AsyncSession, limit: int = 20) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(f"SELECT {LIST_COLUMNS} FROM public_results ORDER BY published_at DESC LIMIT :l"), {"l": limit})
    return [dict(r._mapping) for r in rows]


async def department_export(session: AsyncSession, department_code: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(f"SELECT {RECORD_COLUMNS} FROM public_results WHERE department_code = :d"
             " ORDER BY published_at, task_number, uscc"), {"d": department_code})
    return [dict(r._mapping) for r in rows]
