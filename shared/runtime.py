"""Process-wide resources (database engines, Redis/arq pool, token verifier), built at start-up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from arq.connections import ArqRedis, RedisSettings, create_pool
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared import jobs
from shared.db import Database
from shared.settings import Settings
from shared.tenancy import TenantScope, apply_scope


@dataclass
class Runtime:
    settings: Settings
    db: Database
    arq: ArqRedis | None
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    async def start(cls, settings: Settings, *, with_redis: bool = True) -> Runtime:
        db = Database.connect(settings.db.url, read_url=settings.db.read_url, pool_size=settings.db.pool_size)
        arq = None
        if with_redis:
            arq = await create_pool(RedisSettings.from_dsn(settings.redis.url), retry=1)
        return cls(settings=settings, db=db, arq=arq)

    async def close(self) -> None:
        for (
            extra
        ) in self.extras.values():  # e.g. the public site's own read pool (services/disclosure/reader.py)
            if hasattr(extra, "close"):
                await extra.close()
        if self.arq is not None:
            await self.arq.aclose()
        await self.db.dispose()

    @asynccontextmanager
    async def unit_of_work(
        self, scope: TenantScope, *, read_replica: bool = False
    ) -> AsyncIterator[AsyncSession]:
        """One transaction under ``scope``; commits on success, enqueues deferred jobs only after the commit."""
        maker = self.db.read_sessionmaker if read_replica else self.db.sessionmaker
        async with maker() as session:
            try:
                async with session.begin():
                    await apply_scope(session, scope)
                    yield session
            except BaseException:
                jobs.drop_deferred(session)
                raise
            deferred = jobs.take_deferred(session)
        await self.flush_jobs(deferred)

    async def flush_jobs(self, deferred: list[tuple[Any, Any, str, dict[str, Any]]]) -> None:
        for job_id, tenant_id, name, kwargs in deferred:
            if await jobs.enqueue(self.arq, job_id, tenant_id, name, kwargs):
                async with self.db.sessionmaker() as session, session.begin():
                    await session.execute(
                        text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)}
                    )
                    await session.execute(
                        text("UPDATE job_outbox SET enqueued_at = now() WHERE id = :id"), {"id": job_id}
                    )
