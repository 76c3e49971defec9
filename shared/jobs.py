"""Background jobs on arq, with a transactional outbox.

* ``defer(session, "name", tenant_id, **kwargs)`` writes an outbox row in the caller's transaction. Rolled back with
  it, the job never exists; committed, it is enqueued right after the commit (``flush``) with the outbox id as arq's
  job id, so a duplicate enqueue is a no-op.
* A sweeper (cron in every worker) re-enqueues committed rows that never reached Redis (Redis down at commit time,
  process killed between commit and enqueue).
* Job functions are registered with ``@tenant_job("name")``. They receive ids only and reload their data in a
  session scoped to the job's department. The wrapper marks the outbox row completed *in the same transaction* as the
  work: a retried or duplicated job finds it completed and does nothing.
* A job that keeps failing is marked failed after ``SPOTCHECK_JOB_MAX_ATTEMPTS`` (``shared.worker``); its optional
  ``give_up(session, tenant_id, **kwargs)`` step then runs in the job's scope, to leave its domain state honest (a
  task is put back, an import batch is marked failed) and tell the people waiting for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

import structlog
from arq.connections import ArqRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.settings import Settings

log = structlog.get_logger()

JobFn = Callable[..., Awaitable[Any]]
_SETTINGS: ContextVar[Settings | None] = ContextVar("spotcheck_job_settings", default=None)
REGISTRY: dict[str, JobFn] = {}
GIVE_UP: dict[str, JobFn] = {}
_DEFERRED = "spotcheck_deferred_jobs"
# The scope in which ``job_outbox`` rows of every department are visible (its ``job_sweeper`` policy): the sweeper
# and the operators' ``spotcheck jobs``, nobody else.
SWEEPER_SCOPE_SQL = "SELECT set_config('app.job_sweeper', 'on', true)"


def tenant_job(name: str, *, give_up: JobFn | None = None) -> Callable[[JobFn], JobFn]:
    """Register ``fn(session, tenant_id, **kwargs)`` as the job ``name``; it runs inside the job's department scope.
    ``give_up`` (same arguments) runs once if the job is marked failed."""

    def register(fn: JobFn) -> JobFn:
        if name in REGISTRY and REGISTRY[name] is not fn:
            raise RuntimeError(f"job {name!r} registered twice")
        REGISTRY[name] = fn
        if give_up is not None:
            GIVE_UP[name] = give_up
        return fn

    return register


async def defer(session: AsyncSession, name: str, tenant_id: uuid.UUID, **kwargs: Any) -> uuid.UUID:
    if name not in REGISTRY:
        raise KeyError(f"unknown job {name!r}")
    job_id = uuid.uuid4()
    await session.execute(
        text(
            "INSERT INTO job_outbox (id, tenant_id, function, kwargs) "
            "VALUES (:id, :tenant_id, :function, CAST(:kwargs AS jsonb))"
        ),
        {"id": job_id, "tenant_id": tenant_id, "function": name, "kwargs": _json(kwargs)},
    )
    session.info.setdefault(_DEFERRED, []).append((job_id, tenant_id, name, kwargs))
    return job_id


def take_deferred(session: AsyncSession) -> list[tuple[uuid.UUID, uuid.UUID, str, dict[str, Any]]]:
    deferred: list[tuple[uuid.UUID, uuid.UUID, str, dict[str, Any]]] = session.info.pop(_DEFERRED, [])
    return deferred


def drop_deferred(session: AsyncSession) -> None:
    session.info.pop(_DEFERRED, None)


async def enqueue(
    arq: ArqRedis | None, job_id: uuid.UUID, tenant_id: uuid.UUID, name: str, kwargs: dict[str, Any]
) -> bool:
    if arq is None:
        return False
    try:
        await arq.enqueue_job(
            "spotcheck_run_job", str(job_id), str(tenant_id), name, kwargs, _job_id=str(job_id)
        )
        return True
    except Exception as exc:  # Redis down: the sweeper will pick the row up later.
        log.warning("job.enqueue_failed", job_id=str(job_id), job=name, error=str(exc))
        return False


def _json(value: Any) -> str:
    import msgspec

    return msgspec.json.encode(value).decode()


def set_job_settings(settings: Settings) -> None:
    _SETTINGS.set(settings)


def job_settings() -> Settings:
    """The worker's settings, for jobs that call external services (Keycloak) rather than only the database."""
    settings = _SETTINGS.get()
    if settings is None:
        from shared.settings import get_settings

        return get_settings()
    return settings
