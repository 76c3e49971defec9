"""`spotcheck migrate`: run Alembic as the owner role, then make sure the runtime login role exists.

The runtime role (from ``SPOTCHECK_DATABASE_URL``) gets only membership of ``spotcheck_runtime``, the group role
the migrations grant to. It is never the owner, a superuser or BYPASSRLS: ``check_runtime_role`` verifies that.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from migrations.rls import RUNTIME_ROLE
from shared.db import asyncpg_dsn

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(admin_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["admin_url"] = admin_url
    return config


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


async def ensure_runtime_login(admin_url: str, runtime_url: str) -> None:
    runtime = make_url(runtime_url)
    admin = make_url(admin_url)
    if not runtime.username:
        raise ValueError("SPOTCHECK_DATABASE_URL must name the runtime role (user)")
    if runtime.username == admin.username:
        raise ValueError("the runtime role must differ from the owner role of SPOTCHECK_ADMIN_DATABASE_URL")
    role = _quote_ident(runtime.username)
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", runtime.username)
        password = f" PASSWORD {_quote_literal(runtime.password)}" if runtime.password else ""
        verb = "ALTER" if exists else "CREATE"
        await conn.execute(
            f"{verb} ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE{password}"
        )
        await conn.execute(f"GRANT {RUNTIME_ROLE} TO {role}")
        database = _quote_ident(admin.database or "postgres")
        await conn.execute(f"GRANT CONNECT ON DATABASE {database} TO {role}")
    finally:
        await conn.close()


async def check_runtime_role(runtime_url: str) -> list[str]:
    """Problems with the runtime role that would make RLS toothless (empty list = fine)."""
    conn = await asyncpg.connect(asyncpg_dsn(runtime_url))
    try:
        row = await conn.fetchrow("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        owns = await conn.fetchval(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user"
        )
    finally:
        await conn.close()
    assert row is not None  # current_user always has its pg_roles row
    problems = []
    if row["rolsuper"]:
        problems.append("runtime role is a superuser")
    if row["rolbypassrls"]:
        problems.append("runtime role has BYPASSRLS")
    if owns:
        problems.append("runtime role owns tables")
    return problems


def upgrade(admin_url: str, runtime_url: str | None, revision: str = "heads") -> None:
    command.upgrade(alembic_config(admin_url), revision)
    if runtime_url:
        asyncio.run(ensure_runtime_login(admin_url, runtime_url))


def downgrade(admin_url: str, revision: str) -> None:
    command.downgrade(alembic_config(admin_url), revision)
