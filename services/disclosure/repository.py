"""The public register of results: written at publication (tenant transaction), read with no scope at all
(``reader.PublicReader``); the official holiday calendar (read by every department, loaded by the operator)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, TypeVar

import asyncpg
import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.disclosure.reader import PublicReader
from services.disclosure.schemas import ListRow, PublicRecord, RecordRow, SearchRow
from services.disclosure.search import GramStats

T = TypeVar("T", bound=msgspec.Struct)


def _as(row: Any, struct: type[T]) -> T:
    """A row (asyncpg Record or SQLAlchemy Row) converted once, here, into the struct of its columns."""
    return msgspec.convert(dict(row._mapping) if hasattr(row, "_mapping") else dict(row), struct)


LIST_COLUMNS = (
    "id, task_id, draw_id, department_name, plan_number, task_number, task_name, uscc, enterprise_name,"
    " check_date, categories, hazard_count, follow_up, published_at"
)
# ``departments``: for a joint check (部门联合抽查), every department with its items and findings; [] otherwise.
RECORD_COLUMNS = (
    LIST_COLUMNS + ", department_code, region_code, plan_name, address, items, departments, back_entry"
)


async def insert_public_result(
    session: AsyncSession, record: PublicRecord, name_key: str, name_grams: list[str]
) -> None:
    values = msgspec.structs.asdict(record)
    values["name_key"] = name_key
    values["name_grams"] = name_grams
    values["departments"] = msgspec.json.encode(record.departments).decode()
    await session.execute(
        text(
            "INSERT INTO public_results (id, task_id, draw_id, department_code, department_name, region_code,"
            " plan_number, plan_name, task_number, task_name, uscc, enterprise_name, name_key, name_grams, address, items,"
            " check_date, categories, hazard_count, follow_up, published_at, departments, back_entry) VALUES (:id, :task_id,"
            " :draw_id,"
            " :department_code, :department_name, :region_code, :plan_number, :plan_name, :task_number, :task_name,"
            " :uscc, :enterprise_name, :name_key, :name_grams, :address, :items, :check_date, :categories, :hazard_count,"
            " :follow_up, :published_at, CAST(:departments AS jsonb), :back_entry)"
        ),
        values,
    )


# ---- the public read path (asyncpg through ``reader.PublicReader``: no tenant scope, read-only connections) ----

# What a search answer carries: enough for the result list; the record page has the rest.
SEARCH_COLUMNS = (
    "id, task_id, department_name, task_name, uscc, enterprise_name, check_date, categories, published_at"
)


def _as_json(page_sql: str) -> str:
    """A page of results as one JSON array built by PostgreSQL, with its length: the app passes the array through
    instead of decoding every row into Python objects and encoding them again."""
    return (
        "SELECT count(*) AS n, coalesce(json_agg(page ORDER BY page.published_at DESC), '[]')::text AS results"
        f" FROM ({page_sql}) page"
    )


# USCC: one probe of the btree (uscc, published_at DESC), already in the order wanted.
USCC_SQL = _as_json(
    f"SELECT {SEARCH_COLUMNS} FROM public_results WHERE uscc = $1 ORDER BY published_at DESC LIMIT $2"
)
# Few matches: every candidate from the GIN index (OFFSET 0 keeps the planner from trading it for a walk of the
# publication-time index, see ``search``), the exact substring checked, the newest page kept.
NAME_BY_GRAMS_SQL = _as_json(
    f"SELECT {SEARCH_COLUMNS} FROM (SELECT {SEARCH_COLUMNS} FROM public_results"
    " WHERE name_grams @> $1::text[] AND name_key LIKE $2 OFFSET 0) m ORDER BY published_at DESC LIMIT $3"
)
# Many matches: the newest rows in publication order, at most $2 of them, until a page of matches is found.
NAME_BY_RECENCY_SQL = _as_json(
    f"SELECT {SEARCH_COLUMNS} FROM (SELECT {SEARCH_COLUMNS}, name_key FROM public_results"
    " ORDER BY published_at DESC LIMIT $2) newest WHERE name_key LIKE $1 ORDER BY published_at DESC LIMIT $3"
)
GRAM_STATS_SQL = (
    "SELECT c.reltuples, s.most_common_elems::text::text[] AS elems, s.most_common_elem_freqs AS freqs"
    " FROM pg_class c LEFT JOIN pg_stats s ON s.schemaname = current_schema() AND s.tablename = 'public_results'"
    " AND s.attname = 'name_grams' WHERE c.oid = 'public_results'::regclass"
)


async def _page(reader: PublicReader, sql: str, *args: Any) -> tuple[int, str]:
    row = await reader.fetchrow(sql, *args)
    assert row is not None  # an aggregate always answers one row
    return int(row["n"]), str(row["results"])


async def search_by_uscc(reader: PublicReader, uscc: str, limit: int) -> tuple[int, str]:
    """(number of results, their JSON array), newest first; likewise the two name searches."""
    return await _page(reader, USCC_SQL, uscc, limit)


async def search_by_grams(
    reader: PublicReader, grams: list[str], pattern: str, limit: int
) -> tuple[int, str]:
    return await _page(reader, NAME_BY_GRAMS_SQL, grams, pattern, limit)


async def search_by_recency(reader: PublicReader, pattern: str, window: int, limit: int) -> tuple[int, str]:
    return await _page(reader, NAME_BY_RECENCY_SQL, pattern, window, limit)


async def gram_stats(reader: PublicReader) -> GramStats:
    row = await reader.fetchrow(GRAM_STATS_SQL)
    if row is None or not row["elems"]:
        return GramStats(rows=max(float(row["reltuples"]), 0.0) if row else 0.0)
    # most_common_elem_freqs ends with the minimum, the maximum and the null fraction after one entry per element.
    freqs = dict(zip(row["elems"], row["freqs"], strict=False))
    return GramStats(rows=max(float(row["reltuples"]), 0.0), freqs=freqs, floor=min(freqs.values()))


async def get_record(reader: PublicReader, result_id: uuid.UUID) -> RecordRow | None:
    row = await reader.fetchrow(f"SELECT {RECORD_COLUMNS} FROM public_results WHERE id = $1", result_id)
    return _as(row, RecordRow) if row else None


async def task_results(reader: PublicReader, task_id: uuid.UUID) -> list[ListRow]:
    rows = await reader.fetch(
        f"SELECT {LIST_COLUMNS} FROM public_results WHERE task_id = $1 ORDER BY enterprise_name", task_id
    )
    return [_as(r, ListRow) for r in rows]


async def recent(reader: PublicReader, limit: int = 20) -> list[SearchRow]:
    rows = await reader.fetch(
        f"SELECT {SEARCH_COLUMNS} FROM public_results ORDER BY published_at DESC LIMIT $1", limit
    )
    return [_as(r, SearchRow) for r in rows]


# ---- the department's side (its own session) --------------------------------------------------------------------


async def department_export(session: AsyncSession, department_code: str) -> list[RecordRow]:
    rows = await session.execute(
        text(
            f"SELECT {RECORD_COLUMNS} FROM public_results WHERE department_code = :d"
            " ORDER BY published_at, task_number, uscc"
        ),
        {"d": department_code},
    )
    return [_as(r, RecordRow) for r in rows]


# ---- the county's published records for the enterprise's side (no scope: public_results is public) -------------


async def enterprise_records(session: AsyncSession, region_code: str, uscc: str) -> list[RecordRow]:
    rows = await session.execute(
        text(
            f"SELECT {RECORD_COLUMNS} FROM public_results WHERE uscc = :u AND region_code = :r"
            " ORDER BY check_date DESC, published_at DESC"
        ),
        {"u": uscc, "r": region_code},
    )
    return [_as(r, RecordRow) for r in rows]


async def county_year_records(session: AsyncSession, region_code: str, year: int) -> list[RecordRow]:
    rows = await session.execute(
        text(
            f"SELECT {RECORD_COLUMNS} FROM public_results WHERE region_code = :r"
            " AND check_date >= make_date(:y, 1, 1) AND check_date < make_date(:y + 1, 1, 1)"
            " ORDER BY published_at, id"
        ),
        {"r": region_code, "y": year},
    )
    return [_as(r, RecordRow) for r in rows]


# ---- the official holiday calendar (migration 0056: the runtime role reads it, the owner role loads it) ----------


async def calendar(session: AsyncSession) -> tuple[dict[dt.date, bool], set[int]]:
    """The loaded days (working day or not) and the years loaded in full."""
    days = {
        r.day: r.is_workday for r in await session.execute(text("SELECT day, is_workday FROM calendar_days"))
    }
    years = {r[0] for r in await session.execute(text("SELECT year FROM calendar_years"))}
    return days, years


async def calendar_year(
    session: AsyncSession, year: int
) -> tuple[tuple[str, dt.datetime] | None, list[tuple[dt.date, bool]]]:
    """Who loaded ``year`` and when (None when it is not loaded), and its days in order (day, is working day)."""
    loaded = (
        await session.execute(
            text("SELECT loaded_by, loaded_at FROM calendar_years WHERE year = :y"), {"y": year}
        )
    ).first()
    rows = await session.execute(
        text("SELECT day, is_workday FROM calendar_days WHERE extract(year FROM day) = :y ORDER BY day"),
        {"y": year},
    )
    days = [(r.day, r.is_workday) for r in rows]
    return ((loaded.loaded_by, loaded.loaded_at) if loaded else None), days


async def replace_calendar_year(
    conn: asyncpg.Connection, year: int, days: list[tuple[dt.date, bool, str, str]], actor: str
) -> None:
    """One year's days (day, is working day, note, loaded by) instead of those loaded before; on the owner's
    connection, in the caller's transaction."""
    await conn.execute(
        "DELETE FROM calendar_days WHERE day BETWEEN make_date($1, 1, 1) AND make_date($1, 12, 31)", year
    )
    await conn.executemany(
        "INSERT INTO calendar_days (day, is_workday, note, loaded_by) VALUES ($1, $2, $3, $4)", days
    )
    await conn.execute(
        "INSERT INTO calendar_years (year, loaded_by) VALUES ($1, $2) ON CONFLICT (year) DO UPDATE"
        " SET loaded_by = EXCLUDED.loaded_by, loaded_at = now()",
        year,
        actor,
    )
