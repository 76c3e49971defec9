"""Working days by the official PRC calendar (法定节假日 and 调休 make-up workdays). Pure functions, no I/O.

Order of authority for a day:
1. ``overrides`` — the official schedule an administrator loaded for a year (``calendar_days``), so a newly
   announced year works before the ``chinesecalendar`` package is upgraded, and a correction wins over it;
2. ``chinese_calendar.is_workday`` for the years the library knows;
3. otherwise (a year nobody has announced yet) Monday–Friday, and the result says it is uncertain so that the
   caller can warn: the real deadline may move once the State Council publishes that year's schedule.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import chinese_calendar

DISCLOSURE_WORKDAYS = 20  # 抽查结果自检查结束之日起 20 个工作日内公示


@dataclass(frozen=True, slots=True)
class Deadline:
    due: dt.date
    unknown_years: tuple[
        int, ...
    ]  # years counted as Monday–Friday only, because nobody knows their holidays yet

    @property
    def uncertain(self) -> bool:
        return bool(self.unknown_years)


def library_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def day_kind(
    day: dt.date, overrides: Mapping[dt.date, bool] | None = None, loaded_years: Collection[int] = ()
) -> tuple[bool, bool]:
    """``(is_workday, known)`` for one day."""
    if overrides and day in overrides:
        return overrides[day], True
    if day.year in loaded_years:
        # A loaded year lists every holiday and make-up day; any other day follows the week.
        return day.weekday() < 5, True
    try:
        return bool(chinese_calendar.is_workday(day)), True
    except NotImplementedError:
        return day.weekday() < 5, False


def is_workday(
    day: dt.date, overrides: Mapping[dt.date, bool] | None = None, loaded_years: Collection[int] = ()
) -> bool:
    return day_kind(day, overrides, loaded_years)[0]


def add_workdays(
    start: dt.date,
    count: int,
    overrides: Mapping[dt.date, bool] | None = None,
    loaded_years: Collection[int] = (),
) -> Deadline:
    """The ``count``-th working day after ``start`` (``start`` itself is not counted: 自…之日起 N 个工作日内, the
    day of the event is day zero)."""
    if count < 0:
        raise ValueError("count must be >= 0")
    day = start
    unknown: set[int] = set()
    remaining = count
    while remaining > 0:
        day += dt.timedelta(days=1)
        workday, known = day_kind(day, overrides, loaded_years)
        if not known:
            unknown.add(day.year)
        if workday:
            remaining -= 1
    return Deadline(day, tuple(sorted(unknown)))


def workdays_between(
    start: dt.date,
    end: dt.date,
    overrides: Mapping[dt.date, bool] | None = None,
    loaded_years: Collection[int] = (),
) -> int:
    """Working days in ``(start, end]``; negative when ``end`` is before ``start``."""
    if end < start:
        return -workdays_between(end, start, overrides, loaded_years)
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if is_workday(day, overrides, loaded_years):
            count += 1
    return count


def month_end(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def disclosure_deadline(
    check_end: dt.date, overrides: Mapping[dt.date, bool] | None = None, loaded_years: Collection[int] = ()
) -> Deadline:
    return add_workdays(check_end, DISCLOSURE_WORKDAYS, overrides, loaded_years)
