"""Registry pages for files: import (with the batch page that follows a queued one), export and templates.

Static paths per kind: "/objects/import" must not be taken for "/objects/{row_id}", so ``pages`` mounts these
before the form pages.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect, Stream, Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import exporter, imports, service
from services.registry import repository as repo
from services.registry import repository_imports as batches_repo
from services.registry.columns import COLUMNS, Kind
from services.registry.pages_support import (
    Context,
    active_param,
    registry_context,
    render,
    require_read,
    require_write,
)
from services.registry.web import (
    MAX_UPLOAD,
    annotated_response,
    export_response,
    parse_id,
    read_upload,
    template_response,
)
from shared.errors import InvalidInput, NotFound
from shared.web.fielderrors import error_of
from shared.web.guards import current_principal
from shared.web.params import PathId


def io_pages(kind: Kind) -> list[Any]:
    @get(f"/{kind}/import", name=f"page-{kind}-import")
    async def import_page(request: Request[Any, Any, Any], db: AsyncSession) -> Template:
        require_write(request)
        return render("import.html", await _import_context(request, db, kind))

    @post(f"/{kind}/import", request_max_body_size=MAX_UPLOAD, name=f"page-{kind}-upload")
    async def import_upload(request: Request[Any, Any, Any], db: AsyncSession) -> Template | Redirect:
        require_write(request)
        form = await request.form()
        replace = str(form.get("replace", "")).lower() in ("1", "true", "on", "yes")
        if replace and form.get("confirm_replace") != "1":
            # 完整替换 deactivates every row the file lacks: refused until the consequence is confirmed.
            active = await _active_count(db, kind)
            error = InvalidInput(
                f"完整替换会停用文件中没有的{KIND_WORDS[kind]}（当前在用 {active:,} 条），请勾选下方的确认后重新选择文件导入",
                field="confirm_replace",
            )
            context = await _import_context(request, db, kind, error=error, replace_checked=True)
            return render("import.html", context, status=error.status_code)
        try:
            actor = service.actor_of(current_principal(request))
            outcome = await imports.start_import(db, actor, kind, await read_upload(request))
        except InvalidInput as exc:
            return render(
                "import.html", await _import_context(request, db, kind, error=exc), status=exc.status_code
            )
        if outcome.status_code == 202:
            return Redirect(f"/registry/imports/{outcome.batch.id}")
        return render(
            "import.html",
            await _import_context(request, db, kind, result=outcome.batch),
            status=outcome.status_code,
        )

    @get(f"/{kind}/export", name=f"page-{kind}-export")
    async def export_download(request: Request[Any, Any, Any]) -> Response[Any]:
        require_read(request)
        q = request.query_params
        fmt = "csv" if q.get("format") == "csv" else "xlsx"
        query = {k: val for k, val in q.items() if val}
        return await export_response(
            request, kind, fmt, exporter.export_filter(kind, query, active_param(q.get("active")))
        )

    @get(f"/{kind}/template", name=f"page-{kind}-template")
    async def template_download(request: Request[Any, Any, Any], db: AsyncSession) -> Response[bytes]:
        require_read(request)
        fmt = "csv" if request.query_params.get("format") == "csv" else "xlsx"
        return template_response(await exporter.template(db, kind, fmt), kind, fmt)

    return [import_page, import_upload, export_download, template_download]


KIND_WORDS = {"objects": "检查对象", "inspectors": "执法人员", "items": "抽查事项"}


async def _active_count(db: AsyncSession, kind: Kind) -> int:
    health = await repo.health(db)
    return {"objects": health.objects, "inspectors": health.inspectors, "items": health.items}[kind]


async def _import_context(
    request: Request[Any, Any, Any], db: AsyncSession, kind: Kind, **extra: Any
) -> Context:
    return await registry_context(
        request,
        db,
        kind=kind,
        columns=COLUMNS[kind],
        tab=kind,
        batches=await batches_repo.recent_batches(db, kind, 10),
        active_count=await _active_count(db, kind),
        errors=error_of(extra["error"]) if extra.get("error") is not None else None,
        **extra,
    )


@get("/imports/{batch_id:str}")
async def batch_page(request: Request[Any, Any, Any], db: AsyncSession, batch_id: PathId) -> Template:
    require_read(request)
    batch = await batches_repo.get_batch(db, parse_id(batch_id))
    if batch is None:
        raise NotFound("导入记录不存在", field="id")
    return render("batch.html", await registry_context(request, db, batch=batch, tab=batch.kind))


@get("/imports/{batch_id:str}/annotated")
async def batch_annotated(request: Request[Any, Any, Any], batch_id: PathId) -> Stream:
    """The copy of a rejected file with its bad cells marked and a 错误说明 column."""
    require_read(request)
    return await annotated_response(request, parse_id(batch_id))
