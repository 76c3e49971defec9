"""Row-level security as the floor: raw SQL as the runtime role cannot cross departments."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from services.identity.provisioning import department_id
from shared.db import asyncpg_dsn
from shared.runtime import Runtime

YJJ = department_id("130528-yjj")
XF = department_id("130528-xfjy")


async def _tenant_tables(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch(
        "SELECT c.table_name FROM information_schema.columns c JOIN information_schema.tables t "
        "USING (table_schema, table_name) WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' "
        "AND t.table_type = 'BASE TABLE' ORDER BY 1"
    )
    return [r["table_name"] for r in rows]


@pytest.fixture
async def app_conn(runtime: Runtime, db_urls: dict[str, str]) -> asyncpg.Connection:
    conn = await asyncpg.connect(asyncpg_dsn(db_urls["runtime"]))
    yield conn
    await conn.close()


async def _scope(conn: asyncpg.Connection, tenant: uuid.UUID | None, region: str | None = None) -> None:
    await conn.execute(
        "SELECT set_config('app.tenant_id', $1, true), set_config('app.overseer_region', $2, true)",
        str(tenant) if tenant else "",
        region or "",
    )


async def test_runtime_role_is_not_privileged(app_conn: asyncpg.Connection) -> None:
    row = await app_conn.fetchrow(
        "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"
    )
    assert dict(row) == {
        "rolsuper": False,
        "rolbypassrls": False,
        "rolcreaterole": False,
        "rolcreatedb": False,
    }
    owned = await app_conn.fetchval("SELECT count(*) FROM pg_tables WHERE tableowner = current_user")
    assert owned == 0


async def test_every_tenant_table_has_forced_rls(app_conn: asyncpg.Connection) -> None:
    tables = await _tenant_tables(app_conn)
    assert {"sections", "registry_objects", "inspectors", "audit_events", "notifications"} <= set(tables)
    rows = await app_conn.fetch(
        "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY($1::text[])",
        tables,
    )
    missing = [r["relname"] for r in rows if not (r["relrowsecurity"] and r["relforcerowsecurity"])]
    assert missing == [], f"tables without ENABLE+FORCE row level security: {missing}"


async def test_no_scope_sees_nothing(app_conn: asyncpg.Connection) -> None:
    for table in await _tenant_tables(app_conn):
        async with app_conn.transaction():
            await _scope(app_conn, None)
            assert await app_conn.fetchval(f"SELECT count(*) FROM {table}") == 0, table


async def test_department_sees_only_its_rows(app_conn: asyncpg.Connection) -> None:
    async with app_conn.transaction():
        await _scope(app_conn, YJJ)
        tenants = {r[0] for r in await app_conn.fetch("SELECT DISTINCT tenant_id FROM registry_objects")}
        assert tenants == {YJJ}
        assert await app_conn.fetchval("SELECT count(*) FROM inspectors WHERE tenant_id = $1", XF) == 0


async def test_raw_writes_on_another_department_touch_nothing(
    app_conn: asyncpg.Connection, db_urls: dict[str, str]
) -> None:
    admin = await asyncpg.connect(asyncpg_dsn(db_urls["admin"]))
    try:
        xf_object = await admin.fetchrow(
            "SELECT id, name FROM registry_objects WHERE tenant_id = $1 LIMIT 1", XF
        )
        xf_count = await admin.fetchval("SELECT count(*) FROM registry_objects WHERE tenant_id = $1", XF)
    finally:
        await admin.close()
    assert xf_object is not None

    async with app_conn.transaction():
        await _scope(app_conn, YJJ)
        assert (
            await app_conn.fetchval("SELECT count(*) FROM registry_objects WHERE id = $1", xf_object["id"])
            == 0
        )
        assert (
            await app_conn.execute(
                "UPDATE registry_objects SET name = 'hijacked' WHERE id = $1", xf_object["id"]
            )
            == "UPDATE 0"
        )
        assert (
            await app_conn.execute("UPDATE registry_objects SET name = name WHERE tenant_id = $1", XF)
            == "UPDATE 0"
        )
        assert await app_conn.execute("DELETE FROM registry_objects WHERE tenant_id = $1", XF) == "DELETE 0"
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with app_conn.transaction():
            await _scope(app_conn, YJJ)
            await app_conn.execute(
                "INSERT INTO registry_objects (id, tenant_id, uscc, name, industry) "
                "VALUES ($1, $2, '91130528MA0000000X', 'planted', '危化')",
                uuid.uuid4(),
                XF,
            )
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with app_conn.transaction():
            await _scope(app_conn, YJJ)
            # Moving an own row into another department is refused by WITH CHECK.
            await app_conn.execute(
                "UPDATE registry_objects SET tenant_id = $1 WHERE id = (SELECT id FROM registry_objects LIMIT 1)",
                XF,
            )

    admin = await asyncpg.connect(asyncpg_dsn(db_urls["admin"]))
    try:
        after = await admin.fetchrow("SELECT name FROM registry_objects WHERE id = $1", xf_object["id"])
        assert after["name"] == xf_object["name"]
        assert (
            await admin.fetchval("SELECT count(*) FROM registry_objects WHERE tenant_id = $1", XF) == xf_count
        )
    finally:
        await admin.close()


async def test_child_rows_cannot_reference_another_departments_parent(app_conn: asyncpg.Connection) -> None:
    async with app_conn.transaction():
        await _scope(app_conn, XF)
        xf_inspector = await app_conn.fetchval("SELECT id FROM inspectors LIMIT 1")
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        async with app_conn.transaction():
            await _scope(app_conn, YJJ)
            await app_conn.execute(
                "INSERT INTO inspector_conflicts (id, tenant_id, inspector_id, uscc, reason) "
                "VALUES ($1, $2, $3, '91130528MA0000000X', 'x')",
                uuid.uuid4(),
                YJJ,
                xf_inspector,
            )


async def test_overseer_reads_county_but_cannot_write(app_conn: asyncpg.Connection) -> None:
    async with app_conn.transaction():
        await _scope(app_conn, None, "130528")
        tenants = {r[0] for r in await app_conn.fetch("SELECT DISTINCT tenant_id FROM registry_objects")}
        assert {YJJ, XF} <= tenants
        assert await app_conn.execute("UPDATE registry_objects SET name = name") == "UPDATE 0"
        assert await app_conn.execute("DELETE FROM sections") == "DELETE 0"
    async with app_conn.transaction():
        await _scope(app_conn, None, "999999")
        assert await app_conn.fetchval("SELECT count(*) FROM registry_objects") == 0


async def test_scope_does_not_leak_past_the_transaction(app_conn: asyncpg.Connection) -> None:
    async with app_conn.transaction():
        await _scope(app_conn, YJJ)
        assert await app_conn.fetchval("SELECT count(*) FROM sections") > 0
    assert await app_conn.fetchval("SELECT count(*) FROM sections") == 0
