"""The read path on a real read replica: a hot standby of the test PostgreSQL (``pg_basebackup -R``, streaming
replication, its own port), set as ``SPOTCHECK_READ_DATABASE_URL`` of an API process.

The public site reads from the standby (a draw announced on the primary is invisible there while replay is paused,
and appears once it resumes); the standby refuses writes; when it goes down the public site answers 503 while
signed-in work on the primary goes on, and it recovers by itself when the standby is back.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from devtools.embedded import EmbeddedStandby
from shared.runtime import Runtime
from tests.conftest import TEST_DB
from tests.planning.conftest import SEED_TASK_2023001
from tests.production.conftest import Client, Sql, wait_for
from tests.support.services import RUNTIME_PASSWORD, RUNTIME_ROLE, PostgresHandle
from tests.support.stack import SSO, AppServer, start_app, stop


@pytest.fixture(scope="module")
def standby(postgres: PostgresHandle, runtime: Runtime, service_dir: Path) -> Iterator[EmbeddedStandby]:
    if postgres.embedded is None:
        pytest.skip(
            "SPOTCHECK_TEST_DATABASE_URL names an external server: no standby can be built from it here"
        )
    server = EmbeddedStandby(postgres.embedded, service_dir / "replica" / "standby").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def replica_app(app_env: dict[str, str], standby: EmbeddedStandby, service_dir: Path) -> Iterator[AppServer]:
    env = {**app_env, "SPOTCHECK_READ_DATABASE_URL": standby.url(TEST_DB, RUNTIME_ROLE, RUNTIME_PASSWORD)}
    app = start_app(service_dir / "replica", env)
    try:
        yield app
    finally:
        stop(app.proc)


@pytest.fixture(scope="module")
def primary(db_urls: dict[str, str]) -> Sql:
    return Sql(db_urls["admin"])


def _announced_draw(planner: Client) -> tuple[str, str]:
    plan = planner.post("/api/plans", {"year": 2023, "kind": "本部门", "initiating_section": "zfjdg"}).json()
    task = planner.post(f"/api/plans/{plan['id']}/tasks", SEED_TASK_2023001).json()
    assert planner.post(f"/api/plans/{plan['id']}/publish").status_code == 200
    announced = planner.post(f"/api/tasks/{task['id']}/announce", {})
    assert announced.status_code == 201, announced.text
    return task["id"], announced.json()["id"]


def test_the_replica_is_a_hot_standby_that_refuses_writes(
    replica_app: AppServer, standby: EmbeddedStandby, sso: SSO
) -> None:
    as_app = Sql(standby.url(TEST_DB, RUNTIME_ROLE, RUNTIME_PASSWORD))
    assert as_app.value("SELECT pg_is_in_recovery()") is True
    with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
        as_app.value("DELETE FROM public_draws WHERE false")
    ready = Client(replica_app.url, sso, None).get("/ready")
    assert ready.status_code == 200 and ready.json()["checks"]["postgres_read"] == "ok", ready.text
    assert Client(replica_app.url, sso, None).get("/public/draws").status_code == 200
    # The API process holds connections on the standby, named after it.
    names = {r[0] for r in Sql(standby.url(TEST_DB)).fetch("SELECT application_name FROM pg_stat_activity")}
    assert f"spotcheck-read:{replica_app.proc.pid}" in names, names


def test_public_pages_are_read_from_the_replica(
    replica_app: AppServer, standby: EmbeddedStandby, primary: Sql, sso: SSO
) -> None:
    planner = Client(replica_app.url, sso, "yjj-planner")
    public = Client(replica_app.url, sso, None)
    superuser = Sql(standby.url(TEST_DB))
    superuser.value("SELECT pg_wal_replay_pause()")
    try:
        task_id, draw_id = _announced_draw(planner)  # written to the primary
        assert primary.value("SELECT count(*) FROM public_draws WHERE draw_id = $1", uuid.UUID(draw_id)) == 1
        # Signed-in reads go to the primary; the public register reads the standby, which has not replayed it yet.
        assert planner.get(f"/api/tasks/{task_id}").json()["status"] == "已公告"
        assert public.get(f"/api/public/draws/{draw_id}").status_code == 404
    finally:
        superuser.value("SELECT pg_wal_replay_resume()")
    shown = wait_for(
        "the announcement to reach the replica",
        lambda: public.get(f"/api/public/draws/{draw_id}").status_code == 200,
        30,
        interval=0.3,
    )
    assert shown
    assert public.get(f"/api/public/draws/{draw_id}").json()["task_id"] == task_id
    assert draw_id in public.get("/public/draws").text


def test_replica_down_is_a_clean_503_on_the_public_path_only(
    replica_app: AppServer, standby: EmbeddedStandby, sso: SSO
) -> None:
    planner = Client(replica_app.url, sso, "yjj-planner")
    public = Client(replica_app.url, sso, None, timeout=15)
    task_id, draw_id = _announced_draw(planner)
    wait_for(
        "the announcement to reach the replica",
        lambda: public.get(f"/api/public/draws/{draw_id}").status_code == 200,
        30,
        interval=0.3,
    )
    standby.stop()
    try:
        for path in (f"/api/public/draws/{draw_id}", "/api/public/results?q=宁晋"):
            answer = public.get(path)
            assert answer.status_code == 503, (path, answer.status_code, answer.text)
            assert answer.json()["error"]["code"] == "unavailable" and answer.headers["retry-after"]
        ready = public.get("/ready")
        assert ready.status_code == 503
        checks = ready.json()["checks"]
        assert checks["postgres"] == "ok" and checks["postgres_read"].startswith("error"), checks
        # Signed-in work on the primary goes on.
        assert planner.get(f"/api/tasks/{task_id}").json()["status"] == "已公告"
    finally:
        standby.start()
    wait_for(
        "the public site to recover",
        lambda: public.get(f"/api/public/draws/{draw_id}").status_code == 200,
        30,
    )
    assert public.get("/api/public/results", params={"q": "宁晋"}).status_code == 200
    assert public.get("/ready").status_code == 200
