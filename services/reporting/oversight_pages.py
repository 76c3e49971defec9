"""The oversight dashboard's pages: the county (or a department's own view), and the drill-down county →
department → plan → task → enterprise, each a page of its own with an export of what it shows. Read only."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, Router, get
from litestar.di import Provide
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import charts, drilldown, extension, service
from services.reporting import oversight_export as export
from services.reporting.dashboard_schemas import Dashboard, MonthSummary
from services.reporting.routes import dashboard_scope, dashboard_view, department_view, download
from shared.web.guards import provide_db_session, requires_login
from shared.web.pages import page_context
from shared.web.params import FileFormat, OptionalYear, PathId, QueryText


async def _render(request: Request[Any, Any, Any], template: str, **context: Any) -> Template:
    base = await page_context(request)
    return Template(f"reporting/{template}", context={**base, "pct": service.pct, **context})


def county_months(view: Dashboard) -> list[MonthSummary]:
    """The county's months: every department's added up."""
    return [
        MonthSummary(
            month=m,
            results=sum(d.months[m - 1].results for d in view.departments),
            published=sum(d.months[m - 1].published for d in view.departments),
            on_time=sum(d.months[m - 1].on_time for d in view.departments),
        )
        for m in range(1, 13)
    ]


def _department_href(year: int, code: str) -> str:
    return f"/oversight/departments/{code}?{urlencode({'year': year})}"


@get("/oversight")
async def oversight_page(
    request: Request[Any, Any, Any], db: AsyncSession, year: OptionalYear = None, department: QueryText = None
) -> Template | Redirect:
    view = await dashboard_view(request, db, year)
    if department:  # the old filter link: the department has a page of its own now
        return Redirect(_department_href(view.year, department))
    names = {d.code: d.name for d in view.departments}
    hrefs = [_department_href(view.year, d.code) for d in view.departments]
    charts_html = {
        "trend": charts.trend(
            county_months(view),
            title=f"{view.year}年{'全县' if view.county_view else '本部门'}按月检查与公示",
        ),
        "share": charts.target_bars(
            [(d.name, d.registry_share) for d in view.departments],
            service.REGISTRY_TARGET,
            title="年度抽查企业占比（目标≥5%）",
            href=hrefs,
        ),
        "disclosure": charts.target_bars(
            [(d.name, d.disclosure_rate) for d in view.departments],
            Decimal(1),
            title="抽查结果公示率（目标100%）",
            scale=Decimal(1),
            href=hrefs,
        ),
    }
    blocks = await extension.oversight_blocks(request, db, view.year)
    return await _render(
        request, "oversight.html", v=view, names=names, charts=charts_html, extra_blocks=blocks
    )


@get("/oversight/export/{fmt:str}")
async def oversight_export(
    request: Request[Any, Any, Any], db: AsyncSession, fmt: FileFormat, year: OptionalYear = None
) -> Response[bytes]:
    body, media_type, filename = export.to_file(export.county(await dashboard_view(request, db, year)), fmt)
    return download(body, filename, media_type)


@get("/oversight/departments/{code:str}")
async def department_page(
    request: Request[Any, Any, Any], db: AsyncSession, code: PathId, year: OptionalYear = None
) -> Template:
    view = await department_view(request, db, code, year)
    d = view.department
    joint = [(f"{t.plan_number}/{t.task_number}", t.share) for t in d.joint_tasks]
    charts_html = {
        "trend": charts.trend(d.months, title=f"{d.name} {view.year}年按月检查与公示"),
        "joint": charts.target_bars(joint, service.JOINT_TARGET, title="部门联合抽查比例（目标≥10%）")
        if joint
        else "",
    }
    return await _render(request, "oversight_department.html", v=view, d=d, charts=charts_html)


@get("/oversight/departments/{code:str}/export/{fmt:str}")
async def department_export(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    code: PathId,
    fmt: FileFormat,
    year: OptionalYear = None,
) -> Response[bytes]:
    body, media_type, filename = export.to_file(
        export.department(await department_view(request, db, code, year)), fmt
    )
    return download(body, filename, media_type)


@get("/oversight/reports/{report_id:uuid}")
async def stored_report_page(
    request: Request[Any, Any, Any], db: AsyncSession, report_id: uuid.UUID
) -> Template:
    await dashboard_scope(request)
    return await _render(
        request, "monthly.html", can_write=False, r=await service.stored_report(db, report_id)
    )


@get("/oversight/plans/{plan_id:uuid}")
async def oversight_plan_page(
    request: Request[Any, Any, Any], db: AsyncSession, plan_id: uuid.UUID
) -> Template:
    """A plan read-only with its tasks' progress."""
    await dashboard_scope(request)
    return await _render(request, "oversight_plan.html", p=await service.oversight_plan(db, plan_id))


@get("/oversight/tasks/{task_id:uuid}")
async def oversight_task_page(
    request: Request[Any, Any, Any], db: AsyncSession, task_id: uuid.UUID
) -> Template:
    """A task read-only with every drawn enterprise and where its check stands."""
    await dashboard_scope(request)
    return await _render(request, "oversight_task.html", t=await drilldown.task(db, task_id))


@get("/oversight/tasks/{task_id:uuid}/export/{fmt:str}")
async def task_export(
    request: Request[Any, Any, Any], db: AsyncSession, task_id: uuid.UUID, fmt: FileFormat
) -> Response[bytes]:
    await dashboard_scope(request)
    body, media_type, filename = export.to_file(export.task(await drilldown.task(db, task_id)), fmt)
    return download(body, filename, media_type)


oversight_router = Router(
    path="/",
    route_handlers=[
        oversight_page,
        oversight_export,
        department_page,
        department_export,
        stored_report_page,
        oversight_plan_page,
        oversight_task_page,
        task_export,
    ],
    guards=[requires_login],
    dependencies={"db": Provide(provide_db_session)},
)
