"""The public register of results: written at publication (tenant transaction), read with no scope at all
(``reader.PublicReader``)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.disclosure.reader import PublicReader
from services.disclosure.search import GramStats

LIST_COLUMNS = (
    "id, task_id, draw_id, department_name, plan_number, task_number, task_name, uscc, enterprise_name,"
    " check_date, categories, hazard_count, follow_up, published_at"
)
# ``departments``: for a joint check (部门联合抽查), every department with its items and findings; [] otherwise.
RECORD_COLUMNS = LIST_COLUMNS + ", department_code, region_code, plan_name, address, items, departments"


async def insert_public_result(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(
        text(
            "INSERT INTO public_results (id, task_id, draw_id, department_code, department_name, region_code,"
            " plan_number, plan_name, task_number, task_name, uscc, enterprise_name, name_key, name_grams, address, items,"
            " check_date, categories, hazard_count, follow_up, published_at, departments) VALUES (:id, :task_id, :draw_id,"
            " :department_code, :department_name, :region_code, :plan_number, :plan_name, :task_number, :task_name,"
            " :uscc, :enterprise_name, :name_key, :name_grams, :address, :items, :check_date, :categories, :hazard_count,"
            " :follow_up, :published_at, CAST(:departments AS jsonb))"
        ),
        {"departments": "[]", **values},
    )
    # Once this transaction commits, this process forgets its cached public answers (other processes within
    # ``public_search.CACHE_SECONDS``).
    if not session.info.get(_CLEAR_ON_COMMIT):
        session.info[_CLEAR_ON_COMMIT] = True
        event.listen(session.sync_session, "after_commit", _published, once=True)


_CLEAR_ON_COMMIT = "disclosure.clear_public_cache"


def _published(sync_session: Any) -> None:
    from services.disclosure import public_search  # public_search reads through this module

    sync_session.info.pop(_CLEAR_ON_COMMIT, None)
    public_search.clear_cache()


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


async def get_record(reader: PublicReader, result_id: uuid.UUID) -> dict[str, Any] | None:
    row = await reader.fetchrow(f"SELECT {RECORD_COLUMNS} FROM public_results WHERE id = $1", result_id)
    return dict(row) if row else None


async def task_results(reader: PublicReader, task_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await reader.fetch(
        f"SELECT {LIST_COLUMNS} FROM public_results WHERE task_id = $1 ORDER BY enterprise_name", task_id
    )
    return [dict(r) for r in rows]


async def recent(reader: PublicReader, limit: int = 20) -> list[dict[str, Any]]:
    rows = await reader.fetch(
        f"SELECT {SEARCH_COLUMNS} FROM public_results ORDER BY published_at DESC LIMIT $1", limit
    )
    return [dict(r) for r in rows]


# ---- the department's side (its own session) --------------------------------------------------------------------


async def department_export(session: AsyncSession, department_code: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            f"SELECT {RECORD_COLUMNS} FROM public_results WHERE department_code = :d"
            " ORDER BY published_at, task_number, uscc"
        ),
        {"d": department_code},
    )
    return [dict(r._mapping) for r in rows]
