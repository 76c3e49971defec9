"""`spotcheck worker`: the arq worker. One generic entry point runs every registered tenant job exactly once."""

from __future__ import annotations

import datetime as dt
import importlib
import uuid
from typing import Any

import structlog
from arq import cron
from arq.connections import RedisSettings
from sqlalchemy import text

from shared import jobs
from shared.runtime import Runtime
from shared.settings import Settings, get_settings
from shared.tenancy import system_scope

log = structlog.get_logger()

# Modules whose import registers jobs with @tenant_job.
JOB_MODULES = ("shared.notifications", "services.identity.jobs", "services.planning.jobs", "services.registry.jobs",
               "services.disclosure.jobs", "services.reporting.jobs", "services.federation.jobs")


def load_job_modules() -> None:
    for module in JOB_MODULES:
        importlib.import_module(module)


async def spotcheck_run_job(
    ctx: dict[str, Any], job_id: str, tenant_id: str, name: str, kwargs: dict[str, Any]
) -> str:
    runtime: Runtime = ctx["runtime"]
    jobs.set_job_settings(runtime.settings)
    fn = jobs.REGISTRY.get(name)
    if fn is None:
        raise RuntimeError(f"unknown job {name!r}")
    async with runtime.unit_of_work(system_scope(uuid.UUID(tenant_id))) as session:
        # Row lock: a duplicate run of the same job waits here, then sees it completed and does nothing.
        claimed = (
            await session.execute(
                text("SELECT id FROM job_outbox WHERE id = :id AND completed_at IS NULL FOR UPDATE"),
                {"id": uuid.UUID(job_id)},
            )
        ).first()
        if claimed is None:
            return "skipped: already completed"
        await fn(session, uuid.UUID(tenant_id), **kwargs)
        await session.execute(
            text("UPDATE job_outbox SET completed_at = now(), started_count = started_count + 1 WHERE id = :id"),
            {"id": uuid.UUID(job_id)},
        )
    log.info("job.completed", job=name, job_id=job_id, tenant_id=tenant_id)
    return "completed"


async def sweep_outbox(ctx: dict[str, Any]) -> int:
    """Re-enqueue committed jobs that never reached Redis or were lost with it."""
    runtime: Runtime = ctx["runtime"]
    async with runtime.db.sessionmaker() as session, session.begin():
        await session.execute(text("SELECT set_config('app.job_sweeper', 'on', true)"))
        rows = (
            await session.execute(
                text(
                    "SELECT id, tenant_id, function, kwargs FROM job_outbox WHERE completed_at IS NULL "
                    "AND created_at < now() - interval '20 seconds' "
                    "AND (enqueued_at IS NULL OR enqueued_at < now() - interval '10 minutes') "
                    "ORDER BY created_at LIMIT 500 FOR UPDATE SKIP LOCKED"
                )
            )
        ).all()
        for row in rows:
            if await jobs.enqueue(runtime.arq, row.id, row.tenant_id, row.function, row.kwargs):
                await session.execute(
                    text("UPDATE job_outbox SET enqueued_at = now() WHERE id = :id"), {"id": row.id}
                )
    return len(rows)


async def defer_for_every_department(ctx: dict[str, Any], job: str, **kwargs: Any) -> int:
    """Queue `job` once for every active department, each in its own scope (cron fan-out)."""
    runtime: Runtime = ctx["runtime"]
    async with runtime.db.sessionmaker() as session:
        ids = [r[0] for r in await session.execute(text("SELECT id FROM departments WHERE active"))]
    for department_id in ids:
        async with runtime.unit_of_work(system_scope(department_id)) as session:
            await jobs.defer(session, job, department_id, **kwargs)
    return len(ids)


async def resync_departments(ctx: dict[str, Any]) -> int:
    """Nightly: re-sync every department's Organization and groups into Keycloak."""
    if ctx["runtime"].settings.oidc.dev_provider:
        return 0  # the development provider has no admin API; departments there come from the realm file
    return await defer_for_every_department(ctx, "identity.keycloak_resync")


async def remind_results_due(ctx: dict[str, Any]) -> int:
    """Daily: disclosure-deadline reminders."""
    return await defer_for_every_department(ctx, "disclosure.remind_due", day=dt.date.today().isoformat())


async def remind_invitations(ctx: dict[str, Any]) -> int:
    """Daily: joint-plan invitation reminders."""
    return await defer_for_every_department(ctx, "federation.remind_invitations", day=dt.date.today().isoformat())


async def remind_monthly_reports(ctx: dict[str, Any]) -> int:
    """On the 20th: monthly-report reminders."""
    return await defer_for_every_department(ctx, "reporting.remind_monthly", day=dt.date.today().isoformat())


async def startup(ctx: dict[str, Any]) -> None:
    load_job_modules()
    settings: Settings = ctx.get("settings") or get_settings()
    runtime = await Runtime.start(settings, with_redis=False)
    runtime.arq = ctx["redis"]
    ctx["runtime"] = runtime


async def shutdown(ctx: dict[str, Any]) -> None:
    runtime: Runtime | None = ctx.get("runtime")
    if runtime is not None:
        runtime.arq = None  # owned by arq
        await runtime.close()


def worker_settings(settings: Settings) -> dict[str, Any]:
    return {
        "functions": [spotcheck_run_job],
        "cron_jobs": [
            cron(sweep_outbox, second={0, 30}, run_at_startup=True),
            cron(resync_departments, hour={3}, minute={17}, second={0}, unique=True),
            cron(remind_results_due, hour={8}, minute={5}, second={0}, unique=True),
            cron(remind_invitations, hour={8}, minute={25}, second={0}, unique=True),
            cron(remind_monthly_reports, day={20}, hour={8}, minute={15}, second={0}, unique=True),
        ],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": RedisSettings.from_dsn(settings.redis.url),
        "max_tries": 5,
        "job_timeout": 600,
        "ctx": {"settings": settings},
        "handle_signals": True,
    }
