"""Department API and pages of disclosure: export of published results, the official calendar (read-only: operators
load it with ``spotcheck calendar``, see ``deadlines.load_year``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response, Router, get
from litestar.di import Provide
from litestar.response import Template

from services.disclosure import deadlines, service
from services.disclosure.schemas import CalendarView
from shared.context import Ctx
from shared.web.guards import provide_ctx, provide_db_session, requires_department, requires_login
from shared.web.openapi import file_response
from shared.web.pages import page_context
from shared.web.params import FileFormat, YearNumber


def _download(body: bytes, media_type: str, filename: str) -> Response[bytes]:
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "private, no-store",
        },
    )


@get("/api/results/export", responses=file_response("公示结果导出（CSV 或 XLSX）"))
async def export_api(ctx: Ctx, format: FileFormat = "csv") -> Response[bytes]:
    return _download(*await service.export_results(ctx, format))


@get("/results/export/{fmt:str}")
async def export_page(ctx: Ctx, fmt: FileFormat) -> Response[bytes]:
    return _download(*await service.export_results(ctx, fmt))


@get("/api/calendar/{year:int}")
async def calendar_get(ctx: Ctx, year: YearNumber) -> CalendarView:
    return await deadlines.year_view(ctx.session, year)


@get("/results/calendar/{year:int}")
async def calendar_page(request: Request[Any, Any, Any], ctx: Ctx, year: YearNumber) -> Template:
    context = await page_context(request)
    return Template(
        "disclosure/calendar.html", context={**context, "c": await deadlines.year_view(ctx.session, year)}
    )


router = Router(
    path="/",
    route_handlers=[export_api, export_page, calendar_get, calendar_page],
    guards=[requires_login, requires_department],
    dependencies={"db": Provide(provide_db_session), "ctx": Provide(provide_ctx)},
    tags=["disclosure"],
)
