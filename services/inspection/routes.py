"""Results API: entry by the team, review, rectification, follow-up, attachments (thin; rules in service.py)."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, Router, delete, get, post
from litestar.datastructures import UploadFile
from litestar.di import Provide

from services.inspection import service
from services.inspection.schemas import (
    AttachmentAdded,
    AttachmentFile,
    AttachmentRemoved,
    CloseRequest,
    EntryView,
    RecheckRequest,
    ResultDetail,
    ResultDraft,
    ResultOut,
    ReturnRequest,
)
from shared.context import Ctx
from shared.errors import InvalidInput
from shared.web.guards import provide_ctx, provide_db_session, requires_department, requires_login
from shared.web.openapi import file_response
from shared.web.params import PathUscc, QueryText

UPLOAD_LIMIT = service.max_attachment_bytes() + 1024 * 1024  # our own check answers first, in Chinese


@get("/tasks/{task_id:uuid}/results")
async def task_results(ctx: Ctx, task_id: uuid.UUID) -> list[ResultOut]:
    return await service.list_results(ctx, task_id=task_id)


@get("/tasks/{task_id:uuid}/results/{uscc:str}")
async def entry(ctx: Ctx, task_id: uuid.UUID, uscc: PathUscc) -> EntryView:
    return await service.entry_view(ctx, task_id, uscc)


@post("/tasks/{task_id:uuid}/results/{uscc:str}", status_code=200)
async def save(ctx: Ctx, task_id: uuid.UUID, uscc: PathUscc, data: ResultDraft) -> ResultOut:
    return await service.save_draft(ctx, task_id, uscc, data)


@get("/results")
async def results(ctx: Ctx, status: QueryText = None) -> list[ResultOut]:
    return await service.list_results(ctx, status=status)


@get("/results/{result_id:uuid}")
async def detail(ctx: Ctx, result_id: uuid.UUID) -> ResultDetail:
    return await service.result_detail(ctx, result_id)


@post("/results/{result_id:uuid}/submit", status_code=200)
async def submit(ctx: Ctx, result_id: uuid.UUID) -> ResultOut:
    return await service.submit(ctx, result_id)


@post("/results/{result_id:uuid}/approve", status_code=200)
async def approve(ctx: Ctx, result_id: uuid.UUID) -> ResultOut:
    return await service.approve(ctx, result_id)


@post("/results/{result_id:uuid}/return", status_code=200)
async def return_(ctx: Ctx, result_id: uuid.UUID, data: ReturnRequest) -> ResultOut:
    return await service.return_result(ctx, result_id, data)


@post("/results/{result_id:uuid}/hazards/{hazard_id:uuid}/recheck", status_code=200)
async def recheck(ctx: Ctx, result_id: uuid.UUID, hazard_id: uuid.UUID, data: RecheckRequest) -> ResultDetail:
    return await service.recheck(ctx, result_id, hazard_id, data)


@post("/results/{result_id:uuid}/followups/{followup_id:uuid}/close", status_code=200)
async def close(
    ctx: Ctx, result_id: uuid.UUID, followup_id: uuid.UUID, data: CloseRequest | None = None
) -> ResultDetail:
    return await service.close_followup(ctx, result_id, followup_id, data or CloseRequest())


def form_id(form: Any, name: str, label: str) -> uuid.UUID | None:
    value = form.get(name)
    try:
        return uuid.UUID(value) if isinstance(value, str) and value else None
    except ValueError as exc:
        raise InvalidInput(f"{label}无效", field=name) from exc


async def read_upload(
    request: Request[Any, Any, Any],
) -> tuple[str, bytes, uuid.UUID | None, uuid.UUID | None, uuid.UUID | None]:
    """The file and where it belongs: a follow-up (its document), or a check point or hazard (a photo taken there)."""
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInput("请选择要上传的文件（表单字段 file）", field="file")
    followup_id = form_id(form, "followup_id", "后续处置编号")
    point_id = form_id(form, "check_point_id", "检查要点编号")
    hazard_id = form_id(form, "hazard_id", "隐患编号")
    return upload.filename or "", await upload.read(), followup_id, point_id, hazard_id


@post("/results/{result_id:uuid}/attachments", request_max_body_size=UPLOAD_LIMIT)
async def upload(request: Request[Any, Any, Any], ctx: Ctx, result_id: uuid.UUID) -> AttachmentAdded:
    filename, content, followup_id, point_id, hazard_id = await read_upload(request)
    return await service.add_attachment(
        ctx, result_id, filename, content, followup_id, check_point_id=point_id, hazard_id=hazard_id
    )


@delete("/results/{result_id:uuid}/attachments/{attachment_id:uuid}", status_code=200)
async def remove(ctx: Ctx, result_id: uuid.UUID, attachment_id: uuid.UUID) -> AttachmentRemoved:
    return await service.remove_attachment(ctx, result_id, attachment_id)


def attachment_response(found: AttachmentFile) -> Response[bytes]:
    return Response(
        bytes(found.data),
        media_type=found.content_type,
        headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(found.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=0",
        },
    )


@get("/attachments/{attachment_id:uuid}", responses=file_response("附件（照片或 PDF）"))
async def download(ctx: Ctx, attachment_id: uuid.UUID) -> Response[bytes]:
    return attachment_response(await service.attachment(ctx, attachment_id))


router = Router(
    path="/api",
    route_handlers=[
        task_results,
        entry,
        save,
        results,
        detail,
        submit,
        approve,
        return_,
        recheck,
        close,
        upload,
        remove,
        download,
    ],
    guards=[requires_login, requires_department],
    dependencies={"db": Provide(provide_db_session), "ctx": Provide(provide_ctx)},
    tags=["inspection"],
)
