"""Reports API: monthly report (附件1), post-implementation report, annual plan tables (附件2/3), the dashboard.

Writes need an active department and the planner or dept-admin role: the county overseer (no active department) gets
403 on every one of them, and its scope is read-only in PostgreSQL anyway."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, Router, get, post
from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import drilldown, service, xlsx
from services.reporting.dashboard_schemas import Dashboard, OversightDepartment, OversightPlan, OversightTask
from services.reporting.schemas import ImplementedTask, MonthlyFields, MonthlyReport, TaskReport
from shared.context import Ctx, Department, Principal
from shared.errors import Forbidden
from shared.web.guards import (
    active_department,
    current_principal,
    provide_ctx,
    provide_db_session,
    requires_department,
    requires_login,
)
from shared.web.openapi import file_response
from shared.web.params import AnnexNumber, IdList, MonthNumber, OptionalYear, PathId, YearNumber


def download(body: bytes, filename: str, media_type: str = xlsx.MEDIA_TYPE) -> Response[bytes]:
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "private, no-store",
        },
    )


def monthly_filename(report: MonthlyReport) -> str:
    return f"{report.department_code}-月报表-{report.year}{report.month:02d}.xlsx"


@get("/api/reports/monthly/{year:int}/{month:int}")
async def monthly_get(ctx: Ctx, year: YearNumber, month: MonthNumber) -> MonthlyReport:
    return await service.monthly_report(ctx, year, month)


@post("/api/reports/monthly/{year:int}/{month:int}", status_code=200)
async def monthly_save(ctx: Ctx, year: YearNumber, month: MonthNumber, data: MonthlyFields) -> MonthlyReport:
    return await service.save_monthly(ctx, year, month, data)


@post("/api/reports/monthly/{year:int}/{month:int}/submit", status_code=200)
async def monthly_submit(
    ctx: Ctx, year: YearNumber, month: MonthNumber, data: MonthlyFields | None = None
) -> MonthlyReport:
    return await service.submit_monthly(ctx, year, month, data)


@get("/api/reports/monthly/{year:int}/{month:int}/xlsx", responses=file_response("月度报表（XLSX）"))
async def monthly_xlsx(ctx: Ctx, year: YearNumber, month: MonthNumber) -> Response[bytes]:
    report = await service.monthly_report(ctx, year, month)
    return download(xlsx.monthly_report(report), monthly_filename(report))


@get("/api/reports/monthly/by-id/{report_id:uuid}")
async def monthly_by_id(ctx: Ctx, report_id: uuid.UUID) -> MonthlyReport:
    return await service.monthly_report_by_id(ctx, report_id)


@get("/api/reports/tasks")
async def task_list(ctx: Ctx) -> list[ImplementedTask]:
    return await service.implemented_tasks(ctx)


@get("/api/reports/tasks/{task_id:uuid}")
async def task_get(ctx: Ctx, task_id: uuid.UUID) -> TaskReport:
    return await service.task_report(ctx, task_id)


@post("/api/reports/tasks/{task_id:uuid}/submit", status_code=200)
async def task_submit(ctx: Ctx, task_id: uuid.UUID) -> TaskReport:
    return await service.submit_task_report(ctx, task_id)


@get("/api/reports/tasks/{task_id:uuid}/xlsx", responses=file_response("实施情况报告（XLSX）"))
async def task_xlsx(ctx: Ctx, task_id: uuid.UUID) -> Response[bytes]:
    report = await service.task_report(ctx, task_id)
    return download(xlsx.task_report(report), f"实施情况报告-{report.plan_number}-{report.task_number}.xlsx")


@get("/api/reports/plan-tables/{year:int}/{annex:int}", responses=file_response("计划表（XLSX）"))
async def plan_table_api(
    ctx: Ctx, year: YearNumber, annex: AnnexNumber, plans: IdList = None
) -> Response[bytes]:
    table = await service.plan_table(ctx, year, annex, plans)
    return download(xlsx.plan_table(table), f"附件{annex}-{year}年抽查工作计划表.xlsx")


router = Router(
    path="/",
    route_handlers=[
        monthly_get,
        monthly_save,
        monthly_submit,
        monthly_xlsx,
        monthly_by_id,
        task_list,
        task_get,
        task_submit,
        task_xlsx,
        plan_table_api,
    ],
    guards=[requires_login, requires_department],
    dependencies={"db": Provide(provide_db_session), "ctx": Provide(provide_ctx)},
    tags=["reporting"],
)


async def dashboard_scope(request: Request[Any, Any, Any]) -> tuple[Principal, Department | None]:
    """The overseer (county view, no department) or the active department; nobody else sees anything."""
    principal = current_principal(request)
    department = await active_department(principal, request.app.state.departments)
    if department is None and not principal.is_overseer:
        raise Forbidden("请先选择部门（X-Department）", field="X-Department")
    return principal, department


async def dashboard_view(request: Request[Any, Any, Any], db: AsyncSession, year: OptionalYear) -> Dashboard:
    """The overseer's county view, or the active department's own view; nobody else sees anything."""
    principal, department = await dashboard_scope(request)
    return await service.dashboard(db, principal, department, year or dt.date.today().year)


async def department_view(
    request: Request[Any, Any, Any], db: AsyncSession, code: str, year: int | None
) -> OversightDepartment:
    principal, department = await dashboard_scope(request)
    return await drilldown.department(db, principal, department, code, year or dt.date.today().year)


@get("/api/oversight/dashboard")
async def dashboard_api(
    request: Request[Any, Any, Any], db: AsyncSession, year: OptionalYear = None
) -> Dashboard:
    # Rates are Decimals: msgspec writes them as strings (exact), as the API always answered them.
    return await dashboard_view(request, db, year)


@get("/api/oversight/reports/{report_id:uuid}")
async def stored_report_api(
    request: Request[Any, Any, Any], db: AsyncSession, report_id: uuid.UUID
) -> MonthlyReport:
    await dashboard_view_guard(request)
    return await service.stored_report(db, report_id)


@get("/api/oversight/plans/{plan_id:uuid}")
async def oversight_plan_api(
    request: Request[Any, Any, Any], db: AsyncSession, plan_id: uuid.UUID
) -> OversightPlan:
    """A plan read-only with each task's progress: the overseer's drill-down from the dashboard (any plan of its
    county, joint plans included); a department reads its own plans and the joint plans it takes part in."""
    await dashboard_view_guard(request)
    return await service.oversight_plan(db, plan_id)


async def dashboard_view_guard(request: Request[Any, Any, Any]) -> None:
    await dashboard_scope(request)


@get("/api/oversight/departments/{code:str}")
async def oversight_department_api(
    request: Request[Any, Any, Any], db: AsyncSession, code: PathId, year: OptionalYear = None
) -> OversightDepartment:
    """The drill-down to a department: its figures against the targets, its plans of the year, its overdue results
    (the overseer: any department of its county; a department: itself)."""
    return await department_view(request, db, code, year)


@get("/api/oversight/tasks/{task_id:uuid}")
async def oversight_task_api(
    request: Request[Any, Any, Any], db: AsyncSession, task_id: uuid.UUID
) -> OversightTask:
    """The drill-down to a task: every drawn enterprise and where its check stands."""
    await dashboard_scope(request)
    return await drilldown.task(db, task_id)


oversight_router = Router(
    path="/",
    route_handlers=[
        dashboard_api,
        stored_report_api,
        oversight_plan_api,
        oversight_department_api,
        oversight_task_api,
    ],
    guards=[requires_login],
    dependencies={"db": Provide(provide_db_session)},
    tags=["reporting"],
)
