"""Deadline reminders of unpublished results (the worker's daily cron defers one job per department)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.disclosure import deadlines
from services.inspection import repository as repo
from services.inspection.common import EDITABLE
from shared import notifications, workdays

REMIND_WITHIN = 3  # working days before the deadline


async def remind_department(session: AsyncSession, tenant_id: uuid.UUID, today: dt.date) -> int:
    """One notification per unpublished result that is overdue or due within ``REMIND_WITHIN`` working days, at most
    once per result and day (the dedupe key carries both, so a re-run or a second delivery of the job repeats
    nothing; the next day reminds again). Drafts and returned results go to whoever entered them, results awaiting
    review (or a joint part awaiting the lead's publication) to the whole department. Published results never."""
    overrides, years = await deadlines.calendar(session)
    # A calendar bound wide enough for REMIND_WITHIN working days across any holiday (the Spring Festival
    # break with its weekends is at most nine days off in a row); the exact count is made below.
    rows = await repo.unpublished_due_by(session, today + dt.timedelta(days=REMIND_WITHIN + 14))
    sent = 0
    for r in rows:
        left = workdays.workdays_between(today, r.due_on, overrides, years)
        if left > REMIND_WITHIN:
            continue
        if left < 0:
            title = f"检查结果已逾期未公示：{r.name}（公示期限 {r.due_on.isoformat()}，{r.status}）"
        elif left == 0:
            title = f"检查结果今天到期公示：{r.name}（{r.status}）"
        else:
            title = (
                f"检查结果将于 {left} 个工作日内到期公示：{r.name}（期限 {r.due_on.isoformat()}，{r.status}）"
            )
        await notifications.create(
            session,
            tenant_id,
            "deadline",
            title,
            link=f"/results/{r.id}",
            recipient_id=r.entered_by if r.status in EDITABLE else None,
            dedupe_key=f"due:{r.id}:{today.isoformat()}",
        )
        sent += 1
    return sent
