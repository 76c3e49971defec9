"""Statistics of the public site, per department and year, from what is public only: the draw register (what was
drawn) and the published records (what was checked, published, and whether on time).

* 抽取 (``drawn``): enterprises drawn by the department's draws drawn in the year (voided draws aside);
* 检查 (``checked``): published records whose check was in the year — a check is counted once its result is public;
* 公示 (``published``): records published in the year;
* 按时公示 (``on_time`` of ``on_time_of``): records published in the year within 20 working days of the check day,
  by the official calendar (as the departments' deadlines); back-entered records (补录) are not judged, because their
  deadline runs from their entry, which is not public.

A year's statistics read every record of the year once (grouped by check day and publication day), so each API
process keeps them for ``CACHE_SECONDS``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

from services.disclosure import repository_public as browse
from services.disclosure.reader import PublicReader
from services.disclosure.schemas import DepartmentStats, PublicStatistics
from shared import workdays

CACHE_SECONDS = 120.0
_cache: dict[int, tuple[float, PublicStatistics]] = {}
_lock = asyncio.Lock()


class _Tally:
    def __init__(self, code: str, name: str) -> None:
        self.code, self.name = code, name
        self.draws = self.drawn = self.checked = self.published = self.on_time = self.on_time_of = 0
        self.back_entry = 0

    def done(self) -> DepartmentStats:
        return DepartmentStats(
            code=self.code,
            name=self.name,
            draws=self.draws,
            drawn=self.drawn,
            checked=self.checked,
            published=self.published,
            on_time=self.on_time,
            on_time_of=self.on_time_of,
            back_entry=self.back_entry,
        )


async def compute(reader: PublicReader, year: int) -> PublicStatistics:
    days = await browse.published_days(reader, year)
    drawn = await browse.drawn_counts(reader, year)
    overrides, loaded = await browse.calendar(reader)
    tallies: dict[str, _Tally] = {}
    due: dict[dt.date, dt.date] = {}
    for code, (name, draws, count) in drawn.items():
        tally = tallies.setdefault(code, _Tally(code, name))
        tally.draws, tally.drawn = draws, count
    for row in days:
        tally = tallies.setdefault(row.code, _Tally(row.code, row.name))
        if row.check_date.year == year:
            tally.checked += row.n
        if row.published_on.year != year:
            continue
        tally.published += row.n
        if row.back_entry:
            tally.back_entry += row.n
            continue
        if row.check_date not in due:
            due[row.check_date] = workdays.disclosure_deadline(row.check_date, overrides, loaded).due
        tally.on_time_of += row.n
        if row.published_on <= due[row.check_date]:
            tally.on_time += row.n
    departments = [t.done() for t in sorted(tallies.values(), key=lambda t: t.code)]
    total = _Tally("", "全县合计")
    for d in departments:
        for field in ("draws", "drawn", "checked", "published", "on_time", "on_time_of", "back_entry"):
            setattr(total, field, getattr(total, field) + getattr(d, field))
    return PublicStatistics(year=year, departments=departments, total=total.done())


async def statistics(reader: PublicReader, year: int) -> PublicStatistics:
    """The year's statistics, from this process's cache while fresh."""
    cached = _cache.get(year)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    async with _lock:
        cached = _cache.get(year)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        answer = await compute(reader, year)
        _cache[year] = (time.monotonic() + CACHE_SECONDS, answer)
        return answer


def clear_cache() -> None:
    _cache.clear()


def percent(part: int, whole: int) -> str:
    """One way to show a share: ``95%``, ``4.8%`` (one decimal at most, rounded half up), ``—`` when nothing to
    judge."""
    if whole <= 0:
        return "—"
    tenths = (part * 2000 + whole) // (2 * whole)
    return f"{tenths // 10}%" if tenths % 10 == 0 else f"{tenths // 10}.{tenths % 10}%"
