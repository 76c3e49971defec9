"""Operator commands' work that needs a running database: ``spotcheck audit-check``, ``department create|sync``
and ``draw-proof`` (production code; the CLI in :mod:`shared.cli` parses and prints, these do the work)."""

from __future__ import annotations

import sys
import uuid

from sqlalchemy import text


async def check_audit(department_code: str) -> int:
    from services.identity.provisioning import department_id
    from shared import audit
    from shared.runtime import Runtime
    from shared.settings import get_settings
    from shared.tenancy import department_scope

    runtime = await Runtime.start(get_settings(), with_redis=False)
    try:
        dept = department_id(department_code)
        async with runtime.unit_of_work(department_scope(dept, read_only=True)) as session:
            chain = await audit.events(session, dept)
            problems = audit.verify_events(dept, chain)
    finally:
        await runtime.close()
    if problems:
        print("TAMPERED")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print(f"OK: {len(chain)} events, chain intact")
    return 0


async def provision_department(
    action: str,
    code: str,
    name: str | None,
    short_name: str | None,
    region: str | None,
    sections: list[tuple[str, str]],
    admin_username: str | None,
    with_keycloak: bool,
) -> int:
    """`spotcheck department create|sync`: database first (owner role for the tenant row, the department's own
    scope for its sections), then Keycloak (organization, section groups, admin membership)."""
    from services.identity import keycloak_sync, provisioning
    from shared.runtime import Runtime
    from shared.settings import get_settings
    from shared.tenancy import system_scope

    settings = get_settings()
    runtime = await Runtime.start(settings, with_redis=False)
    try:
        if action == "create":
            if not (name and settings.db.admin_url):
                print("create needs --name and SPOTCHECK_ADMIN_DATABASE_URL", file=sys.stderr)
                return 2
            dept_id = await provisioning.ensure_department(
                settings.db.admin_url, code, region or code.split("-")[0], name, short_name or name
            )
            async with runtime.unit_of_work(system_scope(dept_id)) as session:
                created = await provisioning.ensure_sections(session, dept_id, sections)
            print(f"department {code}: {created} new section(s)")
        dept_id = provisioning.department_id(code)
        async with runtime.unit_of_work(system_scope(dept_id)) as session:
            row = (
                await session.execute(text("SELECT name FROM departments WHERE code = :c"), {"c": code})
            ).first()
            if row is None:
                print(f"department {code} does not exist", file=sys.stderr)
                return 1
            all_sections = await provisioning.department_sections(session)
        if with_keycloak:
            admin, connection = keycloak_sync.admin_client(settings.oidc)
            try:
                report = await keycloak_sync.sync_department(
                    admin, keycloak_sync.DepartmentSpec(code, row.name, all_sections, admin_username)
                )
            finally:
                await connection.aclose()
            print("keycloak created: " + (", ".join(report.created) or "nothing (already in sync)"))
        return 0
    finally:
        await runtime.close()


async def fetch_proof(draw_or_task_id: uuid.UUID) -> bytes | None:
    """The same bytes as /public/draws/{id}/proof.json, read through the public path (no tenant scope)."""
    from services.planning.public import proof_of
    from shared.runtime import Runtime
    from shared.settings import get_settings
    from shared.tenancy import empty_scope

    runtime = await Runtime.start(get_settings(), with_redis=False)
    try:
        async with runtime.unit_of_work(empty_scope(), read_replica=True) as session:
            return await proof_of(session, draw_or_task_id)
    finally:
        await runtime.close()
