"""SQL of the draw: the eligible population, the frozen list, the result, and the public draw register's writes.

Tenant rows are limited by RLS; ids come from the caller's own scope."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.planning.rows import DrawResult, DrawRow, NewDraw, NewPublicDraw, row, rows
from services.planning.schemas import DrawnObject, PublicSelected


def _json(value: object) -> str:
    return msgspec.json.encode(value).decode()


def _scope_sql(scope: dict[str, object], params: dict[str, object]) -> str:
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
    # intersect_partners is applied by the federation service (it needs the partners' registries).
    return " AND ".join(clauses)


async def in_scope_exceeds(session: AsyncSession, scope: dict[str, object], limit: int) -> bool:
    """Whether more than ``limit`` registry entries match the scope (before exclusions); reads at most limit + 1.

    When the whole registry table is far smaller than ``limit`` (PostgreSQL's own size estimate: rows per page from
    the last VACUUM/ANALYZE times the table's current pages, as the planner computes it) nothing is read."""
    estimate = (
        await session.execute(
            text(
                "SELECT CASE WHEN c.relpages > 0 AND c.reltuples >= 0 THEN c.reltuples / c.relpages"
                " * (pg_relation_size(c.oid) / current_setting('block_size')::int) END"
                " FROM pg_class c WHERE c.oid = 'registry_objects'::regclass"
            )
        )
    ).scalar_one()
    if estimate is not None and estimate * 2 <= limit:
        return False
    params: dict[str, object] = {"limit": limit + 1}
    where = _scope_sql(scope, params)
    found = await session.execute(
        text(f"SELECT count(*) FROM (SELECT 1 FROM registry_objects o WHERE {where} LIMIT :limit) s"), params
    )
    return int(found.scalar_one()) > limit


# ---- the county's per-enterprise annual cap across departments (issue 6, fewer visits) -----------------------------


async def county_capped_usccs(session: AsyncSession, year: int) -> list[str]:
    """USCCs already drawn ``annual_cap`` times this plan year by any department of the county (empty without a
    county cap). Other departments' draws are counted by the SECURITY DEFINER function ``county_draw_counts``
    (migration 0050), which returns counts per USCC of the caller's own county and nothing else."""
    rows = await session.execute(
        text(
            "SELECT c.uscc FROM county_settings cs JOIN departments d ON d.region_code = cs.region_code"
            " CROSS JOIN LATERAL county_draw_counts(:year) c WHERE d.id = app_tenant()"
            " AND cs.annual_cap IS NOT NULL AND c.draws >= cs.annual_cap"
        ),
        {"year": year},
    )
    return [r[0] for r in rows]


async def county_cooldown_months(session: AsyncSession) -> int | None:
    """The county's cool-down in months (``county_enterprise_settings``, set by operators), None without one; read
    through the SECURITY DEFINER function ``county_cooldown_months`` (migration 0059)."""
    value = (await session.execute(text("SELECT county_cooldown_months()"))).scalar_one()
    return int(value) if value is not None else None


async def county_recently_checked(session: AsyncSession, since: dt.date) -> list[str]:
    """USCCs checked since ``since`` by any department of the county (registries' last checks and the county's
    dated visits), through ``county_recently_checked`` (migration 0059); only USCCs, nothing else."""
    found = await session.execute(text("SELECT uscc FROM county_recently_checked(:since)"), {"since": since})
    return [r[0] for r in found]


def _checks_this_year() -> str:
    # Checks planned for the same plan year: every live (not voided) draw that selected the enterprise.
    return (
        "(SELECT count(*) FROM draw_selected s JOIN draws d ON d.id = s.draw_id JOIN tasks t ON t.id = d.task_id"
        " JOIN plans p ON p.id = t.plan_id WHERE s.uscc = o.uscc AND d.status = '已抽取' AND p.year = :year)"
    )


async def _asyncpg(session: AsyncSession) -> Any:
    """The transaction's own asyncpg connection (same scope, same snapshot) for COPY."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def eligible_population(
    session: AsyncSession,
    scope: dict[str, object],
    *,
    per_class: bool,
    recent_since: dt.date | None,
    year: int,
    annual_cap: int | None,
    cooldown_since: dt.date | None = None,
) -> tuple[bytes, dict[str, int]]:
    """The eligible list as raw ``USCC\\tSTRATUM\\n`` lines (unsorted) and the counts shown on the announcement.

    One query reads every in-scope entry once and returns all lines as one value. Each exclusion the task asks for
    adds one ``0``/``1`` column, so the counts (in scope, unclassified, recently checked, at the annual cap, at the
    county cap) come from the same rows and the excluded ones are dropped here with numpy; for a plain scope the
    value is exactly the lines. The county's cool-down (``cooldown_since``) is the same exclusion as the task's
    "recently checked", over every department of the county. An unclassified entry of a per-class task has stratum ``-`` (the caller refuses the
    announcement)."""
    params: dict[str, object] = {}
    where = _scope_sql(scope, params)
    flags: list[tuple[str, str]] = []
    if recent_since is not None:
        params["recent"] = recent_since
        flags.append(("recently_checked", "o.last_checked_on >= :recent"))
    if annual_cap is not None:
        params.update(year=year, cap=annual_cap)
        flags.append(("at_annual_cap", f"{_checks_this_year()} >= :cap"))
    if cooldown_since is not None:
        cooled = await county_recently_checked(session, cooldown_since)
        if cooled:
            params["county_cooled"] = cooled
            flags.append(("county_cooldown", "o.uscc = ANY(:county_cooled)"))
    capped = await county_capped_usccs(session, year)
    if capped:
        params["county_capped"] = capped
        flags.append(("at_county_cap", "o.uscc = ANY(:county_capped)"))
    stratum = "coalesce(o.risk_class, '-')" if per_class else "'ALL'"
    line = " || E'\\t' || ".join(
        ["o.uscc", stratum, *(f"CASE WHEN {c} THEN '1' ELSE '0' END" for _, c in flags)]
    )
    # One value rather than a message per row (COPY): the receiving side does no per-entry work at all.
    found = await session.execute(
        text(
            f"SELECT convert_to(string_agg({line} || E'\\n', ''), 'UTF8') FROM registry_objects o WHERE {where}"
        ),
        params,
    )
    data = bytes(found.scalar_one() or b"")
    counts = {
        "in_scope": 0,
        "unclassified": 0,
        "recently_checked": 0,
        "at_annual_cap": 0,
        "at_county_cap": 0,
        "county_cooldown": 0,
    }
    if not data:
        return b"", counts
    record = data.index(b"\n") + 1
    if len(data) % record:
        raise ValueError("eligible rows are not all of one width")
    rows = np.frombuffer(data, dtype=np.uint8).reshape(-1, record)
    width = record - 2 * len(flags)  # USCC, TAB, stratum, LF
    counts["in_scope"] = len(rows)
    if per_class:
        counts["unclassified"] = int(np.count_nonzero(rows[:, width - 2] == ord("-")))
    if not flags:
        return data, counts
    excluded = np.zeros(len(rows), dtype=bool)
    for position, (name, _) in enumerate(flags):
        hit = rows[:, width + 2 * position] == ord("1")
        counts[name] = int(np.count_nonzero(hit))
        excluded |= hit
    kept = rows[~excluded, :width]
    kept[:, width - 1] = ord("\n")
    return kept.tobytes(), counts


async def scope_strata(
    session: AsyncSession,
    scope: dict[str, object],
    *,
    per_class: bool,
    recent_since: dt.date | None,
    year: int,
    annual_cap: int | None,
) -> dict[str, int]:
    """Eligible entries per stratum as the announcement would count them (the preview before 冻结名单并公告):
    the same scope and exclusions as ``eligible_population``, counted in the database without reading the list."""
    params: dict[str, object] = {}
    clauses = [_scope_sql(scope, params)]
    if recent_since is not None:
        params["recent"] = recent_since
        clauses.append("(o.last_checked_on IS NULL OR o.last_checked_on < :recent)")
    if annual_cap is not None:
        params.update(year=year, cap=annual_cap)
        clauses.append(f"{_checks_this_year()} < :cap")
    capped = await county_capped_usccs(session, year)
    if capped:
        params["county_capped"] = capped
        clauses.append("NOT (o.uscc = ANY(:county_capped))")
    stratum = "coalesce(o.risk_class, '-')" if per_class else "'ALL'"
    found = await session.execute(
        text(
            f"SELECT {stratum} AS stratum, count(*) FROM registry_objects o WHERE {' AND '.join(clauses)}"
            " GROUP BY 1"
        ),
        params,
    )
    return {str(r[0]): int(r[1]) for r in found}


async def insert_draw(session: AsyncSession, draw: NewDraw) -> None:
    await session.execute(
        text(
            "INSERT INTO draws (id, tenant_id, task_id, status, task_number, ratios, population_hash, eligible_count,"
            " strata_sizes, eligible_list, excluded, commitment, secret, entropy_source, announced_by) VALUES (:id,"
            " :tenant_id, :task_id, '已公告', :task_number, CAST(:ratios AS jsonb), :population_hash, :eligible_count,"
            " CAST(:strata_sizes AS jsonb), :eligible_list, CAST(:excluded AS jsonb), :commitment, :secret,"
            " :entropy_source, :announced_by)"
        ),
        {
            **msgspec.structs.asdict(draw),
            "ratios": _json(draw.ratios),
            "excluded": _json(draw.excluded),
            "strata_sizes": _json(draw.strata_sizes),
        },
    )


DRAW_COLUMNS = (
    "id, task_id, status, task_number, ratios, population_hash, eligible_count, strata_sizes, excluded, commitment,"
    " entropy_source, public_entropy, seed, selected_count, announced_at, drawn_at, void_reason"
)


async def get_draw(session: AsyncSession, draw_id: uuid.UUID, *, lock: bool = False) -> DrawRow | None:
    sql = f"SELECT {DRAW_COLUMNS} FROM draws WHERE id = :id" + (" FOR UPDATE" if lock else "")
    return row((await session.execute(text(sql), {"id": draw_id})).first(), DrawRow)


async def draw_secret(session: AsyncSession, draw_id: uuid.UUID) -> bytes | None:
    """Only the drawing department, and only before the draw (see migration 0031)."""
    row = await session.execute(text("SELECT draw_secret(:id)"), {"id": draw_id})
    value = row.scalar_one()
    return bytes(value) if value is not None else None


async def eligible_list(session: AsyncSession, draw_id: uuid.UUID) -> bytes:
    row = await session.execute(text("SELECT eligible_list FROM draws WHERE id = :id"), {"id": draw_id})
    return bytes(row.scalar_one())


async def insert_selected(
    session: AsyncSession, tenant_id: uuid.UUID, draw_id: uuid.UUID, selected: dict[str, list[str]]
) -> dict[str, str]:
    """Persist the result, each drawn USCC resolved to its registry row, in one statement; returns the names of the
    saved enterprises by USCC (a drawn USCC no longer in the registry is left out: the caller compares counts).

    The lookup is one pass over the registry with a hashed ``= ANY`` (cheaper than one index probe per drawn entry
    once the registry is larger than memory); the insert is set-based (COPY FROM is refused under row-level
    security, hence arrays)."""
    usccs = [u for ranked in selected.values() for u in ranked]
    strata = [s for s, ranked in selected.items() for _ in ranked]
    ranks = [r for ranked in selected.values() for r in range(1, len(ranked) + 1)]
    row = await (await _asyncpg(session)).fetchrow(
        "WITH picked AS (SELECT t.s, t.r, t.u, o.id, o.name FROM unnest($3::text[], $4::int[], $5::text[]) AS t(s, r, u)"
        " JOIN (SELECT uscc, id, name FROM registry_objects WHERE tenant_id = $1 AND uscc = ANY($5::text[])) o"
        " ON o.uscc = t.u),"
        " saved AS (INSERT INTO draw_selected (tenant_id, draw_id, stratum, rank, uscc, object_id)"
        " SELECT $1, $2, s, r, u, id FROM picked RETURNING 1)"
        " SELECT (SELECT count(*) FROM saved) AS saved, array_agg(u) AS usccs, array_agg(name) AS names FROM picked",
        tenant_id,
        draw_id,
        strata,
        ranks,
        usccs,
    )
    names = dict(zip(row["usccs"] or [], row["names"] or [], strict=True))
    if row["saved"] != len(names):
        raise RuntimeError("draw_selected: saved rows and resolved names differ")
    return names


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
    drawn_at: dt.datetime = row.scalar_one()
    return drawn_at


async def mark_voided(session: AsyncSession, draw_id: uuid.UUID, reason: str, actor: str) -> dt.datetime:
    row = await session.execute(
        text(
            "UPDATE draws SET status = '已作废', void_reason = :r, voided_at = now(), voided_by = :a"
            " WHERE id = :id RETURNING voided_at"
        ),
        {"r": reason, "a": actor, "id": draw_id},
    )
    voided_at: dt.datetime = row.scalar_one()
    return voided_at


async def selected_objects(session: AsyncSession, draw_id: uuid.UUID) -> list[DrawnObject]:
    found = await session.execute(
        text(
            "SELECT s.stratum, s.rank, s.uscc, s.object_id, o.name, o.address, o.industry, o.risk_class"
            " FROM draw_selected s LEFT JOIN registry_objects o ON o.uscc = s.uscc"
            # A partner of a joint plan sees the enterprise in its own registry; the overseer the drawing one's.
            " AND o.tenant_id = coalesce(app_tenant(), s.tenant_id)"
            " WHERE s.draw_id = :d ORDER BY s.stratum, s.rank"
        ),
        {"d": draw_id},
    )
    return rows(found, DrawnObject)


# ---- the public draw register ----------------------------------------------------------------------------------


async def insert_public_draw(session: AsyncSession, draw: NewPublicDraw) -> None:
    await session.execute(
        text(
            "INSERT INTO public_draws (draw_id, task_id, department_code, department_name, region_code, plan_number,"
            " plan_name, task_number, protocol_task_number, task_name, status, ratios, population_hash, eligible_count,"
            " commitment, entropy_source, announced_at, departments, exclusions) VALUES (:draw_id, :task_id, :department_code,"
            " :department_name, :region_code, :plan_number, :plan_name, :task_number, :protocol_task_number,"
            " :task_name, '已公告', CAST(:ratios AS jsonb),"
            " :population_hash, :eligible_count, :commitment, :entropy_source, now(), CAST(:departments AS jsonb),"
            " CAST(:exclusions AS jsonb))"
        ),
        {
            **msgspec.structs.asdict(draw),
            "ratios": _json(draw.ratios),
            "departments": _json(draw.departments),
            "exclusions": _json(draw.exclusions),
        },
    )


async def publish_draw_result(
    session: AsyncSession,
    draw_id: uuid.UUID,
    result: DrawResult,
    selected: dict[str, list[str]],
    names: dict[str, str],
) -> None:
    """After the draw everything needed to recompute it becomes public: secret, seed, entropy, result, and the names
    of the drawn enterprises. The frozen list is not copied: ``public_eligible_list()`` reads it (migration 0051)."""
    listed = [
        PublicSelected(s, r, u, names[u]) for s in sorted(selected) for r, u in enumerate(selected[s], 1)
    ]
    await session.execute(
        text(
            "UPDATE public_draws SET status = '已抽取', drawn_at = :drawn_at, selected_count = :selected_count,"
            " secret = :secret, seed = :seed, public_entropy = :public_entropy, selected = CAST(:selected AS json),"
            " selected_objects = CAST(:selected_objects AS json) WHERE draw_id = :id"
        ),
        {
            **msgspec.structs.asdict(result),
            "id": draw_id,
            "selected": _json(selected),
            "selected_objects": _json(listed),
        },
    )


async def publish_void(
    session: AsyncSession, draw_id: uuid.UUID, voided_at: dt.datetime, reason: str
) -> None:
    await session.execute(
        text(
            "UPDATE public_draws SET status = '已作废', voided_at = :at, void_reason = :r WHERE draw_id = :id"
        ),
        {"at": voided_at, "r": reason, "id": draw_id},
    )
