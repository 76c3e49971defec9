"""Disclosure deadlines from the database's loaded calendar plus ``shared.workdays``; loading an official year."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared import workdays
from shared.errors import InvalidInput


class CalendarYear(msgspec.Struct, forbid_unknown_fields=True):
    """The State Council's schedule of one year: the holidays (放假日) and the make-up working days (调休上班日)."""

    holidays: list[dt.date]
    workdays: list[dt.date] = msgspec.field(default_factory=list)
    note: str = ""


async def calendar(session: AsyncSession) -> tuple[dict[dt.date, bool], set[int]]:
    days = {
        r.day: r.is_workday for r in await session.execute(text("SELECT day, is_workday FROM calendar_days"))
    }
    years = {r[0] for r in await session.execute(text("SELECT year FROM calendar_years"))}
    return days, years


async def deadline(session: AsyncSession, check_end: dt.date) -> workdays.Deadline:
    overrides, years = await calendar(session)
    return workdays.disclosure_deadline(check_end, overrides, years)


def check_year(year: int, data: CalendarYear) -> None:
    """Refuses a schedule that is not entirely of ``year`` or says a day is both a holiday and a working day."""
    if not 2000 <= year <= 2100:
        raise InvalidInput("年份应在 2000–2100 之间", field="year")
    for field, days in (("holidays", data.holidays), ("workdays", data.workdays)):
        for index, day in enumerate(days):
            if day.year != year:
                raise InvalidInput(f"{day.isoformat()} 不属于 {year} 年", field=f"{field}[{index}]")
    clash = set(data.holidays) & set(data.workdays)
    if clash:
        raise InvalidInput(f"{min(clash).isoformat()} 不能同时是放假日和上班日", field="workdays")


async def load_year(admin_url: str, year: int, data: CalendarYear, actor: str) -> dict[str, Any]:
    """Operator command (``spotcheck calendar``): replace one year of the platform's official calendar.

    Runs as the owner role: the runtime role may only read the calendar (migration 0056), because one department's
    change would move every department's deadlines."""
    import asyncpg

    from shared.db import asyncpg_dsn

    check_year(year, data)
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        async with conn.transaction():
            await conn.execute(
                "DELETE FROM calendar_days WHERE day BETWEEN make_date($1, 1, 1) AND make_date($1, 12, 31)",
                year,
            )
            rows = [(d, False, data.note, actor) for d in data.holidays]
            rows += [(d, True, data.note, actor) for d in data.workdays]
            await conn.executemany(
                "INSERT INTO calendar_days (day, is_workday, note, loaded_by) VALUES ($1, $2, $3, $4)", rows
            )
            await conn.execute(
                "INSERT INTO calendar_years (year, loaded_by) VALUES ($1, $2) ON CONFLICT (year) DO UPDATE"
                " SET loaded_by = EXCLUDED.loaded_by, loaded_at = now()",
                year,
                actor,
            )
    finally:
        await conn.close()
    return {
        "year": year,
        "holidays": len(data.holidays),
        "workdays": len(data.workdays),
        "library_knows": workdays.library_knows(year),
    }


async def show_year(url: str, year: int) -> dict[str, Any]:
    """The year as the calendar page shows it, read directly (for ``spotcheck calendar YEAR``)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from shared.db import async_url

    engine = create_async_engine(async_url(url))
    try:
        async with AsyncSession(engine) as session:
            return await year_view(session, year)
    finally:
        await engine.dispose()


async def year_view(session: AsyncSession, year: int) -> dict[str, Any]:
    if not 2000 <= year <= 2100:
        raise InvalidInput("年份应在 2000–2100 之间", field="year")
    loaded = (
        await session.execute(
            text("SELECT loaded_by, loaded_at FROM calendar_years WHERE year = :y"), {"y": year}
        )
    ).first()
    rows = await session.execute(
        text("SELECT day, is_workday FROM calendar_days WHERE extract(year FROM day) = :y ORDER BY day"),
        {"y": year},
    )
    days = list(rows)
    return {
        "year": year,
        "loaded": loaded is not None,
        "library_knows": workdays.library_knows(year),
        "loaded_by": loaded.loaded_by if loaded else None,
        "loaded_at": loaded.loaded_at if loaded else None,
        "holidays": [r.day for r in days if not r.is_workday],
        "workdays": [r.day for r in days if r.is_workday],
    }
