"""SQL of the enterprise's side: the department's visits (tenant rows), the county's visit register
(``public_visits``, no tenant policy: read by exact code on the public path, counted per enterprise for the burden
ledger), anonymous evaluations (read by the county overseer only), burden alerts and the county's settings."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.enterprise.schemas import (
    AlertOut,
    BurdenRow,
    Card,
    CountySettings,
    EnterpriseVisit,
    EvaluationIn,
    EvaluationRow,
    Period,
    PublicVisitRow,
    VisitOut,
)

VISIT_COLUMNS = (
    "id, code, kind, task_id, uscc, enterprise_name, reason, window_start, window_end, visit_date, status,"
    " cancel_reason, created_by, created_at"
)


def _json(value: object) -> str:
    return msgspec.json.encode(value).decode()


def _visit(row: Any) -> VisitOut:
    return msgspec.convert(dict(row._mapping), VisitOut)


# ---- the department's visits (RLS: its own rows) ----------------------------------------------------------------


async def insert_visit(
    session: AsyncSession, tenant_id: uuid.UUID, visit: VisitOut, legal_basis: str
) -> None:
    await session.execute(
        text(
            "INSERT INTO visits (id, tenant_id, code, kind, task_id, uscc, enterprise_name, reason, legal_basis,"
            " window_start, window_end, visit_date, status, created_by, created_at) VALUES (:id, :tenant_id, :code,"
            " :kind, :task_id, :uscc, :enterprise_name, :reason, :legal_basis, :window_start, :window_end,"
            " :visit_date, :status, :created_by, :created_at)"
        ),
        {**msgspec.structs.asdict(visit), "tenant_id": tenant_id, "legal_basis": legal_basis},
    )


async def task_visits(session: AsyncSession, task_id: uuid.UUID) -> list[VisitOut]:
    found = await session.execute(
        text(f"SELECT {VISIT_COLUMNS} FROM visits WHERE task_id = :t ORDER BY uscc"), {"t": task_id}
    )
    return [_visit(r) for r in found]


async def list_visits(session: AsyncSession, limit: int = 500) -> list[VisitOut]:
    found = await session.execute(
        text(f"SELECT {VISIT_COLUMNS} FROM visits ORDER BY created_at DESC LIMIT :limit"), {"limit": limit}
    )
    return [_visit(r) for r in found]


async def get_visit(session: AsyncSession, visit_id: uuid.UUID, *, lock: bool = False) -> VisitOut | None:
    sql = f"SELECT {VISIT_COLUMNS} FROM visits WHERE id = :id" + (" FOR UPDATE" if lock else "")
    found = (await session.execute(text(sql), {"id": visit_id})).first()
    return _visit(found) if found else None


async def set_visit_date(session: AsyncSession, visit_id: uuid.UUID, day: dt.date) -> None:
    await session.execute(
        text("UPDATE visits SET visit_date = :d WHERE id = :id"), {"id": visit_id, "d": day}
    )
    await session.execute(
        text("UPDATE public_visits SET visit_date = :d, updated_at = now() WHERE visit_id = :id"),
        {"id": visit_id, "d": day},
    )


async def cancel_visit(session: AsyncSession, visit_id: uuid.UUID, reason: str) -> None:
    await session.execute(
        text("UPDATE visits SET status = '已取消', cancel_reason = :r WHERE id = :id"),
        {"id": visit_id, "r": reason},
    )
    await session.execute(
        text("UPDATE public_visits SET status = '已取消', updated_at = now() WHERE visit_id = :id"),
        {"id": visit_id},
    )


# ---- the county's register (no tenant policy; written with the department's own visit rows) ----------------------


async def insert_public_visit(
    session: AsyncSession,
    visit: VisitOut,
    department_id: uuid.UUID,
    region_code: str,
    secret_hash: str,
    card: Card,
) -> None:
    await session.execute(
        text(
            "INSERT INTO public_visits (code, visit_id, department_id, region_code, task_id, uscc, kind,"
            " window_start, window_end, visit_date, status, secret_hash, card) VALUES (:code, :id, :department_id,"
            " :region_code, :task_id, :uscc, :kind, :window_start, :window_end, :visit_date, :status, :secret_hash,"
            " CAST(:card AS jsonb))"
        ),
        {
            **msgspec.structs.asdict(visit),
            "department_id": department_id,
            "region_code": region_code,
            "secret_hash": secret_hash,
            "card": _json(card),
        },
    )


async def refresh_card(session: AsyncSession, visit_id: uuid.UUID, card: Card) -> None:
    await session.execute(
        text(
            "UPDATE public_visits SET card = CAST(:card AS jsonb), updated_at = now()"
            " WHERE visit_id = :id AND card <> CAST(:card AS jsonb)"
        ),
        {"id": visit_id, "card": _json(card)},
    )


PUBLIC_COLUMNS = (
    "code, visit_id, department_id, region_code, task_id, uscc, kind, window_start, window_end, visit_date, status,"
    " card, evaluated_at IS NOT NULL AS evaluated"
)


async def public_visit(session: AsyncSession, code: str) -> PublicVisitRow | None:
    found = (
        await session.execute(
            text(f"SELECT {PUBLIC_COLUMNS} FROM public_visits WHERE code = :c"), {"c": code}
        )
    ).first()
    return msgspec.convert(dict(found._mapping), PublicVisitRow) if found else None


async def public_code(session: AsyncSession, task_id: uuid.UUID, uscc: str) -> str | None:
    """The public part of a task's code for one enterprise (what an inspector shows, whichever department)."""
    found = await session.execute(
        text("SELECT code FROM public_visits WHERE task_id = :t AND uscc = :u"), {"t": task_id, "u": uscc}
    )
    return found.scalar_one_or_none()


async def mark_evaluated(session: AsyncSession, code: str, secret_hash: str) -> bool:
    """Once per code: true only for the first evaluation with the right secret of a visit not cancelled."""
    found = await session.execute(
        text(
            "UPDATE public_visits SET evaluated_at = now() WHERE code = :c AND secret_hash = :h"
            " AND evaluated_at IS NULL AND status = '有效' RETURNING code"
        ),
        {"c": code, "h": secret_hash},
    )
    return found.first() is not None


async def insert_evaluation(
    session: AsyncSession, visit: PublicVisitRow, team: str, data: EvaluationIn
) -> None:
    await session.execute(
        text(
            "INSERT INTO visit_evaluations (id, code, region_code, department_id, team, conduct, credentials_shown,"
            " burden, improper, comment) VALUES (:id, :code, :region, :department, :team, :conduct, :credentials,"
            " :burden, :improper, :comment)"
        ),
        {
            "id": uuid.uuid4(),
            "code": visit.code,
            "region": visit.region_code,
            "department": visit.department_id,
            "team": team,
            "conduct": data.conduct,
            "credentials": data.credentials_shown,
            "burden": data.burden,
            "improper": data.improper,
            "comment": data.comment,
        },
    )


async def evaluations(session: AsyncSession, year: int) -> list[EvaluationRow]:
    """The evaluations the scope may read (RLS: the county overseer's region; a department reads none)."""
    found = await session.execute(
        text(
            "SELECT department_id, team, conduct, credentials_shown, burden, improper, comment, created_at"
            " FROM visit_evaluations WHERE created_at >= make_date(:y, 1, 1) AND created_at < make_date(:y + 1, 1, 1)"
            " ORDER BY department_id, team, created_at"
        ),
        {"y": year},
    )
    return [msgspec.convert(dict(r._mapping), EvaluationRow) for r in found]


# ---- the burden ledger ------------------------------------------------------------------------------------------


async def count_dated(session: AsyncSession, region: str, uscc: str, start: dt.date, end: dt.date) -> int:
    found = await session.execute(
        text(
            "SELECT count(*) FROM public_visits WHERE region_code = :r AND uscc = :u AND status = '有效'"
            " AND visit_date BETWEEN :s AND :e"
        ),
        {"r": region, "u": uscc, "s": start, "e": end},
    )
    return int(found.scalar_one())


async def insert_alert(
    session: AsyncSession,
    region: str,
    uscc: str,
    name: str,
    period: Period,
    start: dt.date,
    visits: int,
    threshold: int,
    raised_by: uuid.UUID,
) -> bool:
    """The alert of one crossing (enterprise, period); false when it was already raised."""
    found = await session.execute(
        text(
            "INSERT INTO burden_alerts (id, region_code, uscc, enterprise_name, period, period_start, visits,"
            " threshold, raised_by) VALUES (:id, :r, :u, :n, :p, :s, :v, :t, :by)"
            " ON CONFLICT (region_code, uscc, period, period_start) DO NOTHING RETURNING id"
        ),
        {
            "id": uuid.uuid4(),
            "r": region,
            "u": uscc,
            "n": name,
            "p": period.value,
            "s": start,
            "v": visits,
            "t": threshold,
            "by": raised_by,
        },
    )
    return found.first() is not None


async def alerts(
    session: AsyncSession, region: str, year: int, usccs: list[str] | None = None
) -> list[AlertOut]:
    sql = (
        "SELECT uscc, enterprise_name, period, period_start, visits, threshold, created_at FROM burden_alerts"
        " WHERE region_code = :r AND period_start >= make_date(:y, 1, 1) - 6 AND period_start < make_date(:y + 1, 1, 1)"
    )
    params: dict[str, object] = {"r": region, "y": year}
    if usccs is not None:
        sql += " AND uscc = ANY(:usccs)"
        params["usccs"] = usccs
    found = await session.execute(text(sql + " ORDER BY created_at DESC LIMIT 500"), params)
    return [msgspec.convert(dict(r._mapping), AlertOut) for r in found]


async def most_visited(session: AsyncSession, region: str, year: int, limit: int = 50) -> list[BurdenRow]:
    """Every visit of the year counted per enterprise across the county's departments (dated or still pending)."""
    found = await session.execute(
        text(
            "SELECT v.uscc, max(v.card->>'enterprise_name') AS enterprise_name, count(*) AS visits,"
            " coalesce((SELECT array_agg(DISTINCT d) FROM public_visits w,"
            " jsonb_array_elements_text(w.card->'departments') d WHERE w.region_code = :r AND w.uscc = v.uscc"
            " AND w.status = '有效' AND extract(year FROM coalesce(w.visit_date, w.window_start)) = :y), '{}')"
            " AS departments,"
            " count(*) FILTER (WHERE v.visit_date IS NULL OR v.visit_date > current_date) AS pending,"
            " max(v.visit_date) FILTER (WHERE v.visit_date <= current_date) AS last_visit"
            " FROM public_visits v WHERE v.region_code = :r AND v.status = '有效'"
            " AND extract(year FROM coalesce(v.visit_date, v.window_start)) = :y"
            " GROUP BY v.uscc ORDER BY count(*) DESC, v.uscc LIMIT :limit"
        ),
        {"r": region, "y": year, "limit": limit},
    )
    return [msgspec.convert(dict(r._mapping), BurdenRow) for r in found]


async def pending_departments(session: AsyncSession, region: str, uscc: str) -> list[uuid.UUID]:
    """Departments of the county with a visit to the enterprise not yet made."""
    found = await session.execute(
        text(
            "SELECT DISTINCT department_id FROM public_visits WHERE region_code = :r AND uscc = :u"
            " AND status = '有效' AND (visit_date IS NULL OR visit_date >= current_date)"
        ),
        {"r": region, "u": uscc},
    )
    return [r[0] for r in found]


async def enterprise_visits(session: AsyncSession, region: str, uscc: str) -> list[EnterpriseVisit]:
    found = await session.execute(
        text(
            "SELECT code, kind, card->'departments' AS departments, coalesce(card->>'task_name', '') AS task_name,"
            " window_start, window_end, visit_date, status FROM public_visits WHERE region_code = :r AND uscc = :u"
            " ORDER BY coalesce(visit_date, window_start) DESC"
        ),
        {"r": region, "u": uscc},
    )
    return [msgspec.convert(dict(r._mapping), EnterpriseVisit) for r in found]


# ---- the county's settings (read by everyone; written by operators on the admin connection) -----------------------


async def county_settings(session: AsyncSession, region: str) -> CountySettings:
    found = (
        await session.execute(
            text(
                "SELECT region_code, day_limit, week_limit, month_limit, cooldown_months, repair_office,"
                " repair_steps, repair_contact, supervision_phone FROM county_enterprise_settings"
                " WHERE region_code = :r"
            ),
            {"r": region},
        )
    ).first()
    return (
        msgspec.convert(dict(found._mapping), CountySettings) if found else CountySettings(region_code=region)
    )


async def save_county_settings(conn: Any, settings: CountySettings) -> None:
    """``conn``: an asyncpg connection of the migration role (the operator command runs outside any tenant)."""
    import asyncpg

    try:
        await conn.execute(
            "INSERT INTO county_enterprise_settings (region_code, day_limit, week_limit, month_limit, cooldown_months,"
            " repair_office, repair_steps, repair_contact, supervision_phone) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            " ON CONFLICT (region_code) DO UPDATE SET day_limit = EXCLUDED.day_limit, week_limit = EXCLUDED.week_limit,"
            " month_limit = EXCLUDED.month_limit, cooldown_months = EXCLUDED.cooldown_months,"
            " repair_office = EXCLUDED.repair_office, repair_steps = EXCLUDED.repair_steps,"
            " repair_contact = EXCLUDED.repair_contact, supervision_phone = EXCLUDED.supervision_phone,"
            " updated_at = now()",
            settings.region_code,
            settings.day_limit,
            settings.week_limit,
            settings.month_limit,
            settings.cooldown_months,
            settings.repair_office,
            settings.repair_steps,
            settings.repair_contact,
            settings.supervision_phone,
        )
    except asyncpg.ForeignKeyViolationError as exc:  # no such region
        raise LookupError(f"unknown region {settings.region_code}") from exc


async def read_county_settings(conn: Any, region: str) -> CountySettings:
    row = await conn.fetchrow(
        "SELECT region_code, day_limit, week_limit, month_limit, cooldown_months, repair_office, repair_steps,"
        " repair_contact, supervision_phone FROM county_enterprise_settings WHERE region_code = $1",
        region,
    )
    return msgspec.convert(dict(row), CountySettings) if row else CountySettings(region_code=region)
