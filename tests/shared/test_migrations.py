"""Migrations are the only way the schema is made: up, down and up again on an empty database."""

from __future__ import annotations

import asyncio

import asyncpg

from shared import migrate
from shared.db import asyncpg_dsn
from tests.support.services import PostgresHandle


async def _tables(url: str) -> set[str]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return {r[0] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    finally:
        await conn.close()


def test_up_down_up(postgres: PostgresHandle) -> None:
    asyncio.run(postgres.recreate_database("spotcheck_migrations"))
    admin = postgres.url("spotcheck_migrations")
    runtime = postgres.url("spotcheck_migrations", "spotcheck_migration_app", "pw")

    migrate.upgrade(admin, runtime)
    first = asyncio.run(_tables(admin))
    assert {"departments", "sections", "registry_objects", "inspectors", "audit_events", "job_outbox"} <= first

    migrate.downgrade(admin, "base")
    assert asyncio.run(_tables(admin)) == {"alembic_version"}

    migrate.upgrade(admin, runtime)
    assert asyncio.run(_tables(admin)) == first
    assert asyncio.run(migrate.check_runtime_role(runtime)) == []
