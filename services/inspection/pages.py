"""Phone-friendly pages: my results to enter, the entry form, the review page, the department's results list."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.inspection import field, service
from services.inspection.extension import joint_parts
from services.inspection.routes import attachment_response
from services.inspection.schemas import ReturnRequest
from services.planning import teams
from shared.context import Ctx
from shared.errors import DomainError, InvalidInput
from shared.web.forms import to_struct
from shared.web.guards import provide_ctx, provide_db_session, requires_login
from shared.web.pages import page_context
from shared.web.params import PathUscc


async def _render(request: Request[Any, Any, Any], template: str, **context: Any) -> Template:
    return Template(f"inspection/{template}", context={**await page_context(request), **context})


@get("/results")
async def results_page(request: Request[Any, Any, Any], ctx: Ctx) -> Template:
    mine = await teams.my_assignments(ctx)
    # Joint tasks (部门联合抽查): the department's own members of merged teams enter their part here too.
    mine = mine + await joint_parts().my_assignments(ctx)
    return await _render(
        request,
        "results.html",
        ctx=ctx,
        mine=mine,
        results=await service.list_results(ctx),
        is_admin=ctx.principal.has_any_role("dept-admin"),
    )


@get("/results/entry/{task_id:uuid}/{uscc:str}")
async def entry_redirect(task_id: uuid.UUID, uscc: PathUscc) -> Redirect:
    """Result entry moved into the field app (``/field``, covered by its service worker)."""
    return Redirect(f"/field/entry/{task_id}/{uscc}")


async def _entry(
    request: Request[Any, Any, Any], ctx: Ctx, task_id: uuid.UUID, uscc: PathUscc, **extra: Any
) -> Template:
    return await field.entry_template(request, ctx, await service.entry_view(ctx, task_id, uscc), **extra)


MAX_FILES = 5  # photos or documents in one upload from the phone page
PAGE_UPLOAD_LIMIT = MAX_FILES * service.max_attachment_bytes() + 1024 * 1024


@post("/results/{result_id:uuid}/attachments", request_max_body_size=PAGE_UPLOAD_LIMIT)
async def attachments_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, result_id: uuid.UUID
) -> Template | Redirect:
    """Photos and documents from the entry page: all of them or none (one bad file and nothing is stored)."""
    form = await request.form()
    files = [f for f in form.getall("file", []) if isinstance(f, UploadFile) and f.filename]
    task_id, uscc = await service.entry_of(ctx, result_id)
    savepoint = await db.begin_nested()
    try:
        if not files:
            raise InvalidInput("请选择要上传的照片或文书", field="file")
        if len(files) > MAX_FILES:
            raise InvalidInput(f"一次最多上传 {MAX_FILES} 个附件", field="file")
        for upload in files:
            try:
                await service.add_attachment(ctx, result_id, upload.filename, await upload.read())
            except DomainError as exc:
                exc.message = f"{upload.filename}：{exc.message}"
                raise
    except DomainError as exc:
        await savepoint.rollback()
        return await _entry(request, ctx, task_id, uscc, attach_error=exc)
    return Redirect(f"/field/entry/{task_id}/{uscc}?attached={len(files)}#attachments")


@post("/results/{result_id:uuid}/attachments/{attachment_id:uuid}/delete")
async def attachment_delete_form(
    request: Request[Any, Any, Any],
    ctx: Ctx,
    db: AsyncSession,
    result_id: uuid.UUID,
    attachment_id: uuid.UUID,
) -> Template | Redirect:
    task_id, uscc = await service.entry_of(ctx, result_id)
    savepoint = await db.begin_nested()
    try:
        await service.remove_attachment(ctx, result_id, attachment_id)
    except DomainError as exc:
        await savepoint.rollback()
        return await _entry(request, ctx, task_id, uscc, attach_error=exc)
    return Redirect(f"/field/entry/{task_id}/{uscc}?removed=1#attachments")


@get("/results/attachments/{attachment_id:uuid}")
async def attachment_page(ctx: Ctx, attachment_id: uuid.UUID) -> Response[bytes]:
    """The file itself, for the signed-in browser (the API's download takes a Bearer token)."""
    return attachment_response(await service.attachment(ctx, attachment_id))


@get("/results/{result_id:uuid}")
async def detail_page(request: Request[Any, Any, Any], ctx: Ctx, result_id: uuid.UUID) -> Template:
    return await _render(request, "detail.html", ctx=ctx, v=await service.result_detail(ctx, result_id))


async def _review(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, result_id: uuid.UUID, action: Any
) -> Template | Redirect:
    savepoint = await db.begin_nested()
    try:
        await action()
    except DomainError as exc:
        await savepoint.rollback()
        return await _render(
            request, "detail.html", ctx=ctx, v=await service.result_detail(ctx, result_id), error=exc
        )
    return Redirect(f"/results/{result_id}")


@post("/results/{result_id:uuid}/approve")
async def approve_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, result_id: uuid.UUID
) -> Template | Redirect:
    return await _review(request, ctx, db, result_id, lambda: service.approve(ctx, result_id))


@post("/results/{result_id:uuid}/return")
async def return_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, result_id: uuid.UUID
) -> Template | Redirect:
    form = await request.form()
    return await _review(
        request,
        ctx,
        db,
        result_id,
        lambda: service.return_result(
            ctx, result_id, to_struct({"reason": form.get("reason", "")}, ReturnRequest)
        ),
    )


router = Router(
    path="/",
    route_handlers=[
        results_page,
        entry_redirect,
        *field.handlers,
        detail_page,
        approve_form,
        return_form,
        attachments_form,
        attachment_delete_form,
        attachment_page,
    ],
    guards=[requires_login],
    dependencies={"db": Provide(provide_db_session), "ctx": Provide(provide_ctx)},
    tags=["pages"],
    include_in_schema=False,
)
