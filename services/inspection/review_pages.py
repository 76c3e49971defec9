"""The reviewer's pages: the 待审核 queue, one result to review, and 审核通过并公示 behind a confirmation.

Approval publishes the result to the public site (an irreversible act): the first post shows exactly what
becomes public (enterprise, items' results, follow-up, the deadline) and changes nothing; the confirmation posts
``confirm=yes``. After an approval or a return the reviewer goes on to the next result of the queue.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Router, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.inspection import service
from services.inspection.schemas import ResultStatus, ReturnRequest
from shared.context import Ctx
from shared.errors import DomainError
from shared.web.fielderrors import FormErrors, convert, error_of
from shared.web.guards import provide_ctx, provide_db_session, requires_login
from shared.web.pages import page_context
from shared.web.params import QueryText

REVIEW_LABELS = {"reason": "退回理由"}


async def _render(request: Request[Any, Any, Any], template: str, **context: Any) -> Template:
    return Template(f"inspection/{template}", context={**await page_context(request), **context})


@get("/review")
async def review_queue(request: Request[Any, Any, Any], ctx: Ctx, done: QueryText = None) -> Template:
    waiting = await service.list_results(ctx, status=ResultStatus.SUBMITTED)
    returned = await service.list_results(ctx, status=ResultStatus.RETURNED)
    return await _render(
        request,
        "review_queue.html",
        ctx=ctx,
        waiting=waiting,
        returned=returned,
        overdue=sum(1 for r in waiting if r.overdue),
        done=done,
    )


async def _review_page(
    request: Request[Any, Any, Any], ctx: Ctx, result_id: uuid.UUID, **extra: Any
) -> Template:
    return await _render(
        request, "review.html", ctx=ctx, v=await service.result_detail(ctx, result_id), **extra
    )


@get("/review/{result_id:uuid}")
async def review_page(
    request: Request[Any, Any, Any], ctx: Ctx, result_id: uuid.UUID, done: QueryText = None
) -> Template:
    return await _review_page(request, ctx, result_id, done=done)


async def _next(ctx: Ctx, done: str) -> Redirect:
    waiting = await service.list_results(ctx, status=ResultStatus.SUBMITTED)
    if waiting:
        return Redirect(f"/review/{waiting[0].id}?done={done}")
    return Redirect(f"/review?done={done}")


@post("/review/{result_id:uuid}/approve")
async def approve_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, result_id: uuid.UUID
) -> Template | Redirect:
    form = await request.form()
    if form.get("confirm") != "yes":
        return await _review_page(request, ctx, result_id, confirm=True)
    savepoint = await db.begin_nested()
    try:
        approved = await service.approve(ctx, result_id)
    except DomainError as exc:
        await savepoint.rollback()
        return await _review_page(request, ctx, result_id, error=exc)
    word = "published" if approved.status == ResultStatus.PUBLISHED else "approved"
    return await _next(ctx, word)


@post("/review/{result_id:uuid}/return")
async def return_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, result_id: uuid.UUID
) -> Template | Redirect:
    form = await request.form()
    values = {"reason": form.get("reason", "")}
    data, errors = convert(values, ReturnRequest)
    if data is not None:
        savepoint = await db.begin_nested()
        try:
            await service.return_result(ctx, result_id, data)
        except DomainError as exc:
            await savepoint.rollback()
            errors = error_of(exc)
        else:
            return await _next(ctx, "returned")
    return await _review_page(
        request, ctx, result_id, errors=errors or FormErrors(), labels=REVIEW_LABELS, values=values
    )


router = Router(
    path="/",
    route_handlers=[review_queue, review_page, approve_form, return_form],
    guards=[requires_login],
    dependencies={"db": Provide(provide_db_session), "ctx": Provide(provide_ctx)},
    include_in_schema=False,
)
