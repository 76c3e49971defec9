"""Jobs: enqueued only after commit, dropped with a rollback, done once even when delivered twice, and marked failed
(never re-sent forever) when they keep failing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from typing import Any

import pytest
from arq import Retry
from arq.worker import Worker
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.provisioning import department_id
from shared import jobs, notifications
from shared.runtime import Runtime
from shared.tenancy import department_scope
from shared.worker import load_job_modules, spotcheck_run_job, sweep_outbox
from tests.support.stack import ROOT

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


async def _set_outbox(runtime: Runtime, job_id: uuid.UUID, assignments: str, **params: Any) -> None:
    """Move an outbox row's clock (or counters) as if time had passed; XF's scope, committed."""
    async with runtime.db.sessionmaker() as session, session.begin():
        await session.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(XF)})
        await session.execute(
            text(f"UPDATE job_outbox SET {assignments} WHERE id = :id"), {"id": job_id, **params}
        )


async def _notifications(runtime: Runtime, key: str) -> int:
    async with runtime.unit_of_work(department_scope(XF, read_only=True)) as session:
        return (
            await session.execute(
                text("SELECT count(*) FROM notifications WHERE dedupe_key = :k"), {"k": key}
            )
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
        {"runtime": runtime},
        str(job_id),
        str(XF),
        "shared.notify",
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
            await session.execute(
                text("SELECT count(*) FROM job_outbox WHERE kwargs->>'dedupe_key' = :k"), {"k": key}
            )
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
    await _set_outbox(runtime, job_id, "created_at = now() - interval '1 minute'")
    ctx: dict[str, Any] = {"runtime": runtime}
    assert await sweep_outbox(ctx) >= 1
    await _drain(runtime)
    assert await _notifications(runtime, key) == 1


async def test_unknown_job_is_refused_at_defer_time(runtime: Runtime) -> None:
    with pytest.raises(KeyError):
        async with runtime.unit_of_work(department_scope(XF)) as session:
            await jobs.defer(session, "no.such.job", XF)


# ---- a job that keeps failing ------------------------------------------------------------------------------------
FAILS = "test.always_fails"


async def _give_up(session: AsyncSession, tenant_id: uuid.UUID, *, key: str) -> None:
    await notifications.create(session, tenant_id, "test", "已放弃", dedupe_key=f"{key}-gave-up")


@jobs.tenant_job(FAILS, give_up=_give_up)
async def _always_fails(session: AsyncSession, tenant_id: uuid.UUID, *, key: str) -> None:
    await notifications.create(
        session, tenant_id, "test", "不应留下", dedupe_key=key
    )  # rolled back with the error
    raise RuntimeError(f"坏数据 {key}")


async def _outbox(runtime: Runtime, job_id: uuid.UUID) -> Any:
    async with runtime.unit_of_work(department_scope(XF, read_only=True)) as session:
        return (
            await session.execute(
                text("SELECT attempts, failed_at, last_error, enqueued_at FROM job_outbox WHERE id = :id"),
                {"id": job_id},
            )
        ).one()


async def _defer_failing(runtime: Runtime, key: str) -> uuid.UUID:
    arq, runtime.arq = runtime.arq, None  # run it by hand below, not through a worker
    try:
        async with runtime.unit_of_work(department_scope(XF)) as session:
            return await jobs.defer(session, FAILS, XF, key=key)
    finally:
        runtime.arq = arq


async def test_a_job_that_keeps_failing_ends_failed_and_is_never_resent(runtime: Runtime) -> None:
    key = f"fail-{uuid.uuid4()}"
    job_id = await _defer_failing(runtime, key)
    ctx: dict[str, Any] = {"runtime": runtime}
    limit = runtime.settings.jobs.max_attempts
    for attempt in range(1, limit):
        with pytest.raises(Retry):  # retried with back-off, counted
            await spotcheck_run_job(ctx, str(job_id), str(XF), FAILS, {"key": key})
        row = await _outbox(runtime, job_id)
        assert row.attempts == attempt and row.failed_at is None and f"坏数据 {key}" in row.last_error
    assert await _notifications(runtime, f"{key}-gave-up") == 0
    assert await spotcheck_run_job(ctx, str(job_id), str(XF), FAILS, {"key": key}) == "failed"
    row = await _outbox(runtime, job_id)
    assert row.attempts == limit and row.failed_at is not None and "RuntimeError: 坏数据" in row.last_error
    # The give-up step ran once, in the job's scope; the failed runs left nothing behind.
    assert await _notifications(runtime, f"{key}-gave-up") == 1
    assert await _notifications(runtime, key) == 0
    # A late duplicate delivery does nothing, and the sweeper does not send it again, however old it is.
    assert (await spotcheck_run_job(ctx, str(job_id), str(XF), FAILS, {"key": key})).startswith(
        "skipped: failed"
    )
    await _set_outbox(runtime, job_id, "created_at = now() - interval '1 day', enqueued_at = NULL")
    await sweep_outbox(ctx)
    row = await _outbox(runtime, job_id)
    assert row.enqueued_at is None and row.attempts == limit


async def test_a_job_resent_again_and_again_ends_failed(runtime: Runtime) -> None:
    """A job that never finishes (killed by its timeout, its worker lost) is re-sent by the sweeper; each re-send of
    a job that had started counts, and at the limit the job fails with its give-up step instead of being sent once
    more. A job that never started (a long queue) is re-sent without counting."""
    key = f"lost-{uuid.uuid4()}"
    job_id = await _defer_failing(runtime, key)
    limit, lost = runtime.settings.jobs.max_attempts, runtime.settings.jobs.timeout_seconds + 120
    await _set_outbox(
        runtime,
        job_id,
        "created_at = now() - make_interval(secs => :s), "
        "enqueued_at = now() - make_interval(secs => :s), attempts = :a",
        s=lost,
        a=limit - 2,
    )
    ctx: dict[str, Any] = {"runtime": runtime}
    await sweep_outbox(ctx)  # sent long ago, never started: re-sent, not counted
    row = await _outbox(runtime, job_id)
    assert row.attempts == limit - 2 and row.failed_at is None

    async def started_and_vanished() -> None:
        await _set_outbox(
            runtime,
            job_id,
            "enqueued_at = now() - make_interval(secs => :s), "
            "started_at = now() - make_interval(secs => :s) + interval '1 second'",
            s=lost,
        )

    await started_and_vanished()
    await sweep_outbox(ctx)  # started after it was sent, never finished: counted
    row = await _outbox(runtime, job_id)
    assert row.attempts == limit - 1 and row.failed_at is None and row.enqueued_at is not None
    await started_and_vanished()
    await sweep_outbox(ctx)  # the limit: failed, not re-sent
    row = await _outbox(runtime, job_id)
    assert row.attempts == limit and row.failed_at is not None and "多次重新派发" in row.last_error
    assert await _notifications(runtime, f"{key}-gave-up") == 1


def _cli(base_env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SPOTCHECK_")}, **base_env}
    return subprocess.run(
        [sys.executable, "-m", "shared.cli", "jobs", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_operators_list_and_retry_failed_jobs(runtime: Runtime, base_env: dict[str, str]) -> None:
    key = f"cli-{uuid.uuid4()}"
    job_id = await _defer_failing(runtime, key)
    ctx: dict[str, Any] = {"runtime": runtime}
    for _ in range(runtime.settings.jobs.max_attempts):
        with contextlib.suppress(Retry):
            await spotcheck_run_job(ctx, str(job_id), str(XF), FAILS, {"key": key})
    listed = await asyncio.to_thread(_cli, base_env)
    assert listed.returncode == 1, listed.stderr  # failed jobs: exit 1, for monitoring
    line = next(x for x in listed.stdout.splitlines() if str(job_id) in x)
    assert "130528-xfjy" in line and FAILS in line and "坏数据" in line

    bad = await asyncio.to_thread(_cli, base_env, "retry", "not-an-id")
    assert bad.returncode == 2 and "retry needs the id" in bad.stderr
    retried = await asyncio.to_thread(_cli, base_env, "retry", str(job_id))
    assert retried.returncode == 0, retried.stderr
    row = await _outbox(runtime, job_id)
    assert row.failed_at is None and row.attempts == 0 and row.last_error == "" and row.enqueued_at is None
    again = await asyncio.to_thread(_cli, base_env, "retry", str(job_id))
    assert again.returncode == 1 and "no failed job" in again.stderr
