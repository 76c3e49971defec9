"""Disclosure deadlines from the database's loaded calendar plus ``shared.workdays``; loading an official year."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from services.disclosure import repository as repo
from services.disclosure.schemas import CalendarView
from shared import workdays
from shared.errors import InvalidInput


class CalendarYear(msgspec.Struct, forbid_unknown_fields=True):
    """The State Council's schedule of one year: the holidays (放假日) and the make-up working days (调休上班日)."""

    holidays: list[dt.date]
    workdays: list[dt.date] = msgspec.field(default_factory=list)
    note: str = ""


class LoadedYear(TypedDict):
    """What ``spotcheck calendar`` reports after loading a year."""

    year: int
    holidays: int
    workdays: int
    library_knows: bool


async def calendar(session: AsyncSession) -> tuple[dict[dt.date, bool], set[int]]:
    return await repo.calendar(session)


async def deadline(
    session: AsyncSession, check_end: dt.date, entered_on: dt.date | None = None
) -> workdays.Deadline:
    """20 working days from the end of the check. A record of a back-entered plan (补录) gives ``entered_on``, the
    day it was first entered: its 20 working days count from then, because a deadline that passed before anyone
    could enter the record would only make it overdue from its first save."""
    overrides, years = await calendar(session)
    start = max(check_end, entered_on) if entered_on is not None else check_end
    return workdays.disclosure_deadline(start, overrides, years)


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


async def load_year(admin_url: str, year: int, data: CalendarYear, actor: str) -> LoadedYear:
    """Operator command (``spotcheck calendar``): replace one year of the platform's official calendar.

    Runs as the owner role: the runtime role may only read the calendar (migration 0056), because one department's
    change would move every department's deadlines."""
    import asyncpg

    from shared.db import asyncpg_dsn

    check_year(year, data)
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        async with conn.transaction():
            rows = [(d, False, data.note, actor) for d in data.holidays]
            rows += [(d, True, data.note, actor) for d in data.workdays]
            await repo.replace_calendar_year(conn, year, rows, actor)
    finally:
        await conn.close()
    return LoadedYear(
        year=year,
        holidays=len(data.holidays),
        workdays=len(data.workdays),
        library_knows=workdays.library_knows(year),
    )


async def show_year(url: str, year: int) -> dict[str, Any]:  # the CLI prints it with json.dumps(default=str)
    """The year as the calendar page shows it, read directly (for ``spotcheck calendar YEAR``)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from shared.db import async_url

    engine = create_async_engine(async_url(url))
    try:
        async with AsyncSession(engine) as session:
            return msgspec.structs.asdict(await year_view(session, year))
    finally:
        await engine.dispose()


async def year_view(session: AsyncSession, year: int) -> CalendarView:
    if not 2000 <= year <= 2100:
        raise InvalidInput("年份应在 2000–2100 之间", field="year")
    loaded, days = await repo.calendar_year(session, year)
    return CalendarView(
        year=year,
        loaded=loaded is not None,
        library_knows=workdays.library_knows(year),
        loaded_by=loaded[0] if loaded else None,
        loaded_at=loaded[1] if loaded else None,
        holidays=[day for day, is_workday in days if not is_workday],
        workdays=[day for day, is_workday in days if is_workday],
    )
