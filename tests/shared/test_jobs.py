"""Jobs: enqueued only after commit, dropped with a rollback, done once even when delivered twice."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from arq.worker import Worker
from sqlalchemy import text

from services.identity.provisioning import department_id
from shared import jobs
from shared.runtime import Runtime
from shared.tenancy import department_scope
from shared.worker import load_job_modules, spotcheck_run_job, sweep_outbox

XF = department_id("130528-xfjy")


async def _drain(runtime: Runtime) -> None:
    """Run a real arq worker in burst mode until the queue is empty."""
    assert runtime.arq is not None
    worker = Worker(
        functions=[spotcheck_run_job],  # type: ignore[list-item]
        redis_pool=runtime.arq,
        burst=True,
        poll_delay=0.05,
        ctx={"runtime": runtime},
        handle_signals=False,
    )
    try:
        await worker.main()
    finally:
        await worker.close()


async def _notifications(runtime: Runtime, key: str) -> int:
    async with runtime.unit_of_work(department_scope(XF, read_only=True)) as session:
        return (
            await session.execute(text("SELECT count(*) FROM notifications WHERE dedupe_key = :k"), {"k": key})
        ).scalar_one()


@pytest.fixture(autouse=True)
def _jobs_loaded() -> None:
    load_job_modules()


async def test_committed_job_runs_once(runtime: Runtime) -> None:
    key = f"test-{uuid.uuid4()}"
    async with runtime.unit_of_work(department_scope(XF)) as session:
        job_id = await jobs.defer(session, "shared.notify", XF, kind="test", title="提醒", dedupe_key=key)
    await _drain(runtime)
    assert await _notifications(runtime, key) == 1
    # A second delivery of the same job (retry, duplicate) finds it completed and does nothing.
    result = await spotcheck_run_job(
        {"runtime": runtime}, str(job_id), str(XF), "shared.notify",
        {"kind": "test", "title": "提醒", "dedupe_key": key + "-again"},
    )
    assert result.startswith("skipped")
    assert await _notifications(runtime, key + "-again") == 0


async def test_job_in_rolled_back_transaction_never_runs(runtime: Runtime) -> None:
    key = f"test-{uuid.uuid4()}"

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with runtime.unit_of_work(department_scope(XF)) as session:
            await jobs.defer(session, "shared.notify", XF, kind="test", title="不应出现", dedupe_key=key)
            raise Boom()
    await _drain(runtime)
    assert await _notifications(runtime, key) == 0
    async with runtime.unit_of_work(department_scope(XF, read_only=True)) as session:
        pending = (
            await session.execute(text("SELECT count(*) FROM job_outbox WHERE kwargs->>'dedupe_key' = :k"), {"k": key})
        ).scalar_one()
    assert pending == 0


async def test_sweeper_recovers_a_job_whose_enqueue_was_lost(runtime: Runtime) -> None:
    key = f"test-{uuid.uuid4()}"
    arq, runtime.arq = runtime.arq, None  # Redis unreachable at commit time
    try:
        async with runtime.unit_of_work(department_scope(XF)) as session:
            job_id = await jobs.defer(session, "shared.notify", XF, kind="test", title="补发", dedupe_key=key)
    finally:
        runtime.arq = arq
    await _drain(runtime)
    assert await _notifications(runtime, key) == 0
    async with runtime.db.sessionmaker() as session, session.begin():
        await session.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(XF)})
        await session.execute(
            text("UPDATE job_outbox SET created_at = now() - interval '1 minute' WHERE id = :id"), {"id": job_id}
        )
    ctx: dict[str, Any] = {"runtime": runtime}
    assert await sweep_outbox(ctx) >= 1
    await _drain(runtime)
    assert await _notifications(runtime, key) == 1


async def test_unknown_job_is_refused_at_defer_time(runtime: Runtime) -> None:
    with pytest.raises(KeyError):
        async with runtime.unit_of_work(department_scope(XF)) as session:
            await jobs.defer(session, "no.such.job", XF)
