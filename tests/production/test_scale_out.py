"""Scale-out on one machine: 2 API processes and 2 workers (the compose file's commands and variables) against one
PostgreSQL and one Redis. Concurrent draws, imports and reminder crons happen exactly once; a worker killed or
stopped mid-job loses nothing; an API stopped mid-request finishes the request.

Jobs and requests are stopped at a known point by holding, from the test, the lock the registry import takes (one
import per department and registry): the worker (or API) is then provably inside the job (or request) when it is
killed. ``SPOTCHECK_JOB_TIMEOUT_SECONDS`` is short here, so arq's in-progress mark of a killed job (timeout + 10 s)
expires within the test.
"""

from __future__ import annotations

import datetime as dt
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.runtime import Runtime
from tests.planning.conftest import SEED_TASK_2023001
from tests.production.conftest import (
    SCJG_ID,
    Client,
    Sql,
    advisory_lock,
    backend_waiting_on_lock,
    import_lock_key,
    local_deployment_env,
    wait_for,
)
from tests.registry.conftest import csv_bytes, object_row, uscc
from tests.support.cluster import Cluster, kill, start_cluster
from tests.support.stack import SSO, stop

JOB_TIMEOUT = 8  # arq keeps a started job "in progress" for this + 10 s
GRACE = 5  # SIGTERM: running jobs may finish for this long
REMINDER_LEAD = dt.timedelta(seconds=22)  # the daily reminder cron fires this long after the cluster starts
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def sql(db_urls: dict[str, str]) -> Sql:
    return Sql(db_urls["admin"])


def _reminder_time(lead: dt.timedelta) -> dt.datetime:
    return (dt.datetime.now() + lead).replace(microsecond=0)


def _drain_backlog(redis_url: str, limit: float = 240) -> None:
    """Jobs queued by earlier tests of the session (whose app ran without workers) wait in the shared Redis queue;
    the cluster's workers run them first. Let them, so the reminder test times its cron alone."""
    import redis

    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + limit
    quiet_since = None
    try:
        while time.monotonic() < deadline:
            due = client.zcount("arq:queue", "-inf", int(time.time() * 1000))
            if due == 0:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since > 1.5:
                    return
            else:
                quiet_since = None
            time.sleep(0.25)
    finally:
        client.close()


@pytest.fixture(scope="module")
def cluster(base_env: dict[str, str], sso: SSO, runtime: Runtime, service_dir: Path) -> Iterator[Cluster]:
    reminder_at = _reminder_time(REMINDER_LEAD)
    env = local_deployment_env(
        base_env,
        sso,
        SPOTCHECK_JOB_TIMEOUT_SECONDS=str(JOB_TIMEOUT),
        SPOTCHECK_JOB_SWEEP_SECONDS="5",
        SPOTCHECK_WORKER_SHUTDOWN_GRACE_SECONDS=str(GRACE),
        SPOTCHECK_REMINDER_TIME=reminder_at.time().isoformat(),
    )
    started = start_cluster(service_dir / "cluster", env)
    try:
        _drain_backlog(base_env["SPOTCHECK_REDIS_URL"])
        while dt.datetime.now() > reminder_at - dt.timedelta(seconds=8):
            # A slow start (a loaded machine): the workers would miss the cron time the reminder test waits for.
            # Start them again with a later one.
            for worker in started.workers:
                stop(worker.proc)
            reminder_at = _reminder_time(dt.timedelta(seconds=15))
            started.env["SPOTCHECK_REMINDER_TIME"] = reminder_at.time().isoformat()
            started.ensure_workers(2)
        started.info["reminder_at"] = reminder_at
        yield started
    finally:
        started.stop()


def race(*calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """Run the calls at the same instant, one thread each."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], httpx.Response]) -> None:
        barrier.wait()
        try:
            results[i] = call()
        except Exception as exc:  # reported by the assertion below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert all(isinstance(r, httpx.Response) for r in results), results
    return results


def _conflict(response: httpx.Response) -> None:
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "conflict" and error["field"] == "status" and error["message"], error


def test_one_task_announced_and_drawn_through_both_apis_at_once(cluster: Cluster, sso: SSO, sql: Sql) -> None:
    one, two = (Client(api.url, sso, "yjj-planner") for api in cluster.apis)
    plan = one.post("/api/plans", {"year": 2023, "kind": "本部门", "initiating_section": "zfjdg"}).json()
    task = two.post(f"/api/plans/{plan['id']}/tasks", SEED_TASK_2023001).json()
    assert one.post(f"/api/plans/{plan['id']}/publish").status_code == 200
    task_id = uuid.UUID(task["id"])

    announced = race(
        lambda: one.post(f"/api/tasks/{task_id}/announce", {}),
        lambda: two.post(f"/api/tasks/{task_id}/announce", {}),
    )
    assert sorted(r.status_code for r in announced) == [201, 409], [r.text for r in announced]
    _conflict(next(r for r in announced if r.status_code == 409))
    assert sql.value("SELECT count(*) FROM draws WHERE task_id = $1", task_id) == 1
    assert sql.value("SELECT count(*) FROM public_draws WHERE task_id = $1", task_id) == 1

    drawn = race(
        lambda: one.post(f"/api/tasks/{task_id}/draw", {"public_entropy": ""}),
        lambda: two.post(f"/api/tasks/{task_id}/draw", {"public_entropy": ""}),
    )
    assert sorted(r.status_code for r in drawn) == [200, 409], [r.text for r in drawn]
    _conflict(next(r for r in drawn if r.status_code == 409))
    won = next(r for r in drawn if r.status_code == 200).json()
    draw_id = uuid.UUID(won["id"])
    row = sql.fetch("SELECT status, selected_count FROM draws WHERE id = $1", draw_id)[0]
    assert row["status"] == "已抽取" and row["selected_count"] == won["selected_count"] > 0
    assert (
        sql.value("SELECT count(*) FROM draw_selected WHERE draw_id = $1", draw_id) == row["selected_count"]
    )
    actions = sql.fetch(
        "SELECT action, count(*) AS n FROM audit_events WHERE entity_type = 'task' AND entity_id = $1 "
        "AND action LIKE 'draw.%' GROUP BY action",
        str(task_id),
    )
    assert {r["action"]: r["n"] for r in actions} == {"draw.announce": 1, "draw.run": 1}


def _import(client: Client, rows: list[dict[str, str]], name: str = "对象.csv") -> httpx.Response:
    return client.post(
        "/api/registry/objects/imports", files={"file": (name, csv_bytes("objects", rows), "text/csv")}
    )


def _rows(start: int, count: int, **overrides: str) -> list[dict[str, str]]:
    return [object_row(start + i, industry="工贸", tags="一般单位", **overrides) for i in range(count)]


def _objects(sql: Sql, rows: list[dict[str, str]]) -> dict[str, str]:
    found = sql.fetch(
        "SELECT uscc, name FROM registry_objects WHERE tenant_id = $1 AND uscc = ANY($2::text[])",
        SCJG_ID,
        [r["uscc"] for r in rows],
    )
    return {r["uscc"]: r["name"] for r in found}


def test_concurrent_imports_are_all_or_nothing_and_serialised(cluster: Cluster, sso: SSO, sql: Sql) -> None:
    one, two = (Client(api.url, sso, "scjg-admin") for api in cluster.apis)

    # The same file submitted twice at once, through both APIs: one import adds the rows, the other finds them
    # unchanged; the registry holds each row once.
    same = _rows(3_100_000, 120)
    first, second = race(lambda: _import(one, same), lambda: _import(two, same))
    assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
    counts = sorted((r.json()["added"], r.json()["unchanged"]) for r in (first, second))
    assert counts == [(0, 120), (120, 0)], counts
    assert len(_objects(sql, same)) == 120

    # Two overlapping files racing: the result is one import after the other, never a mix of both.
    a = _rows(3_100_200, 100, name="甲文件企业有限公司")
    b = _rows(3_100_250, 100, name="乙文件企业有限公司")
    ra, rb = race(lambda: _import(one, a), lambda: _import(two, b))
    assert (ra.status_code, rb.status_code) == (200, 200), (ra.text, rb.text)
    overlap = {r["uscc"] for r in a} & {r["uscc"] for r in b}
    names = {n for u, n in _objects(sql, a + b).items() if u in overlap}
    assert len(overlap) == 50 and len(names) == 1, names
    b_last = names == {"乙文件企业有限公司"}
    later, earlier = (rb, ra) if b_last else (ra, rb)
    assert (earlier.json()["added"], later.json()["added"], later.json()["updated"]) == (100, 50, 50)
    assert len(_objects(sql, a + b)) == 150

    # A good and a bad file racing: the bad one stores nothing at all, the good one everything.
    good = _rows(3_100_400, 60)
    bad = _rows(3_100_500, 60)
    bad[30]["risk_class"] = "Z"
    rgood, rbad = race(lambda: _import(one, good), lambda: _import(two, bad))
    assert rgood.status_code == 200 and rgood.json()["added"] == 60, rgood.text
    assert rbad.status_code == 422 and rbad.json()["error"]["error_count"] == 1, rbad.text
    assert len(_objects(sql, good)) == 60 and _objects(sql, bad) == {}
    batch_ids = [str(r.json()["id"]) for r in (first, second, ra, rb, rgood)]
    audited = sql.value(
        "SELECT count(*) FROM audit_events WHERE action = 'registry.import' AND entity_id = ANY($1)",
        batch_ids,
    )
    assert audited == 5


def test_reminder_cron_of_both_workers_runs_once(cluster: Cluster, sql: Sql) -> None:
    """Both workers schedule the daily reminder cron; it fires once and fans out one job per department, each run
    once."""
    reminder_at: dt.datetime = cluster.info["reminder_at"]
    assert len(cluster.live_workers()) == 2
    assert dt.datetime.now() < reminder_at, (
        "the cluster took too long to start for the reminder time it was given"
    )
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    today = reminder_at.date().isoformat()
    departments = sql.value("SELECT count(*) FROM departments WHERE active")

    def fanned_out() -> Any:
        row = sql.fetch(
            "SELECT count(*) AS jobs, count(completed_at) AS done, coalesce(sum(started_count), 0) AS runs, "
            "count(DISTINCT tenant_id) AS tenants FROM job_outbox WHERE function = 'inspection.remind_due' "
            "AND kwargs->>'day' = $1 AND created_at >= $2",
            today,
            since,
        )[0]
        return row if row["jobs"] >= departments and row["done"] == row["jobs"] else None

    timeout = (reminder_at - dt.datetime.now()).total_seconds() + 30
    try:
        row = wait_for(
            "the reminder cron to fire and its jobs to complete", fanned_out, timeout, interval=0.5
        )
    except AssertionError as exc:
        state = sql.fetch(
            "SELECT count(*) AS jobs, count(completed_at) AS done, coalesce(sum(started_count), 0) AS runs "
            "FROM job_outbox WHERE function = 'inspection.remind_due' AND kwargs->>'day' = $1 AND created_at >= $2",
            today,
            since,
        )[0]
        raise AssertionError(f"{exc}: {dict(state)} of {departments} departments") from None
    time.sleep(1.5)  # a second firing (the other worker's) would have added rows by now
    row = fanned_out()
    assert (row["jobs"], row["tenants"], row["done"], row["runs"]) == (departments,) * 4, dict(row)
    started = sum(w.log_text().count("→ cron:remind_results_due") for w in cluster.workers)
    assert started == 1


def _big_file(start: int, rows: int = 3000) -> tuple[list[dict[str, str]], bytes]:
    """Over the 4 MiB job threshold with few rows (long names and addresses): a background import job."""
    made = [
        object_row(
            start + i,
            industry="工贸",
            tags="一般单位",
            name=f"规模测试企业{start + i}" + "有限公司" * 38,
            address="河北省邢台市宁晋县凤凰镇" + "工业园区" * 68,
        )
        for i in range(rows)
    ]
    data = csv_bytes("objects", made)
    assert len(data) > 4 * MiB
    return made, data


def _queue_big_import(client: Client, data: bytes) -> str:
    queued = client.post("/api/registry/objects/imports", files={"file": ("大文件.csv", data, "text/csv")})
    assert queued.status_code == 202, queued.text
    return str(queued.json()["id"])


def _job_of(sql: Sql, batch_id: str) -> Any:
    return sql.fetch(
        "SELECT id, completed_at, started_count FROM job_outbox WHERE kwargs->>'batch_id' = $1", batch_id
    )


def _assert_imported_once(sql: Sql, batch_id: str, rows: list[dict[str, str]]) -> uuid.UUID:
    batch = sql.fetch("SELECT status, added FROM import_batches WHERE id = $1", uuid.UUID(batch_id))[0]
    assert (batch["status"], batch["added"]) == ("succeeded", len(rows)), dict(batch)
    (job,) = _job_of(sql, batch_id)
    assert job["completed_at"] is not None and job["started_count"] == 1
    assert len(_objects(sql, rows)) == len(rows)
    assert (
        sql.value(
            "SELECT count(*) FROM audit_events WHERE action = 'registry.import' AND entity_id = $1", batch_id
        )
        == 1
    )
    return uuid.UUID(str(job["id"]))


def _succeeded(sql: Sql, batch_id: str) -> bool:
    return sql.value("SELECT status FROM import_batches WHERE id = $1", uuid.UUID(batch_id)) == "succeeded"


def _waiting_process(sql: Sql, exclude: int | None = None) -> int | None:
    found = backend_waiting_on_lock(sql)
    return found[1] if found and found[1] != exclude else None


def test_worker_killed_mid_job_the_job_is_retried_by_the_other_and_done_once(
    cluster: Cluster, sso: SSO, sql: Sql, db_urls: dict[str, str]
) -> None:
    cluster.ensure_workers(2)
    admin = Client(cluster.apis[0].url, sso, "scjg-admin")
    rows, data = _big_file(3_200_000)
    with advisory_lock(db_urls["admin"], *import_lock_key(SCJG_ID, "objects")) as release:
        batch_id = _queue_big_import(admin, data)
        pid = wait_for("a worker to be inside the import job", lambda: _waiting_process(sql), 30)
        victim = cluster.worker_by_pid(pid)
        assert sql.value("SELECT status FROM import_batches WHERE id = $1", uuid.UUID(batch_id)) == "running"
        kill(victim.proc, signal.SIGKILL)
        assert victim.proc.wait(10) == -signal.SIGKILL
        release()
    # The killed run's transaction is gone with its connection: nothing of the file is in the registry yet.
    (job,) = _job_of(sql, batch_id)
    assert job["completed_at"] is None
    wait_for("the other worker to retry the job", lambda: _succeeded(sql, batch_id), JOB_TIMEOUT + 10 + 40)
    job_id = _assert_imported_once(sql, batch_id, rows)
    (survivor,) = cluster.live_workers()
    started = [line for line in survivor.log_text().splitlines() if f"→ {job_id}:spotcheck_run_job" in line]
    assert len(started) == 1 and "try=2" in started[0], started


def test_worker_sigterm_lets_the_running_job_finish(
    cluster: Cluster, sso: SSO, sql: Sql, db_urls: dict[str, str]
) -> None:
    cluster.ensure_workers(1)
    admin = Client(cluster.apis[1].url, sso, "scjg-admin")
    rows, data = _big_file(3_300_000)
    with advisory_lock(db_urls["admin"], *import_lock_key(SCJG_ID, "objects")) as release:
        batch_id = _queue_big_import(admin, data)
        pid = wait_for("a worker to be inside the import job", lambda: _waiting_process(sql), 30)
        stopping = cluster.worker_by_pid(pid)
        kill(stopping.proc, signal.SIGTERM)
        time.sleep(1.0)
        assert stopping.proc.poll() is None, "the worker must wait for its running job"
        release()
    assert stopping.proc.wait(GRACE + 20) == 0
    job_id = _assert_imported_once(sql, batch_id, rows)
    assert f"← {job_id}:spotcheck_run_job" in stopping.log_text()
    assert all(
        f"{job_id}:spotcheck_run_job" not in w.log_text() for w in cluster.workers if w is not stopping
    )


def test_worker_sigterm_past_the_grace_requeues_the_job_for_the_other_worker(
    cluster: Cluster, sso: SSO, sql: Sql, db_urls: dict[str, str]
) -> None:
    cluster.ensure_workers(2)
    admin = Client(cluster.apis[0].url, sso, "scjg-admin")
    rows, data = _big_file(3_400_000)
    with advisory_lock(db_urls["admin"], *import_lock_key(SCJG_ID, "objects")) as release:
        batch_id = _queue_big_import(admin, data)
        pid = wait_for("a worker to be inside the import job", lambda: _waiting_process(sql), 30)
        stopping = cluster.worker_by_pid(pid)
        kill(stopping.proc, signal.SIGTERM)
        # The job outlives the grace: it is cancelled (rolled back) and re-queued at once, and the other worker
        # takes it up (and waits for the same lock) long before arq's in-progress mark would have expired.
        assert stopping.proc.wait(GRACE + 20) == 0
        other = wait_for(
            "the other worker to take the job up", lambda: _waiting_process(sql, exclude=pid), 15
        )
        assert other in [w.pid for w in cluster.workers if w is not stopping]
        release()
    wait_for("the re-queued job to complete", lambda: _succeeded(sql, batch_id), 40)
    job_id = _assert_imported_once(sql, batch_id, rows)
    assert "cancelled, will be run again" in stopping.log_text()
    survivor = cluster.worker_by_pid(other)
    assert f"← {job_id}:spotcheck_run_job" in survivor.log_text()


def _refuses_connections(url: str) -> bool:
    try:
        httpx.get(f"{url}/health", timeout=1)
    except httpx.ConnectError:
        return True
    return False


def test_api_sigterm_lets_the_request_in_flight_finish(
    cluster: Cluster, sso: SSO, sql: Sql, db_urls: dict[str, str]
) -> None:
    api = cluster.apis[1]
    admin = Client(api.url, sso, "scjg-admin")
    rows = _rows(3_500_000, 40)
    answer: dict[str, Any] = {}
    with advisory_lock(db_urls["admin"], *import_lock_key(SCJG_ID, "objects")) as release:
        request = threading.Thread(target=lambda: answer.update(response=_import(admin, rows)))
        request.start()
        pid = wait_for("the request to be inside the import", lambda: _waiting_process(sql), 30)
        assert pid == api.proc.pid
        kill(api.proc, signal.SIGTERM)
        wait_for("the stopping API to refuse new connections", lambda: _refuses_connections(api.url), 10)
        assert api.proc.poll() is None, "the API must wait for the request in flight"
        release()
    request.join(30)
    response = answer["response"]
    assert response.status_code == 200 and response.json()["added"] == 40, response.text
    # uvicorn shuts down gracefully, then re-raises the signal it caught: the process ends "by SIGTERM".
    assert api.proc.wait(25) in (0, -signal.SIGTERM)
    assert len(_objects(sql, rows)) == 40
    # The other API process still serves.
    assert (
        Client(cluster.apis[0].url, sso, "scjg-admin")
        .get("/api/registry/objects", params={"uscc": uscc(3_500_000)})
        .json()["total"]
        == 1
    )
