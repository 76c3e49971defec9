"""The public site of 一公开 (no login): search by name or USCC, task lists, record pages.

Reads only ``public_results`` through ``reader.PublicReader`` (read-only connections with an empty tenant scope, on
the read replica when there is one): tenant tables are invisible here by RLS, so drafts cannot be reached even by
guessing ids. These routes never touch the login session or the CSRF cookie (``skip_session``,
``exclude_from_csrf``): an anonymous answer sets no cookie, so browsers and proxies may cache it
(``Cache-Control: public`` with an ``ETag``; ``If-None-Match`` gets a 304).
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, Router, get
from litestar.openapi import ResponseSpec
from litestar.response import Template

from services.disclosure import public_search
from services.disclosure import repository as repo
from services.disclosure.reader import PublicReader, public_reader
from services.disclosure.schemas import RecordRow, SearchAnswer, SearchRow
from services.disclosure.throttle import Limiter
from shared.errors import InvalidInput, NotFound
from shared.ratelimit import TooManyRequests, client_address
from shared.runtime import Runtime
from shared.web.params import SearchText

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


# The answer is served as the JSON bytes cached by public_search (built by PostgreSQL), so its schema is declared.
@get(
    "/api/public/results",
    responses={200: ResponseSpec(data_container=SearchAnswer, description="公示结果检索")},
)
async def search_api(request: Request[Any, Any, Any], q: SearchText = "") -> Response[bytes]:
    await check_rate(request)
    answer = await public_search.find(await _reader(request), q)
    if answer is None:
        return Response(b'{"q":"","results":[]}', media_type="application/json", headers=CACHE)
    headers = {**CACHE, "ETag": answer.etag}
    if request.headers.get("if-none-match") == answer.etag:
        return Response(b"", status_code=304, headers=headers)
    return Response(answer.body, media_type="application/json", headers=headers)


@get("/public")
async def home(request: Request[Any, Any, Any], q: SearchText = "") -> Response[Any]:
    reader = await _reader(request)
    error = None
    rows: list[SearchRow] = []
    if q.strip():
        await check_rate(request)
        try:
            answer = await public_search.find(reader, q)
            rows = answer.rows() if answer else []
        except InvalidInput as exc:
            error = exc
    recent = [] if q.strip() else await repo.recent(reader, 10)
    return Template(
        "disclosure/public_home.html",
        context={"user": None, "q": q, "results": rows, "recent": recent, "error": error},
        headers=CACHE,
    )


async def _record(request: Request[Any, Any, Any], result_id: uuid.UUID) -> RecordRow:
    found = await repo.get_record(await _reader(request), result_id)
    if found is None:
        raise NotFound("公示记录不存在", field="result_id")
    return found


@get("/public/results/{result_id:uuid}")
async def record(request: Request[Any, Any, Any], result_id: uuid.UUID) -> Response[Any]:
    return Template(
        "disclosure/public_record.html",
        context={"user": None, "r": await _record(request, result_id)},
        headers=CACHE,
    )


@get("/api/public/results/{result_id:uuid}")
async def record_json(request: Request[Any, Any, Any], result_id: uuid.UUID) -> Response[RecordRow]:
    return Response(await _record(request, result_id), headers=CACHE)


@get("/public/tasks/{task_id:uuid}")
async def task_page(request: Request[Any, Any, Any], task_id: uuid.UUID) -> Response[Any]:
    rows = await repo.task_results(await _reader(request), task_id)
    if not rows:
        raise NotFound("该任务暂无公示结果", field="task_id")
    return Template(
        "disclosure/public_task.html", context={"user": None, "rows": rows, "t": rows[0]}, headers=CACHE
    )


router = Router(
    path="/",
    route_handlers=[search_api, home, record, record_json, task_page],
    # No login, no session store, no CSRF cookie on the public site (see the module docstring).
    opt={"exclude_from_auth": True, "skip_session": True, "exclude_from_csrf": True},
    tags=["public"],
)
