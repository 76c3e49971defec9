"""The public site of 一公开 (no login): search by name or USCC with filters (department, year, result category),
statistics per department, an enterprise's checks, task lists, record pages, and friendly pages for what is not
(yet) public.

Reads only ``public_results`` through ``reader.PublicReader`` (read-only connections with an empty tenant scope, on
the read replica when there is one): tenant tables are invisible here by RLS, so drafts cannot be reached even by
guessing ids. These routes never touch the login session or the CSRF cookie (``skip_session``,
``exclude_from_csrf``): an anonymous answer sets no cookie, so browsers and proxies may cache it
(``Cache-Control: public`` with an ``ETag``; ``If-None-Match`` gets a 304).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from litestar import Request, Response, Router, get
from litestar.openapi import ResponseSpec
from litestar.response import Template

from services.disclosure import public_search, public_stats, public_views
from services.disclosure import repository as repo
from services.disclosure.reader import PublicReader, public_reader
from services.disclosure.schemas import (
    RESULT_CATEGORIES,
    EnterpriseView,
    PublicStatistics,
    RecordRow,
    SearchAnswer,
    SearchRow,
)
from services.disclosure.throttle import Limiter
from shared.errors import InvalidInput, NotFound
from shared.ratelimit import TooManyRequests, client_address
from shared.runtime import Runtime
from shared.web.params import OptionalPage, OptionalYear, PathUscc, QueryText, SearchText

CACHE = {"Cache-Control": "public, max-age=60, stale-while-revalidate=120"}
LIMIT_MESSAGE = "查询过于频繁，请一分钟后再试"
_limiter = Limiter("public-search")


def rate_limit(request: Request[Any, Any, Any]) -> int:
    """Searches per client address and minute (``SPOTCHECK_PUBLIC_SEARCH_PER_MINUTE``; 0 switches it off)."""
    return int(request.app.state.settings.app.public_search_per_minute)


async def check_rate(request: Request[Any, Any, Any]) -> None:
    runtime: Runtime = request.app.state.runtime
    if not await _limiter.allow(runtime.arq, client_address(request), rate_limit(request)):
        raise TooManyRequests(LIMIT_MESSAGE, field="q")


async def _reader(request: Request[Any, Any, Any]) -> PublicReader:
    return await public_reader(request.app.state.runtime)


def _page(template: str, status_code: int = 200, **context: Any) -> Template:
    return Template(
        f"disclosure/{template}",
        context={"user": None, "percent": public_stats.percent, **context},
        headers=CACHE,
        status_code=status_code,
    )


def _missing(title: str, message: str, status_code: int = 404, **context: Any) -> Template:
    """A friendly page for what is not (or not yet) public: what it means, and where to look instead."""
    return _page("public_missing.html", status_code, title=title, message=message, **context)


# The answer is served as the JSON bytes cached by public_search (built by PostgreSQL), so its schema is declared.
@get(
    "/api/public/results",
    responses={
        200: ResponseSpec(
            data_container=SearchAnswer, description="公示结果检索（可按部门、年度、检查结果筛选）"
        )
    },
)
async def search_api(
    request: Request[Any, Any, Any],
    q: SearchText = "",
    department: QueryText = None,
    year: OptionalYear = None,
    category: QueryText = None,
    page: OptionalPage = None,
) -> Response[bytes]:
    narrow = public_search.filters(department, year, category, page)
    await check_rate(request)
    answer = await public_search.find(await _reader(request), q, narrow)
    if answer is None:
        return Response(b'{"q":"","results":[]}', media_type="application/json", headers=CACHE)
    headers = {**CACHE, "ETag": answer.etag}
    if request.headers.get("if-none-match") == answer.etag:
        return Response(b"", status_code=304, headers=headers)
    return Response(answer.body, media_type="application/json", headers=headers)


@get("/public")
async def home(
    request: Request[Any, Any, Any],
    q: SearchText = "",
    department: QueryText = None,
    year: OptionalYear = None,
    category: QueryText = None,
    page: OptionalPage = None,
) -> Response[Any]:
    reader = await _reader(request)
    error = None
    rows: list[SearchRow] = []
    more = False
    narrow = public_search.NO_FILTERS
    try:
        narrow = public_search.filters(department, year, category, page)
        if q.strip() or narrow.narrowing:
            await check_rate(request)
            answer = await public_search.find(reader, q, narrow)
            rows, more = (answer.rows(), answer.more) if answer else ([], False)
    except InvalidInput as exc:
        error = exc
    searching = bool(q.strip()) or narrow.narrowing or error is not None
    uscc = public_views.clean_uscc(q)
    return _page(
        "public_home.html",
        q=q,
        f=narrow,
        searching=searching,
        results=rows,
        more=more,
        uscc=uscc,
        recent=[] if searching else await repo.recent(reader, 10),
        error=error,
        departments=await public_views.departments(reader),
        years=public_views.years(),
        categories=RESULT_CATEGORIES,
    )


async def _record(request: Request[Any, Any, Any], result_id: uuid.UUID) -> RecordRow | None:
    return await repo.get_record(await _reader(request), result_id)


@get("/public/results/{result_id:uuid}")
async def record(request: Request[Any, Any, Any], result_id: uuid.UUID) -> Response[Any]:
    found = await _record(request, result_id)
    if found is None:
        return _missing(
            "未找到该公示记录",
            "该检查结果不存在，或尚未经审核公示。检查结果经部门审核后向社会公示，请稍后再查。",
        )
    return _page("public_record.html", r=found)


@get("/api/public/results/{result_id:uuid}")
async def record_json(request: Request[Any, Any, Any], result_id: uuid.UUID) -> Response[RecordRow]:
    found = await _record(request, result_id)
    if found is None:
        raise NotFound("公示记录不存在", field="result_id")
    return Response(found, headers=CACHE)


@get("/public/tasks/{task_id:uuid}")
async def task_page(request: Request[Any, Any, Any], task_id: uuid.UUID) -> Response[Any]:
    view = await public_views.task(await _reader(request), task_id)
    if view is None:
        return _missing(
            "未找到该抽查任务",
            "该抽查任务不存在，或尚未发布抽取公告。抽查任务在抽取前公告，抽取后公布名单，检查结果经审核后公示。",
        )
    return _page("public_task.html", v=view)


async def _statistics(request: Request[Any, Any, Any], year: int | None) -> PublicStatistics:
    return await public_stats.statistics(await _reader(request), year or dt.date.today().year)


@get("/api/public/statistics")
async def statistics_api(
    request: Request[Any, Any, Any], year: OptionalYear = None
) -> Response[PublicStatistics]:
    return Response(await _statistics(request, year), headers=CACHE)


@get("/public/statistics")
async def statistics_page(request: Request[Any, Any, Any], year: OptionalYear = None) -> Response[Any]:
    return _page("public_statistics.html", s=await _statistics(request, year), years=public_views.years())


async def _enterprise(request: Request[Any, Any, Any], uscc: str) -> tuple[str | None, EnterpriseView | None]:
    clean = public_views.clean_uscc(uscc)
    return clean, (await public_views.enterprise(await _reader(request), clean) if clean else None)


@get("/api/public/enterprises/{uscc:str}")
async def enterprise_api(request: Request[Any, Any, Any], uscc: PathUscc) -> Response[EnterpriseView]:
    clean, view = await _enterprise(request, uscc)
    if clean is None:
        raise InvalidInput("统一社会信用代码应为18位数字或大写字母", field="uscc")
    if view is None:
        raise NotFound("公示平台上没有该企业的抽查信息", field="uscc")
    return Response(view, headers=CACHE)


@get("/public/enterprises/{uscc:str}")
async def enterprise_page(request: Request[Any, Any, Any], uscc: PathUscc) -> Response[Any]:
    clean, view = await _enterprise(request, uscc)
    if clean is None:
        return _missing(
            "统一社会信用代码有误",
            "统一社会信用代码应为18位数字或大写字母，请核对后重新查询。",
            status_code=422,
        )
    if view is None:
        return _missing(
            "暂无该企业的抽查信息",
            f"统一社会信用代码 {clean} 的企业目前没有被抽中的记录，也没有公示的检查结果。"
            "企业被随机抽中后会列入抽取公告的名单，检查结果经审核后在此公示。",
            uscc=clean,
        )
    return _page("public_enterprise.html", e=view)


router = Router(
    path="/",
    route_handlers=[
        search_api,
        home,
        record,
        record_json,
        task_page,
        statistics_api,
        statistics_page,
        enterprise_api,
        enterprise_page,
    ],
    # No login, no session store, no CSRF cookie on the public site (see the module docstring).
    opt={"exclude_from_auth": True, "skip_session": True, "exclude_from_csrf": True},
    tags=["public"],
)
