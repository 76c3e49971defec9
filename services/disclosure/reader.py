"""The public read path: its own small set of asyncpg connections, one round trip per query.

The public site reads only ``public_results`` (no tenant data, no RLS on it). Going through the ORM session would
cost a pool pre-ping, ``BEGIN``, ``SET TRANSACTION READ ONLY``, the scope ``set_config`` and ``COMMIT`` around every
query, and asyncpg's own pool a reset statement per release plus a task and two timers; here a query is one
prepared statement on a connection that is read-only and unscoped from the start:

* ``default_transaction_read_only = on``: the connection cannot write, whatever runs on it;
* ``app.tenant_id`` and ``app.overseer_region`` are empty, so every tenant table is invisible by RLS (fails closed);
* the read replica (``SPOTCHECK_READ_DATABASE_URL``) when one is configured, else the runtime role's database.

The connections only ever run single read-only statements (no ``SET``, ``LISTEN``, cursors, advisory locks or
transactions), so there is nothing to reset between two uses. A connection whose statement did not finish normally
(cancelled, broken, server restarted) is closed, never reused; the next query opens a new one.

One ``PublicReader`` per API process, opened on first use (``public_reader``) and closed with the runtime.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from typing import Any

import asyncpg

from shared.db import asyncpg_dsn
from shared.runtime import Runtime

EXTRA_KEY = "disclosure.public_reader"
CONNECT_TIMEOUT_SECONDS = 5.0
SERVER_SETTINGS = {
    "default_transaction_read_only": "on",
    "app.tenant_id": "",
    "app.overseer_region": "",
    "application_name": "spotcheck-public",
    "jit": "off",  # short indexed lookups: JIT compilation would only add latency
    # The app chooses each query's access path itself (``search.plan_name_query``), so every prepared statement is
    # planned once per connection instead of at each execution.
    "plan_cache_mode": "force_generic_plan",
    "TimeZone": "UTC",  # timestamps in the JSON that PostgreSQL builds for search answers
    "statement_timeout": "5s",  # a pathological query cannot hold a connection of the public site for long
}
_lock = asyncio.Lock()
# Errors of one statement after which the server is ready for the next: the connection may be reused.
_STATEMENT_ERRORS = (
    asyncpg.QueryCanceledError,
    asyncpg.DataError,
    asyncpg.SyntaxOrAccessError,
    asyncpg.IntegrityConstraintViolationError,
    asyncpg.ReadOnlySQLTransactionError,
)


class PublicReader:
    """At most ``size`` connections; a query waits for a free one when all are busy."""

    def __init__(self, dsn: str, size: int) -> None:
        self.dsn, self.size = dsn, max(1, size)
        self._idle: list[asyncpg.Connection] = []
        self._waiters: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self._open = 0  # connections open or being opened
        self._closed = False

    @classmethod
    async def open(cls, url: str, size: int) -> PublicReader:
        reader = cls(asyncpg_dsn(url), size)
        reader._release(await reader._acquire(), reusable=True)  # fail at start-up, not at the first search
        return reader

    async def _connect(self) -> asyncpg.Connection:
        conn = await asyncpg.connect(
            self.dsn, server_settings=SERVER_SETTINGS, timeout=CONNECT_TIMEOUT_SECONDS
        )
        await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
        return conn

    async def _acquire(self) -> asyncpg.Connection:
        while True:
            if self._closed:
                raise asyncpg.InterfaceError("the public reader is closed")
            while self._idle:
                conn = self._idle.pop()
                if not conn.is_closed():
                    return conn
                self._open -= 1
            if self._open < self.size:
                self._open += 1
                try:
                    return await self._connect()
                except BaseException:
                    self._open -= 1
                    self._hand(None)
                    raise
            waiter: asyncio.Future[asyncpg.Connection | None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                handed_to_us = await waiter
            except BaseException:
                # Cancelled, possibly just after being handed a connection or a free slot: pass it on.
                if waiter.done() and not waiter.cancelled():
                    handed = waiter.result()
                    if handed is None:
                        self._hand(None)
                    else:
                        self._release(handed, reusable=True)
                raise
            if handed_to_us is not None:
                return handed_to_us
            # A connection was closed: its slot is free, loop round and open one.

    def _hand(self, conn: asyncpg.Connection | None) -> bool:
        """Give ``conn`` (or, with None, a free slot) to the oldest query still waiting."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return True
        return False

    def _release(self, conn: asyncpg.Connection, *, reusable: bool) -> None:
        if self._closed or not reusable or conn.is_closed():
            conn.terminate()
            self._open -= 1
            self._hand(None)
        elif not self._hand(conn):
            self._idle.append(conn)

    def _drop_idle(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.terminate()
            self._open -= 1
            self._hand(None)

    async def _run(self, method: str, sql: str, args: tuple[Any, ...]) -> Any:
        for attempt in (1, 2):
            conn = await self._acquire()
            reusable = False
            try:
                result = await getattr(conn, method)(sql, *args)
                reusable = True
                return result
            except _STATEMENT_ERRORS:
                # The statement failed (e.g. statement_timeout, bad input) and the server finished the exchange
                # normally: the connection is still good. Any other failure (server gone or restarting, backend
                # terminated, a protocol state left behind by an interrupted exchange) closes it.
                reusable = not conn.is_in_transaction()
                raise
            except (asyncpg.InternalClientError, asyncpg.InterfaceError):
                # A connection broken in a way asyncpg only notices at its next use (e.g. terminated by a server
                # shutdown while idle: "another operation is in progress"). Whatever broke it broke the other idle
                # connections too, so they are dropped with it, and the read, which has no side effects, is tried
                # once more on a new connection (which, while the server is down, fails as unreachable: a 503).
                if attempt == 2 or self._closed:
                    raise
                self._drop_idle()
            finally:
                self._release(conn, reusable=reusable)
        raise AssertionError("unreachable")

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return await self._run("fetch", sql, args)  # type: ignore[no-any-return]

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        return await self._run("fetchrow", sql, args)  # type: ignore[no-any-return]

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(asyncpg.InterfaceError("the public reader is closed"))
        self._waiters.clear()
        for conn in idle:
            self._open -= 1
            try:
                await asyncio.wait_for(conn.close(), 2)
            except Exception:
                conn.terminate()


async def public_reader(runtime: Runtime) -> PublicReader:
    reader: PublicReader | None = runtime.extras.get(EXTRA_KEY)
    if reader is not None:
        return reader
    async with _lock:
        reader = runtime.extras.get(EXTRA_KEY)
        if reader is None:
            settings = runtime.settings.db
            reader = await PublicReader.open(settings.read_url or settings.url, settings.pool_size)
            runtime.extras[EXTRA_KEY] = reader
    return reader
