"""Public pages of the enterprise's side (no login): scanning a code, evaluating the visit, the enterprise's own
checks, 信用修复 guidance and the open-data downloads."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.disclosure import service as disclosure
from services.enterprise import codes, opendata, scan
from services.enterprise.routes import check_rate
from services.enterprise.schemas import EnterpriseLookup, EvaluationIn
from services.planning.public import provide_public_session
from shared.errors import DomainError, NotFound
from shared.runtime import Runtime
from shared.tenancy import anonymous_scope
from shared.web.forms import clean, to_struct
from shared.web.params import PathId, PathUscc, QueryText, YearNumber


def _page(template: str, **context: Any) -> Template:
    return Template(f"enterprise/{template}", context={"user": None, **context})


@get("/v", exclude_from_auth=True)
async def code_form(code: QueryText = None) -> Template | Redirect:
    """Typing a code from the notice instead of scanning it."""
    if code:
        return Redirect(f"/v/{codes.normalise(code)[:16]}")
    return _page("scan_form.html")


@get("/v/{code:str}", exclude_from_auth=True)
async def scan_page(request: Request[Any, Any, Any], public_db: AsyncSession, code: PathId) -> Template:
    await check_rate(request)
    try:
        found = await scan.scan(public_db, code)
    except NotFound as exc:
        return Template(
            "enterprise/scan_form.html", context={"user": None, "error": exc, "typed": code}, status_code=404
        )
    return _page("scan.html", s=found, today=dt.date.today())


@get("/v/{code:str}/evaluate", exclude_from_auth=True)
async def evaluate_page(request: Request[Any, Any, Any], public_db: AsyncSession, code: PathId) -> Template:
    found = await scan.scan(public_db, code)
    return _page("evaluate.html", s=found, values={})


@post("/v/{code:str}/evaluate", exclude_from_auth=True)
async def evaluate_form(request: Request[Any, Any, Any], public_db: AsyncSession, code: PathId) -> Template:
    await check_rate(request)
    form = await request.form()
    values = clean(
        {
            "secret": form.get("secret"),
            "conduct": form.get("conduct"),
            "credentials_shown": {"是": True, "否": False}.get(str(form.get("credentials_shown"))),
            "burden": form.get("burden"),
            "improper": {"是": True, "否": False}.get(str(form.get("improper"))),
            "comment": form.get("comment"),
        }
    )
    found = await scan.scan(public_db, code)
    runtime: Runtime = request.app.state.runtime
    try:
        data = to_struct(values, EvaluationIn)
        async with runtime.unit_of_work(anonymous_scope()) as session:
            await scan.evaluate(session, code, data)
    except DomainError as exc:
        shown = {k: v for k, v in values.items() if k != "secret"}
        return Template(
            "enterprise/evaluate.html",
            context={"user": None, "s": found, "values": shown, "error": exc},
            status_code=exc.status_code,
        )
    return _page("evaluate.html", s=found, done=True, values={})


@get("/public/enterprise", exclude_from_auth=True)
async def enterprise_page() -> Template:
    return _page("enterprise.html", values={})


@post("/public/enterprise", exclude_from_auth=True)
async def enterprise_form(request: Request[Any, Any, Any], public_db: AsyncSession) -> Template:
    await check_rate(request)
    form = await request.form()
    values = clean({"uscc": form.get("uscc"), "code": form.get("code")})
    try:
        view = await scan.enterprise_view(public_db, to_struct(values, EnterpriseLookup))
    except DomainError as exc:
        return Template(
            "enterprise/enterprise.html",
            context={"user": None, "values": {"uscc": values.get("uscc", "")}, "error": exc},
            status_code=exc.status_code,
        )
    return _page("enterprise.html", values={"uscc": view.uscc}, view=view)


@get("/public/credit-repair/{region:str}", exclude_from_auth=True)
async def credit_repair_page(public_db: AsyncSession, region: PathUscc) -> Template:
    return _page("credit_repair.html", repair=await scan.credit_repair(public_db, region))


# ---- open data -------------------------------------------------------------------------------------------------------

DOWNLOAD = {"Cache-Control": "public, max-age=3600"}


@get("/public/open-data", exclude_from_auth=True)
async def open_data_page(request: Request[Any, Any, Any]) -> Template:
    region = request.app.state.region_code
    this_year = dt.date.today().year
    return _page(
        "open_data.html",
        region=region,
        years=list(range(this_year, this_year - 5, -1)),
        fields=opendata.FIELDS,
        licence=opendata.LICENCE,
        schema_version=opendata.SCHEMA_VERSION,
    )


@get("/public/open-data/schema.json", exclude_from_auth=True)
async def open_data_schema() -> dict[str, Any]:
    return opendata.schema()


def _region(region: str) -> str:
    if not (region.isdigit() and 6 <= len(region) <= 12):
        raise NotFound("行政区划代码应为6–12位数字", field="region")
    return region


@get("/public/open-data/{region:str}/{year:int}/results.csv", exclude_from_auth=True)
async def open_data_csv(public_db: AsyncSession, region: PathUscc, year: YearNumber) -> Response[bytes]:
    rows = await disclosure.county_year_records(public_db, _region(region), year)
    return Response(
        opendata.to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={**DOWNLOAD, "Content-Disposition": f'attachment; filename="results-{region}-{year}.csv"'},
    )


@get("/public/open-data/{region:str}/{year:int}/results.json", exclude_from_auth=True)
async def open_data_json(public_db: AsyncSession, region: PathUscc, year: YearNumber) -> Response[bytes]:
    rows = await disclosure.county_year_records(public_db, _region(region), year)
    return Response(
        opendata.to_json(region, year, rows),
        media_type="application/json",
        headers={**DOWNLOAD, "Content-Disposition": f'attachment; filename="results-{region}-{year}.json"'},
    )


@get("/v/{code:str}/qr.svg", exclude_from_auth=True)
async def qr_image(request: Request[Any, Any, Any], code: PathId) -> Response[str]:
    """The QR of a code's scan address (it carries nothing but the public part)."""
    from services.enterprise.pages import qr_svg, scan_url

    clean_code = scan.clean_code(code)
    return Response(qr_svg(scan_url(request, clean_code), f"检查码 {clean_code}"), media_type="image/svg+xml")


router = Router(
    path="/",
    route_handlers=[
        code_form,
        scan_page,
        evaluate_page,
        evaluate_form,
        enterprise_page,
        enterprise_form,
        credit_repair_page,
        open_data_page,
        open_data_schema,
        open_data_csv,
        open_data_json,
        qr_image,
    ],
    dependencies={"public_db": Provide(provide_public_session)},
    tags=["public"],
)
