"""Public search: the query rules, the choice of index (``search``), and a small per-process cache of answers.

An answer is the JSON document of ``GET /api/public/results``, built from the page that PostgreSQL returns as a
JSON array (``repository._as_json``); the HTML page decodes the same array into rows.

Filters (department, year of publication, result category) and pages after the first are part of the cache key and
read the same register through ``repository_public.filtered_sql`` (an empty query with a filter lists the newest
records of that selection).

The public register is public and changes only when a result is published, so an answer may be reused for a short
while: each API process keeps the answers of recent queries for ``CACHE_SECONDS`` (browsers and proxies may keep
them for ``max-age=60``), at most ``CACHE_ENTRIES`` of them, least recently used out first. A publication clears the
cache of the process that made it as soon as it commits (``service.publish``); the other processes
show it within ``CACHE_SECONDS``, browsers and proxies within their minute more.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import time
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import msgspec

from services.disclosure import repository as repo
from services.disclosure import repository_public as browse
from services.disclosure import search
from services.disclosure.reader import PublicReader
from services.disclosure.schemas import RESULT_CATEGORIES, SearchRow
from services.disclosure.search import GramStats
from shared.errors import InvalidInput

PAGE = 20
MAX_PAGE = 50  # pages of a filtered list (1,000 records); a narrower filter finds the rest
MAX_QUERY = 60
CACHE_SECONDS = 30.0
CACHE_ENTRIES = 4096
STATS_SECONDS = 300.0  # how long the gram statistics are used before they are read again


Row = SearchRow  # one search result, as the HTML page shows it (``repository.SEARCH_COLUMNS``)
_rows_decoder = msgspec.json.Decoder(list[Row])


@dataclass(frozen=True)
class Filters:
    """What narrows a search besides the query: a department (its code), a year of publication, a result category,
    and the page (1 = the newest ``PAGE`` records)."""

    department: str | None = None
    year: int | None = None
    category: str | None = None
    page: int = 1

    @property
    def narrowing(self) -> bool:
        return bool(self.department or self.year or self.category or self.page > 1)

    def key(self) -> str:
        return f"|{self.department or ''}|{self.year or ''}|{self.category or ''}|{self.page}"


def filters(
    department: str | None, year: int | None, category: str | None, page: int | None = None
) -> Filters:
    """Checked filters; a category or page outside the allowed ones: 422 naming the field."""
    category = (category or "").strip() or None
    if category is not None and category not in RESULT_CATEGORIES:
        raise InvalidInput("检查结果类别不存在，请从列表中选择", field="category")
    if page is not None and not 1 <= page <= MAX_PAGE:
        raise InvalidInput(f"页码应在 1–{MAX_PAGE} 之间，请缩小筛选范围", field="page")
    department = (department or "").strip() or None
    if department is not None and (len(department) > 40 or not department.isprintable()):
        raise InvalidInput("部门不存在，请从列表中选择", field="department")
    return Filters(department, year, category, page or 1)


NO_FILTERS = Filters()


@dataclass
class Answer:
    count: int
    results: str  # the JSON array of the page
    body: bytes  # {"q": ..., "results": [...]}
    etag: str
    expires: float
    more: bool = False  # a next page exists (filtered lists)

    def rows(self) -> list[Row]:
        return _rows_decoder.decode(self.results)


_answers: OrderedDict[str, Answer] = OrderedDict()
_stats: GramStats | None = None
_stats_read_at = 0.0
_stats_lock = asyncio.Lock()


def cache_key(q: str) -> str | None:
    """``u:USCC`` or ``n:normalised name`` (equal keys, equal answers); None for an empty query; too long: 422."""
    query = q.strip()
    if len(query) > MAX_QUERY:
        raise InvalidInput("查询内容过长", field="q")
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in query):
        raise InvalidInput("查询内容含有无效字符", field="q")
    if search.is_uscc(query):
        return "u:" + query.upper()
    key = search.normalise(query)
    return "n:" + key if key else None


async def gram_stats(reader: PublicReader) -> GramStats:
    global _stats, _stats_read_at
    if _stats is not None and time.monotonic() - _stats_read_at < STATS_SECONDS:
        return _stats
    async with _stats_lock:
        if _stats is None or time.monotonic() - _stats_read_at >= STATS_SECONDS:
            _stats = await repo.gram_stats(reader)
            _stats_read_at = time.monotonic()
    return _stats


async def page(reader: PublicReader, key: str, stats: GramStats | None = None) -> tuple[int, str]:
    """The newest page of results for a ``cache_key``: (count, JSON array)."""
    kind, value = key[0], key[2:]
    if kind == "u":
        return await repo.search_by_uscc(reader, value, PAGE)
    grams, pattern = search.query_grams(value), search.like_pattern(value)
    plan = search.plan_name_query(stats or await gram_stats(reader), grams, PAGE)
    if plan.by_recency:
        found = await repo.search_by_recency(reader, pattern, plan.window, PAGE)
        if found[0] == PAGE:
            return found
        # Rarer than the statistics said (or only old records match): the GIN path finds every match.
    return await repo.search_by_grams(reader, grams, pattern, PAGE)


async def filtered_page(reader: PublicReader, key: str | None, narrow: Filters) -> tuple[int, str, bool]:
    """A page of a filtered list: (count, JSON array, whether a next page exists)."""
    by, args = "", list[Any]()
    if key is not None and key[0] == "u":
        by, args = "uscc", [key[2:]]
    elif key is not None:
        by, args = "name", [search.query_grams(key[2:]), search.like_pattern(key[2:])]
    if narrow.department:
        args.append(narrow.department)
    if narrow.year:
        china = dt.timezone(dt.timedelta(hours=8))
        args += [
            dt.datetime(narrow.year, 1, 1, tzinfo=china),
            dt.datetime(narrow.year + 1, 1, 1, tzinfo=china),
        ]
    if narrow.category:
        args.append(narrow.category)
    sql = browse.filtered_sql(by, bool(narrow.department), bool(narrow.year), bool(narrow.category))
    # One row more than a page, to know whether a next page exists; the extra one is not shown.
    count, results = await browse.filtered(reader, sql, [PAGE + 1, (narrow.page - 1) * PAGE, *args])
    if count <= PAGE:
        return count, results, False
    rows = msgspec.json.decode(results)[:PAGE]
    return PAGE, msgspec.json.encode(rows).decode(), True


async def find(reader: PublicReader, q: str, narrow: Filters = NO_FILTERS) -> Answer | None:
    """The answer to ``q`` within ``narrow`` (None for an empty query without filters), from this process's cache
    while it is fresh."""
    key = cache_key(q)
    if key is None and not narrow.narrowing:
        return None
    full_key = (key or "") + (narrow.key() if narrow.narrowing else "")
    now = time.monotonic()
    cached = _answers.get(full_key)
    if cached is not None and cached.expires > now:
        _answers.move_to_end(full_key)
        return cached
    more = False
    if narrow.narrowing:
        count, results, more = await filtered_page(reader, key, narrow)
    else:
        assert key is not None
        count, results = await page(reader, key)
    parts = [b'{"q":', msgspec.json.encode((key or "  ")[2:]), b',"results":', results.encode()]
    if narrow.narrowing:
        parts.append(b',"more":true' if more else b',"more":false')
    body = b"".join((*parts, b"}"))
    answer = Answer(
        count,
        results,
        body,
        '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"',
        now + CACHE_SECONDS,
        more,
    )
    _answers[full_key] = answer
    while len(_answers) > CACHE_ENTRIES:
        _answers.popitem(last=False)
    return answer


def clear_cache() -> None:
    _answers.clear()
