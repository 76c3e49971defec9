"""Post-implementation report: per task, due 2 days after the task's implementation (its last check date); sending it
stores it as submitted to 执法监督股 and notifies the department."""

from __future__ import annotations

import datetime as dt
import uuid

from services.planning.service import period_label
from services.reporting import repository as repo
from services.reporting.monthly import month_bounds
from services.reporting.schemas import (
    TASK_NOT_REPORTED,
    TASK_REPORTED,
    ImplementedTask,
    TaskEnterprise,
    TaskHeader,
    TaskReport,
    TaskResultRow,
    TaskSnapshot,
)
from shared import audit, notifications
from shared.context import Ctx
from shared.errors import Conflict, NotFound

TASK_REPORT_DAYS = 2
REPORT_SECTION = "zfjdg"  # 执法监督股
RECIPIENT = "执法监督股"


def _implementation_end(header: TaskHeader) -> dt.date:
    """The day the implementation ended: the last check (else the window's last day). For a back-entered plan (补录)
    the day its last result was entered, if later: a report cannot be due before its facts were entered."""
    if header.last_check is not None:
        end = header.last_check
    else:
        _, after = month_bounds(header.end_month.year, header.end_month.month)
        end = after - dt.timedelta(days=1)
    if header.back_entry and header.last_entered is not None:
        end = max(end, header.last_entered.date())
    return end


def _enterprise(r: TaskResultRow) -> TaskEnterprise:
    return TaskEnterprise(
        uscc=r.uscc,
        name=r.name,
        status=r.status,
        check_date=r.check_date.isoformat() if r.check_date else None,
        categories=list(r.categories),
        summary=r.summary,
        hazards=r.hazards,
        followups=r.followups,
        result_id=str(r.id),
    )


async def task_report(ctx: Ctx, task_id: uuid.UUID, today: dt.date | None = None) -> TaskReport:
    today = today or dt.date.today()
    header = await repo.task_header(ctx.session, task_id)
    if header is None:
        raise NotFound("抽查任务不存在", field="task_id")
    stored = await repo.task_report(ctx.session, task_id)
    if stored is not None:
        enterprises = stored.snapshot.enterprises
    else:
        enterprises = [_enterprise(r) for r in await repo.task_results(ctx.session, task_id)]
    due = stored.due_on if stored else _implementation_end(header) + dt.timedelta(days=TASK_REPORT_DAYS)
    hazards = sum(len(e.hazards) for e in enterprises)
    return TaskReport(
        task_id=str(task_id),
        department=ctx.department.name,
        plan_number=header.plan_number,
        plan_name=header.plan_name,
        task_number=header.task_number,
        task_name=header.task_name,
        period=period_label(header.start_month, header.end_month),
        enterprises=enterprises,
        checked=len(enterprises),
        hazards=hazards,
        with_problems=sum(1 for e in enterprises if e.hazards),
        due_on=due.isoformat(),
        overdue=stored is None and bool(enterprises) and today > due,
        status=TASK_REPORTED if stored else TASK_NOT_REPORTED,
        recipient=RECIPIENT,
        id=str(stored.id) if stored else None,
        submitted_at=stored.submitted_at.isoformat() if stored else None,
        submitted_by=stored.submitted_by_name if stored else None,
        lead=header.lead_name,
        back_entry=header.back_entry,
    )


async def submit_task_report(ctx: Ctx, task_id: uuid.UUID) -> TaskReport:
    ctx.require_writer()
    report = await task_report(ctx, task_id)
    if report.status == TASK_REPORTED:
        raise Conflict("该任务的实施情况报告已报送", field="task_id")
    if not report.enterprises:
        raise Conflict("该任务还没有检查结果，无法报送实施情况", field="task_id")
    report_id = await repo.insert_task_report(
        ctx.session,
        ctx.tenant_id,
        task_id,
        dt.date.fromisoformat(report.due_on),
        TaskSnapshot(enterprises=report.enterprises),
        REPORT_SECTION,
        ctx.actor.id,
        ctx.actor.name,
    )
    if report_id is None:
        raise Conflict("该任务的实施情况报告已报送", field="task_id")
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "report.task_submitted",
        "task_report",
        report_id,
        {"task_id": str(task_id), "enterprises": report.checked, "hazards": report.hazards},
    )
    await notifications.create(
        ctx.session,
        ctx.tenant_id,
        "report",
        f"抽查实施情况已报送执法监督股：{report.plan_number}/{report.task_number}"
        f"（检查{report.checked}家，发现隐患{report.hazards}项）",
        link=f"/reports/tasks/{task_id}",
        dedupe_key=f"task-report:{task_id}",
    )
    return await task_report(ctx, task_id)


async def implemented_tasks(ctx: Ctx) -> list[ImplementedTask]:
    return await repo.implemented_tasks(ctx.session)
