"""Disclosure deadlines from the database's loaded calendar plus ``shared.workdays``; loading an official year."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared import audit, workdays
from shared.errors import Forbidden, InvalidInput


class CalendarYear(msgspec.Struct, forbid_unknown_fields=True):
    """The State Council's schedule of one year: the holidays (放假日) and the make-up working days (调休上班日)."""

    holidays: list[dt.date]
    workdays: list[dt.date] = msgspec.field(default_factory=list)
    note: str = ""


async def calendar(session: AsyncSession) -> tuple[dict[dt.date, bool], set[int]]:
    days = {r.day: r.is_workday for r in await session.execute(text("SELECT day, is_workday FROM calendar_days"))}
    years = {r[0] for r in await session.execute(text("SELECT year FROM calendar_years"))}
    return days, years


async def deadline(session: AsyncSession, check_end: dt.date) -> workdays.Deadline:
    overrides, years = await calendar(session)
    return workdays.disclosure_deadline(check_end, overrides, years)


async def load_year(session: AsyncSession, principal: Any, tenant_id: Any, year: int, data: CalendarYear) -> dict[str, Any]:
    if not principal.has_any_role("dept-admin"):
        raise Forbidden("只有部门管理员可以导入法定节假日安排")
    if not 2000 <= year <= 2100:
        raise InvalidInput("年份应在 2000–2100 之间", field="year")
    for field, days in (("holidays", data.holidays), ("workdays", data.workdays)):
        for index, day in enumerate(days):
            if day.year != year:
                raise InvalidInput(f"{day.isoformat()} 不属于 {year} 年", field=f"{field}[{index}]")
    clash = set(data.holidays) & set(data.workdays)
    if clash:
        raise InvalidInput(f"{min(clash).isoformat()} 不能同时是放假日和上班日", field="workdays")
    actor = principal.name
    await session.execute(text("DELETE FROM calendar_days WHERE extract(year FROM day) = :y"), {"y": year})
    rows = [{"d": d, "w": False, "n": data.note, "a": actor} for d in data.holidays]
    rows += [{"d": d, "w": True, "n": data.note, "a": actor} for d in data.workdays]
    if rows:
        await session.execute(
            text("INSERT INTO calendar_days (day, is_workday, note, loaded_by) VALUES (:d, :w, :n, :a)"), rows)
    await session.execute(
        text("INSERT INTO calendar_years (year, loaded_by) VALUES (:y, :a) ON CONFLICT (year) DO UPDATE"
             " SET loaded_by = EXCLUDED.loaded_by, loaded_at = now()"), {"y": year, "a": actor})
    await audit.record(session, tenant_id, audit.Actor(id=str(principal.user_id), name=actor), "calendar.load",
                       "calendar", str(year), {"holidays": len(data.holidays), "workdays": len(data.workdays)})
    return {"year": year, "holidays": len(data.holidays), "workdays": len(data.workdays),
            "library_knows": workdays.library_knows(year)}


async def year_view(session: AsyncSession, year: int) -> dict[str, Any]:
    if not 2000 <= year <= 2100:
        raise InvalidInput("年份应在 2000–2100 之间", field="year")
    rows = await session.execute(
        text("SELECT day, is_workday FROM calendar_days WHERE extract(year FROM day) = :y ORDER BY day"), {"y": year})
    loaded = (await session.execute(text("SELECT 1 FROM calendar_years WHERE year = :y"), {"y": year})).first()
    days = list(rows)
    return {"year": year, "loaded": loaded is not None, "library_knows": workdays.library_knows(year),
            "holidays": [r.day for r in days if not r.is_workday], "workdays": [r.day for r in days if r.is_workday]}
