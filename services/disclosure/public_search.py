"""Public search: the query rules, the choice of index (``search``), and a small per-process cache of answers.

An answer is the JSON document of ``GET /api/public/results``, built from the page that PostgreSQL returns as a
JSON array (``repository._as_json``); the HTML page decodes the same array into rows.

The public register is public and changes only when a result is published, so an answer may be reused for a short
while: each API process keeps the answers of recent queries for ``CACHE_SECONDS`` (browsers and proxies may keep
them for ``max-age=60``), at most ``CACHE_ENTRIES`` of them, least recently used out first. A publication clears the
cache of the process that made it as soon as it commits (``service.publish``); the other processes
show it within ``CACHE_SECONDS``, browsers and proxies within their minute more.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass

import msgspec

from services.disclosure import repository as repo
from services.disclosure import search
from services.disclosure.reader import PublicReader
from services.disclosure.schemas import SearchRow
from services.disclosure.search import GramStats
from shared.errors import InvalidInput

PAGE = 20
MAX_QUERY = 60
CACHE_SECONDS = 30.0
CACHE_ENTRIES = 4096
STATS_SECONDS = 300.0  # how long the gram statistics are used before they are read again


Row = SearchRow  # one search result, as the HTML page shows it (``repository.SEARCH_COLUMNS``)
_rows_decoder = msgspec.json.Decoder(list[Row])


@dataclass
class Answer:
    count: int
    results: str  # the JSON array of the page
    body: bytes  # {"q": ..., "results": [...]}
    etag: str
    expires: float

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


async def find(reader: PublicReader, q: str) -> Answer | None:
    """The answer to ``q`` (None for an empty query), from this process's cache while it is fresh."""
    key = cache_key(q)
    if key is None:
        return None
    now = time.monotonic()
    cached = _answers.get(key)
    if cached is not None and cached.expires > now:
        _answers.move_to_end(key)
        return cached
    count, results = await page(reader, key)
    body = b"".join((b'{"q":', msgspec.json.encode(key[2:]), b',"results":', results.encode(), b"}"))
    answer = Answer(
        count,
        results,
        body,
        '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"',
        now + CACHE_SECONDS,
    )
    _answers[key] = answer
    while len(_answers) > CACHE_ENTRIES:
        _answers.popitem(last=False)
    return answer


def clear_cache() -> None:
    _answers.clear()
