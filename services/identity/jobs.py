"""Identity jobs: re-sync a department's Organization and section groups into Keycloak (repairs drift)."""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.keycloak_sync import DepartmentSpec, admin_client, sync_department
from services.identity.provisioning import department_sections
from shared.jobs import job_settings, tenant_job

log = structlog.get_logger()


@tenant_job("identity.keycloak_resync")
async def keycloak_resync(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    row = (
        await session.execute(text("SELECT code, name FROM departments WHERE id = :id"), {"id": tenant_id})
    ).one()
    spec = DepartmentSpec(code=row.code, name=row.name, sections=await department_sections(session))
    admin, connection = admin_client(job_settings().oidc)
    try:
        report = await sync_department(admin, spec)
    finally:
        await connection.aclose()
    log.info("keycloak.resync", department=row.code, created=report.created)
