"""Monthly report (附件1): per department and month, filled from the data; the fields the data cannot know are
editable while it is a draft; due by the 23rd of the following month (the reminder job runs on the 20th)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import repository as repo
from services.reporting.schemas import (
    NOT_FILED,
    JointTask,
    MonthlyData,
    MonthlyFields,
    MonthlyReport,
    MonthlyReportRow,
    MonthlyReportStatus,
    OwnTask,
)
from shared import audit, notifications
from shared.context import Ctx
from shared.errors import Conflict, InvalidInput, NotFound

REPORT_DUE_DAY = 23
REMIND_DAY = 20
PUBLIC_SITE = "双随机、一公开监管平台公示（/public）"
FIELD_MAX = 2000
EDITABLE = tuple(MonthlyFields.__struct_fields__)


def check_period(year: int, month: int) -> None:
    if not 2000 <= year <= 2100:
        raise InvalidInput(f"年份超出范围：{year}", field="year")
    if not 1 <= month <= 12:
        raise InvalidInput(f"月份应为 1–12：{month}", field="month")


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, month, 1)
    end = dt.date(year + (month == 12), month % 12 + 1, 1)
    return start, end


def monthly_due(year: int, month: int) -> dt.date:
    """The report on month M is due on the 23rd of month M+1."""
    _, next_month = month_bounds(year, month)
    return next_month.replace(day=REPORT_DUE_DAY)


def last_month(today: dt.date) -> tuple[int, int]:
    first = today.replace(day=1) - dt.timedelta(days=1)
    return first.year, first.month


def cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _validate_fields(data: MonthlyFields) -> MonthlyFields:
    fields = {}
    for name in EDITABLE:
        value = getattr(data, name).strip()
        limit = 40 if name in ("contact_person", "contact_phone", "mobile") else FIELD_MAX
        if len(value) > limit:
            raise InvalidInput(f"内容过长（最多 {limit} 字）", field=name)
        if any(ord(c) < 32 and c not in "\n\r\t" for c in value):
            raise InvalidInput("内容包含不可见的控制字符", field=name)
        if (
            name in ("contact_phone", "mobile")
            and value
            and not all(c.isdigit() or c in "-+ ()" for c in value)
        ):
            raise InvalidInput("电话号码只能包含数字和 - + ( ) 空格", field=name)
        fields[name] = value
    return MonthlyFields(**fields)


def _fields_of(stored: MonthlyReportRow | None) -> MonthlyFields:
    if stored is None:
        return MonthlyFields()
    return MonthlyFields(**{k: getattr(stored, k) for k in EDITABLE})


def document(plan_number: str, plan_name: str, task_number: str, task_name: str, back_entry: bool) -> str:
    return f"{plan_number} {plan_name}（{task_number} {task_name}）" + ("（补录）" if back_entry else "")


async def monthly_data(ctx: Ctx, year: int, month: int) -> MonthlyData:
    """The numbers of 附件1 sections 二.4 and 二.5, from the data: the department's checks carried out in the month
    (by each result's check date), each counted once; a joint check is the department's own part of it."""
    start, _ = month_bounds(year, month)
    sections = await repo.section_names(ctx.session)
    own = []
    for r in await repo.own_plan_rows(ctx.session, start):
        names = [sections[s] for s in [r.initiating_id, *(r.section_ids or [])] if s in sections]
        unit = ctx.department.name + (f"（{'、'.join(dict.fromkeys(names))}）" if names else "")
        own.append(
            OwnTask(
                department=unit,
                items=r.items,
                subjects=r.subjects,
                disclosure=f"{PUBLIC_SITE}：{r.published}条",
                published=r.published,
                document=document(r.plan_number, r.plan_name, r.task_number, r.task_name, r.back_entry),
                task_id=str(r.task_id),
                back_entry=r.back_entry,
            )
        )
    joint = []
    for j in await repo.joint_rows(ctx.session, start):
        joint.append(
            JointTask(
                lead=j.lead_name,
                partners=j.partners or "",
                subjects=j.subjects,
                disclosure=f"{PUBLIC_SITE}：{j.published}条",
                published=j.published,
                document=document(j.plan_number, j.plan_name, j.task_number, j.task_name, j.back_entry),
                task_id=str(j.task_id),
                back_entry=j.back_entry,
            )
        )
    return MonthlyData(own=own, joint=joint)


async def monthly_report(ctx: Ctx, year: int, month: int, today: dt.date | None = None) -> MonthlyReport:
    check_period(year, month)
    today = today or dt.date.today()
    stored = await repo.monthly_report(ctx.session, year, month)
    # The stored report once submitted (its snapshot and stamps are final), else None.
    sub = stored if stored is not None and stored.status == MonthlyReportStatus.SUBMITTED else None
    submitted = sub is not None
    data = sub.snapshot if sub is not None and sub.snapshot else await monthly_data(ctx, year, month)
    due = monthly_due(year, month)
    return MonthlyReport(
        id=str(stored.id) if stored else None,
        department=ctx.department.name,
        department_code=ctx.department.code,
        year=year,
        month=month,
        status=stored.status if stored else NOT_FILED,
        fields=_fields_of(stored),
        own=data.own,
        joint=data.joint,
        due_on=due.isoformat(),
        overdue=not submitted and today > due,
        submitted_at=sub.submitted_at.isoformat() if sub is not None and sub.submitted_at else None,
        submitted_by=sub.submitted_by_name if sub is not None else None,
        filled_on=(sub.submitted_at.date() if sub is not None and sub.submitted_at else today).isoformat(),
    )


async def monthly_report_by_id(ctx: Ctx, report_id: uuid.UUID) -> MonthlyReport:
    row = await repo.monthly_report_by_id(ctx.session, report_id)
    if row is None:
        raise NotFound("月报不存在", field="report_id")
    return await monthly_report(ctx, row.year, row.month)


async def stored_report(
    session: AsyncSession, report_id: uuid.UUID, today: dt.date | None = None
) -> MonthlyReport:
    """A stored report as it was submitted (the overseer's drill-down); a draft shows its status and fields only."""
    today = today or dt.date.today()
    row = await repo.monthly_report_with_department(session, report_id)
    if row is None:
        raise NotFound("月报不存在", field="report_id")
    submitted = row.status == MonthlyReportStatus.SUBMITTED
    data = row.snapshot if submitted and row.snapshot else MonthlyData(own=[], joint=[])
    due = monthly_due(row.year, row.month)
    return MonthlyReport(
        id=str(row.id),
        department=row.department,
        department_code=row.department_code,
        year=row.year,
        month=row.month,
        status=row.status,
        fields=_fields_of(row),
        own=data.own,
        joint=data.joint,
        due_on=due.isoformat(),
        overdue=not submitted and today > due,
        submitted_at=row.submitted_at.isoformat() if submitted and row.submitted_at else None,
        submitted_by=row.submitted_by_name if submitted else None,
        filled_on=(row.submitted_at.date() if submitted and row.submitted_at else today).isoformat(),
    )


async def save_monthly(ctx: Ctx, year: int, month: int, data: MonthlyFields) -> MonthlyReport:
    ctx.require_writer()
    check_period(year, month)
    fields = _validate_fields(data)
    report_id = await repo.upsert_monthly_report(
        ctx.session, ctx.tenant_id, year, month, fields, ctx.actor.id
    )
    if report_id is None:
        raise Conflict("月报已提交，不能再修改", field="status")
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "report.monthly_saved",
        "monthly_report",
        report_id,
        {"year": year, "month": month},
    )
    return await monthly_report(ctx, year, month)


async def submit_monthly(ctx: Ctx, year: int, month: int, data: MonthlyFields | None = None) -> MonthlyReport:
    ctx.require_writer()
    check_period(year, month)
    if dt.date(year, month, 1) > dt.date.today():
        raise InvalidInput("不能提交尚未开始月份的月报", field="month")
    stored = await repo.monthly_report(ctx.session, year, month)
    if stored is not None and stored.status == MonthlyReportStatus.SUBMITTED:
        raise Conflict("月报已提交", field="status")
    report_id: uuid.UUID | None
    if data is not None or stored is None:
        fields = _validate_fields(data or MonthlyFields())
        report_id = await repo.upsert_monthly_report(
            ctx.session, ctx.tenant_id, year, month, fields, ctx.actor.id
        )
    else:
        fields = _fields_of(stored)
        report_id = stored.id
    for name in ("contact_person", "contact_phone"):
        if not getattr(fields, name):
            raise InvalidInput("提交前请填写联系人和联系电话", field=name)
    snapshot = await monthly_data(ctx, year, month)
    # No id: the upsert found the report already submitted (the UPDATE would match no row either).
    if report_id is None or not await repo.submit_monthly_report(
        ctx.session, report_id, snapshot, ctx.actor.id, ctx.actor.name
    ):
        raise Conflict("月报已提交", field="status")
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "report.monthly_submitted",
        "monthly_report",
        report_id,
        {"year": year, "month": month, "own": len(snapshot.own), "joint": len(snapshot.joint)},
    )
    return await monthly_report(ctx, year, month)


async def remind_monthly(session: AsyncSession, tenant_id: uuid.UUID, today: dt.date) -> bool:
    """On or after the 20th: notify the department when its report on last month is not submitted."""
    if today.day < REMIND_DAY:
        return False
    year, month = last_month(today)
    if not await repo.departments_to_remind(session, year, month):
        return False
    due = monthly_due(year, month)
    await notifications.create(
        session,
        tenant_id,
        "report",
        f"{year}年{month}月“双随机、一公开”监管工作月报尚未提交（{cn_date(due)}前报执法监督股）",
        link=f"/reports/monthly/{year}/{month}",
        dedupe_key=f"monthly-report:{year}-{month:02d}",
    )
    return True
