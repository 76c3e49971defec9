"""Dashboard: the county's departments (overseer) or the active department only, against the seed's targets."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import charts
from services.reporting import dashboard_repository as repo
from services.reporting.dashboard_schemas import (
    Dashboard,
    DepartmentView,
    JointShare,
    MonthCounts,
    MonthSummary,
    OverdueResult,
    OversightPlan,
    Targets,
    Totals,
)
from services.reporting.monthly import monthly_due
from services.reporting.schemas import NOT_FILED, MonthlyReportStatus
from shared.context import Department, Principal
from shared.errors import InvalidInput, NotFound

REGISTRY_TARGET = Decimal("0.05")
JOINT_TARGET = Decimal("0.10")
INTERNAL_JOINT_TARGET = 1
REPORT_OVERDUE = "逾期未报"  # a month past its due date with no stored report (shown, never stored)


def rate(part: int, whole: int) -> Decimal | None:
    return None if whole == 0 else (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"))


def pct(value: Decimal | None) -> str:
    """A share as people read it: ``5%``, ``4.8%`` (one decimal at most), ``—`` when there is nothing to judge."""
    return charts.share(value)


class _Sums:
    """A department's result counts over the year's months."""

    def __init__(self) -> None:
        self.results = self.published = self.on_time = self.overdue_results = 0

    def add(self, row: MonthCounts) -> None:
        self.results += row.results
        self.published += row.published
        self.on_time += row.on_time
        self.overdue_results += row.overdue_results


async def dashboard(
    session: AsyncSession,
    principal: Principal,
    department: Department | None,
    year: int,
    today: dt.date | None = None,
) -> Dashboard:
    """The overseer sees every department of the county; anyone else only the active department."""
    if not 2000 <= year <= 2100:
        raise InvalidInput(f"年份超出范围：{year}", field="year")
    today = today or dt.date.today()
    raw = await repo.dashboard(
        session, principal.region_code, department.id if department else None, year, today
    )
    monthly: dict[uuid.UUID, dict[int, MonthSummary]] = {}
    sums: dict[uuid.UUID, _Sums] = {}
    for row in raw.monthly:
        monthly.setdefault(row.tenant_id, {})[row.month] = MonthSummary(
            month=row.month, results=row.results, published=row.published, on_time=row.on_time
        )
        sums.setdefault(row.tenant_id, _Sums()).add(row)
    reports: dict[uuid.UUID, dict[int, str]] = {}
    report_ids: dict[uuid.UUID, dict[int, str]] = {}
    for r in raw.reports:
        reports.setdefault(r.tenant_id, {})[r.month] = r.status
        report_ids.setdefault(r.tenant_id, {})[r.month] = str(r.id)
    joint_by: dict[uuid.UUID, list[JointShare]] = {}
    for t in raw.joint_tasks:
        share = rate(t.selected_count or 0, t.eligible_count or 0)
        joint_by.setdefault(t.tenant_id, []).append(
            JointShare(
                plan_number=t.plan_number,
                task_number=t.task_number,
                task_name=t.task_name,
                task_id=str(t.task_id),
                eligible=t.eligible_count,
                selected=t.selected_count,
                share=share,
                meets_target=share is not None and share >= JOINT_TARGET,
                checked=t.checked,
                published=t.published,
                plan_id=str(t.plan_id),
            )
        )
    months_due = [m for m in range(1, 13) if monthly_due(year, m) < today]
    departments = []
    for d in raw.departments:
        s = sums.get(d.id, _Sums())
        share = rate(d.objects_checked, d.registry_size)
        disclosure = rate(s.published, s.results)
        on_time = rate(s.on_time, s.published)
        dept_reports = reports.get(d.id, {})
        report_status = {}
        for m in range(1, 13):
            status = dept_reports.get(m)
            if status is None and (year, m) <= (today.year, today.month):
                status = REPORT_OVERDUE if m in months_due else NOT_FILED
            report_status[m] = status or ""
        departments.append(
            DepartmentView(
                code=d.code,
                name=d.name,
                short_name=d.short_name,
                registry_size=d.registry_size,
                objects_checked=d.objects_checked,
                hazards=d.hazards,
                major_hazards=d.major_hazards,
                rectified=d.rectified,
                overdue_hazards=d.overdue_hazards,
                internal_joint=d.internal_joint,
                joint_led=d.joint_led,
                joint_joined=d.joint_joined,
                reports_submitted=d.reports_submitted,
                results=s.results,
                published=s.published,
                on_time=s.on_time,
                overdue_results=s.overdue_results,
                registry_share=share,
                registry_meets=share is not None and share >= REGISTRY_TARGET,
                disclosure_rate=disclosure,
                disclosure_meets=disclosure is not None and disclosure >= 1,
                on_time_rate=on_time,
                internal_joint_meets=d.internal_joint >= INTERNAL_JOINT_TARGET,
                joint_tasks=joint_by.get(d.id, []),
                months=[
                    monthly.get(d.id, {}).get(m, MonthSummary(month=m, results=0, published=0, on_time=0))
                    for m in range(1, 13)
                ],
                reports=report_status,
                report_ids=report_ids.get(d.id, {}),
                reports_overdue=sum(
                    1 for m in months_due if dept_reports.get(m) != MonthlyReportStatus.SUBMITTED
                ),
            )
        )
    codes = {d.id: d.code for d in raw.departments}
    overdue = [
        OverdueResult(
            department_code=codes.get(o.tenant_id, ""),
            result_id=str(o.id),
            name=o.name,
            status=o.status,
            due_on=o.due_on.isoformat(),
        )
        for o in raw.overdue
        if o.tenant_id in codes
    ]
    totals = Totals(
        **{
            k: sum(getattr(d, k) for d in departments)
            for k in (
                "registry_size",
                "objects_checked",
                "results",
                "published",
                "on_time",
                "overdue_results",
                "hazards",
                "rectified",
                "overdue_hazards",
                "internal_joint",
                "joint_led",
                "joint_joined",
                "reports_submitted",
            )
        }
    )
    return Dashboard(
        year=year,
        today=today.isoformat(),
        county_view=department is None,
        targets=Targets(
            registry_share=str(REGISTRY_TARGET),
            joint_share=str(JOINT_TARGET),
            disclosure_rate="1",
            internal_joint=INTERNAL_JOINT_TARGET,
        ),
        departments=departments,
        totals=totals,
        overdue=overdue,
    )


async def oversight_plan(session: AsyncSession, plan_id: uuid.UUID) -> OversightPlan:
    """A plan read-only with its tasks' progress (drawn, checked, published): the overseer reaches any plan of its
    county from the dashboard, a department its own plans and the joint plans it takes part in."""
    found = await repo.plan(session, plan_id)
    if found is None:
        raise NotFound("抽查计划不存在", field="plan_id")
    plan, participants, tasks = found
    return OversightPlan(**msgspec.structs.asdict(plan), participants=participants, tasks=tasks)
