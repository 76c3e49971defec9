"""PostgreSQL and then Redis restarted under load, on a PostgreSQL and Redis of this module's own (the session-wide
ones stay up for the other tests), with an API process and a worker started as the deployment starts them.

While a server is down: every request is answered within a bounded time, either normally or with a clean 503 JSON
(never a 500, never a hang); ``/ready`` says which server is missing. Afterwards the service recovers by itself
(pools reconnect, the worker carries on), every acknowledged write is stored exactly once, and a job committed while
Redis was down runs once when it is back.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.demo import seed
from devtools.embedded import EmbeddedPostgres, EmbeddedRedis
from shared import migrate
from shared.runtime import Runtime
from shared.settings import load_settings
from tests.planning.conftest import SEED_TASK_2023001
from tests.production.conftest import Client, Sql, local_deployment_env, wait_for
from tests.registry.conftest import uscc
from tests.support.cluster import Cluster, start_cluster
from tests.support.services import RUNTIME_PASSWORD, RUNTIME_ROLE, in_thread, run
from tests.support.stack import SSO

REQUEST_TIMEOUT = 10.0  # a request still unanswered after this long counts as a hang
WRITERS, SEARCHERS = 2, 2


@dataclass
class FaultStack:
    pg: EmbeddedPostgres
    redis: EmbeddedRedis
    sql: Sql
    cluster: Cluster

    @property
    def url(self) -> str:
        return self.cluster.apis[0].url


@pytest.fixture(scope="module")
def stack(sso: SSO, service_dir: Path) -> Iterator[FaultStack]:
    base = service_dir / "faults"
    pg = EmbeddedPostgres(base / "postgres").start()
    redis = EmbeddedRedis(base / "redis").start()
    cluster = None
    try:
        run(pg.ensure_database, "spotcheck")
        admin_url = pg.url("spotcheck")
        env = local_deployment_env(
            {
                "SPOTCHECK_DATABASE_URL": pg.url("spotcheck", RUNTIME_ROLE, RUNTIME_PASSWORD),
                "SPOTCHECK_ADMIN_DATABASE_URL": admin_url,
                "SPOTCHECK_REDIS_URL": redis.url,
            },
            sso,
            SPOTCHECK_JOB_SWEEP_SECONDS="2",
            SPOTCHECK_PUBLIC_SEARCH_PER_MINUTE="0",
            SPOTCHECK_LARGE_DRAW_THRESHOLD="0",  # every announcement is a background job
        )
        in_thread(migrate.upgrade, admin_url, env["SPOTCHECK_DATABASE_URL"])

        async def load_demo() -> None:
            runtime = await Runtime.start(load_settings(env), with_redis=False)
            try:
                await seed.load(admin_url, runtime)
            finally:
                await runtime.close()

        run(load_demo)
        cluster = start_cluster(base / "processes", env, apis=1, workers=1)
        yield FaultStack(pg, redis, Sql(admin_url), cluster)
    finally:
        if cluster is not None:
            cluster.stop()
        redis.stop()
        pg.stop()


@dataclass
class Attempt:
    kind: str  # "write" | "search"
    key: str
    started: float
    elapsed: float
    status: int | None = None  # None: no HTTP answer at all
    code: str | None = None  # the error code of a non-2xx JSON body
    failure: str | None = None  # what went wrong on the client side


class Load:
    """A small concurrent client loop: registry writes (scjg-admin) and public searches, every answer recorded."""

    def __init__(self, url: str, sso: SSO) -> None:
        self.url, self.sso = url, sso
        self.attempts: list[Attempt] = []
        self._stop = threading.Event()
        self._numbers = itertools.count(4_000_000)
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._loop, args=("write",)) for _ in range(WRITERS)]
        self._threads += [threading.Thread(target=self._loop, args=("search",)) for _ in range(SEARCHERS)]

    def _request(self, client: httpx.Client, kind: str) -> tuple[str, httpx.Response]:
        with self._lock:
            n = next(self._numbers)
        if (
            kind == "search"
        ):  # a new query each time: an answer cached by the API would not reach the database
            query = f"宁晋企业{n}"
            return query, client.get("/api/public/results", params={"q": query})
        code = uscc(n)
        body = {
            "uscc": code,
            "name": f"故障演练企业{code[-6:]}有限公司",
            "industry": "工贸",
            "tags": ["一般单位"],
            "risk_class": "C",
        }
        headers = {"Authorization": f"Bearer {self.sso.token('scjg-admin')}"}
        return code, client.post("/api/registry/objects", json=body, headers=headers)

    def _loop(self, kind: str) -> None:
        with httpx.Client(base_url=self.url, timeout=REQUEST_TIMEOUT) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                attempt = Attempt(kind, "", started, 0.0)
                try:
                    attempt.key, response = self._request(client, kind)
                    attempt.status = response.status_code
                    if response.status_code >= 300:
                        attempt.code = response.json()["error"]["code"]
                except Exception as exc:
                    attempt.failure = f"{type(exc).__name__}: {exc}"
                attempt.elapsed = time.monotonic() - started
                client.cookies.clear()
                with self._lock:
                    self.attempts.append(attempt)
                time.sleep(0.02)

    def start(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> list[Attempt]:
        self._stop.set()
        for thread in self._threads:
            thread.join(REQUEST_TIMEOUT + 5)
        return list(self.attempts)

    def between(self, start: float, end: float, kind: str) -> list[Attempt]:
        with self._lock:
            return [
                a
                for a in self.attempts
                if a.kind == kind and start <= a.started and a.started + a.elapsed <= end
            ]


def _server_errors(stack: FaultStack) -> str:
    """The API's log from its first unexpected error on: what the assertion needs to be diagnosed from CI output."""
    log = stack.cluster.apis[0].log
    text = log.read_text(errors="replace") if log.exists() else ""
    at = text.find("request.failed")
    return text[at : at + 6000] if at >= 0 else "no request.failed in the API log"


def _ready(url: str) -> tuple[int, dict[str, Any]]:
    response = httpx.get(f"{url}/ready", timeout=REQUEST_TIMEOUT)
    return response.status_code, response.json()


def test_postgres_then_redis_restarted_under_load(stack: FaultStack, sso: SSO) -> None:
    planner = Client(stack.url, sso, "yjj-planner")
    sso.token("scjg-admin")
    plan = planner.post("/api/plans", {"year": 2023, "kind": "本部门", "initiating_section": "zfjdg"}).json()
    task = planner.post(f"/api/plans/{plan['id']}/tasks", SEED_TASK_2023001).json()
    assert planner.post(f"/api/plans/{plan['id']}/publish").status_code == 200
    assert _ready(stack.url)[0] == 200

    load = Load(stack.url, sso).start()
    try:
        time.sleep(2)
        # ---- PostgreSQL down for a few seconds ----
        pg_down = time.monotonic()
        stack.pg.stop()
        status, body = _ready(stack.url)
        assert (
            status == 503
            and body["checks"]["postgres"].startswith("error")
            and body["checks"]["redis"] == "ok"
        )
        time.sleep(3)
        stack.pg.start()
        pg_up = time.monotonic()
        wait_for("/ready after PostgreSQL is back", lambda: _ready(stack.url)[0] == 200, 30, interval=0.2)
        recovered = time.monotonic()
        time.sleep(2)
        assert any(a.status == 201 for a in load.between(recovered, time.monotonic(), "write")), (
            "writes resumed"
        )

        # ---- Redis down for a few seconds; a background job is committed meanwhile ----
        stack.redis.stop()
        redis_down = time.monotonic()
        status, body = _ready(stack.url)
        assert (
            status == 503
            and body["checks"]["redis"].startswith("error")
            and body["checks"]["postgres"] == "ok"
        )
        queued = planner.post(f"/api/tasks/{task['id']}/announce", {})
        assert queued.status_code == 202, queued.text
        time.sleep(2)
        stack.redis.start()
        redis_up = time.monotonic()
        wait_for("/ready after Redis is back", lambda: _ready(stack.url)[0] == 200, 30, interval=0.2)
        time.sleep(1)
    finally:
        attempts = load.stop()

    summary = {
        kind: {
            str(status): sum(1 for a in attempts if a.kind == kind and a.status == status)
            for status in sorted({a.status for a in attempts if a.kind == kind}, key=str)
        }
        for kind in ("write", "search")
    }
    print(f"\nload under faults: {summary}, slowest answer {max(a.elapsed for a in attempts):.2f}s")
    # Every request was answered, in bounded time, normally or with a clean 503.
    assert [a for a in attempts if a.failure] == []
    assert max(a.elapsed for a in attempts) < REQUEST_TIMEOUT
    odd = [
        (a.kind, a.status, a.code)
        for a in attempts
        if a.status not in (200, 201) and (a.status, a.code) != (503, "unavailable")
    ]
    assert odd == [], _server_errors(stack)
    # The outage was met under load: both kinds of request were refused with 503 while PostgreSQL was down...
    during_pg = [a for a in attempts if pg_down + 0.2 <= a.started and a.started + a.elapsed <= pg_up]
    assert {a.kind for a in during_pg if a.status == 503} == {"write", "search"}, during_pg
    # ...while Redis was down, requests that do not need it went on (bearer API calls, public search).
    during_redis = [a for a in attempts if redis_down <= a.started and a.started + a.elapsed <= redis_up]
    assert {a.kind for a in during_redis if a.status in (200, 201)} == {"write", "search"}, during_redis
    assert len(attempts) > 50

    # Written vs acknowledged: every acknowledged write is stored once; a refused one may only be stored if its
    # commit went through just as the connection died (at most one per writer).
    attempted = {a.key for a in attempts if a.kind == "write"}
    acknowledged = {a.key for a in attempts if a.kind == "write" and a.status == 201}
    rows = stack.sql.fetch(
        "SELECT uscc, id FROM registry_objects WHERE uscc = ANY($1::text[])", sorted(attempted)
    )
    stored = [r["uscc"] for r in rows]
    assert len(stored) == len(set(stored))
    assert acknowledged <= set(stored) <= attempted
    assert len(set(stored) - acknowledged) <= WRITERS
    audited = stack.sql.fetch(
        "SELECT entity_id, count(*) AS n FROM audit_events WHERE action = 'registry.object.create' "
        "AND entity_id = ANY($1::text[]) GROUP BY entity_id",
        [str(r["id"]) for r in rows],
    )
    assert len(audited) == len(rows) and all(r["n"] == 1 for r in audited)

    # The job committed while Redis was down reached the worker once Redis was back, and ran once.
    task_id = uuid.UUID(task["id"])
    wait_for(
        "the announcement job to run",
        lambda: planner.get(f"/api/tasks/{task_id}").json()["status"] == "已公告",
        30,
        interval=0.3,
    )
    (job,) = stack.sql.fetch(
        "SELECT completed_at, started_count FROM job_outbox WHERE kwargs->>'task_id' = $1", str(task_id)
    )
    assert job["completed_at"] is not None and job["started_count"] == 1
    assert stack.sql.value("SELECT count(*) FROM draws WHERE task_id = $1", task_id) == 1
    # Nobody had to restart anything.
    assert stack.cluster.apis[0].proc.poll() is None
    assert all(w.proc.poll() is None for w in stack.cluster.workers)
