"""The public site's browsing reads (``reader.PublicReader``: read-only connections, no tenant scope): search with
filters, the departments that have published, statistics of a year, an enterprise's checks, a task's public draw.

What was drawn comes from planning's public draw register through the functions planning publishes for it
(``public_drawn_checks``, ``public_drawn_counts``, ``public_draw_of_task``, migration 0059): only what the draw pages
already show. The statements are built from fixed fragments (never from request text), one per combination of
filters, so that each is prepared once per connection and keeps its own plan.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec

from services.disclosure.reader import PublicReader
from services.disclosure.repository import LIST_COLUMNS, SEARCH_COLUMNS, T
from services.disclosure.schemas import (
    DepartmentOption,
    DrawnCheck,
    ListRow,
    PublishedDay,
    TaskDraw,
)


def _as(row: Any, struct: type[T]) -> T:
    return msgspec.convert(dict(row), struct)


def filtered_sql(by: str, department: bool, year: bool, category: bool) -> str:
    """A page of results newest first, with ``$1`` = limit, ``$2`` = offset and then, in this order, the values of
    the filters that are set: the query (``by``: ``uscc``, ``name`` — grams and pattern — or empty), the department
    code, the year's bounds, the category. The page is one JSON array with the number of rows (limit + 1 asked, so
    that the caller knows whether there is a next page)."""
    where: list[str] = []
    n = 2

    def arg() -> str:
        nonlocal n
        n += 1
        return f"${n}"

    if by == "uscc":
        where.append(f"uscc = {arg()}")
    elif by == "name":
        where.append(f"name_grams @> {arg()}::text[]")
        where.append(f"name_key LIKE {arg()}")
    if department:
        where.append(f"department_code = {arg()}")
    if year:
        where.append(f"published_at >= {arg()}::timestamptz")
        where.append(f"published_at < {arg()}::timestamptz")
    if category:
        where.append(f"categories @> ARRAY[{arg()}::text]")
    condition = " AND ".join(where) or "true"
    return (
        "SELECT count(*) AS n, coalesce(json_agg(page ORDER BY page.published_at DESC), '[]')::text AS results"
        f" FROM (SELECT {SEARCH_COLUMNS} FROM public_results WHERE {condition}"
        " ORDER BY published_at DESC LIMIT $1 OFFSET $2) page"
    )


async def filtered(reader: PublicReader, sql: str, args: list[Any]) -> tuple[int, str]:
    row = await reader.fetchrow(sql, *args)
    assert row is not None  # an aggregate always answers one row
    return int(row["n"]), str(row["results"])


# The departments that have published anything: a loose scan of ix_public_results_dept (one probe per department,
# however many records), each with the name of its newest record.
DEPARTMENTS_SQL = """
WITH RECURSIVE d AS (
    SELECT min(department_code) AS code FROM public_results
    UNION ALL
    SELECT (SELECT min(department_code) FROM public_results WHERE department_code > d.code) FROM d
    WHERE d.code IS NOT NULL
)
SELECT d.code, (SELECT department_name FROM public_results p WHERE p.department_code = d.code
                ORDER BY p.published_at DESC LIMIT 1) AS name
FROM d WHERE d.code IS NOT NULL
"""


async def departments(reader: PublicReader) -> list[DepartmentOption]:
    return [_as(r, DepartmentOption) for r in await reader.fetch(DEPARTMENTS_SQL)]


# Statistics of a year, by department: records counted by (check day, publication day in China) so that the caller
# can compare each with the deadline of its check day (20 working days, from the official calendar).
PUBLISHED_DAYS_SQL = """
SELECT department_code AS code, max(department_name) AS name, check_date,
       (published_at AT TIME ZONE 'Asia/Shanghai')::date AS published_on, back_entry, count(*)::int AS n
FROM public_results
WHERE (published_at >= $1 AND published_at < $2) OR (check_date >= $3 AND check_date < $4)
GROUP BY department_code, check_date, published_on, back_entry
"""


async def published_days(reader: PublicReader, year: int) -> list[PublishedDay]:
    china = dt.timezone(dt.timedelta(hours=8))
    y0, y1 = dt.datetime(year, 1, 1, tzinfo=china), dt.datetime(year + 1, 1, 1, tzinfo=china)
    rows = await reader.fetch(PUBLISHED_DAYS_SQL, y0, y1, y0.date(), y1.date())
    return [_as(r, PublishedDay) for r in rows]


async def drawn_counts(reader: PublicReader, year: int) -> dict[str, tuple[str, int, int]]:
    """Per department code: (name, draws, enterprises drawn) of the draws drawn in ``year``."""
    china = dt.timezone(dt.timedelta(hours=8))
    rows = await reader.fetch(
        "SELECT department_code, department_name, draws, drawn FROM public_drawn_counts($1, $2)",
        dt.datetime(year, 1, 1, tzinfo=china),
        dt.datetime(year + 1, 1, 1, tzinfo=china),
    )
    return {r["department_code"]: (r["department_name"], r["draws"], r["drawn"]) for r in rows}


async def calendar(reader: PublicReader) -> tuple[dict[dt.date, bool], set[int]]:
    """The official calendar as loaded (as ``repository.calendar``, on the public path)."""
    days = {
        r["day"]: r["is_workday"] for r in await reader.fetch("SELECT day, is_workday FROM calendar_days")
    }
    years = {r["year"] for r in await reader.fetch("SELECT year FROM calendar_years")}
    return days, years


async def enterprise_records(reader: PublicReader, uscc: str, limit: int = 200) -> list[ListRow]:
    rows = await reader.fetch(
        f"SELECT {LIST_COLUMNS} FROM public_results WHERE uscc = $1 ORDER BY published_at DESC LIMIT $2",
        uscc,
        limit,
    )
    return [_as(r, ListRow) for r in rows]


async def drawn_checks(reader: PublicReader, uscc: str) -> list[DrawnCheck]:
    rows = await reader.fetch(
        "SELECT draw_id, task_id, department_name, plan_number, plan_name, task_number, task_name, drawn_at,"
        " departments, enterprise_name FROM public_drawn_checks($1)",
        uscc,
    )
    return [_as(r, DrawnCheck) for r in rows]


async def task_draw(reader: PublicReader, task_id: uuid.UUID) -> TaskDraw | None:
    row = await reader.fetchrow(
        "SELECT draw_id, task_id, department_name, plan_number, plan_name, task_number, task_name, status,"
        " drawn_at, selected_count FROM public_draw_of_task($1)",
        task_id,
    )
    return _as(row, TaskDraw) if row else None
