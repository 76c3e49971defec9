"""Database engine and URL helpers (SQLAlchemy Core with ``text()`` SQL in repositories; no ORM models).

Engines are created by ``Database.connect`` at start-up (app lifespan, worker start-up, CLI), never at import time.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def async_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs from operators and use the asyncpg driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def asyncpg_dsn(url: str) -> str:
    """A DSN that raw asyncpg (COPY, LISTEN) understands."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


# How long opening a connection may take before PostgreSQL counts as unreachable (requests then fail fast with 503
# instead of hanging).
CONNECT_TIMEOUT_SECONDS = 5.0

# Raised by asyncpg.connect when the server is down, restarting, shutting down or refusing connections.
_UNREACHABLE = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)


class DatabaseUnavailable(ConnectionError):
    """PostgreSQL cannot be reached right now (down, restarting, refusing connections). Requests answer 503 and
    jobs are retried; the pool reconnects by itself once the server is back (``pool_pre_ping``)."""


def connector(url: str, application_name: str) -> Callable[[], Awaitable[Any]]:
    """The engine's way of opening a connection: bounded in time, and a server that cannot be reached raises
    ``DatabaseUnavailable`` rather than whichever OS or driver error happened to surface."""
    dsn = asyncpg_dsn(url)
    settings = {"application_name": f"{application_name}:{os.getpid()}"[:63]}

    async def connect() -> Any:
        try:
            return await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT_SECONDS, server_settings=settings)
        except _UNREACHABLE as exc:
            raise DatabaseUnavailable(f"PostgreSQL unreachable: {type(exc).__name__}: {exc}") from exc

    return connect


class Database:
    """The write engine and, when configured, a read-replica engine for public read paths.

    Connections carry ``application_name`` ``spotcheck:<pid>`` (``spotcheck-read:<pid>`` on the replica), so an
    operator can tell in ``pg_stat_activity`` which process holds a connection."""

    def __init__(self, engine: AsyncEngine, read_engine: AsyncEngine | None = None) -> None:
        self.engine = engine
        self.read_engine = read_engine or engine
        self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        self.read_sessionmaker = async_sessionmaker(self.read_engine, expire_on_commit=False, autoflush=False)

    @classmethod
    def connect(cls, url: str, *, read_url: str | None = None, pool_size: int = 10) -> Database:
        def make(u: str, name: str) -> AsyncEngine:
            return create_async_engine(
                async_url(u),
                async_creator=connector(u, name),
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_pre_ping=True,
            )

        engine = make(url, "spotcheck")
        return cls(engine, make(read_url, "spotcheck-read") if read_url else None)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()


__all__ = [
    "AsyncSession",
    "Database",
    "DatabaseUnavailable",
    "async_url",
    "asyncpg_dsn",
    "connector",
]
