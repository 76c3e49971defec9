"""The audit trail is append-only for the app and tamper-evident for everyone."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from services.identity.provisioning import department_id, ensure_department
from shared import audit
from shared.db import asyncpg_dsn
from shared.runtime import Runtime
from shared.tenancy import department_scope

SCJG = department_id("130528-scjg")
ACTOR = audit.Actor(id="00000000-0000-4000-8000-000000000301", name="周敏")


async def test_chain_links_and_verifies(runtime: Runtime) -> None:
    async with runtime.unit_of_work(department_scope(SCJG)) as session:
        first = await audit.record(session, SCJG, ACTOR, "plan.create", "plan", "p-1", {"name": "计划"})
        second = await audit.record(session, SCJG, ACTOR, "plan.publish", "plan", "p-1")
    assert second.prev_hash == first.hash and second.seq == first.seq + 1
    async with runtime.unit_of_work(department_scope(SCJG, read_only=True)) as session:
        assert await audit.verify_chain(session, SCJG) == []


async def test_runtime_role_cannot_rewrite_history(runtime: Runtime, db_urls: dict[str, str]) -> None:
    async with runtime.unit_of_work(department_scope(SCJG)) as session:
        await audit.record(session, SCJG, ACTOR, "x.test", "x", "1")
    conn = await asyncpg.connect(asyncpg_dsn(db_urls["runtime"]))
    try:
        for sql in ("UPDATE audit_events SET action = 'forged'", "DELETE FROM audit_events"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                async with conn.transaction():
                    await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(SCJG))
                    await conn.execute(sql)
    finally:
        await conn.close()


async def test_tampering_by_the_owner_is_detected(runtime: Runtime, db_urls: dict[str, str]) -> None:
    # A department of its own: the broken chain must not stay in a department other tests (or a rerun) verify.
    dept = await ensure_department(
        db_urls["admin"], f"130528-a{uuid.uuid4().hex[:8]}", "130528", "审计测试部门", "审计测试"
    )
    async with runtime.unit_of_work(department_scope(dept)) as session:
        event = await audit.record(session, dept, ACTOR, "draw.run", "task", "t-9", {"selected": 5})
    owner = await asyncpg.connect(asyncpg_dsn(db_urls["admin"]))
    try:
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await owner.execute("UPDATE audit_events SET data = '{}' WHERE tenant_id = $1", dept)
        # Someone with owner rights disables the guard and edits a row:
        async with owner.transaction():
            await owner.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change")
            await owner.execute(
                "UPDATE audit_events SET data = '{\"selected\": 6}' WHERE tenant_id = $1 AND seq = $2",
                dept,
                event.seq,
            )
            await owner.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change")
    finally:
        await owner.close()
    async with runtime.unit_of_work(department_scope(dept, read_only=True)) as session:
        problems = await audit.verify_chain(session, dept)
    assert any(f"seq {event.seq}: hash does not match" in p for p in problems)
