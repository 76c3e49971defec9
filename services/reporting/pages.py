"""Pages of reports (department); the oversight dashboard's pages are ``oversight_pages`` (``oversight_router`` is
re-exported here for the composition root)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import service, xlsx
from services.reporting.oversight_pages import oversight_router
from services.reporting.routes import download, monthly_filename
from services.reporting.schemas import MonthlyFields
from shared.context import WRITERS, Ctx
from shared.errors import DomainError
from shared.web.forms import to_struct
from shared.web.guards import provide_ctx, provide_db_session, requires_department, requires_login
from shared.web.pages import page_context
from shared.web.params import AnnexNumber, IdList, MonthNumber, OptionalYear, YearNumber


async def _render(
    request: Request[Any, Any, Any], template: str, ctx: Ctx | None = None, **context: Any
) -> Template:
    base = await page_context(request)
    base["can_write"] = ctx is not None and ctx.principal.has_any_role(*WRITERS)
    return Template(f"reporting/{template}", context={**base, **context})


@get("/reports")
async def reports_page(request: Request[Any, Any, Any], ctx: Ctx, year: OptionalYear = None) -> Template:
    today = dt.date.today()
    year = year or today.year
    months = []
    for month in range(1, 13):
        if (year, month) > (today.year, today.month):
            break
        report = await service.monthly_report(ctx, year, month, today)
        months.append(report)
    return await _render(
        request, "index.html", ctx, year=year, months=months, tasks=await service.implemented_tasks(ctx)
    )


async def _monthly_page(
    request: Request[Any, Any, Any], ctx: Ctx, year: YearNumber, month: MonthNumber, **extra: Any
) -> Template:
    return await _render(
        request, "monthly.html", ctx, r=await service.monthly_report(ctx, year, month), **extra
    )


@get("/reports/monthly/{year:int}/{month:int}")
async def monthly_page(
    request: Request[Any, Any, Any], ctx: Ctx, year: YearNumber, month: MonthNumber
) -> Template:
    return await _monthly_page(request, ctx, year, month)


@post("/reports/monthly/{year:int}/{month:int}", guards=[requires_department])
async def monthly_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, year: YearNumber, month: MonthNumber
) -> Template | Redirect:
    form = await request.form()
    typed = {k: str(form.get(k) or "") for k in service.EDITABLE}
    data = MonthlyFields(**typed)  # shown again as typed when refused
    savepoint = await db.begin_nested()
    try:
        data = to_struct(typed, MonthlyFields)
        if form.get("action") == "submit":
            await service.submit_monthly(ctx, year, month, data)
        else:
            await service.save_monthly(ctx, year, month, data)
    except DomainError as exc:
        await savepoint.rollback()
        return await _monthly_page(request, ctx, year, month, error=exc, values=data)
    return Redirect(f"/reports/monthly/{year}/{month}")


@get("/reports/monthly/{year:int}/{month:int}/xlsx")
async def monthly_xlsx_page(ctx: Ctx, year: YearNumber, month: MonthNumber) -> Response[bytes]:
    report = await service.monthly_report(ctx, year, month)
    return download(xlsx.monthly_report(report), monthly_filename(report))


@get("/reports/tasks/{task_id:uuid}")
async def task_page(request: Request[Any, Any, Any], ctx: Ctx, task_id: uuid.UUID) -> Template:
    return await _render(request, "task.html", ctx, r=await service.task_report(ctx, task_id))


@post("/reports/tasks/{task_id:uuid}/submit", guards=[requires_department])
async def task_submit_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, task_id: uuid.UUID
) -> Template | Redirect:
    savepoint = await db.begin_nested()
    try:
        await service.submit_task_report(ctx, task_id)
    except DomainError as exc:
        await savepoint.rollback()
        return await _render(request, "task.html", ctx, r=await service.task_report(ctx, task_id), error=exc)
    return Redirect(f"/reports/tasks/{task_id}")


@get("/reports/tasks/{task_id:uuid}/xlsx")
async def task_xlsx_page(ctx: Ctx, task_id: uuid.UUID) -> Response[bytes]:
    report = await service.task_report(ctx, task_id)
    return download(xlsx.task_report(report), f"实施情况报告-{report.plan_number}-{report.task_number}.xlsx")


@get("/reports/plan-tables/{year:int}/{annex:int}")
async def plan_table_page(
    ctx: Ctx, year: YearNumber, annex: AnnexNumber, plans: IdList = None
) -> Response[bytes]:
    table = await service.plan_table(ctx, year, annex, plans)
    return download(xlsx.plan_table(table), f"附件{annex}-{year}年抽查工作计划表.xlsx")


router = Router(
    path="/",
    route_handlers=[
        reports_page,
        monthly_page,
        monthly_form,
        monthly_xlsx_page,
        task_page,
        task_submit_form,
        task_xlsx_page,
        plan_table_page,
    ],
    guards=[requires_login],
    dependencies={"db": Provide(provide_db_session), "ctx": Provide(provide_ctx)},
)


__all__ = ["oversight_router", "router"]
