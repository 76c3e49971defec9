"""The public site's search limit, its caching headers, and the limiter's counting across processes."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from services.disclosure import search
from services.disclosure.reader import PublicReader
from services.disclosure.throttle import Limiter, sync_every
from shared.db import asyncpg_dsn
from shared.errors import is_unavailable
from shared.runtime import Runtime
from shared.settings import Settings
from tests.support.services import RedisHandle
from tests.support.stack import AppServer


def _client(app: AppServer, source: str) -> httpx.Client:
    # Loopback addresses other than 127.0.0.1 give each test client its own bucket on the shared app server.
    return httpx.Client(base_url=app.url, transport=httpx.HTTPTransport(local_address=source), timeout=20)


def _wait_for_fresh_window(needed_seconds: float = 15) -> None:
    """The limit counts per clock minute; start a burst early in a minute so that it cannot straddle two."""
    if 60 - time.time() % 60 < needed_seconds:
        time.sleep(60 - time.time() % 60 + 0.2)


@pytest.fixture
def clients(app_server: AppServer) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    with _client(app_server, "127.0.0.21") as noisy, _client(app_server, "127.0.0.22") as other:
        yield noisy, other


def test_search_limit_per_client_address(
    clients: tuple[httpx.Client, httpx.Client], settings: Settings
) -> None:
    limit = settings.app.public_search_per_minute
    assert limit == 120  # the default, as the test app server runs it
    noisy, other = clients
    _wait_for_fresh_window()
    for i in range(limit):
        # Different queries, so that nothing is answered from a cache before the limit is counted.
        answer = noisy.get("/api/public/results", params={"q": f"测试企业{i}"})
        assert answer.status_code == 200, (i, answer.text)
    over = noisy.get("/api/public/results", params={"q": "测试企业"})
    assert over.status_code == 429
    assert over.json()["error"] == {
        "code": "rate_limited",
        "message": "查询过于频繁，请一分钟后再试",
        "field": "q",
    }
    # The browser's search page says it in Chinese too.
    page = noisy.get("/public", params={"q": "测试企业"}, headers={"Accept": "text/html"})
    assert page.status_code == 429 and "查询过于频繁" in page.text
    # Claiming another address does not buy a fresh bucket: this peer is not a trusted proxy.
    spoofed = noisy.get(
        "/api/public/results",
        params={"q": "测试企业"},
        headers={"X-Forwarded-For": f"10.{uuid.uuid4().int % 250}.1.1"},
    )
    assert spoofed.status_code == 429
    # Browsing without searching is not limited.
    assert noisy.get("/public").status_code == 200
    # Somebody else is not affected.
    assert other.get("/api/public/results", params={"q": "测试企业"}).status_code == 200
    assert other.get("/public", params={"q": "测试企业"}).status_code == 200


def test_public_answers_are_cacheable(http: httpx.Client) -> None:
    answer = http.get("/api/public/results", params={"q": "应急"})
    assert answer.status_code == 200
    assert "public" in answer.headers["cache-control"] and "max-age" in answer.headers["cache-control"]
    # No login session and no CSRF cookie on the public site: nothing private, nothing that forbids caching.
    assert "set-cookie" not in answer.headers
    page = http.get("/public", params={"q": "应急"})
    assert page.status_code == 200 and "set-cookie" not in page.headers
    # A revalidation with the ETag is answered 304 without a body.
    etag = answer.headers["etag"]
    again = http.get("/api/public/results", params={"q": "应急"}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    # Equal queries after normalisation (full-width letters, spaces) give the same answer.
    assert http.get("/api/public/results", params={"q": " 应 急 "}).headers["etag"] == etag
    assert http.get("/api/public/results", params={"q": "x" * 61}).status_code == 422
    for bad in ("\x00应急", "应急\x1b"):  # control characters: refused, not a database error
        assert http.get("/api/public/results", params={"q": bad}).status_code == 422
    # Bytes that are not UTF-8 (here half a surrogate pair) are refused at the boundary, in Chinese.
    odd = http.get("/api/public/results?q=%ED%A0%80")
    assert odd.status_code == 422 and odd.json()["error"]["field"] == "q", odd.text
    assert "UTF-8" in odd.json()["error"]["message"]


async def test_limiter_counts_across_processes(redis_service: RedisHandle) -> None:
    """Two API processes (two limiters) share one client's budget through Redis: the client is refused once the
    total reaches the limit, give or take the unsent counts of the other process."""
    client = aioredis.Redis.from_url(redis_service.url)
    try:
        limit, now = 120, 1_000_000_000.0 + uuid.uuid4().int % 1_000_000 * 60  # a window no other test uses
        first, second = Limiter("test-public"), Limiter("test-public")
        allowed = 0
        for i in range(400):
            if await (first if i % 2 else second).allow(client, "203.0.113.9", limit, now):
                allowed += 1
        assert limit <= allowed <= limit + sync_every(limit) - 1
        # Another client is counted separately, and the next minute starts afresh.
        assert await first.allow(client, "203.0.113.10", limit, now)
        assert await first.allow(client, "203.0.113.9", limit, now + 60)
        # One process alone is exact.
        alone = Limiter("test-public-alone")
        results = [await alone.allow(client, "203.0.113.11", limit, now) for _ in range(limit + 5)]
        assert results == [True] * limit + [False] * 5
    finally:
        await client.aclose()


async def test_limiter_without_redis_still_limits_each_process() -> None:
    unreachable = aioredis.Redis(host="127.0.0.1", port=9, socket_connect_timeout=0.2)
    try:
        limiter = Limiter("test-public-down")
        results = [await limiter.allow(unreachable, "203.0.113.12", 20) for _ in range(25)]
        assert results == [True] * 20 + [False] * 5
        assert all([await limiter.allow(unreachable, "203.0.113.13", 0) for _ in range(50)])  # 0: no limit
    finally:
        await unreachable.aclose()


def test_name_query_plan_from_gram_statistics() -> None:
    """Few matches → the GIN index; many → the walk of the newest rows, bounded, with the GIN path behind it."""
    stats = search.GramStats(
        rows=1_000_000, freqs={"宁晋": 1.0, "纺织": 0.0625, "织有": 0.03125, "苏康": 0.0003}, floor=0.0015
    )
    assert search.plan_name_query(stats, search.query_grams("宁晋"), 20) == search.NamePlan(True, 1000)
    # Three common bigrams that travel together: the rarest bounds the matches (the planner would multiply them).
    common = search.plan_name_query(stats, search.query_grams("纺织有"), 20)
    assert common == search.NamePlan(True, 8 * 20 * 32)  # eight times the expected walk of 20 ÷ (1/32) rows
    assert not search.plan_name_query(stats, search.query_grams("苏康"), 20).by_recency
    # A bigram absent from the statistics is rarer than the rarest listed one.
    assert not search.plan_name_query(stats, search.query_grams("凤凰"), 20).by_recency
    # No statistics yet (a new, small register): the GIN index.
    assert not search.plan_name_query(search.GramStats(), ["宁晋"], 20).by_recency


async def test_public_reader_is_read_only_unscoped_and_recovers(
    db_urls: dict[str, str], runtime: Runtime
) -> None:
    """The public read path's own connections: no tenant rows, no writes, at most ``size`` connections, and a
    connection that is cancelled or killed is replaced rather than reused."""
    reader = await PublicReader.open(db_urls["runtime"], 2)
    admin = await asyncpg.connect(asyncpg_dsn(db_urls["admin"]))
    try:
        # Tenant tables are invisible (empty scope): the seed county's registries hold hundreds of enterprises.
        assert await admin.fetchval("SELECT count(*) FROM registry_objects") > 0
        assert (await reader.fetchrow("SELECT count(*) AS n FROM registry_objects"))["n"] == 0
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await reader.fetch("INSERT INTO calendar_years (year, loaded_by) VALUES (2098, 'public')")
        # A failed statement leaves the connection usable.
        with pytest.raises(asyncpg.PostgresError):
            await reader.fetch("SELECT 1/0")
        # Ten queries at once share the two connections.
        pids = await asyncio.gather(
            *(reader.fetchrow("SELECT pg_backend_pid() AS pid, pg_sleep(0.05)") for _ in range(10))
        )
        assert len({r["pid"] for r in pids}) == 2
        # A query cancelled half-way: its connection is closed, the next query gets a working one.
        slow = asyncio.ensure_future(reader.fetch("SELECT pg_sleep(5)"))
        await asyncio.sleep(0.3)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        assert (await reader.fetchrow("SELECT 1 AS one"))["one"] == 1
        # The server ends the connections (restart, failover): the failure is a lost connection, then it recovers.
        # Only this reader's own connections: the test app's public reader has the same application name.
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid",
            [conn.get_server_pid() for conn in reader._idle],
        )
        await asyncio.sleep(0.2)
        for _ in range(3):
            try:
                await reader.fetchrow("SELECT 1")
            except (asyncpg.PostgresConnectionError, asyncpg.AdminShutdownError, asyncpg.InterfaceError):
                continue
        assert (await reader.fetchrow("SELECT 2 AS two"))["two"] == 2
        assert reader._open <= 2
    finally:
        await admin.close()
        await reader.close()


async def test_public_reader_when_the_server_ends_its_idle_connections(db_urls: dict[str, str]) -> None:
    """A server shutdown ends every idle connection at once. A query that comes in just then may find its
    connection half-broken (asyncpg has read the server's farewell but not yet the end of the stream): it must then
    be answered from a new connection or fail as "unreachable" (a 503), never with an internal error (a 500).
    Measured before the fix: about one query in six right after the termination failed with InternalClientError."""
    reader = await PublicReader.open(db_urls["runtime"], 4)
    admin = await asyncpg.connect(asyncpg_dsn(db_urls["admin"]))
    outcomes: list[str] = []
    try:
        for trial in range(40):
            for _ in range(2):  # fill the reader with idle connections (the first round may meet ended ones)
                await asyncio.gather(
                    *(reader.fetchrow("SELECT pg_sleep(0.01)") for _ in range(4)), return_exceptions=True
                )
            pids = [conn.get_server_pid() for conn in reader._idle]
            await admin.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", pids)
            await asyncio.sleep([0, 0.0005, 0.001, 0.05][trial % 4])
            try:
                assert (await reader.fetchrow("SELECT 1 AS one"))["one"] == 1
                outcomes.append("answered")
            except Exception as exc:
                outcomes.append("unavailable" if is_unavailable(exc) else f"{type(exc).__name__}: {exc}")
        assert set(outcomes) <= {"answered", "unavailable"}, outcomes
        assert outcomes.count("answered") >= 20
        assert reader._open <= 4
    finally:
        await admin.close()
        await reader.close()
