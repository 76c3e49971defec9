"""The public site of 一公开 (no login): search by name or USCC, task lists, record pages. Reads only
``public_results`` with an empty scope on the read replica; tenant tables are invisible here by RLS."""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

from litestar import Request, Response, Router, get
from litestar.di import Provide
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.disclosure import repository as repo
from services.disclosure import search
from services.planning.public import provide_public_session
from shared.errors import DomainError, InvalidInput, NotFound
from shared.runtime import Runtime

PAGE = 20
CACHE = {"Cache-Control": "public, max-age=60, stale-while-revalidate=120", "Vary": "Accept"}


class TooManyRequests(DomainError):
    status_code = 429
    code = "rate_limited"


def rate_limit() -> int:
    """Searches per client address per minute (0 switches the limit off, e.g. for the benchmark)."""
    return int(os.environ.get("SPOTCHECK_PUBLIC_SEARCH_PER_MINUTE", "120"))


async def check_rate(request: Request[Any, Any, Any]) -> None:
    """A fixed-window counter in Redis, shared by every API process; if Redis is down, search stays available."""
    limit = rate_limit()
    runtime: Runtime = request.app.state.runtime
    if limit <= 0 or runtime.arq is None:
        return
    # The peer address only: a client-supplied X-Forwarded-For/X-Real-IP would let anyone pick a fresh bucket.
    client = request.client.host if request.client else "unknown"
    key = f"spotcheck:rl:public-search:{client}:{int(time.time() // 60)}"
    try:
        count = await runtime.arq.incr(key)
        if count == 1:
            await runtime.arq.expire(key, 70)
    except Exception:
        return
    if count > limit:
        raise TooManyRequests("查询过于频繁，请稍后再试", field="q")


async def run_search(session: AsyncSession, q: str) -> list[dict[str, Any]]:
    query = q.strip()
    if not query:
        return []
    if len(query) > 60:
        raise InvalidInput("查询内容过长", field="q")
    if search.is_uscc(query):
        return await repo.search_by_uscc(session, query.upper(), PAGE)
    return await repo.search_by_name(session, search.query_grams(query), search.like_pattern(query), PAGE)


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "categories": list(row["categories"])}


@get("/api/public/results", exclude_from_auth=True)
async def search_api(request: Request[Any, Any, Any], public_db: AsyncSession, q: str = "") -> Response[Any]:
    await check_rate(request)
    rows = await run_search(public_db, q)
    return Response({"q": q, "results": [_json_row(r) for r in rows]}, headers=CACHE)


@get("/public", exclude_from_auth=True)
async def home(request: Request[Any, Any, Any], public_db: AsyncSession, q: str = "") -> Response[Any]:
    error = None
    rows: list[dict[str, Any]] = []
    if q.strip():
        await check_rate(request)
        try:
            rows = await run_search(public_db, q)
        except InvalidInput as exc:
            error = exc
    recent = [] if q.strip() else await repo.recent(public_db, 10)
    return Template("disclosure/public_home.html", context={
        "user": None, "q": q, "results": rows, "recent": recent, "error": error}, headers=CACHE)


@get("/public/results/{result_id:uuid}", exclude_from_auth=True)
async def record(public_db: AsyncSession, result_id: uuid.UUID) -> Response[Any]:
    found = await repo.get_record(public_db, result_id)
    if found is None:
        raise NotFound("公示记录不存在", field="result_id")
    return Template("disclosure/public_record.html", context={"user": None, "r": found}, headers=CACHE)


@get("/api/public/results/{result_id:uuid}", exclude_from_auth=True)
async def record_json(public_db: AsyncSession, result_id: uuid.UUID) -> Response[Any]:
    found = await repo.get_record(public_db, result_id)
    if found is None:
        raise NotFound("公示记录不存在", field="result_id")
    return Response(_json_row(found), headers=CACHE)


@get("/public/tasks/{task_id:uuid}", exclude_from_auth=True)
async def task_page(public_db: AsyncSession, task_id: uuid.UUID) -> Response[Any]:
    rows = await repo.task_results(public_db, task_id)
    if not rows:
        raise NotFound("该任务暂无公示结果", field="task_id")
    return Template("disclosure/public_task.html", context={"user": None, "rows": rows, "t": rows[0]},
                    headers=CACHE)


router = Router(
    path="/",
    route_handlers=[search_api, home, record, record_json, task_page],
    dependencies={"public_db": Provide(provide_public_session)},
    tags=["public"],
)
