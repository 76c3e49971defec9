"""Migrations are the only way the schema is made: up, down and up again on an empty database."""

from __future__ import annotations

import asyncpg

from shared import migrate
from shared.db import asyncpg_dsn
from tests.support.services import PostgresHandle, in_thread, run


async def _tables(url: str) -> set[str]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return {r[0] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    finally:
        await conn.close()


def test_up_down_up(postgres: PostgresHandle) -> None:
    run(postgres.recreate_database, "spotcheck_migrations")
    admin = postgres.url("spotcheck_migrations")
    runtime = postgres.url("spotcheck_migrations", "spotcheck_migration_app", "pw")

    in_thread(migrate.upgrade, admin, runtime)
    first = run(_tables, admin)
    assert {
        "departments",
        "sections",
        "registry_objects",
        "inspectors",
        "audit_events",
        "job_outbox",
    } <= first

    in_thread(migrate.downgrade, admin, "base")
    assert run(_tables, admin) == {"alembic_version"}

    in_thread(migrate.upgrade, admin, runtime)
    assert run(_tables, admin) == first
    assert run(migrate.check_runtime_role, runtime) == []
