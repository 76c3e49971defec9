"""Department-side disclosure rules: export of its published results, reminders of due and overdue results."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.disclosure import deadlines, export
from services.disclosure import repository as repo
from shared import notifications, workdays
from shared.context import Ctx
from shared.errors import InvalidInput

REMIND_WITHIN = 3  # working days before the deadline


async def export_results(ctx: Ctx, fmt: str) -> tuple[bytes, str, str]:
    # Read from the tenant's own published rows: exactly what the public sees, in the platform's columns.
    rows = await repo.department_export(ctx.session, ctx.department.code)
    stamp = dt.date.today().strftime("%Y%m%d")
    if fmt == "csv":
        return export.to_csv(rows), "text/csv; charset=utf-8", f"{ctx.department.code}-抽查结果-{stamp}.csv"
    if fmt == "xlsx":
        return (
            export.to_xlsx(rows),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            f"{ctx.department.code}-抽查结果-{stamp}.xlsx",
        )
    raise InvalidInput("导出格式应为 csv 或 xlsx", field="format")


async def remind_department(session: AsyncSession, tenant_id: uuid.UUID, today: dt.date) -> int:
    """One notification per unpublished result that is overdue or due within ``REMIND_WITHIN`` working days, at most
    once per result and day (the dedupe key carries both, so a re-run or a second delivery of the job repeats
    nothing; the next day reminds again). Drafts and returned results go to whoever entered them, results awaiting
    review (or a joint part awaiting the lead's publication) to the whole department. Published results never."""
    overrides, years = await deadlines.calendar(session)
    rows = await session.execute(
        text(
            "SELECT r.id, r.due_on, r.status, r.entered_by, o.name FROM inspection_results r"
            " JOIN registry_objects o ON o.id = r.object_id WHERE r.status <> '已公示'"
            " AND r.due_on <= :horizon ORDER BY r.due_on"
        ),
        # A calendar bound wide enough for REMIND_WITHIN working days across any holiday (the Spring Festival
        # break with its weekends is at most nine days off in a row); the exact count is made below.
        {"horizon": today + dt.timedelta(days=REMIND_WITHIN + 14)},
    )
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
            recipient_id=r.entered_by if r.status in ("草稿", "退回") else None,
            dedupe_key=f"due:{r.id}:{today.isoformat()}",
        )
        sent += 1
    return sent
