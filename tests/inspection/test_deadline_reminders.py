"""Publication-deadline reminders: a result near or past its 20-working-day deadline is notified once a day (the
job may run twice; the reminder is not repeated), drafts to whoever entered them, results under review to the
department; published results never. The daily cron defers the job for every department. A back-entered result
(补录) has its deadline counted from the day it was entered, is never overdue from its first save, and is reminded
once per stage (due soon, due today, overdue), not daily."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from arq.worker import Worker
from sqlalchemy import text

from services.disclosure import deadlines
from services.identity.provisioning import department_id
from services.inspection import reminders
from shared import jobs, worker
from shared.runtime import Runtime
from shared.settings import Settings
from shared.tenancy import system_scope
from shared.workdays import workdays_between
from tests.inspection.conftest import (
    INSPECTOR,
    ZHANG_WEI,
    admin_fetch,
    complete_draft,
    matched_task_with_inspector,
)
from tests.planning.conftest import SEED_TASK_2023001

YJJ = department_id("130528-yjj")


@pytest.fixture
def task(as_user: Any, db_urls: dict[str, str]) -> dict[str, Any]:
    # A plan of 2023 as if entered in its own time: a live deadline (20 working days from the check).
    return matched_task_with_inspector(as_user, db_urls, live=True)


@pytest.fixture
def back_entered(as_user: Any, db_urls: dict[str, str]) -> dict[str, Any]:
    # The same plan entered today: a plan of 2023 is a back-entry (补录).
    return matched_task_with_inspector(as_user, db_urls)


@pytest.fixture(autouse=True)
def _jobs_loaded() -> None:
    worker.load_job_modules()


async def _drain(runtime: Runtime) -> None:
    """A real arq worker in burst mode, until the queue is empty."""
    assert runtime.arq is not None
    burst = Worker(
        functions=[worker.spotcheck_run_job],
        redis_pool=runtime.arq,
        burst=True,  # type: ignore[list-item]
        poll_delay=0.05,
        ctx={"runtime": runtime},
        handle_signals=False,
    )
    try:
        await burst.main()
    finally:
        await burst.close()


async def _run_job(runtime: Runtime, day: dt.date, times: int = 1) -> None:
    async with runtime.unit_of_work(system_scope(YJJ)) as session:
        for _ in range(times):
            await jobs.defer(session, "inspection.remind_due", YJJ, day=day.isoformat())
    await _drain(runtime)


async def _reminders(runtime: Runtime, result_id: str) -> list[dict[str, Any]]:
    async with runtime.unit_of_work(system_scope(YJJ)) as session:
        rows = await session.execute(
            text(
                "SELECT dedupe_key, title, recipient_id, link FROM notifications WHERE dedupe_key LIKE :k"
                " ORDER BY created_at, dedupe_key"
            ),
            {"k": f"due:{result_id}:%"},
        )
        return [dict(r._mapping) for r in rows]


def _day_with(due: dt.date, left: int) -> dt.date:
    """The latest day from which ``left`` working days remain until ``due`` (negative: that many past it)."""
    day = due
    if left >= 0:
        while workdays_between(day, due) < left:
            day -= dt.timedelta(days=1)
    else:
        while workdays_between(day, due) > left:
            day += dt.timedelta(days=1)
    return day


async def test_reminders_once_a_day_until_published(
    as_user: Any, task: dict[str, Any], runtime: Runtime
) -> None:
    inspector, reviewer = as_user(INSPECTOR), as_user("yjj-reviewer")
    url = f"/api/tasks/{task['task_id']}/results/{task['uscc']}"
    points = inspector.get(url).json()["points"]
    draft = inspector.post(url, complete_draft(points))
    assert draft.status_code == 200, draft.text
    result_id, due = draft.json()["id"], dt.date.fromisoformat(draft.json()["due_on"])

    # Five working days before the deadline: too early.
    await _run_job(runtime, _day_with(due, 5))
    assert await _reminders(runtime, result_id) == []

    # Two working days before: one reminder to the inspector who entered the draft, even if the job runs twice.
    two_left = _day_with(due, 2)
    await _run_job(runtime, two_left, times=2)
    first = await _reminders(runtime, result_id)
    assert len(first) == 1
    assert first[0]["dedupe_key"] == f"due:{result_id}:{two_left.isoformat()}"
    assert first[0]["title"] == (
        f"检查结果将于 2 个工作日内到期公示：{task['name']}（期限 {due.isoformat()}，草稿）"
    )
    assert str(first[0]["recipient_id"]) == str(ZHANG_WEI) and first[0]["link"] == f"/results/{result_id}"

    # The next day reminds again, once; the deadline day says so.
    async with runtime.unit_of_work(system_scope(YJJ)) as session:
        await reminders.remind_department(session, YJJ, _day_with(due, 1))
        await reminders.remind_department(session, YJJ, _day_with(due, 1))
        await reminders.remind_department(session, YJJ, due)
    titles = [r["title"] for r in await _reminders(runtime, result_id)]
    assert len(titles) == 3 and titles[2] == f"检查结果今天到期公示：{task['name']}（草稿）"

    # Under review: the whole department is reminded (no single recipient); past the deadline it is overdue.
    assert inspector.post(f"/api/results/{result_id}/submit").status_code == 200
    overdue = _day_with(due, -1)
    await _run_job(runtime, overdue)
    last = (await _reminders(runtime, result_id))[-1]
    assert last["dedupe_key"] == f"due:{result_id}:{overdue.isoformat()}" and last["recipient_id"] is None
    assert last["title"] == f"检查结果已逾期未公示：{task['name']}（公示期限 {due.isoformat()}，待审核）"

    # Published: no more reminders.
    assert reviewer.post(f"/api/results/{result_id}/approve").status_code == 200
    await _run_job(runtime, _day_with(due, -2))
    assert len(await _reminders(runtime, result_id)) == 4


def test_daily_cron_defers_the_job_for_every_department(settings: Settings) -> None:
    assert "services.inspection.jobs" in worker.JOB_MODULES
    assert "inspection.remind_due" in jobs.REGISTRY
    crons = worker.worker_settings(settings)["cron_jobs"]
    daily = next(c for c in crons if c.coroutine is worker.remind_results_due)
    assert daily.hour == {settings.jobs.reminder_time.hour} and daily.minute == {
        settings.jobs.reminder_time.minute
    }
    assert daily.day is None  # every day


async def test_back_entered_result_due_from_entry_and_reminded_once_per_stage(
    as_user: Any, back_entered: dict[str, Any], runtime: Runtime, db_urls: dict[str, str]
) -> None:
    inspector, planner = as_user(INSPECTOR), as_user("yjj-planner")
    task = back_entered
    plan = planner.get(f"/api/plans/{task['plan_id']}").json()
    assert plan["back_entry"] is True
    url = f"/api/tasks/{task['task_id']}/results/{task['uscc']}"
    view = inspector.get(url).json()
    assert view["task"]["back_entry"] is True
    draft = inspector.post(url, complete_draft(view["points"]))  # checked on 2023-06-15, entered today
    assert draft.status_code == 200, draft.text
    result = draft.json()
    entered = admin_fetch(
        db_urls, "SELECT created_at FROM inspection_results WHERE id = $1", uuid.UUID(result["id"])
    )
    entered_on = entered[0]["created_at"].date()
    async with runtime.unit_of_work(system_scope(YJJ)) as session:
        expected = await deadlines.deadline(session, entered_on)
    # 20 working days from the entry, not from the check three years ago: not overdue from its first save.
    due = dt.date.fromisoformat(result["due_on"])
    assert result["back_entry"] is True and due == expected.due and due > entered_on
    assert result["overdue"] is False and result["workdays_left"] > 0
    # A second save keeps the deadline of the first entry.
    again = inspector.post(url, complete_draft(view["points"], summary="补录：现场检查未发现问题"))
    assert again.status_code == 200 and again.json()["due_on"] == result["due_on"]

    # Too early: nothing. Due soon: one reminder for the stage, however many days and runs.
    await _run_job(runtime, _day_with(due, 5))
    assert await _reminders(runtime, result["id"]) == []
    await _run_job(runtime, _day_with(due, 3), times=2)
    async with runtime.unit_of_work(system_scope(YJJ)) as session:
        await reminders.remind_department(session, YJJ, _day_with(due, 2))
        await reminders.remind_department(session, YJJ, _day_with(due, 1))
    soon = await _reminders(runtime, result["id"])
    assert [r["dedupe_key"] for r in soon] == [f"due:{result['id']}:back-entry-soon"]
    assert soon[0]["title"] == (
        f"检查结果将于 3 个工作日内到期公示（补录）：{task['name']}（期限 {due.isoformat()}，草稿）"
    )
    # The deadline day, then past it on several days: one reminder each.
    async with runtime.unit_of_work(system_scope(YJJ)) as session:
        await reminders.remind_department(session, YJJ, due)
        for late in (-1, -2, -5):
            await reminders.remind_department(session, YJJ, _day_with(due, late))
    keys = sorted(r["dedupe_key"] for r in await _reminders(runtime, result["id"]))
    assert keys == [f"due:{result['id']}:back-entry-{s}" for s in ("overdue", "soon", "today")]


def test_live_plan_cannot_take_a_window_already_over(as_user: Any) -> None:
    """A plan of the current year entered as live cannot hold a task whose whole window is over (补录 instead)."""
    planner = as_user("yjj-planner")
    today = dt.date.today()
    plan = planner.post(
        "/api/plans",
        {"year": today.year, "kind": "本部门", "initiating_section": "zfjdg", "back_entry": False},
    )
    assert plan.status_code == 201, plan.text
    assert plan.json()["back_entry"] is False
    if today.month > 1:
        past = f"{today.year}-{today.month - 1:02d}"
        refused = planner.post(
            f"/api/plans/{plan.json()['id']}/tasks",
            {**SEED_TASK_2023001, "start_month": f"{today.year}-01", "end_month": past},
        )
        assert refused.status_code == 422 and refused.json()["error"]["field"] == "end_month"
        assert "补录" in refused.json()["error"]["message"]
    this_month = f"{today.year}-{today.month:02d}"
    ok = planner.post(
        f"/api/plans/{plan.json()['id']}/tasks",
        {**SEED_TASK_2023001, "start_month": this_month, "end_month": this_month},
    )
    assert ok.status_code == 201, ok.text
    assert len(planner.get(f"/api/plans/{plan.json()['id']}").json()["tasks"]) == 1
