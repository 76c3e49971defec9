"""Background jobs of the registries: the import of a large file (see ``imports.batches`` for how it runs)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.imports import batches
from shared.jobs import tenant_job

JOB = batches.JOB


async def give_up_import(
    session: AsyncSession, tenant_id: uuid.UUID, *, batch_id: str, ignore_unknown: bool = False
) -> None:
    """The job was stopped again and again (a timeout or a killed worker each time): nothing was imported."""
    await batches.give_up(session, uuid.UUID(batch_id))


@tenant_job(JOB, give_up=give_up_import)
async def import_job(
    session: AsyncSession, tenant_id: uuid.UUID, *, batch_id: str, ignore_unknown: bool = False
) -> None:
    await batches.run_queued(session, tenant_id, uuid.UUID(batch_id), ignore_unknown=ignore_unknown)
