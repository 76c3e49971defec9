"""Monthly-report reminders: from the 20th, a department whose report on last month is not submitted is notified once;
the job is registered for the worker and the worker's cron runs on the 20th."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from services.identity.provisioning import department_id
from services.reporting import (
    jobs,  # noqa: F401  (registers the job)
    service,
)
from shared import jobs as shared_jobs
from shared import worker
from shared.runtime import Runtime
from shared.settings import Settings
from shared.tenancy import system_scope


async def test_reminder_for_last_month(runtime: Runtime) -> None:
    dept = department_id("130528-scjg")
    async with runtime.unit_of_work(system_scope(dept)) as session:
        assert await service.remind_monthly(session, dept, dt.date(2024, 3, 19)) is False  # before the 20th
        assert await service.remind_monthly(session, dept, dt.date(2024, 3, 20)) is True
        assert await service.remind_monthly(session, dept, dt.date(2024, 3, 21)) is True  # deduplicated below
        titles = (
            (
                await session.execute(
                    text("SELECT title FROM notifications WHERE dedupe_key = 'monthly-report:2024-02'")
                )
            )
            .scalars()
            .all()
        )
        assert titles == ["2024年2月“双随机、一公开”监管工作月报尚未提交（2024年3月23日前报执法监督股）"]
        # January rolls back to December of the year before.
        assert service.last_month(dt.date(2024, 1, 20)) == (2023, 12)
        assert service.monthly_due(2023, 12) == dt.date(2024, 1, 23)


def test_job_and_cron_registered(settings: Settings) -> None:
    assert "services.reporting.jobs" in worker.JOB_MODULES
    worker.load_job_modules()
    assert "reporting.remind_monthly" in shared_jobs.REGISTRY
    crons = worker.worker_settings(settings)["cron_jobs"]
    reminder = next(c for c in crons if c.coroutine is worker.remind_monthly_reports)
    assert reminder.day == {20}
