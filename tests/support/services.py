"""Real PostgreSQL and Redis for the test session: embedded by default, external when configured.

* ``SPOTCHECK_TEST_DATABASE_URL`` – an owner/superuser URL of an external server (a database is created on it);
* ``SPOTCHECK_TEST_REDIS_URL`` – an external Redis (database 0 is flushed).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import asyncpg
from sqlalchemy.engine import make_url

from devtools.embedded import EmbeddedPostgres, EmbeddedRedis, create_database_sql
from shared.db import asyncpg_dsn

T = TypeVar("T")
RUNTIME_ROLE = "spotcheck_test_app"
RUNTIME_PASSWORD = "test-runtime-pw"


@dataclass
class PostgresHandle:
    superuser_url: str
    embedded: EmbeddedPostgres | None

    def url(self, database: str, user: str | None = None, password: str | None = None) -> str:
        parsed = make_url(self.superuser_url).set(database=database)
        if user is not None:
            parsed = parsed.set(username=user, password=password)
        return parsed.render_as_string(hide_password=False)

    async def recreate_database(self, name: str) -> None:
        conn = await asyncpg.connect(asyncpg_dsn(self.superuser_url))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(create_database_sql(name))
        finally:
            await conn.close()

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()


def start_postgres(base: Path) -> PostgresHandle:
    external = os.environ.get("SPOTCHECK_TEST_DATABASE_URL")
    if external:
        return PostgresHandle(external, None)
    embedded = EmbeddedPostgres(base / "postgres").start()
    return PostgresHandle(embedded.superuser_url, embedded)


@dataclass
class RedisHandle:
    url: str
    embedded: EmbeddedRedis | None

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()


def start_redis(base: Path) -> RedisHandle:
    external = os.environ.get("SPOTCHECK_TEST_REDIS_URL")
    if external:
        import redis

        redis.Redis.from_url(external).flushdb()
        return RedisHandle(external, None)
    embedded = EmbeddedRedis(base / "redis").start()
    return RedisHandle(embedded.url, embedded)


def in_thread(fn: Callable[..., T], *args: object) -> T:
    """Run blocking set-up that uses asyncio.run() on its own thread: Playwright's sync API keeps a loop
    running on the main thread, where asyncio.run() would refuse to start."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args).result()


def run(coro_fn: Callable[..., Coroutine[object, object, T]], *args: object) -> T:
    return in_thread(lambda: asyncio.run(coro_fn(*args)))
