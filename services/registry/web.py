"""What the registry API (``routes``) and pages (``pages``) share: roles, ids from paths, uploads, downloads."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.datastructures import UploadFile
from litestar.response import Stream

from services.registry import exporter
from services.registry.columns import Kind
from services.registry.imports import Upload
from services.registry.repository_export import ExportFilter
from shared.errors import InvalidInput, NotFound
from shared.runtime import Runtime
from shared.web.guards import current_principal, scope_for_principal

READ_ROLES = ("dept-admin", "planner", "reviewer", "inspector", "county-overseer")
MAX_UPLOAD = 1 << 30


def parse_id(value: str, field: str = "id") -> uuid.UUID:
    """A record id from the path; a malformed one is a record that does not exist (404), like another tenant's."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("记录不存在", field=field) from None


async def read_upload(request: Request[Any, Any, Any]) -> Upload:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput("请选择要导入的文件（.xlsx 或 .csv）", field="file")
    upload.file.seek(0, 2)
    size = upload.file.tell()
    upload.file.seek(0)
    replace = _flag(form.get("replace"))
    return Upload(upload.file, size, upload.filename, replace, _flag(form.get("ignore_unknown")))


def _flag(value: object) -> bool:
    return str(value or "").lower() in ("1", "true", "on", "yes")


async def export_response(
    request: Request[Any, Any, Any], kind: Kind, fmt: str, filters: ExportFilter
) -> Stream:
    """Streams from its own read transaction (the response body outlives the handler's unit of work)."""
    runtime: Runtime = request.app.state.runtime
    principal = current_principal(request)
    scope = await scope_for_principal(principal, request.app.state.departments)
    headers = {"Content-Disposition": exporter.disposition(kind, fmt)}
    if fmt == "csv":

        async def body() -> AsyncIterator[bytes]:
            async with runtime.unit_of_work(scope) as session:
                async for chunk in exporter.csv_chunks(session, kind, filters):
                    yield chunk

        return Stream(body(), media_type=exporter.MEDIA["csv"], headers=headers)
    async with runtime.unit_of_work(scope) as session:
        file = await exporter.xlsx_file(session, kind, filters)

    async def xlsx_body() -> AsyncIterator[bytes]:
        with file:
            while chunk := file.read(1 << 20):
                yield chunk

    return Stream(xlsx_body(), media_type=exporter.MEDIA["xlsx"], headers=headers)


async def annotated_response(request: Request[Any, Any, Any], batch_id: uuid.UUID) -> Stream:
    """The annotated copy of a rejected file (404 when the batch has none), from its own read transaction."""
    from services.registry import repository_imports as batches_repo

    runtime: Runtime = request.app.state.runtime
    scope = await scope_for_principal(current_principal(request), request.app.state.departments)
    async with runtime.unit_of_work(scope) as session:
        batch = await batches_repo.get_batch(session, batch_id)
        if batch is None or not batch.annotated:
            raise NotFound("该导入没有错误标注文件", field="id")

    async def body() -> AsyncIterator[bytes]:
        async with runtime.unit_of_work(scope) as session:
            async for chunk in batches_repo.chunks(session, batch_id):
                yield chunk

    stem = batch.filename.rsplit(".", 1)[0] or "导入文件"
    name = f"{stem}_错误标注.xlsx"
    disposition = f"attachment; filename=\"import-errors.xlsx\"; filename*=UTF-8''{quote(name)}"
    return Stream(body(), media_type=exporter.MEDIA["xlsx"], headers={"Content-Disposition": disposition})


def template_response(content: bytes, kind: Kind, fmt: str) -> Response[bytes]:
    return Response(
        content,
        media_type=exporter.MEDIA[fmt],
        headers={"Content-Disposition": exporter.disposition(kind, fmt, template=True)},
    )
