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
    review (or a joint part awaiting the lead's publication) to the whole department. Published results never.

    A result of a back-entered plan (补录) is reminded once per stage instead of daily (due soon, due today,
    overdue): its deadline counts from the day it was entered, and a record entered late is not nagged about daily."""
    overrides, years = await deadlines.calendar(session)
    # A calendar bound wide enough for REMIND_WITHIN working days across any holiday (the Spring Festival
    # break with its weekends is at most nine days off in a row); the exact count is made below.
    rows = await repo.unpublished_due_by(session, today + dt.timedelta(days=REMIND_WITHIN + 14))
    sent = 0
    for r in rows:
        left = workdays.workdays_between(today, r.due_on, overrides, years)
        if left > REMIND_WITHIN:
            continue
        late = "（补录）" if r.back_entry else ""
        if left < 0:
            stage = "overdue"
            title = f"检查结果已逾期未公示{late}：{r.name}（公示期限 {r.due_on.isoformat()}，{r.status}）"
        elif left == 0:
            stage = "today"
            title = f"检查结果今天到期公示{late}：{r.name}（{r.status}）"
        else:
            stage = "soon"
            title = f"检查结果将于 {left} 个工作日内到期公示{late}：{r.name}（期限 {r.due_on.isoformat()}，{r.status}）"
        await notifications.create(
            session,
            tenant_id,
            "deadline",
            title,
            link=f"/results/{r.id}",
            recipient_id=r.entered_by if r.status in EDITABLE else None,
            dedupe_key=f"due:{r.id}:{f'back-entry-{stage}' if r.back_entry else today.isoformat()}",
        )
        sent += 1
    return sent
