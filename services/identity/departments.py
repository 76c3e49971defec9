"""Department directory (the tenants). Reads only; departments are created by operators (provisioning)."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.context import Department

_COLUMNS = "id, code, region_code, name, short_name, active"


async def department_of(session: AsyncSession, department_id: uuid.UUID) -> Department:
    """One department by id, read in the caller's transaction (jobs and loaders that act for a department)."""
    row = (
        await session.execute(
            text(f"SELECT {_COLUMNS} FROM departments WHERE id = :id"), {"id": department_id}
        )
    ).one()
    return Department(**row._mapping)


class DepartmentDirectory:
    """Small in-process cache: departments change rarely and are read on every request."""

    TTL = 60.0

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        self._by_code: dict[str, Department] = {}
        self._loaded_at = 0.0

    async def _load(self) -> None:
        async with self._sessionmaker() as session:
            rows = await session.execute(text(f"SELECT {_COLUMNS} FROM departments"))
            self._by_code = {r.code: Department(**r._mapping) for r in rows}
        self._loaded_at = time.monotonic()

    async def get(self, code: str) -> Department | None:
        if code not in self._by_code or time.monotonic() - self._loaded_at > self.TTL:
            await self._load()
        return self._by_code.get(code)

    async def in_region(self, region_code: str) -> list[Department]:
        await self._load()
        return sorted(
            (d for d in self._by_code.values() if d.region_code == region_code), key=lambda d: d.code
        )

    def invalidate(self) -> None:
        self._loaded_at = 0.0
