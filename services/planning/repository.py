"""All SQL of plans, tasks and draws. Tenant rows are limited by RLS; ids come from the caller's own scope."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


async def sections_by_code(session: AsyncSession) -> dict[str, dict[str, Any]]:
    rows = await session.execute(text("SELECT id, code, name FROM sections WHERE active ORDER BY code"))
    return {r.code: dict(r._mapping) for r in rows}


async def sections_by_id(session: AsyncSession) -> dict[uuid.UUID, dict[str, Any]]:
    rows = await session.execute(text("SELECT id, code, name FROM sections"))
    return {r.id: dict(r._mapping) for r in rows}


async def items_by_code(session: AsyncSession, codes: list[str]) -> dict[str, dict[str, Any]]:
    rows = await session.execute(
        text("SELECT id, code, name, category, specialties FROM inspection_items WHERE active AND code = ANY(:c)"),
        {"c": codes},
    )
    return {r.code: dict(r._mapping) for r in rows}


async def items_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    rows = await session.execute(
        text("SELECT id, code, name, category, specialties FROM inspection_items WHERE id = ANY(:ids) ORDER BY code"),
        {"ids": ids},
    )
    return [dict(r._mapping) for r in rows]


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


async def insert_plan(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(
        text(
            "INSERT INTO plans (id, tenant_id, number, seq, name, year, kind, initiating_section_id,"
            " joint_section_ids, table_date, created_by) VALUES (:id, :tenant_id, :number, :seq, :name, :year,"
            " :kind, :initiating_section_id, :joint_section_ids, :table_date, :created_by)"
        ),
        values,
    )


PLAN_COLUMNS = (
    "id, number, seq, name, year, kind, initiating_section_id, joint_section_ids, table_date, status, created_by"
)


async def list_plans(session: AsyncSession, year: int | None = None) -> list[dict[str, Any]]:
    sql = f"SELECT {PLAN_COLUMNS} FROM plans"
    params: dict[str, Any] = {}
    if year is not None:
        sql += " WHERE year = :y"
        params["y"] = year
    rows = await session.execute(text(sql + " ORDER BY year DESC, number"), params)
    return [dict(r._mapping) for r in rows]


async def get_plan(session: AsyncSession, plan_id: uuid.UUID, *, lock: bool = False) -> dict[str, Any] | None:
    sql = f"SELECT {PLAN_COLUMNS} FROM plans WHERE id = :id" + (" FOR UPDATE" if lock else "")
    row = (await session.execute(text(sql), {"id": plan_id})).first()
    return dict(row._mapping) if row else None


async def set_plan_status(session: AsyncSession, plan_id: uuid.UUID, status: str) -> None:
    await session.execute(
        text("UPDATE plans SET status = :s, updated_at = now() WHERE id = :id"), {"s": status, "id": plan_id}
    )


TASK_COLUMNS = (
    "t.id, t.plan_id, t.number, t.seq, t.name, t.draw_type, t.ratio_mode, t.ratios, t.ratio_note, t.item_ids,"
    " t.item_note, t.scope, t.scope_note, t.initiating_section_id, t.joint_section_ids, t.start_month, t.end_month,"
    " t.min_inspectors, t.exclude_checked_within_months, t.annual_cap, t.status,"
    " (SELECT d.id FROM draws d WHERE d.task_id = t.id ORDER BY d.announced_at DESC LIMIT 1) AS draw_id"
)


async def next_task_seq(session: AsyncSession, plan_id: uuid.UUID) -> int:
    row = await session.execute(text("SELECT coalesce(max(seq), 0) + 1 FROM tasks WHERE plan_id = :p"), {"p": plan_id})
    return int(row.scalar_one())


async def insert_task(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(
        text(
            "INSERT INTO tasks (id, tenant_id, plan_id, number, seq, name, draw_type, ratio_mode, ratios, ratio_note,"
            " item_ids, item_note, scope, scope_note, initiating_section_id, joint_section_ids, start_month,"
            " end_month, min_inspectors, exclude_checked_within_months, annual_cap, created_by) VALUES (:id,"
            " :tenant_id, :plan_id, :number, :seq, :name, :draw_type, :ratio_mode, CAST(:ratios AS jsonb),"
            " :ratio_note, :item_ids, :item_note, CAST(:scope AS jsonb), :scope_note, :initiating_section_id,"
            " :joint_section_ids, :start_month, :end_month, :min_inspectors, :exclude_checked_within_months,"
            " :annual_cap, :created_by)"
        ),
        {**values, "ratios": _json(values["ratios"]), "scope": _json(values["scope"])},
    )


async def list_tasks(session: AsyncSession, plan_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(f"SELECT {TASK_COLUMNS} FROM tasks t WHERE t.plan_id = :p ORDER BY t.seq"), {"p": plan_id}
    )
    return [dict(r._mapping) for r in rows]


async def get_task(session: AsyncSession, task_id: uuid.UUID, *, lock: bool = False) -> dict[str, Any] | None:
    sql = f"SELECT {TASK_COLUMNS} FROM tasks t WHERE t.id = :id" + (" FOR UPDATE OF t" if lock else "")
    row = (await session.execute(text(sql), {"id": task_id})).first()
    return dict(row._mapping) if row else None


async def set_task_status(session: AsyncSession, task_id: uuid.UUID, status: str) -> None:
    await session.execute(
        text("UPDATE tasks SET status = :s, updated_at = now() WHERE id = :id"), {"s": status, "id": task_id}
    )


# ---- draws ----------------------------------------------------------------------------------------------------

def _scope_sql(scope: dict[str, Any], params: dict[str, Any]) -> str:
    """Translate a task's object scope into WHERE clauses with bound parameters only."""
    clauses = ["o.active", "o.status = '在营'"]
    if scope.get("industries"):
        clauses.append("o.industry = ANY(:industries)")
        params["industries"] = scope["industries"]
    if scope.get("tags_all"):
        clauses.append("o.tags @> CAST(:tags_all AS text[])")
        params["tags_all"] = scope["tags_all"]
    if scope.get("risk_classes"):
        clauses.append("o.risk_class = ANY(:risk_classes)")
        params["risk_classes"] = scope["risk_classes"]
    if scope.get("major_hazard_only"):
        clauses.append("o.major_hazard_level IS NOT NULL")
    if scope.get("direct_supervision_only"):
        clauses.append("o.direct_supervision")
    return " AND ".join(clauses)


async def population_summary(
    session: AsyncSession, scope: dict[str, Any], *, per_class: bool, recent_since: dt.date | None,
    year: int, annual_cap: int | None,
) -> dict[str, int]:
    """Counts of the scope and of each exclusion, shown on the announcement before anything is frozen."""
    params: dict[str, Any] = {"recent": recent_since, "year": year, "cap": annual_cap}
    where = _scope_sql(scope, params)
    row = (
        await session.execute(
            text(
                f"SELECT count(*) AS in_scope,"
                f" count(*) FILTER (WHERE CAST(:recent AS date) IS NOT NULL AND o.last_checked_on >= CAST(:recent AS date)) AS recently_checked,"
                f" count(*) FILTER (WHERE CAST(:cap AS int) IS NOT NULL AND {_checks_this_year()} >= CAST(:cap AS int)) AS at_annual_cap,"
                f" count(*) FILTER (WHERE o.risk_class IS NULL) AS unclassified"
                f" FROM registry_objects o WHERE {where}"
            ),
            params,
        )
    ).one()
    return {k: int(v) for k, v in row._mapping.items()}


def _checks_this_year() -> str:
    return (
        "(SELECT count(*) FROM draw_selected s JOIN draws d ON d.id = s.draw_id"
        " WHERE s.uscc = o.uscc AND d.status = '已抽取' AND extract(year FROM d.drawn_at) = CAST(:year AS int))"
    )


async def freeze_eligible(
    session: AsyncSession, tenant_id: uuid.UUID, draw_id: uuid.UUID, scope: dict[str, Any], *, per_class: bool,
    recent_since: dt.date | None, year: int, annual_cap: int | None,
) -> tuple[int, str]:
    """Copy the eligible list into the draw (set-based) and return (count, population hash)."""
    params: dict[str, Any] = {"t": tenant_id, "d": draw_id, "recent": recent_since, "year": year, "cap": annual_cap}
    where = _scope_sql(scope, params)
    stratum = "o.risk_class" if per_class else "'ALL'"
    await session.execute(
        text(
            f"INSERT INTO draw_eligible (tenant_id, draw_id, uscc, stratum, object_id)"
            f" SELECT :t, :d, o.uscc, {stratum}, o.id FROM registry_objects o WHERE {where}"
            f" AND NOT (CAST(:recent AS date) IS NOT NULL AND o.last_checked_on IS NOT NULL"
            f" AND o.last_checked_on >= CAST(:recent AS date))"
            f" AND NOT (CAST(:cap AS int) IS NOT NULL AND {_checks_this_year()} >= CAST(:cap AS int))"
        ),
        params,
    )
    row = (
        await session.execute(
            text(
                "SELECT count(*), encode(sha256(convert_to(coalesce(string_agg(uscc || E'\\t' || stratum || E'\\n',"
                " '' ORDER BY uscc COLLATE \"C\"), ''), 'UTF8')), 'hex') FROM draw_eligible WHERE draw_id = :d"
            ),
            {"d": draw_id},
        )
    ).one()
    return int(row[0]), str(row[1])


async def insert_draw(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(
        text(
            "INSERT INTO draws (id, tenant_id, task_id, status, task_number, ratios, population_hash, eligible_count,"
            " excluded, commitment, secret, entropy_source, announced_by) VALUES (:id, :tenant_id, :task_id, '已公告',"
            " :task_number, CAST(:ratios AS jsonb), :population_hash, :eligible_count, CAST(:excluded AS jsonb),"
            " :commitment, :secret, :entropy_source, :announced_by)"
        ),
        {**values, "ratios": _json(values["ratios"]), "excluded": _json(values["excluded"])},
    )


async def update_draw_hash(session: AsyncSession, draw_id: uuid.UUID, count: int, population_hash: str) -> None:
    await session.execute(
        text("UPDATE draws SET eligible_count = :n, population_hash = :h WHERE id = :id"),
        {"n": count, "h": population_hash, "id": draw_id},
    )


DRAW_COLUMNS = (
    "id, task_id, status, task_number, ratios, population_hash, eligible_count, excluded, commitment, secret,"
    " entropy_source, public_entropy, seed, selected_count, announced_at, drawn_at, void_reason"
)


async def get_draw(session: AsyncSession, draw_id: uuid.UUID, *, lock: bool = False) -> dict[str, Any] | None:
    sql = f"SELECT {DRAW_COLUMNS} FROM draws WHERE id = :id" + (" FOR UPDATE" if lock else "")
    row = (await session.execute(text(sql), {"id": draw_id})).first()
    return dict(row._mapping) if row else None


async def eligible_entries(session: AsyncSession, draw_id: uuid.UUID) -> list[tuple[str, str, uuid.UUID]]:
    rows = await session.execute(
        text("SELECT uscc, stratum, object_id FROM draw_eligible WHERE draw_id = :d"), {"d": draw_id}
    )
    return [(r.uscc, r.stratum, r.object_id) for r in rows]


async def insert_selected(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(
            text(
                "INSERT INTO draw_selected (tenant_id, draw_id, stratum, rank, uscc, object_id)"
                " VALUES (:tenant_id, :draw_id, :stratum, :rank, :uscc, :object_id)"
            ),
            rows,
        )


async def mark_drawn(
    session: AsyncSession, draw_id: uuid.UUID, public_entropy: str, seed: str, selected_count: int, actor: str
) -> dt.datetime:
    row = await session.execute(
        text(
            "UPDATE draws SET status = '已抽取', public_entropy = :e, seed = :s, selected_count = :n,"
            " drawn_at = now(), drawn_by = :a WHERE id = :id RETURNING drawn_at"
        ),
        {"e": public_entropy, "s": seed, "n": selected_count, "a": actor, "id": draw_id},
    )
    return row.scalar_one()


async def mark_voided(session: AsyncSession, draw_id: uuid.UUID, reason: str, actor: str) -> dt.datetime:
    row = await session.execute(
        text(
            "UPDATE draws SET status = '已作废', void_reason = :r, voided_at = now(), voided_by = :a"
            " WHERE id = :id RETURNING voided_at"
        ),
        {"r": reason, "a": actor, "id": draw_id},
    )
    return row.scalar_one()


async def selected_objects(session: AsyncSession, draw_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            "SELECT s.stratum, s.rank, s.uscc, s.object_id, o.name, o.address, o.industry, o.risk_class"
            " FROM draw_selected s JOIN registry_objects o ON o.id = s.object_id"
            " WHERE s.draw_id = :d ORDER BY s.stratum, s.rank"
        ),
        {"d": draw_id},
    )
    return [dict(r._mapping) for r in rows]


# ---- the public draw register ----------------------------------------------------------------------------------

async def insert_public_draw(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(
        text(
            "INSERT INTO public_draws (draw_id, task_id, department_code, department_name, region_code, plan_number,"
            " plan_name, task_number, task_name, status, ratios, population_hash, eligible_count, commitment,"
            " entropy_source, announced_at) VALUES (:draw_id, :task_id, :department_code, :department_name,"
            " :region_code, :plan_number, :plan_name, :task_number, :task_name, '已公告', CAST(:ratios AS jsonb),"
            " :population_hash, :eligible_count, :commitment, :entropy_source, now())"
        ),
        {**values, "ratios": _json(values["ratios"])},
    )


async def publish_draw_result(
    session: AsyncSession, draw_id: uuid.UUID, drawn_at: dt.datetime, selected_count: int, proof: bytes
) -> None:
    await session.execute(
        text(
            "UPDATE public_draws SET status = '已抽取', drawn_at = :at, selected_count = :n,"
            " proof = :proof WHERE draw_id = :id"
        ),
        {"at": drawn_at, "n": selected_count, "proof": proof, "id": draw_id},
    )


async def publish_void(session: AsyncSession, draw_id: uuid.UUID, voided_at: dt.datetime, reason: str) -> None:
    await session.execute(
        text("UPDATE public_draws SET status = '已作废', voided_at = :at, void_reason = :r WHERE draw_id = :id"),
        {"at": voided_at, "r": reason, "id": draw_id},
    )
