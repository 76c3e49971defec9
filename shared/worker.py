"""`spotcheck worker`: the arq worker. One generic entry point runs every registered tenant job exactly once.

Any number of workers may run against one Redis and one PostgreSQL:

* a job is marked done in the same transaction as its work (``job_outbox``), so a duplicate or retried delivery
  does nothing the second time;
* a worker killed mid-job leaves the job in arq's queue; another worker retries it once arq's in-progress mark
  expires (``SPOTCHECK_JOB_TIMEOUT_SECONDS`` + 10 s); the killed run's transaction is rolled back by PostgreSQL;
* on SIGTERM a worker takes no new job and lets running ones finish for ``SPOTCHECK_WORKER_SHUTDOWN_GRACE_SECONDS``;
  what is still running then is cancelled (rolled back) and re-queued at once for another worker;
* PostgreSQL or Redis unreachable: the job is retried later (arq ``Retry``), the worker's Redis connection retries
  with back-off instead of the process exiting, and the sweeper re-enqueues whatever never reached Redis;
* a job that raises is retried with back-off; after ``SPOTCHECK_JOB_MAX_ATTEMPTS`` failed runs (or re-sends by the
  sweeper of a job that never finished: timeouts, killed workers) it is marked failed with its last error, its
  give-up step runs, and nothing re-sends it until an operator says so (``spotcheck jobs retry``);
* cron jobs are ``unique``: every worker schedules them with the same job id, arq runs each firing once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import uuid
from typing import Any, TypedDict

import structlog
from arq import Retry, cron, func
from arq.connections import RedisSettings
from redis.asyncio.retry import Retry as RedisRetry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import text

from shared import jobs
from shared.errors import is_unavailable
from shared.runtime import Runtime
from shared.settings import Settings, get_settings
from shared.tenancy import system_scope

log = structlog.get_logger()

# Modules whose import registers jobs with @tenant_job.
JOB_MODULES = (
    "shared.notifications",
    "services.identity.jobs",
    "services.planning.jobs",
    "services.registry.jobs",
    "services.inspection.jobs",
    "services.reporting.jobs",
    "services.federation.jobs",
)


def load_job_modules() -> None:
    for module in JOB_MODULES:
        importlib.import_module(module)


async def spotcheck_run_job(
    ctx: dict[str, Any], job_id: str, tenant_id: str, name: str, kwargs: dict[str, Any]
) -> str:
    try:
        return await _run_job(ctx, job_id, tenant_id, name, kwargs)
    except Exception as exc:
        if is_unavailable(exc):
            # PostgreSQL or Redis is down or restarting: nothing was committed; try again a little later.
            tries = int(ctx.get("job_try") or 1)
            log.warning(
                "job.unavailable", job=name, job_id=job_id, tries=tries, error=f"{type(exc).__name__}: {exc}"
            )
            raise Retry(defer=min(5 * tries, 60)) from exc
        error = f"{type(exc).__name__}: {exc}"
        attempts = await record_failure(
            ctx["runtime"], uuid.UUID(job_id), uuid.UUID(tenant_id), name, kwargs, error
        )
        if attempts is None:
            log.error("job.failed", job=name, job_id=job_id, tenant_id=tenant_id, error=error, exc_info=exc)
            return "failed"
        log.warning("job.error", job=name, job_id=job_id, attempts=attempts, error=error, exc_info=exc)
        raise Retry(defer=min(30 * attempts, 300)) from exc


async def record_failure(
    runtime: Runtime, job_id: uuid.UUID, tenant_id: uuid.UUID, name: str, kwargs: dict[str, Any], error: str
) -> int | None:
    """Count one failed attempt (the job's own transaction has rolled back). Returns the attempts so far, or None
    when this one was the last: the job is now failed and its give-up step has run, in the same transaction."""
    limit = runtime.settings.jobs.max_attempts
    async with runtime.unit_of_work(system_scope(tenant_id)) as session:
        row = (
            await session.execute(
                text(
                    "UPDATE job_outbox SET attempts = attempts + 1, last_error = left(:e, 2000), "
                    "failed_at = CASE WHEN attempts + 1 >= :max THEN now() END "
                    "WHERE id = :id AND completed_at IS NULL AND failed_at IS NULL RETURNING attempts, failed_at"
                ),
                {"e": error, "max": limit, "id": job_id},
            )
        ).first()
        if row is None:  # completed or failed meanwhile (a duplicate delivery)
            return 0
        if row.failed_at is None:
            return int(row.attempts)
        give_up = jobs.GIVE_UP.get(name)
        if give_up is not None:
            await give_up(session, tenant_id, **kwargs)
    return None


async def _run_job(
    ctx: dict[str, Any], job_id: str, tenant_id: str, name: str, kwargs: dict[str, Any]
) -> str:
    runtime: Runtime = ctx["runtime"]
    jobs.set_job_settings(runtime.settings)
    fn = jobs.REGISTRY.get(name)
    if fn is None:
        raise RuntimeError(f"unknown job {name!r}")
    async with runtime.unit_of_work(system_scope(uuid.UUID(tenant_id))) as session:
        # Committed at once: if this run then dies without a trace (timeout, killed worker), the sweeper can tell a
        # job that started and vanished from one still waiting in the queue.
        await session.execute(
            text("UPDATE job_outbox SET started_at = now() WHERE id = :id AND completed_at IS NULL"),
            {"id": uuid.UUID(job_id)},
        )
    async with runtime.unit_of_work(system_scope(uuid.UUID(tenant_id))) as session:
        # Row lock: a duplicate run of the same job waits here, then sees it completed and does nothing.
        claimed = (
            await session.execute(
                text("SELECT failed_at FROM job_outbox WHERE id = :id AND completed_at IS NULL FOR UPDATE"),
                {"id": uuid.UUID(job_id)},
            )
        ).first()
        if claimed is None:
            return "skipped: already completed"
        if claimed.failed_at is not None:
            return "skipped: failed (spotcheck jobs retry)"
        await fn(session, uuid.UUID(tenant_id), **kwargs)
        await session.execute(
            text(
                "UPDATE job_outbox SET completed_at = now(), started_count = started_count + 1 WHERE id = :id"
            ),
            {"id": uuid.UUID(job_id)},
        )
    log.info("job.completed", job=name, job_id=job_id, tenant_id=tenant_id)
    return "completed"


async def sweep_outbox(ctx: dict[str, Any]) -> int:
    """Re-enqueue committed jobs that never reached Redis (older than one sweep interval), and jobs enqueued long
    enough ago that they must have been lost with Redis, timed out or died with their worker (older than the job
    timeout plus a minute; re-enqueueing a job arq still holds is a no-op, its id being the outbox id). The re-send of
    a job that had started since it was last sent counts as an attempt: a job that never finishes is marked failed
    like one that keeps raising (one still waiting in a long queue is not)."""
    runtime: Runtime = ctx["runtime"]
    timing = runtime.settings.jobs
    exhausted: list[Any] = []
    async with runtime.db.sessionmaker() as session, session.begin():
        await session.execute(text(jobs.SWEEPER_SCOPE_SQL))
        rows = (
            await session.execute(
                text(
                    "SELECT id, tenant_id, function, kwargs, attempts, "
                    "enqueued_at IS NOT NULL AND started_at >= enqueued_at AS resend "
                    "FROM job_outbox WHERE completed_at IS NULL AND failed_at IS NULL "
                    "AND created_at < now() - make_interval(secs => :fresh) "
                    "AND (enqueued_at IS NULL OR enqueued_at < now() - make_interval(secs => :lost)) "
                    "ORDER BY created_at LIMIT 500 FOR UPDATE SKIP LOCKED"
                ),
                {"fresh": timing.sweep_seconds, "lost": timing.timeout_seconds + 60},
            )
        ).all()
        for row in rows:
            if row.resend and row.attempts + 1 >= timing.max_attempts:
                exhausted.append(row)
                continue
            if await jobs.enqueue(runtime.arq, row.id, row.tenant_id, row.function, row.kwargs):
                await session.execute(
                    text(
                        "UPDATE job_outbox SET enqueued_at = now(), attempts = attempts + :n WHERE id = :id"
                    ),
                    {"id": row.id, "n": 1 if row.resend else 0},
                )
    for row in exhausted:
        await record_failure(
            runtime,
            row.id,
            row.tenant_id,
            row.function,
            row.kwargs,
            "多次重新派发仍未完成（超时或工作进程中止）",
        )
        log.error(
            "job.failed", job=row.function, job_id=str(row.id), tenant_id=str(row.tenant_id), reason="resent"
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
    return await defer_for_every_department(ctx, "inspection.remind_due", day=dt.date.today().isoformat())


async def remind_invitations(ctx: dict[str, Any]) -> int:
    """Daily: joint-plan invitation reminders."""
    return await defer_for_every_department(
        ctx, "federation.remind_invitations", day=dt.date.today().isoformat()
    )


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


class CronTimes(TypedDict, total=False):
    """The time fields of an arq ``cron`` schedule (spread into its keyword arguments)."""

    hour: set[int]
    minute: set[int]
    second: set[int]


def every(seconds: int) -> CronTimes:
    """A cron schedule firing every ``seconds`` (rounded to whole minutes above one minute)."""
    if seconds < 60:
        return {"second": set(range(0, 60, seconds))}
    return {"minute": set(range(0, 60, max(1, min(seconds // 60, 60)))), "second": {0}}


def daily_at(time: dt.time, plus_minutes: int = 0) -> CronTimes:
    total = (time.hour * 3600 + time.minute * 60 + time.second + plus_minutes * 60) % 86400
    return {"hour": {total // 3600}, "minute": {total // 60 % 60}, "second": {total % 60}}


def redis_settings(url: str) -> RedisSettings:
    """The worker's Redis connection: a Redis restart makes commands wait and retry with back-off (about five
    minutes in all) instead of ending the process; start-up waits for Redis the same way."""
    return dataclasses.replace(
        RedisSettings.from_dsn(url),
        conn_timeout=2,
        conn_retries=60,
        conn_retry_delay=5,
        retry_on_error=[RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError],
        retry=RedisRetry(ExponentialBackoff(cap=5.0, base=0.2), retries=60),
    )


def worker_settings(settings: Settings) -> dict[str, Any]:
    timing = settings.jobs
    return {
        # No stored results: nothing reads them, and a stored result would block the sweeper from re-enqueueing a
        # job that failed in arq under the same id (cron jobs keep theirs: it makes each firing run once).
        "functions": [func(spotcheck_run_job, name="spotcheck_run_job", keep_result=0)],
        "cron_jobs": [
            cron(sweep_outbox, **every(timing.sweep_seconds), run_at_startup=True),
            # A unique cron runs once per firing only while its result key exists: with arq's default
            # (keep_result=0) a worker whose scheduler is late (a loaded machine) enqueues the same firing again
            # after the first run ended. An hour of result keeps every late worker out.
            cron(resync_departments, hour={3}, minute={17}, second={0}, unique=True, keep_result=3600),
            cron(remind_results_due, **daily_at(timing.reminder_time), unique=True, keep_result=3600),
            cron(remind_invitations, **daily_at(timing.reminder_time, 20), unique=True, keep_result=3600),
            cron(
                remind_monthly_reports,
                day={20},
                **daily_at(timing.reminder_time, 10),
                unique=True,
                keep_result=3600,
            ),
        ],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": redis_settings(settings.redis.url),
        # Our own count (SPOTCHECK_JOB_MAX_ATTEMPTS) decides when a job has failed; arq's only has to outlast it
        # and the retries while PostgreSQL or Redis is restarting.
        "max_tries": timing.max_attempts + 10,
        "job_timeout": timing.timeout_seconds,
        # SIGTERM: stop taking jobs, let running ones finish for this long, then cancel and re-queue them.
        "job_completion_wait": timing.shutdown_grace_seconds,
        "ctx": {"settings": settings},
        "handle_signals": True,
    }
