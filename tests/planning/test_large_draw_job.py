"""Large draws run as background jobs on a real arq worker: 202, then the task moves on by itself."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from services.draw.proof import load_proof
from services.draw.verify import verify_proof
from services.identity.provisioning import department_id
from services.planning import jobs as planning_jobs
from services.planning import repository as planning_repo
from shared.runtime import Runtime
from shared.tenancy import department_scope
from tests.planning.conftest import SEED_TASK_2023001, Api
from tests.support.stack import SSO, AppServer, spawn, start_app, stop

YJJ = department_id("130528-yjj")


@pytest.fixture(scope="module")
def job_stack(app_env: dict[str, str], service_dir: Path) -> Iterator[AppServer]:
    workdir = service_dir / "jobs"
    workdir.mkdir(exist_ok=True)
    env = {**app_env, "SPOTCHECK_LARGE_DRAW_THRESHOLD": "10"}
    app = start_app(workdir, env)
    worker = spawn(["worker"], app.env, workdir / "worker.log")
    try:
        yield app
    finally:
        stop(worker)
        stop(app.proc)


def _wait_status(planner: Api, task_id: str, wanted: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = planner.get(f"/api/tasks/{task_id}").json()
        if task["status"] == wanted:
            return task
        time.sleep(0.3)
    raise AssertionError(f"task stayed {task['status']!r}, wanted {wanted!r}")


def test_announce_and_draw_run_as_jobs(job_stack: AppServer, sso: SSO) -> None:
    with httpx.Client(base_url=job_stack.url, timeout=30) as client:
        planner = Api(client, sso, "yjj-planner")
        plan = planner.post(
            "/api/plans", {"year": 2023, "kind": "本部门", "initiating_section": "zfjdg"}
        ).json()
        task = planner.post(f"/api/plans/{plan['id']}/tasks", SEED_TASK_2023001).json()
        planner.post(f"/api/plans/{plan['id']}/publish")

        queued = planner.post(f"/api/tasks/{task['id']}/announce", {})
        assert queued.status_code == 202 and queued.json()["status"] == "公告中"
        # While the job runs, a second request cannot start another announcement.
        assert planner.post(f"/api/tasks/{task['id']}/announce", {}).status_code in (202, 409)
        announced = _wait_status(planner, task["id"], "已公告")

        queued = planner.post(f"/api/tasks/{task['id']}/draw", {"public_entropy": "8,8"})
        assert queued.status_code == 202
        _wait_status(planner, task["id"], "已抽取")
        proof = load_proof(client.get(f"/public/draws/{announced['draw_id']}/proof.json").content)
        assert verify_proof(proof).ok and proof.public_entropy == "8,8"
        notes = client.get("/", headers=planner.headers())
        assert notes.status_code == 200


async def test_a_draw_job_that_keeps_failing_puts_the_task_back(
    job_stack: AppServer, sso: SSO, runtime: Runtime
) -> None:
    """When a queued announcement or draw has failed every attempt, its give-up step returns the task to where the
    planner can try again and tells them; a task that has moved on meanwhile is left alone."""
    with httpx.Client(base_url=job_stack.url, timeout=30) as client:
        planner = Api(client, sso, "yjj-planner")
        plan = planner.post(
            "/api/plans", {"year": 2023, "kind": "本部门", "initiating_section": "zfjdg"}
        ).json()
        task = planner.post(f"/api/plans/{plan['id']}/tasks", SEED_TASK_2023001).json()
    actor = {"user_id": str(uuid.uuid4())}
    async with runtime.unit_of_work(department_scope(YJJ)) as session:
        await planning_repo.set_task_status(session, uuid.UUID(task["id"]), "公告中")
        await planning_jobs.give_up_announce(
            session, YJJ, task_id=task["id"], actor=actor, entropy_source="x"
        )
    async with runtime.unit_of_work(department_scope(YJJ)) as session:
        status = (
            await session.execute(text("SELECT status FROM tasks WHERE id = :id"), {"id": task["id"]})
        ).scalar()
        note = (
            await session.execute(
                text("SELECT title FROM notifications WHERE recipient_id = :r"), {"r": actor["user_id"]}
            )
        ).scalar()
        # Moved on (here: back in 草稿 already): a give-up of the draw step must not touch it.
        await planning_jobs.give_up_draw(session, YJJ, task_id=task["id"], actor=actor, public_entropy="")
        after = (
            await session.execute(text("SELECT status FROM tasks WHERE id = :id"), {"id": task["id"]})
        ).scalar()
    assert status == "草稿" and after == "草稿"
    assert note is not None and "公告未完成" in note and "多次尝试均失败" in note
